"""Timeouts and retry schedules in the ASL files that AWS can actually reach, and
retry lists that name the errors each integration really raises."""

from __future__ import annotations

from typing import Any

import pytest

from mediasync.local.runtime import STATE_MACHINES
from tests.deploy.conftest import load_asl

# An EXPRESS execution ends after 5 minutes, whatever its states say
# (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-standard-vs-express.html).
EXPRESS_MAX_SECONDS = 300

# What AWS recommends retrying on every Lambda invoke task
# (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
LAMBDA_TRANSIENT = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
}


def tasks(filename: str) -> list[tuple[str, dict[str, Any]]]:
    found = []

    def walk(states: dict[str, Any]) -> None:
        for name, state in states.items():
            if state["Type"] == "Task":
                found.append((name, state))
            if "ItemProcessor" in state:
                walk(state["ItemProcessor"]["States"])

    walk(load_asl(filename)["States"])
    return found


def retry_delays(retrier: dict[str, Any]) -> list[float]:
    """The waits before each retry, at their longest (jitter only shortens them)."""
    interval = retrier.get("IntervalSeconds", 1)
    rate = retrier.get("BackoffRate", 2.0)
    cap = retrier.get("MaxDelaySeconds", float("inf"))
    return [min(interval * rate**attempt, cap) for attempt in range(retrier.get("MaxAttempts", 3))]


def catches_timeout(retrier: dict[str, Any]) -> bool:
    return bool({"States.Timeout", "States.ALL"} & set(retrier["ErrorEquals"]))


EXPRESS = [filename for filename, kind, _ in STATE_MACHINES.values() if kind == "EXPRESS"]
ALL_FILES = [filename for filename, _, _ in STATE_MACHINES.values()]


@pytest.mark.parametrize("filename", ALL_FILES)
def test_every_lambda_task_retries_what_aws_recommends(filename):
    for name, state in tasks(filename):
        if state["Resource"].endswith(":states:::lambda:invoke"):
            retried = set().union(*(set(retrier["ErrorEquals"]) for retrier in state["Retry"]))
            assert LAMBDA_TRANSIENT <= retried, f"{name} does not retry {sorted(LAMBDA_TRANSIENT - retried)}"


@pytest.mark.parametrize("filename", EXPRESS)
def test_express_timeouts_fit_in_five_minutes(filename):
    for name, state in tasks(filename):
        assert state["TimeoutSeconds"] < EXPRESS_MAX_SECONDS, f"{name}: a {state['TimeoutSeconds']} s timeout never fires"


@pytest.mark.parametrize("filename", EXPRESS)
def test_express_retry_schedules_fit_in_five_minutes(filename):
    for name, state in tasks(filename):
        for retrier in state["Retry"]:
            waits = sum(retry_delays(retrier))
            assert waits < EXPRESS_MAX_SECONDS, f"{name}: {retrier['ErrorEquals']} waits {waits} s in all"
            if catches_timeout(retrier):
                # Each timed-out attempt used TimeoutSeconds before the retry begins.
                worst = (retrier["MaxAttempts"] + 1) * state["TimeoutSeconds"] + waits
                assert worst <= EXPRESS_MAX_SECONDS, f"{name}: retrying its timeout needs {worst} s"


def test_the_schedule_arithmetic():
    assert retry_delays({"IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2.0, "MaxDelaySeconds": 30}) == [1, 2, 4, 8, 16]
    assert sum(retry_delays({"IntervalSeconds": 10, "MaxAttempts": 6, "BackoffRate": 2.0, "MaxDelaySeconds": 60})) == 250


def test_functions_of_the_express_machine_end_before_their_states_time_out(resources):
    functions = {body["Properties"]["CodeUri"].strip("/").removeprefix("functions/"): body["Properties"]
                 for body in resources.values() if body["Type"] == "AWS::Serverless::Function"}
    for filename in EXPRESS:
        for name, state in tasks(filename):
            function = state["Parameters"]["FunctionName"].strip("${}")
            handler = {"CopyObjectFunctionArn": "copy_object"}.get(function)
            if handler:
                assert functions[handler]["Timeout"] < state["TimeoutSeconds"], name


# -- the AWS Batch task -----------------------------------------------------------
# A job that failed, for whatever reason, fails submitJob.sync with States.TaskFailed
# (https://docs.aws.amazon.com/step-functions/latest/dg/connect-batch.html); the
# Batch API's own errors are Batch.*. Nothing else reaches this task.
BATCH_ERRORS = ("States.TaskFailed", "Batch.")
# Time a job may wait RUNNABLE for Fargate Spot (or on-demand) capacity.
QUEUE_SLACK_SECONDS = 1800


def batch_tasks() -> list[tuple[str, dict[str, Any]]]:
    return [(name, state) for filename in ALL_FILES for name, state in tasks(filename)
            if state["Resource"].endswith(":states:::batch:submitJob.sync")]


def test_there_is_a_batch_task():
    assert [name for name, _ in batch_tasks()] == ["CopyPartsOnBatch"]


def test_batch_task_retries_only_errors_it_can_raise():
    for name, state in batch_tasks():
        for retrier in state["Retry"]:
            foreign = [error for error in retrier["ErrorEquals"] if not error.startswith(BATCH_ERRORS)]
            assert not foreign, f"{name} retries errors a Batch job never raises: {foreign}"


def test_a_failed_job_is_submitted_again_a_few_times_after_a_pause():
    for name, state in batch_tasks():
        retriers = [retrier for retrier in state["Retry"] if "States.TaskFailed" in retrier["ErrorEquals"]]
        assert len(retriers) == 1, f"{name}: one failed start would abort the whole upload"
        retrier = retriers[0]
        assert 1 <= retrier["MaxAttempts"] <= 3, "bounded: an application error fails the same way each time"
        assert retrier["IntervalSeconds"] >= 10 and retrier.get("BackoffRate", 2.0) > 1


def test_batch_task_waits_for_every_attempt_the_job_definition_allows(resources):
    job = resources["WorkerJobDefinition"]["Properties"]
    longest_job = job["RetryStrategy"]["Attempts"] * job["Timeout"]["AttemptDurationSeconds"]
    for name, state in batch_tasks():
        assert state["TimeoutSeconds"] >= longest_job + QUEUE_SLACK_SECONDS, name
