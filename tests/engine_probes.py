"""Small ASL definitions that show how a Step Functions engine reads one rule.

Each probe states what AWS answers, with the page that says so. The same probes run
on the strict engine and moto's (tests/asl/test_engine_differences.py) and on
LocalStack's (tests/localstack/test_engine_differences.py). Where an engine answers
otherwise, ``differs`` pins what it answers instead, and docs/local-engine.md lists
it: an upgrade that changes an answer fails its test, and the table moves with it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

# https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html:
# "The default percentage value is zero, meaning the workflow fails if any one of its
# child workflow executions fails or times out", with States.ExceedToleratedFailureThreshold.
EXCEEDED = "States.ExceedToleratedFailureThreshold"
STRICT, MOTO, LOCALSTACK = "mediasync", "moto", "localstack"

ERRORS_DOC = "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html"
PATHS_DOC = "https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html"
RESULT_PATH_DOC = "https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html"
CHOICE_DOC = "https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html"
FAIL_DOC = "https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html"
INTRINSICS_DOC = "https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html"
QUOTAS_DOC = "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"
MAP_DOC = "https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html"
THRESHOLD_DOC = "https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html"
SPEC = "https://states-language.net/spec.html"


def tolerance_probe(**tolerance: Any) -> str:
    """A Distributed Map over three items whose second fails; ``tolerance`` adds
    ToleratedFailureCount / ToleratedFailurePercentage to the Map state."""
    return json.dumps({
        "StartAt": "Items",
        "States": {
            "Items": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Item",
                    "States": {
                        "Item": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "ItemFails"}],
                            "Default": "ItemSucceeds",
                        },
                        "ItemFails": {"Type": "Fail", "Error": "GroupFailed", "Cause": "item 2"},
                        "ItemSucceeds": {"Type": "Pass", "End": True},
                    },
                },
                **tolerance,
                "End": True,
            }
        },
    })


PROBE_INPUT = json.dumps({"items": [1, 2, 3]})


def run_to_end(sfn: Any, definition: str, role_arn: str, state_input: str = PROBE_INPUT) -> tuple[str, dict[str, Any]]:
    """Deploy a probe, run it on ``state_input``, and wait (30 s at most) for it to end:
    the execution's ARN and its final description."""
    arn = sfn.create_state_machine(name=f"probe-{time.monotonic_ns()}", definition=definition,
                                   roleArn=role_arn)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=state_input)["executionArn"]
    deadline = time.monotonic() + 30
    while (description := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the probe execution did not end"
        time.sleep(0.05)
    return execution, description


# -- the catalogue -------------------------------------------------------------------------
REFUSED = "InvalidDefinition"  # an outcome: CreateStateMachine refused the definition


@dataclass(frozen=True)
class Probe:
    name: str
    definition: dict[str, Any]
    input: Any
    # AWS's answer: "status", and "error", "output" or "cause" (a text the cause holds);
    # or {"status": REFUSED} for a definition AWS refuses.
    expected: dict[str, Any]
    doc: str
    differs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def expected_on(self, engine: str) -> dict[str, Any]:
        return self.differs.get(engine, self.expected)

    def keys(self) -> set[str]:
        """What any engine's expectation speaks of (status, error, output, cause)."""
        return {key for expected in (self.expected, *self.differs.values()) for key in expected}


def both_interpreters(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """moto's Step Functions interpreter is LocalStack's, vendored: they read alike."""
    return {MOTO: answer, LOCALSTACK: answer}


def one(state: dict[str, Any], *others: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"StartAt": "S", "States": {"S": state, **dict(others)}}


def pass_state(**fields: Any) -> dict[str, Any]:
    return {"Type": "Pass", "End": True, **fields}


def choice(rule: dict[str, Any], default: bool = True) -> dict[str, Any]:
    """A Choice going to Yes (output {"went": "yes"}) when ``rule`` holds, else to No."""
    state = {"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}]}
    states = [("Yes", pass_state(Result={"went": "yes"}))]
    if default:
        state["Default"] = "No"
        states.append(("No", pass_state(Result={"went": "no"})))
    return one(state, *states)


def failing_parallel(**fields: Any) -> dict[str, Any]:
    """A Parallel state whose one branch fails with Error "BranchError", Cause "why"."""
    branch = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "BranchError", "Cause": "why"}}}
    return {"Type": "Parallel", "Branches": [branch], **fields}


def inline_map(item_states: dict[str, Any], **fields: Any) -> dict[str, Any]:
    processor = {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": next(iter(item_states)), "States": item_states}
    return {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "End": True, **fields}


def distributed_map(**tolerance: Any) -> dict[str, Any]:
    return json.loads(tolerance_probe(**tolerance))


CAUGHT = ("Caught", pass_state())
BIG = "x" * 150_000

PROBES: tuple[Probe, ...] = (
    Probe("template fields ending in .$ take paths and lose the suffix, in nested objects and arrays",
          one(pass_state(Parameters={"a.$": "$.x", "nested": {"b.$": "$.y"}, "list": [{"c.$": "$.x"}], "const": 1})),
          {"x": 1, "y": 2}, {"status": "SUCCEEDED", "output": {"a": 1, "nested": {"b": 2}, "list": [{"c": 1}], "const": 1}},
          PATHS_DOC),
    Probe("ResultPath null keeps the state's input",
          one(pass_state(Result={"r": 1}, ResultPath=None)), {"in": 1},
          {"status": "SUCCEEDED", "output": {"in": 1}}, RESULT_PATH_DOC),
    Probe("ResultPath places the result in the state's input",
          one(pass_state(Result={"r": 1}, ResultPath="$.result")), {"in": 1},
          {"status": "SUCCEEDED", "output": {"in": 1, "result": {"r": 1}}}, RESULT_PATH_DOC),
    Probe("a Parameters path that selects nothing is States.Runtime",
          one(pass_state(Parameters={"a.$": "$.missing"})), {"in": 1},
          {"status": "FAILED", "error": "States.Runtime"}, PATHS_DOC),
    Probe("an OutputPath that selects nothing is States.Runtime",
          one(pass_state(OutputPath="$.missing")), {"in": 1},
          {"status": "FAILED", "error": "States.Runtime"}, PATHS_DOC),
    Probe("a comparison on a missing Variable is States.Runtime",
          choice({"Variable": "$.missing", "StringEquals": "a"}), {},
          {"status": "FAILED", "error": "States.Runtime"}, CHOICE_DOC,
          differs=both_interpreters({"status": "SUCCEEDED", "output": {"went": "no"}})),
    Probe("IsPresent on a missing Variable is false",
          choice({"Variable": "$.missing", "IsPresent": True}), {},
          {"status": "SUCCEEDED", "output": {"went": "no"}}, CHOICE_DOC),
    Probe("StringMatches takes * as a wildcard",
          choice({"Variable": "$.a", "StringMatches": "States.*"}), {"a": "States.Timeout"},
          {"status": "SUCCEEDED", "output": {"went": "yes"}}, CHOICE_DOC),
    Probe("StringMatches takes \\* as a star",
          choice({"Variable": "$.b", "StringMatches": "a\\*b"}), {"b": "a*b"},
          {"status": "SUCCEEDED", "output": {"went": "yes"}}, CHOICE_DOC,
          differs=both_interpreters({"status": "SUCCEEDED", "output": {"went": "no"}})),
    Probe("a comparison with a value of another type is false",
          choice({"Variable": "$.a", "StringEquals": "1"}), {"a": 1},
          {"status": "SUCCEEDED", "output": {"went": "no"}}, CHOICE_DOC),
    Probe("no matching rule and no Default is States.NoChoiceMatched",
          choice({"Variable": "$.a", "NumericEquals": 1}, default=False), {"a": 2},
          {"status": "FAILED", "error": "States.NoChoiceMatched"}, ERRORS_DOC,
          differs=both_interpreters({"status": "FAILED", "error": "States.Runtime"})),
    Probe("a Fail state's CausePath that selects nothing is States.Runtime",
          one({"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"}), {"e": "Bad"},
          {"status": "FAILED", "error": "States.Runtime"}, FAIL_DOC),
    Probe("a Fail state's CausePath may be States.Format, with escaped braces",
          one({"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('{}: {} \\{ok\\}', $.e, $.c)"}),
          {"e": "Bad", "c": "why"}, {"status": "FAILED", "error": "Bad", "cause": "Bad: why {ok}"}, FAIL_DOC,
          differs=both_interpreters({"status": "FAILED", "error": "States.Runtime", "cause": "KeyError"})),
    Probe("States.JsonToString writes compact JSON",
          one(pass_state(Parameters={"s.$": "States.JsonToString($.o)"})), {"o": {"a": [1, 2], "b": "c"}},
          {"status": "SUCCEEDED", "output": {"s": '{"a":[1,2],"b":"c"}'}}, INTRINSICS_DOC),
    Probe("States.Array, States.ArrayLength and States.MathAdd",
          one(pass_state(Parameters={"a.$": "States.Array($.x, 'y', 3)", "n.$": "States.ArrayLength($.list)",
                                     "sum.$": "States.MathAdd($.x, 2)"})), {"x": 1, "list": [1, 2, 3]},
          {"status": "SUCCEEDED", "output": {"a": [1, "y", 3], "n": 3, "sum": 3}}, INTRINSICS_DOC),
    Probe("a catcher places the error in the state's raw input; ResultSelector and OutputPath do not apply",
          one(failing_parallel(InputPath="$.inner", ResultSelector={"x": 1}, OutputPath="$.inner",
                               Catch=[{"ErrorEquals": ["BranchError"], "ResultPath": "$.error", "Next": "Caught"}],
                               End=True), CAUGHT),
          {"inner": {"a": 1}, "outer": 2},
          {"status": "SUCCEEDED",
           "output": {"inner": {"a": 1}, "outer": 2, "error": {"Error": "BranchError", "Cause": "why"}}}, ERRORS_DOC),
    Probe("States.ALL does not catch States.Runtime",
          one({"Type": "Parallel", "End": True,
               "Branches": [{"StartAt": "P", "States": {"P": pass_state(InputPath="$.missing")}}],
               "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}]}, CAUGHT),
          {}, {"status": "FAILED", "error": "States.Runtime"}, ERRORS_DOC),
    Probe("a state output over 256 KiB is States.DataLimitExceeded, which States.ALL does not catch",
          one({"Type": "Parallel", "End": True,
               "Branches": [{"StartAt": "P", "States": {"P": pass_state(Parameters={"a.$": "$.s", "b.$": "$.s"})}}],
               "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "Caught"}]},
              ("Caught", pass_state(Result="caught"))),
          {"s": BIG}, {"status": "FAILED", "error": "States.DataLimitExceeded"}, QUOTAS_DOC,
          # moto refuses the error name it raises, as a custom name starting with "States.".
          differs=both_interpreters({"status": "FAILED", "error": "States.Runtime", "cause": "States.DataLimitExceeded"})),
    Probe("an inline Map fails with its first failed item's error",
          one(inline_map({"Item": {"Type": "Choice", "Default": "Ok",
                                   "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}]},
                          "Bad": {"Type": "Fail", "Error": "ItemFailed", "Cause": "item 2"},
                          "Ok": pass_state()}, MaxConcurrency=1)),
          {"items": [1, 2, 3]}, {"status": "FAILED", "error": "ItemFailed", "cause": "item 2"}, MAP_DOC),
    Probe("ItemSelector reads $$.Map.Item and the Map's effective input; results keep their order",
          one(inline_map({"Item": pass_state()}, InputPath="$.inner",
                         ItemSelector={"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index", "s.$": "$.shared"})),
          {"inner": {"items": ["a", "b"], "shared": 0}},
          {"status": "SUCCEEDED", "output": [{"v": "a", "i": 0, "s": 0}, {"v": "b", "i": 1, "s": 0}]}, MAP_DOC),
    Probe("a Map Run fails once an item fails when it tolerates none (the default)",
          distributed_map(), {"items": [1, 2, 3]}, {"status": "FAILED", "error": EXCEEDED}, THRESHOLD_DOC,
          differs={LOCALSTACK: {"status": "SUCCEEDED"}}),
    Probe("a Map Run within ToleratedFailureCount succeeds",
          distributed_map(ToleratedFailureCount=1), {"items": [1, 2, 3]}, {"status": "SUCCEEDED"}, THRESHOLD_DOC),
    Probe("a Map Run beyond ToleratedFailurePercentage fails",
          distributed_map(ToleratedFailurePercentage=33.0), {"items": [1, 2, 3]},
          {"status": "FAILED", "error": EXCEEDED}, THRESHOLD_DOC, differs={LOCALSTACK: {"status": "SUCCEEDED"}}),
    Probe("with both thresholds a Map Run fails when it exceeds either",
          distributed_map(ToleratedFailureCount=5, ToleratedFailurePercentage=10.0), {"items": [1, 2, 3]},
          {"status": "FAILED", "error": EXCEEDED}, THRESHOLD_DOC,
          differs={MOTO: {"status": "SUCCEEDED"}, LOCALSTACK: {"status": "SUCCEEDED"}}),
    Probe("ToleratedFailurePercentage may be an integer",
          distributed_map(ToleratedFailurePercentage=34), {"items": [1, 2, 3]}, {"status": "SUCCEEDED"},
          THRESHOLD_DOC, differs={MOTO: {"status": REFUSED}, LOCALSTACK: {"status": REFUSED}}),
    Probe("a definition with an unknown field is refused",
          one(pass_state(Paramters={"a": 1})), {}, {"status": REFUSED},
          "https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html"),
    Probe("a definition with an unreachable state is refused",
          one(pass_state(), ("Orphan", pass_state())), {}, {"status": REFUSED},
          "https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html",
          differs={MOTO: {"status": "SUCCEEDED"}, LOCALSTACK: {"status": "SUCCEEDED"}}),
    Probe("States.ALL must stand alone in the last catcher",
          one(failing_parallel(End=True, Catch=[{"ErrorEquals": ["States.ALL", "X"], "Next": "Caught"}]), CAUGHT),
          {}, {"status": REFUSED}, ERRORS_DOC),
)


def outcome(sfn: Any, probe: Probe, role_arn: str) -> dict[str, Any]:
    """What an engine answers for a probe, in the shape of ``Probe.expected``."""
    from botocore.exceptions import ClientError

    try:
        _, description = run_to_end(sfn, json.dumps(probe.definition), role_arn, json.dumps(probe.input))
    except ClientError as error:
        if error.response["Error"]["Code"] in ("InvalidDefinition", "ValidationException"):
            return {"status": REFUSED}
        raise
    answer: dict[str, Any] = {"status": description["status"]}
    keys = probe.keys()
    if "output" in keys:
        answer["output"] = json.loads(description["output"]) if "output" in description else None
    for key in ("error", "cause"):
        if key in keys:
            answer[key] = description.get(key)
    return answer


def matches(answer: dict[str, Any], expected: dict[str, Any]) -> bool:
    """``answer`` says what ``expected`` says (a cause need only contain the expected text)."""
    for key, value in expected.items():
        if key == "cause":
            if value not in (answer.get("cause") or ""):
                return False
        elif answer.get(key) != value:
            return False
    return True
