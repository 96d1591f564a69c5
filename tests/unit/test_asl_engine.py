"""The strict engine's semantics, one rule per test, on fake functions and virtual time.

Sources: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
(Retry, Catch, error names), .../concepts-input-output-filtering.html (paths),
.../service-quotas.html (256 KiB), .../concepts-standard-vs-express.html (5 minutes),
.../state-map-inline.html and .../maprun-fail-threshold.html (Map),
.../connect-lambda.html (the Lambda integration's result and errors).
"""

from __future__ import annotations

import json
import threading

import pytest

from mediasync.local.asl.clock import RealClock
from tests.unit.asl_harness import Functions, Harness, error_named, function_arn, machine, task

CATCH_ALL = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}]
CAUGHT = ("Caught", {"Type": "Pass", "End": True})


def failing(*names: str, then=None):
    """A function that raises these errors in turn, then answers ``then``."""
    remaining = list(names)

    def function(event):
        if remaining:
            raise error_named(remaining.pop(0))
        return then if then is not None else {"ok": True}

    return function


class MaxRng:
    """FULL jitter drawing the top of its range: shows the range itself."""

    def uniform(self, low, high):
        return high


# -- Retry --------------------------------------------------------------------------------
def test_retry_waits_interval_times_backoff_capped_by_max_delay():
    functions = Functions(f=failing("E", "E", "E", "E", "E"))
    harness = Harness(functions)
    retry = [{"ErrorEquals": ["E"], "IntervalSeconds": 3, "BackoffRate": 2.0, "MaxAttempts": 5, "MaxDelaySeconds": 20}]
    result = harness.run(machine(("T", task("f", Retry=retry, End=True))))
    assert result["status"] == "SUCCEEDED"
    assert harness.sleeps == [3, 6, 12, 20, 20]


def test_retry_defaults_are_one_second_three_retries_backoff_two():
    functions = Functions(f=failing("E", "E", "E", "E"))
    harness = Harness(functions)
    result = harness.run(machine(("T", task("f", Retry=[{"ErrorEquals": ["E"]}], End=True))))
    assert (result["status"], result["error"]) == ("FAILED", "E")
    assert harness.sleeps == [1, 2, 4] and functions.count("f") == 4


def test_full_jitter_draws_below_the_capped_delay():
    functions = Functions(f=failing("E", "E", "E"))
    harness = Harness(functions, rng=MaxRng())
    retry = [{"ErrorEquals": ["E"], "IntervalSeconds": 10, "MaxAttempts": 3, "MaxDelaySeconds": 15,
              "JitterStrategy": "FULL"}]
    harness.run(machine(("T", task("f", Retry=retry, End=True))))
    # The cap applies before the jitter: the top of each draw is min(10 * 2^(n-1), 15).
    assert harness.sleeps == [10, 15, 15]


@pytest.mark.parametrize("max_attempts,calls", [(0, 1), (1, 2), (2, 3)])
def test_max_attempts_counts_retries_not_attempts(max_attempts, calls):
    functions = Functions(f=failing("E", "E", "E", "E"))
    harness = Harness(functions)
    retry = [{"ErrorEquals": ["E"], "MaxAttempts": max_attempts}]
    result = harness.run(machine(("T", task("f", Retry=retry, Catch=CATCH_ALL, End=True)), CAUGHT))
    assert functions.count("f") == calls
    assert result["output"]["error"]["Error"] == "E"


def test_each_retrier_counts_its_own_retries_shared_by_the_errors_it_matches():
    # The States Language's example (https://states-language.net/spec.html, "Retrying after
    # error"): ErrorA, ErrorB, ErrorC, ErrorB wait 1, 2 and 5 seconds, and the fourth error
    # goes to Catch: the first retrier has used its two retries.
    functions = Functions(f=failing("ErrorA", "ErrorB", "ErrorC", "ErrorB"))
    harness = Harness(functions)
    retry = [{"ErrorEquals": ["ErrorA", "ErrorB"], "IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 2},
             {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5}]
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "Z"}]
    result = harness.run(machine(("X", task("f", Retry=retry, Catch=catch, Next="Y")),
                                 ("Y", {"Type": "Pass", "End": True}),
                                 ("Z", {"Type": "Pass", "Result": "caught", "End": True})))
    assert harness.sleeps == [1, 2, 5]
    assert result["output"] == "caught"


def test_the_first_matching_retrier_decides_even_when_used_up():
    functions = Functions(f=failing("E", "E", "E"))
    harness = Harness(functions)
    retry = [{"ErrorEquals": ["E"], "MaxAttempts": 1}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}]
    result = harness.run(machine(("T", task("f", Retry=retry, Catch=CATCH_ALL, End=True)), CAUGHT))
    assert functions.count("f") == 2 and "error" in result["output"]


def test_retry_counters_start_again_when_the_state_is_entered_again():
    functions = Functions(f=failing("E", "E", "E", "E"))
    harness = Harness(functions)
    definition = machine(
        ("T", task("f", Retry=[{"ErrorEquals": ["E"], "MaxAttempts": 1}],
                   Catch=[{"ErrorEquals": ["E"], "ResultPath": "$.error", "Next": "Again"}], End=True)),
        ("Again", {"Type": "Choice", "Choices": [{"Variable": "$.looped", "IsPresent": True, "Next": "Done"}],
                   "Default": "Mark"}),
        ("Mark", {"Type": "Pass", "Result": True, "ResultPath": "$.looped", "Next": "T"}),
        ("Done", {"Type": "Pass", "End": True}),
    )
    harness.run(definition)
    # Two attempts on the first entry, two more on the second: MaxAttempts 1 each time.
    assert functions.count("f") == 4


# -- error names ----------------------------------------------------------------------
def test_states_all_does_not_catch_or_retry_states_runtime():
    functions = Functions(f=lambda event: {})
    harness = Harness(functions)
    state = task("f", Retry=[{"ErrorEquals": ["States.ALL"]}], Catch=CATCH_ALL, End=True)
    state["Parameters"] = {"FunctionName": function_arn("f"), "Payload.$": "$.missing"}
    result = harness.run(machine(("T", state), CAUGHT))
    assert (result["status"], result["error"]) == ("FAILED", "States.Runtime")
    assert functions.count("f") == 0 and harness.sleeps == []


def test_states_runtime_is_not_caught_even_by_name():
    harness = Harness()
    state = {"Type": "Parallel", "Branches": [machine(("P", {"Type": "Pass", "InputPath": "$.missing", "End": True}))],
             "Catch": [{"ErrorEquals": ["States.Runtime"], "Next": "Caught"}], "End": True}
    result = harness.run(machine(("Par", state), CAUGHT))
    assert (result["status"], result["error"]) == ("FAILED", "States.Runtime")


def test_task_failed_matches_every_error_but_states_timeout():
    def slow(event):
        harness.clock.took(10)
        return {}

    functions = Functions(f=failing("Custom", "Lambda.Unknown"), slow=slow)
    harness = Harness(functions)
    retry = [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 5}]
    caught = [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Caught"}]
    assert harness.run(machine(("T", task("f", Retry=retry, End=True))))["status"] == "SUCCEEDED"
    assert functions.count("f") == 3
    result = harness.run(machine(("T", task("slow", Retry=retry, Catch=caught, TimeoutSeconds=5, End=True)), CAUGHT))
    assert result["output"]["error"] == {"Error": "States.Timeout"}
    assert functions.count("slow") == 1, "States.TaskFailed must not retry a timeout"


def test_a_lambda_error_is_named_by_its_error_type_with_the_payload_as_cause():
    harness = Harness(Functions(f=failing("SourceChanged")))
    result = harness.run(machine(("T", task("f", Catch=CATCH_ALL, End=True)), CAUGHT))
    error = result["output"]["error"]
    assert error["Error"] == "SourceChanged"
    assert json.loads(error["Cause"]) == {"errorType": "SourceChanged", "errorMessage": "failed"}


def test_an_unknown_function_fails_with_resource_not_found():
    result = Harness().run(machine(("T", task("nowhere", Catch=CATCH_ALL, End=True)), CAUGHT))
    assert result["output"]["error"]["Error"] == "Lambda.ResourceNotFoundException"


# -- input and output -----------------------------------------------------------------
def test_lambda_invoke_answers_status_code_version_and_the_parsed_payload():
    harness = Harness(Functions(f=lambda event: {"echo": event}))
    result = harness.run(machine(("T", task("f", End=True))), {"a": 1})
    assert result["output"]["Payload"] == {"echo": {"a": 1}}
    assert (result["output"]["StatusCode"], result["output"]["ExecutedVersion"]) == (200, "$LATEST")


def test_processing_order_input_path_parameters_selector_result_path_output_path():
    harness = Harness(Functions(f=lambda event: {"got": event}))
    state = task("f", InputPath="$.inner", ResultSelector={"r.$": "$.Payload.got"}, ResultPath="$.inner.result",
                 OutputPath="$.inner", End=True)
    state["Parameters"] = {"FunctionName": function_arn("f"), "Payload": {"v.$": "$.value", "fixed": [{"k.$": "$.value"}]}}
    result = harness.run(machine(("T", state)), {"inner": {"value": 5}, "outer": 1})
    assert result["output"] == {"value": 5, "result": {"r": {"v": 5, "fixed": [{"k": 5}]}}}


def test_catch_places_the_error_in_the_raw_input_without_selector_or_output_path():
    harness = Harness(Functions(f=failing("E")))
    catch = [{"ErrorEquals": ["E"], "ResultPath": "$.error", "Next": "Caught"}]
    state = task("f", InputPath="$.inner", ResultSelector={"x": 1}, OutputPath="$.inner", Catch=catch, End=True)
    result = harness.run(machine(("T", state), CAUGHT), {"inner": {"a": 1}, "outer": 2})
    assert result["output"]["inner"] == {"a": 1} and result["output"]["outer"] == 2
    assert result["output"]["error"]["Error"] == "E"


def test_catch_without_result_path_replaces_the_input_with_the_error():
    harness = Harness(Functions(f=failing("E")))
    result = harness.run(machine(("T", task("f", Catch=[{"ErrorEquals": ["E"], "Next": "Caught"}], End=True)), CAUGHT))
    assert set(result["output"]) == {"Error", "Cause"}


def test_result_path_null_keeps_the_input_and_absent_result_path_replaces_it():
    harness = Harness()
    kept = harness.run(machine(("P", {"Type": "Pass", "Result": {"r": 1}, "ResultPath": None, "End": True})), {"in": 1})
    replaced = harness.run(machine(("P", {"Type": "Pass", "Result": {"r": 1}, "End": True})), {"in": 1})
    assert (kept["output"], replaced["output"]) == ({"in": 1}, {"r": 1})


def test_input_path_null_gives_an_empty_object():
    harness = Harness()
    result = harness.run(machine(("P", {"Type": "Pass", "InputPath": None, "ResultPath": "$.x", "End": True})),
                         {"in": 1})
    assert result["output"] == {"in": 1, "x": {}}


@pytest.mark.parametrize("field", ["InputPath", "OutputPath"])
def test_a_path_that_selects_nothing_is_states_runtime(field):
    harness = Harness()
    result = harness.run(machine(("P", {"Type": "Pass", field: "$.missing", "End": True})), {"in": 1})
    assert (result["status"], result["error"]) == ("FAILED", "States.Runtime")


def test_a_null_value_is_selected_not_missing():
    harness = Harness()
    result = harness.run(machine(("P", {"Type": "Pass", "Parameters": {"v.$": "$.n"}, "End": True})), {"n": None})
    assert result["output"] == {"v": None}


def test_result_path_through_a_value_that_is_not_an_object_fails_catchably():
    harness = Harness()
    catch = [{"ErrorEquals": ["States.ResultPathMatchFailure"], "ResultPath": "$.error", "Next": "Caught"}]
    definition = machine(("Par", {"Type": "Parallel", "ResultPath": "$.text.x", "Catch": catch, "End": True,
                                  "Branches": [machine(("B", {"Type": "Pass", "End": True}))]}), CAUGHT)
    result = harness.run(definition, {"text": "a string"})
    assert result["output"]["error"]["Error"] == "States.ResultPathMatchFailure"


def test_result_path_does_not_change_the_input_in_place():
    harness = Harness()
    definition = machine(
        ("Keep", {"Type": "Pass", "ResultPath": "$.copy", "Next": "Change"}),
        ("Change", {"Type": "Pass", "Result": "changed", "ResultPath": "$.copy.inner.value", "End": True}),
    )
    result = harness.run(definition, {"inner": {"value": "original"}})
    assert result["output"]["inner"] == {"value": "original"}
    assert result["output"]["copy"]["inner"] == {"value": "changed"}


# -- Fail and Choice --------------------------------------------------------------------
def test_fail_takes_error_and_cause_from_paths_and_intrinsics():
    harness = Harness()
    fail = {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('{}: {} \\{ok\\}', $.e, $.c)"}
    result = harness.run(machine(("F", fail)), {"e": "Bad", "c": "why"})
    assert (result["error"], result["cause"]) == ("Bad", "Bad: why {ok}")


def test_a_cause_path_that_selects_nothing_fails_with_states_runtime():
    harness = Harness()
    result = harness.run(machine(("F", {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"})), {"e": "Bad"})
    assert result["error"] == "States.Runtime"


def test_choice_on_a_missing_variable_is_states_runtime_but_is_present_is_false():
    harness = Harness()
    present = machine(("C", {"Type": "Choice", "Default": "No",
                             "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Yes"}]}),
                      ("Yes", {"Type": "Pass", "Result": "yes", "End": True}),
                      ("No", {"Type": "Pass", "Result": "no", "End": True}))
    compared = machine(("C", {"Type": "Choice", "Default": "No",
                              "Choices": [{"Variable": "$.x", "StringEquals": "a", "Next": "Yes"}]}),
                       ("Yes", {"Type": "Pass", "End": True}), ("No", {"Type": "Pass", "End": True}))
    assert harness.run(present, {})["output"] == "no"
    assert harness.run(compared, {})["error"] == "States.Runtime"


def test_no_matching_choice_and_no_default_is_states_no_choice_matched():
    harness = Harness()
    definition = machine(("C", {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "D"}]}),
                         ("D", {"Type": "Succeed"}))
    assert harness.run(definition, {"x": 2})["error"] == "States.NoChoiceMatched"


@pytest.mark.parametrize("rule,value,matched", [
    ({"StringMatches": "States.*"}, "States.Timeout", True),
    ({"StringMatches": "a\\*b"}, "a*b", True),
    ({"StringMatches": "a\\*b"}, "axb", False),
    ({"StringEquals": "1"}, 1, False),
    ({"NumericEquals": 1}, True, False),
    ({"BooleanEquals": False}, False, True),
    ({"NumericGreaterThanEquals": 2.5}, 3, True),
    ({"TimestampLessThan": "2026-01-02T00:00:00Z"}, "2026-01-01T23:59:59+00:00", True),
    ({"IsTimestamp": True}, "2026-01-01", False),
    ({"IsNull": True}, None, True),
    ({"IsNumeric": True}, True, False),
])
def test_choice_comparisons(rule, value, matched):
    harness = Harness()
    definition = machine(("C", {"Type": "Choice", "Default": "No", "Choices": [{"Variable": "$.v", **rule, "Next": "Yes"}]}),
                         ("Yes", {"Type": "Pass", "Result": True, "End": True}),
                         ("No", {"Type": "Pass", "Result": False, "End": True}))
    assert harness.run(definition, {"v": value})["output"] is matched


def test_choice_compares_with_another_path_and_combines_rules():
    harness = Harness()
    rule = {"And": [{"Variable": "$.a", "NumericLessThanPath": "$.b"},
                    {"Not": {"Variable": "$.s", "StringEquals": "no"}},
                    {"Or": [{"Variable": "$.s", "StringMatches": "y*"}, {"Variable": "$.a", "IsNull": True}]}]}
    definition = machine(("C", {"Type": "Choice", "Default": "No", "Choices": [{**rule, "Next": "Yes"}]}),
                         ("Yes", {"Type": "Pass", "Result": True, "End": True}),
                         ("No", {"Type": "Pass", "Result": False, "End": True}))
    assert harness.run(definition, {"a": 1, "b": 2, "s": "yes"})["output"] is True
    assert harness.run(definition, {"a": 3, "b": 2, "s": "yes"})["output"] is False


# -- timeouts ---------------------------------------------------------------------------
def test_timeout_seconds_applies_to_each_attempt():
    durations = [5, 2]

    def function(event):
        harness.clock.took(durations.pop(0))
        return {"done": True}

    harness = Harness(Functions(f=function))
    retry = [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 1}]
    result = harness.run(machine(("T", task("f", TimeoutSeconds=3, Retry=retry, OutputPath="$.Payload", End=True))))
    assert result["output"] == {"done": True}


def test_a_timed_out_call_is_abandoned_not_stopped():
    # Real time: TimeoutSeconds' smallest value is 1 s.
    release, finished = threading.Event(), threading.Event()

    def blocked(event):
        release.wait(10)
        finished.set()
        return {}

    harness = Harness(Functions(f=blocked), clock=RealClock())
    catch = [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Caught"}]
    result = harness.run(machine(("T", task("f", TimeoutSeconds=1, Catch=catch, End=True)), CAUGHT))
    assert result["output"]["error"] == {"Error": "States.Timeout"}
    assert not finished.is_set(), "the execution waited for the call"
    release.set()
    assert finished.wait(10), "the abandoned call was stopped"


def test_a_call_past_the_function_timeout_is_sandbox_timedout():
    def forever(event):
        harness.clock.took(1000)
        return {}

    harness = Harness(Functions(f=forever))
    result = harness.run(machine(("T", task("f", Catch=CATCH_ALL, End=True)), CAUGHT), machine_type="STANDARD")
    assert result["output"]["error"]["Error"] == "Sandbox.Timedout"


# -- the EXPRESS ceiling and the payload limit ----------------------------------------
def test_an_express_execution_times_out_at_its_ceiling_without_running_catch():
    def slow(event):
        harness.clock.took(200)
        return {}

    functions = Functions(f=slow, cleanup=lambda event: {})
    harness = Harness(functions)
    definition = machine(("A", task("f", Next="B", Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Clean"}])),
                         ("B", task("f", End=True, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Clean"}])),
                         ("Clean", task("cleanup", End=True)))
    result = harness.run(definition, machine_type="EXPRESS")
    assert (result["status"], result["error"]) == ("TIMED_OUT", "States.Timeout")
    assert functions.count("cleanup") == 0
    assert harness.clock.now == 300


def test_the_express_ceiling_can_be_shortened_and_a_wait_hits_it():
    harness = Harness(express_ceiling_seconds=2)
    definition = machine(("W", {"Type": "Wait", "Seconds": 5, "End": True}))
    assert harness.run(definition, machine_type="EXPRESS")["status"] == "TIMED_OUT"
    assert harness.run(definition, machine_type="STANDARD")["status"] == "SUCCEEDED"


def test_a_state_output_over_the_limit_is_a_terminal_data_limit_error():
    harness = Harness(Functions(f=lambda event: "x" * 300_000))
    result = harness.run(machine(("T", task("f", Retry=[{"ErrorEquals": ["States.ALL"]}], Catch=CATCH_ALL, End=True)),
                                 CAUGHT))
    assert (result["status"], result["error"]) == ("FAILED", "States.DataLimitExceeded")
    assert harness.functions.count("f") == 1


def test_the_limit_counts_utf8_bytes():
    harness = Harness(payload_limit=100)
    # 40 characters of two bytes each: 80 bytes of text, over 100 with the JSON around them.
    result = harness.run(machine(("P", {"Type": "Pass", "Parameters": {"a.$": "$.s", "b.$": "$.s"}, "End": True})),
                         {"s": "é" * 40})
    assert result["error"] == "States.DataLimitExceeded"


def test_a_map_fails_on_what_it_collects_even_with_result_path_null():
    harness = Harness(payload_limit=2000)
    item = {"Type": "Pass", "Result": "y" * 100, "End": True}
    state = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": machine(("I", item)), "ResultPath": None,
             "Catch": CATCH_ALL, "End": True}
    result = harness.run(machine(("M", state), CAUGHT), {"items": list(range(30))})
    assert result["error"] == "States.DataLimitExceeded"


# -- Map and Parallel -------------------------------------------------------------------
def item_map(**fields):
    processor = machine(("Work", task("f", OutputPath="$.Payload", End=True)))
    return {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "End": True, **fields}


def test_an_inline_map_selects_items_with_the_context_and_keeps_their_order():
    harness = Harness(Functions(f=lambda event: event))
    selector = {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "shared.$": "$.shared"}
    result = harness.run(machine(("M", item_map(ItemSelector=selector, InputPath="$.inner"))),
                         {"inner": {"items": ["a", "b", "c"], "shared": 1}})
    assert result["output"] == [{"value": v, "index": i, "shared": 1} for i, v in enumerate("abc")]


def test_an_inline_map_fails_with_its_first_failed_item_and_starts_no_more():
    def function(event):
        if event == 1:
            raise error_named("GroupFailed", "item 1")
        return event

    functions = Functions(f=function)
    harness = Harness(functions)
    result = harness.run(machine(("M", item_map(MaxConcurrency=1, Catch=CATCH_ALL)), CAUGHT),
                         {"items": [0, 1, 2, 3]})
    assert result["output"]["error"]["Error"] == "GroupFailed"
    assert [event for _, event in functions.calls] == [0, 1]


def test_a_retried_map_runs_every_item_again():
    failures = ["once"]

    def function(event):
        if event == 2 and failures:
            failures.pop()
            raise error_named("Throttled")
        return event

    functions = Functions(f=function)
    harness = Harness(functions)
    result = harness.run(machine(("M", item_map(MaxConcurrency=1, Retry=[{"ErrorEquals": ["Throttled"]}]))),
                         {"items": [1, 2, 3]})
    assert result["output"] == [1, 2, 3]
    assert [event for _, event in functions.calls] == [1, 2, 1, 2, 3]


def test_an_inline_map_runs_at_most_max_concurrency_items_at_once():
    lock, running, most = threading.Lock(), [0], [0]
    gate = threading.Barrier(2, timeout=5)

    def function(event):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            gate.wait()
        except threading.BrokenBarrierError:
            pass
        with lock:
            running[0] -= 1
        return event

    harness = Harness(Functions(f=function), clock=RealClock())
    result = harness.run(machine(("M", item_map(MaxConcurrencyPath="$.limit"))), {"items": list(range(6)), "limit": 2})
    assert result["output"] == list(range(6)) and most[0] == 2


def test_max_concurrency_path_must_name_a_non_negative_integer():
    harness = Harness(Functions(f=lambda event: event))
    result = harness.run(machine(("M", item_map(MaxConcurrencyPath="$.limit"))), {"items": [1], "limit": -1})
    assert result["error"] == "States.Runtime"


def test_items_path_must_select_an_array():
    harness = Harness(Functions(f=lambda event: event))
    assert harness.run(machine(("M", item_map())), {"items": {"a": 1}})["error"] == "States.Runtime"
    assert harness.run(machine(("M", item_map())), {})["error"] == "States.Runtime"


def test_parallel_branches_answer_in_order_and_the_first_failure_fails_the_state():
    harness = Harness()
    ok = {"Type": "Parallel", "End": True, "Branches": [
        machine(("A", {"Type": "Pass", "Result": "a", "End": True})),
        machine(("B", {"Type": "Pass", "Result": "b", "End": True}))]}
    failing_branch = {"Type": "Parallel", "End": True, "Branches": [
        machine(("A", {"Type": "Pass", "End": True})),
        machine(("B", {"Type": "Fail", "Error": "BranchError", "Cause": "b"}))]}
    assert harness.run(machine(("P", ok)))["output"] == ["a", "b"]
    assert harness.run(machine(("P", failing_branch)))["error"] == "BranchError"


def distributed(**fields):
    processor = machine(("Work", task("f", OutputPath="$.Payload", End=True)))
    processor["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    return {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "End": True, **fields}


def fails_on(*bad):
    def function(event):
        if event in bad:
            raise error_named("GroupFailed")
        return event

    return function


@pytest.mark.parametrize("tolerance,failed_items,outcome", [
    ({}, [2], "States.ExceedToleratedFailureThreshold"),
    ({"ToleratedFailureCount": 1}, [2], "SUCCEEDED"),
    ({"ToleratedFailureCount": 1}, [1, 2], "States.ExceedToleratedFailureThreshold"),
    ({"ToleratedFailurePercentage": 25}, [2], "SUCCEEDED"),
    ({"ToleratedFailurePercentage": 24.9}, [2], "States.ExceedToleratedFailureThreshold"),
    # "If you specify both, the workflow fails when it exceeds either value."
    ({"ToleratedFailureCount": 5, "ToleratedFailurePercentage": 10}, [2], "States.ExceedToleratedFailureThreshold"),
    ({"ToleratedFailureCount": 0, "ToleratedFailurePercentage": 50}, [2], "States.ExceedToleratedFailureThreshold"),
])
def test_a_map_run_fails_past_its_tolerated_failures(tolerance, failed_items, outcome):
    harness = Harness(Functions(f=fails_on(*failed_items)))
    result = harness.run(machine(("M", distributed(MaxConcurrency=1, **tolerance))), {"items": [1, 2, 3, 4]},
                         machine_type="STANDARD")
    assert (result.get("error") or result["status"]) == outcome


def test_a_map_run_is_counted_and_its_children_listed():
    harness = Harness(Functions(f=fails_on(2)))
    machine_arn = harness.deploy(machine(("M", distributed(MaxConcurrency=1, ToleratedFailureCount=1))))
    arn = harness.service.start_execution(machine_arn, "e", json.dumps({"items": [1, 2, 3]}))["executionArn"]
    assert harness.service._find_execution(arn).done.wait(10)
    assert json.loads(harness.service.describe_execution(arn)["output"]) == [1, None, 3]
    (run,) = harness.service.list_map_runs(arn)["mapRuns"]
    described = harness.service.describe_map_run(run["mapRunArn"])
    counts = described["itemCounts"]
    assert (described["status"], counts["succeeded"], counts["failed"], counts["total"]) == ("SUCCEEDED", 2, 1, 3)
    children = harness.service.list_executions(mapRunArn=run["mapRunArn"])["executions"]
    assert sorted(child["status"] for child in children) == ["FAILED", "SUCCEEDED", "SUCCEEDED"]
    assert harness.service.list_executions(stateMachineArn=machine_arn)["executions"][0]["executionArn"] == arn


def test_a_distributed_map_child_has_its_own_execution_context():
    harness = Harness()
    processor = machine(("Who", {"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id", "input.$": "$$.Execution.Input"},
                                 "End": True}))
    processor["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}
    state = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "Label": "Items", "End": True}
    result = harness.run(machine(("M", state)), {"items": ["a"]}, machine_type="STANDARD")
    (child,) = result["output"]
    assert child["input"] == "a" and "/Items:" in child["id"]


# -- Wait ---------------------------------------------------------------------------------
def test_wait_takes_seconds_from_the_input_and_timestamps():
    harness = Harness()
    definition = machine(("W", {"Type": "Wait", "SecondsPath": "$.s", "Next": "Until"}),
                         ("Until", {"Type": "Wait", "TimestampPath": "$.t", "End": True}))
    result = harness.run(definition, {"s": 7, "t": "2026-01-01T00:01:00Z"}, machine_type="STANDARD")
    assert result["status"] == "SUCCEEDED" and harness.sleeps == [7, 53]


# -- defects ------------------------------------------------------------------------------
class Broken(Functions):
    """An integration with a defect: it raises a Python error instead of answering."""

    def lambda_function(self, name):
        raise KeyError("a defect")


@pytest.mark.parametrize("definition", [
    machine(("T", task("f", End=True))),
    machine(("M", {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "End": True,
                   "ItemProcessor": machine(("I", task("f", End=True)))})),
])
def test_a_defect_ends_the_execution_as_states_runtime_instead_of_hanging_it(definition):
    result = Harness(Broken()).run(definition, {"items": [1, 2, 3]}, machine_type="STANDARD")
    assert (result["status"], result["error"]) == ("FAILED", "States.Runtime")
    assert "KeyError" in result["cause"]
