"""The strict loader refuses what CreateStateMachine refuses (and what the engine cannot
run), and compiles paths, templates and intrinsic functions as the States Language
reads them (https://states-language.net/spec.html)."""

from __future__ import annotations

import json

import pytest

from mediasync.local.asl.definition import load
from mediasync.local.asl.errors import DefinitionError, StatesError
from mediasync.local.asl.intrinsics import Intrinsic
from mediasync.local.asl.paths import MISSING, Path, ReferencePath
from mediasync.local.runtime import STATE_MACHINES, project_root, substitute


def definition(**states) -> str:
    return json.dumps({"StartAt": next(iter(states)), "States": states})


PASS = {"Type": "Pass", "End": True}


@pytest.mark.parametrize("filename", [filename for filename, _, _ in STATE_MACHINES.values()])
def test_both_state_machine_files_load(filename):
    substitutions = {"Partition": "aws", "WorkerJobQueueArn": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
                     "WorkerJobDefinitionName": "d"}
    text = (project_root() / "statemachine" / filename).read_text()
    for name in {part.split("}")[0] for part in text.split("${")[1:]} - set(substitutions):
        substitutions[name] = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    load(substitute(project_root() / "statemachine" / filename, substitutions))


@pytest.mark.parametrize("text,problem", [
    (definition(A={**PASS, "Paramters": {}}), "unknown field 'Paramters'"),
    (definition(A={"Type": "Pause", "End": True}), "'Pause' is not a state type"),
    (definition(A={"Type": "Pass", "Next": "B"}), "MISSING_TRANSITION_TARGET"),
    (definition(A=PASS, B=PASS), "UNREACHABLE_STATE"),
    (definition(A={"Type": "Pass"}), "exactly one of Next and End"),
    (definition(A={"Type": "Pass", "Next": "A", "End": True}), "exactly one of Next and End"),
    (definition(A={"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}), "exclude each other"),
    (definition(A={**PASS, "Assign": {"x": 1}}), "variables (Assign) is not supported"),
    (definition(A={**PASS, "QueryLanguage": "JSONata"}), "JSONata"),
    (definition(A={**PASS, "InputPath": "$.items[?(@.a)]"}), "filter"),
    (definition(A={**PASS, "InputPath": "$..a"}), "deep scan"),
    (definition(A={**PASS, "ResultPath": "$.a[*]"}), "not a reference path"),
    (definition(A={**PASS, "Parameters": {"a.$": 1}}), "must be a path or an intrinsic"),
    (definition(A={**PASS, "Parameters": {"a.$": "States.Format('{}')"}}), "has 1 {} but 0 values"),
    (definition(A={**PASS, "Parameters": {"a.$": "States.Nothing()"}}), "not an intrinsic function"),
    (definition(A={"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True}),
     "runs Lambda"),
    (definition(A={"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True, "TimeoutSeconds": 0}),
     "must be an integer from 1"),
    (definition(A={"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                   "TimeoutSeconds": 5, "HeartbeatSeconds": 5}), "smaller than TimeoutSeconds"),
    (definition(A={"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                   "Retry": [{"ErrorEquals": ["States.ALL", "X"]}]}), "States.ALL must appear alone"),
    (definition(A={"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                   "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]}), "States.ALL must appear alone"),
    (definition(A={"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                   "Retry": [{"ErrorEquals": ["States.Typo"]}]}), "not a States error name"),
    (definition(A={"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                   "Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]}), "at least 1.0"),
    (definition(A={"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                   "Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "HALF"}]}), "FULL or NONE"),
    (definition(A={"Type": "Choice", "Choices": [{"Variable": "$.a", "Next": "A"}]}), "exactly one comparison"),
    (definition(A={"Type": "Choice", "Choices": [{"Not": {"Variable": "$.a", "IsNull": True, "Next": "A"}, "Next": "A"}]}),
     "only top-level choice rules may have Next"),
    (definition(A={"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": True}), "exactly one of Seconds"),
    (definition(A={"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "I", "States": {"I": PASS}},
                   "ToleratedFailureCount": 1}), "DISTRIBUTED Map only"),
    (definition(A={"Type": "Map", "End": True, "ItemReader": {}, "ItemProcessor": {"StartAt": "I", "States": {"I": PASS}}}),
     "ItemReader"),
    (definition(A={"Type": "Map", "End": True, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "I", "States": {"I": PASS}}}), "needs ExecutionType"),
    (definition(A={"Type": "Map", "End": True, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "I", "States": {"I": PASS}},
        "ToleratedFailurePercentage": 101}), "from 0 to 100"),
    ('{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, "A": {"Type": "Pass", "End": true}}}',
     "duplicate field"),
])
def test_definitions_aws_refuses_are_refused(text, problem):
    with pytest.raises(DefinitionError) as raised:
        load(text)
    assert problem in str(raised.value)


def test_an_integer_tolerated_failure_percentage_is_a_number_as_on_aws():
    load(definition(A={"Type": "Map", "End": True, "ToleratedFailurePercentage": 34, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "I", "States": {"I": PASS}}}))


@pytest.mark.parametrize("path,document,found", [
    ("$", {"a": 1}, {"a": 1}),
    ("$.a.b", {"a": {"b": 2}}, 2),
    ("$.a['b c']", {"a": {"b c": 3}}, 3),
    ("$.list[1]", {"list": [1, 2]}, 2),
    ("$.list[-1]", {"list": [1, 2]}, 2),
    ("$.list[5]", {"list": [1, 2]}, MISSING),
    ("$.a.b", {"a": "text"}, MISSING),
    ("$.list[0]", {"list": "text"}, MISSING),
    ("$.list[*].x", {"list": [{"x": 1}, {"y": 2}, {"x": 3}]}, [1, 3]),
    ("$.list[0:2]", {"list": [1, 2, 3]}, [1, 2]),
    ("$.o.*", {"o": {"a": 1, "b": 2}}, [1, 2]),
    ("$['a','b']", {"a": 1, "b": 2}, [1, 2]),
])
def test_paths_select_nodes(path, document, found):
    assert Path(path).get(document) == found


def test_a_reference_path_places_a_value_without_changing_the_input():
    document = {"a": {"keep": 1}, "list": [{"x": 1}]}
    placed = ReferencePath("$.a.new.deep").place(document, 5)
    assert placed == {"a": {"keep": 1, "new": {"deep": 5}}, "list": [{"x": 1}]}
    assert document == {"a": {"keep": 1}, "list": [{"x": 1}]}
    assert ReferencePath("$.list[0].x").place(document, 2)["list"] == [{"x": 2}]
    with pytest.raises(StatesError) as raised:
        ReferencePath("$.a.keep.x").place(document, 1)
    assert raised.value.error == "States.ResultPathMatchFailure"


@pytest.mark.parametrize("call,state_input,value", [
    ("States.Format('{} and {}', $.a, $.b)", {"a": "x", "b": 2}, "x and 2"),
    ("States.Format('\\{\\} {}\\'s', $.a)", {"a": "x"}, "{} x's"),
    ("States.Format('{}', States.Format('<{}>', $.a))", {"a": "x"}, "<x>"),
    ("States.StringToJson($.s)", {"s": '{"a": [1]}'}, {"a": [1]}),
    ("States.JsonToString($.o)", {"o": {"a": "é"}}, '{"a":"é"}'),
    ("States.Array(1, 'two', $.x, null, true)", {"x": [3]}, [1, "two", [3], None, True]),
    ("States.ArrayPartition($.l, 2)", {"l": [1, 2, 3]}, [[1, 2], [3]]),
    ("States.ArrayContains($.l, 2)", {"l": [1, 2, 3]}, True),
    ("States.ArrayRange(1, 9, 2)", {}, [1, 3, 5, 7, 9]),
    ("States.ArrayGetItem($.l, 1)", {"l": [1, 2, 3]}, 2),
    ("States.ArrayLength($.l)", {"l": [1, 2, 3]}, 3),
    ("States.ArrayUnique($.l)", {"l": [1, 2, 1, {"a": 1}, {"a": 1}]}, [1, 2, {"a": 1}]),
    ("States.Base64Encode('Data to encode')", {}, "RGF0YSB0byBlbmNvZGU="),
    ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", {}, "Data to encode"),
    ("States.Hash('input data', 'SHA-1')", {}, "aaff4a450a104cd177d28d18d74485e8cae074b7"),
    ("States.JsonMerge($.a, $.b, false)", {"a": {"x": 1, "y": {"k": 1}}, "b": {"y": 2}}, {"x": 1, "y": 2}),
    ("States.MathAdd($.n, -1)", {"n": 5}, 4),
    ("States.StringSplit('a,b+c', ',+')", {}, ["a", "b", "c"]),
])
def test_intrinsic_functions(call, state_input, value):
    assert Intrinsic(call).evaluate(state_input, None) == value


@pytest.mark.parametrize("call,state_input", [
    ("States.Format('{}', $.missing)", {}),
    ("States.StringToJson($.s)", {"s": "not json"}),
    ("States.ArrayGetItem($.l, 5)", {"l": [1]}),
    ("States.JsonMerge($.a, $.a, true)", {"a": {}}),
    ("States.Format('{}', $.o)", {"o": {"a": 1}}),
])
def test_an_intrinsic_that_fails_at_run_time_is_states_runtime(call, state_input):
    with pytest.raises(StatesError) as raised:
        Intrinsic(call).evaluate(state_input, None)
    assert raised.value.error == "States.Runtime"


def test_uuid_and_math_random_give_values_of_their_kind():
    assert len(Intrinsic("States.UUID()").evaluate({}, None)) == 36
    assert 1 <= Intrinsic("States.MathRandom(1, 10)").evaluate({}, None) < 10
