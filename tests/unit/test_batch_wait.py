"""batch_invoke's wait for a STANDARD execution, against stubbed Step Functions and a fake clock.

StartExecution with the name and input of a running execution answers 200 with
that execution and its original startDate; a closed one answers
ExecutionAlreadyExists (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
Either way a re-invocation of S3 Batch's task may find a copy that has run for a
long time, and must measure the expected end from the execution's start.
"""

from __future__ import annotations

import datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import ANY, Stubber

from mediasync.core import s3batch_task as batch
from mediasync.core.s3batch_task import (
    IN_PROGRESS,
    SUCCEEDED,
    TEMPORARY_FAILURE,
    BatchTask,
    TaskRunner,
    execution_arn,
    execution_arn_in,
    execution_name,
)
from mediasync.core.settings import Settings

MACHINE = "arn:aws:states:us-east-1:111122223333:stateMachine:mediasync-copy-large"
TASK = BatchTask("job-1", "task-1", "src", "big.mov")
EXECUTION = execution_arn(MACHINE, execution_name(TASK.job_id, TASK.task_id, 0))
NOW = 1_800_000_000.0
EXPECTED = 600.0  # the scale model's duration for this copy
OUTPUT = '{"destination": {"bucket": "dst", "key": "big.mov"}, "size": 1, "copy": {}, "verification": {}}'


class Clock:
    def __init__(self) -> None:
        self.now = NOW
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def at(seconds_ago: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(NOW - seconds_ago, datetime.timezone.utc)


@pytest.fixture
def sfn(monkeypatch) -> Any:
    client = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x",
                                   region_name="us-east-1").client("stepfunctions")
    monkeypatch.setattr(batch.clients, "stepfunctions", lambda: client)
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def wait(clock: Clock, remaining_seconds: float = 890.0) -> batch.TaskOutcome:
    runner = TaskRunner(Settings(standard_state_machine_arn=MACHINE), sleep=clock.sleep, clock=lambda: clock.now)
    started = clock.now
    return runner._run_standard(TASK, {"plan": {}}, EXPECTED,
                                lambda: int((remaining_seconds - (clock.now - started)) * 1000))


def described(status: str, seconds_ago: float, **extra: Any) -> dict:
    return {"executionArn": EXECUTION, "stateMachineArn": MACHINE, "status": status, "startDate": at(seconds_ago),
            **extra}


def test_reattaching_to_a_copy_running_for_hours_polls_promptly(sfn):
    # The idempotent 200: this invocation did not start the copy, two hours ago.
    sfn.add_response("start_execution", {"executionArn": EXECUTION, "startDate": at(7200)}, {
        "stateMachineArn": MACHINE, "name": ANY, "input": ANY})
    sfn.add_response("describe_execution", described("SUCCEEDED", 7200, output=OUTPUT), {"executionArn": EXECUTION})
    clock = Clock()

    outcome = wait(clock)

    assert outcome.result_code == SUCCEEDED
    assert clock.sleeps == [EXPECTED / 8], "past its expected end: the overrun pause, not the whole duration again"


def test_reattaching_to_a_closed_name_measures_from_the_executions_start(sfn):
    sfn.add_client_error("start_execution", "ExecutionAlreadyExists", "Execution Already Exists")
    sfn.add_response("describe_execution", described("RUNNING", 7200), {"executionArn": EXECUTION})
    sfn.add_response("describe_execution", described("SUCCEEDED", 7200, output=OUTPUT), {"executionArn": EXECUTION})
    clock = Clock()

    assert wait(clock).result_code == SUCCEEDED
    assert clock.sleeps == [EXPECTED / 8]


def test_reattaching_to_a_copy_started_recently_waits_for_the_rest_of_its_expected_time(sfn):
    sfn.add_response("start_execution", {"executionArn": EXECUTION, "startDate": at(100)}, {
        "stateMachineArn": MACHINE, "name": ANY, "input": ANY})
    sfn.add_response("describe_execution", described("SUCCEEDED", 100, output=OUTPUT), {"executionArn": EXECUTION})
    clock = Clock()

    assert wait(clock).result_code == SUCCEEDED
    assert clock.sleeps == [EXPECTED - 100]


def test_a_copy_outliving_the_invocation_is_reported_with_its_execution_arn(sfn):
    sfn.add_response("start_execution", {"executionArn": EXECUTION, "startDate": at(0)}, {
        "stateMachineArn": MACHINE, "name": ANY, "input": ANY})
    clock = Clock()

    outcome = wait(clock, remaining_seconds=5.0)  # inside the invocation's time margin: no poll at all

    assert (outcome.result_code, outcome.code) == (TEMPORARY_FAILURE, IN_PROGRESS)
    assert execution_arn_in(outcome.result_string) == EXECUTION


def test_throttled_describe_still_names_the_running_execution(sfn):
    sfn.add_response("start_execution", {"executionArn": EXECUTION, "startDate": at(7200)}, {
        "stateMachineArn": MACHINE, "name": ANY, "input": ANY})
    sfn.add_client_error("describe_execution", "ThrottlingException", "Rate exceeded", 400)

    outcome = wait(Clock())

    assert outcome.result_code == TEMPORARY_FAILURE
    assert execution_arn_in(outcome.result_string) == EXECUTION, outcome.result_string
    assert "ThrottlingException" in outcome.message


def test_network_failure_while_polling_still_names_the_running_execution(sfn, monkeypatch):
    sfn.add_response("start_execution", {"executionArn": EXECUTION, "startDate": at(7200)}, {
        "stateMachineArn": MACHINE, "name": ANY, "input": ANY})

    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://states.us-east-1.amazonaws.com/")

    monkeypatch.setattr(batch.clients.stepfunctions(), "describe_execution", unreachable)

    outcome = wait(Clock())

    assert outcome.result_code == TEMPORARY_FAILURE
    assert execution_arn_in(outcome.result_string) == EXECUTION, outcome.result_string


def test_execution_arns_are_found_in_result_messages():
    assert execution_arn_in(f"InProgress: copy still running: {EXECUTION} (note)") == EXECUTION
    assert execution_arn_in(f"copy still running: {EXECUTION.replace(':aws:', ':aws-cn:')}").startswith("arn:aws-cn:")
    assert execution_arn_in("Copied: s3://dst/k ETag x, 1 bytes; verified") is None


def test_the_last_describe_execution_ends_inside_the_invoke_margin(monkeypatch):
    """batch_invoke polls until ``invoke_time_margin`` is left, then asks once more. If that
    DescribeExecution outlasts the margin, Lambda ends the function at its timeout and S3
    Batch records "Lambda returned function error: ... Task timed out" with no execution ARN
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-examples-reports.html)
    that `mediasync status` could follow. DescribeExecution shares an account-wide throttle
    (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html), so a call may
    use every attempt. Read from the client batch_invoke really gets."""
    from mediasync.core import clients
    from mediasync.core.settings import get_settings, reset_settings

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    reset_settings()
    clients.CLIENTS.reset()
    config = clients.stepfunctions().meta.config
    clients.CLIENTS.reset()
    retries = config.retries
    assert retries["mode"] == "standard", "adaptive mode's client-side rate limiter may hold a call back unbounded"
    attempts = retries.get("total_max_attempts") or retries.get("max_attempts", 0) + 1
    backoff = sum(min(2.0**retry, 20.0) for retry in range(attempts - 1))
    worst = attempts * (config.connect_timeout + config.read_timeout) + backoff
    assert worst <= get_settings().invoke_time_margin, f"a DescribeExecution may take {worst:.0f} s"
