"""The Fail states at the end of every failure path, executed on moto with errors as
Step Functions catches them, Cause included or not.

A Catch's ResultPath holds {"Error", "Cause"}, but not every error comes with a
Cause; a Fail state whose CausePath (or a States.Format over it) resolves to nothing
ends the execution with States.Runtime, not with the error that happened
(https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html), and
batch_invoke would report that instead of the object's real failure.
"""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest

from mediasync.local.runtime import project_root

FILES = ["copy_small.asl.json", "copy_large.asl.json"]


def reachable(states: dict, start: str) -> dict:
    """``start`` and every state it can lead to (the failure path's own states)."""
    found: dict = {}
    pending = [start]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        state = found[name] = states[name]
        pending += [state[key] for key in ("Next", "Default") if key in state]
        pending += [choice["Next"] for choice in state.get("Choices", [])]
    return found


def failure_path(filename: str, in_map: bool, start: str, state_input: dict) -> dict:
    """The file's own states from ``start`` on, entered with ``state_input`` as caught."""
    definition = json.loads((project_root() / "statemachine" / filename).read_text())
    states = definition["States"]
    if in_map:
        states = states["CopyPartGroups"]["ItemProcessor"]["States"]
    return {"StartAt": "Caught",
            "States": {"Caught": {"Type": "Pass", "Result": state_input, "Next": start}, **reachable(states, start)}}


def execute(runtime, definition: dict) -> dict:
    sfn = boto3.client("stepfunctions", region_name=runtime.region)
    machine = sfn.create_state_machine(name=f"fail-{uuid.uuid4().hex[:12]}", definition=json.dumps(definition),
                                       roleArn=runtime._role, type="STANDARD")["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return described


CASES = [
    # (caught error, expected execution error, text the cause must contain)
    ({"Error": "States.Timeout"}, "StepFunctionsError", "States.Timeout"),
    ({"Error": "States.ExceedToleratedFailureThreshold"}, "StepFunctionsError", "States.ExceedToleratedFailureThreshold"),
    ({"Error": "SourceChanged"}, "SourceChanged", ""),
    ({"Error": "States.TaskFailed", "Cause": "job exited 1"}, "StepFunctionsError", "States.TaskFailed: job exited 1"),
    ({"Error": "SourceChanged", "Cause": "412 on part 3"}, "SourceChanged", "412 on part 3"),
]


@pytest.mark.parametrize("filename", FILES)
@pytest.mark.parametrize("in_map,start", [(False, "Failed"), (True, "GroupFailed")])
@pytest.mark.parametrize("caught,error,cause", CASES, ids=[case[0]["Error"] + ("+cause" if "Cause" in case[0] else "") for case in CASES])
def test_failure_ends_with_the_caught_error_with_or_without_a_cause(runtime, filename, in_map, start, caught, error, cause):
    described = execute(runtime, failure_path(filename, in_map, start, {"error": caught}))
    assert described["status"] == "FAILED"
    assert described.get("error") == error, described
    assert cause in (described.get("cause") or ""), described


@pytest.mark.parametrize("filename", FILES)
def test_a_diagnosis_without_a_cause_falls_back_to_the_caught_error(runtime, filename):
    state = {"error": {"Error": "States.ExceedToleratedFailureThreshold"}, "abort": {"result": {"error": "SourceChanged"}}}
    described = execute(runtime, failure_path(filename, False, "Diagnosed", state))
    assert (described["status"], described.get("error")) == ("FAILED", "StepFunctionsError"), described
