"""Timeouts and retry schedules in the ASL files that AWS can actually reach, and
retry lists that name the errors each integration really raises."""

from __future__ import annotations

from typing import Any

import pytest

from mediasync.core.plan import MAX_SINGLE_COPY
from mediasync.local.runtime import STATE_MACHINES
from mediasync.model.rates import RATE_RANGES
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


def lambda_functions(resources: dict[str, Any], filename: str) -> dict[str, dict[str, Any]]:
    """Substitution key -> the Properties of the function the machine of ``filename`` invokes by it."""
    [machine] = [body["Properties"] for body in resources.values() if body["Type"] == "AWS::Serverless::StateMachine"
                 and body["Properties"]["DefinitionUri"].endswith(filename)]
    functions = {}
    for key, value in machine["DefinitionSubstitutions"].items():
        target = value.get("Fn::GetAtt") if isinstance(value, dict) else None
        if target and resources[target[0]]["Type"] == "AWS::Serverless::Function":
            functions[key] = resources[target[0]]["Properties"]
    return functions


def invoked_function(state: dict[str, Any]) -> str:
    return state["Parameters"]["FunctionName"].strip("${}")


@pytest.mark.parametrize("filename", ALL_FILES)
def test_every_lambda_task_outlasts_its_function(resources, filename):
    """A Task state that times out fails with States.Timeout but does not stop its Lambda
    (https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html): the function
    runs on to its own Timeout (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html),
    beside the copy the state's Retry starts, or the Catch's AbortUpload."""
    functions = lambda_functions(resources, filename)
    for name, state in tasks(filename):
        if state["Resource"].endswith(":states:::lambda:invoke"):
            function = functions[invoked_function(state)]
            assert function["Timeout"] < state["TimeoutSeconds"], (
                f"{name}: the state gives up after {state['TimeoutSeconds']} s, its function runs {function['Timeout']} s")


# The EXPRESS route's largest object (MultipartThreshold is at most 5 GiB) at the
# slow end of the server-side copy rate (model/rates.py, RATE_RANGES), and what the
# other states of the route take at worst besides (Inspect, Verify, CreateUpload,
# CompleteUpload: a few requests each, well under this).
SLOW_COPY_BYTES_PER_SECOND = RATE_RANGES["copy_bytes_per_second"][0]
OTHER_STATES_SECONDS = 20.0


@pytest.mark.parametrize("copy_state", ["CopyObject", "CopyPartsOnLambda"])
def test_an_express_copy_that_times_out_once_is_retried_within_five_minutes(resources, copy_state):
    """A copy step of the EXPRESS machine that times out (a hung request, SlowDown retries
    inside the Lambda) is retried by its state; the retry must still fit the execution's
    300 s, or the execution ends where no Catch runs. One timed-out attempt, the first
    backoff, one whole attempt of the largest EXPRESS object at the slow-end rate, and
    the other states must fit."""
    [filename] = EXPRESS
    functions = lambda_functions(resources, filename)
    [state] = [state for name, state in tasks(filename) if name == copy_state]
    retrier = next(r for r in state["Retry"] if "Sandbox.Timedout" in r["ErrorEquals"])
    timed_out = functions[invoked_function(state)]["Timeout"]
    slow_attempt = MAX_SINGLE_COPY / SLOW_COPY_BYTES_PER_SECOND
    assert slow_attempt < timed_out, "a whole attempt at the slow end must fit the function's timeout"
    worst = timed_out + retry_delays(retrier)[0] + slow_attempt + OTHER_STATES_SECONDS
    assert worst <= EXPRESS_MAX_SECONDS, f"{copy_state}: a timed-out attempt and its retry need {worst:.0f} s"


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


def test_the_distributed_map_item_is_the_one_plan_map_item_measures():
    """plan.fits_batch measures plan.map_item against AWS Batch's 8,192-character container
    overrides: the ItemSelector must build exactly that item, field by field from the state."""
    from mediasync.core.plan import map_item

    def shape(node: Any, path: str = "$") -> Any:
        if isinstance(node, dict):
            return {key.removesuffix(".$"): shape(value, f"{path}.{key.removesuffix('.$')}") for key, value in node.items()}
        return node

    selector = shape(load_asl("copy_large.asl.json")["States"]["CopyPartGroups"]["ItemSelector"])
    state = {"source": {"bucket": "b", "key": "k", "version_id": None, "etag": '"e"', "size": 1, "metadata": {}},
             "destination": {"bucket": "d", "key": "k"}, "options": {"part_concurrency": 8, "requester_pays": False},
             "plan": {}}
    item = map_item(state, 0, "upload")
    assert set(selector) == set(item)
    for part in ("source", "options", "plan"):
        assert set(selector[part]) == set(item[part]), part
        assert all(path == f"$.{part}.{name}" for name, path in selector[part].items()), part
    assert (selector["group"], selector["destination"], selector["upload_id"]) == (
        "$$.Map.Item.Value", "$.destination", "$.upload.result.upload_id")
