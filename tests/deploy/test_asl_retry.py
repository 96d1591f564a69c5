"""Every Lambda Task in both ASL files retries the same way.

ASL has no includes, so the Retry list is written out in each Task; this test is
what keeps the copies equal. The canonical list is below; the only differences
allowed are the ones each names its reason for.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MACHINES = {"copy_small": ROOT / "statemachine" / "copy_small.asl.json",
            "copy_large": ROOT / "statemachine" / "copy_large.asl.json"}

# Our transient errors (errors.py: retryable, raised by the handlers) and the Lambda
# service's own transient failures.
TRANSIENT = ["Throttled", "S3ServiceError", "Lambda.ServiceException", "Lambda.AWSLambdaException",
             "Lambda.SdkClientException", "Lambda.TooManyRequestsException",
             "Lambda.ClientExecutionTimeoutException", "Lambda.Unknown", "Sandbox.Timedout", "Runtime.ExitError"]
BACKOFF = {"IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2.0, "MaxDelaySeconds": 30, "JitterStrategy": "FULL"}
# EXPRESS (copy_small) retries a timed-out state once, in a retrier of its own, only
# in these states; its CopyObject and CompleteUpload are not retried on a timeout.
# (STANDARD lists States.Timeout with the transient errors instead.) Recorded as the
# ASL files have it: a change to either side fails this test.
EXPRESS_TIMEOUT_RETRIED_ONCE = {"Inspect", "CreateUpload", "Verify", "AbortUpload"}


def expected_retry(machine: str, state: str) -> list[dict]:
    errors = list(TRANSIENT)
    if machine == "copy_large":
        errors.append("States.Timeout")  # STANDARD: every Lambda state is safe to run again
    if state == "CopyPartsOnLambda":
        errors.append("WorkerInterrupted")  # a part group is simply copied again
    retry = [{"ErrorEquals": errors, **BACKOFF}]
    if machine == "copy_small" and state in EXPRESS_TIMEOUT_RETRIED_ONCE:
        retry.append({"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 1, "BackoffRate": 2.0,
                      "JitterStrategy": "FULL"})
    return retry


def lambda_tasks(states: dict) -> list[tuple[str, dict]]:
    found = []
    for name, state in states.items():
        if state.get("Type") == "Task" and ":lambda:invoke" in state.get("Resource", ""):
            found.append((name, state))
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                found += lambda_tasks(state[key]["States"])
        for branch in state.get("Branches", []):
            found += lambda_tasks(branch["States"])
    return found


CASES = [(machine, name, state) for machine, path in MACHINES.items()
         for name, state in lambda_tasks(json.loads(path.read_text())["States"])]


def test_both_machines_have_lambda_tasks():
    assert {machine for machine, *_ in CASES} == set(MACHINES) and len(CASES) >= 10


@pytest.mark.parametrize("machine,name,state", CASES, ids=[f"{m}:{n}" for m, n, _ in CASES])
def test_every_lambda_task_retries_with_the_canonical_list(machine, name, state):
    assert state["Retry"] == expected_retry(machine, name)
