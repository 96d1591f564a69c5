"""One S3 Batch Operations task: inspect, start the right state machine, report the truth.

Never ``Succeeded`` before the destination is verified: small objects wait for the
EXPRESS machine synchronously; large ones run on the STANDARD machine under a
deterministic execution name, so S3 Batch's retries re-attach to the running copy
instead of starting a second one, and ``TemporaryFailure`` asks S3 Batch to call
again while the copy is still running.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable

from botocore.exceptions import ClientError

from . import clients
from .errors import (
    TRANSPORT_ERRORS,
    InvalidTask,
    MediaSyncError,
    from_transport_error,
    http_status_for,
    is_retryable,
)
from .estimate import expected_execution_seconds, shape_of
from .plan import plan_copy
from .polling import poll_delays
from .settings import Settings
from .source import ObjectRef, inspect_source
from .verify import already_copied

SUCCEEDED = "Succeeded"
TEMPORARY_FAILURE = "TemporaryFailure"
PERMANENT_FAILURE = "PermanentFailure"
IN_PROGRESS = "InProgress"

# What a resultString starts with, so the code survives into S3 Batch's own report.
_RESULT = re.compile(r"^(?P<code>[A-Za-z][\w.]*): (?P<message>.*)$", re.DOTALL)
_COPIED_BYTES = re.compile(r", (\d+) bytes;")


@dataclass(frozen=True)
class BatchTask:
    job_id: str
    task_id: str
    bucket: str
    key: str  # decoded
    version_id: str | None = None
    user_arguments: dict[str, Any] | None = None


@dataclass(frozen=True)
class TaskOutcome:
    result_code: str
    code: str  # "Copied", an error name, or "InProgress"
    message: str
    http_status: int
    bytes_copied: int = 0

    @property
    def result_string(self) -> str:
        return f"{self.code}: {self.message}"

    @classmethod
    def failure(cls, code: str, message: str) -> "TaskOutcome":
        result = TEMPORARY_FAILURE if is_retryable(code) else PERMANENT_FAILURE
        return cls(result, code, message, http_status_for(code))

    @classmethod
    def from_error(cls, error: MediaSyncError) -> "TaskOutcome":
        return cls.failure(error.code, str(error))


def parse_result_string(result_string: str) -> tuple[str, str]:
    match = _RESULT.match(result_string or "")
    if not match:
        return "", result_string or ""
    return match.group("code"), match.group("message")


def copied_bytes(message: str) -> int:
    """Size stated in a success message (see outcome_of_execution)."""
    match = _COPIED_BYTES.search(message or "")
    return int(match.group(1)) if match else 0


def execution_name(job_id: str, task_id: str, attempt: int) -> str:
    """Stable per (job, task, attempt); at most 80 characters of [A-Za-z0-9_-]."""
    job = re.sub(r"[^A-Za-z0-9_-]", "-", job_id)[:36]
    task = hashlib.sha256(task_id.encode()).hexdigest()[:24]
    return f"{job}-{task}-{attempt}"


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"


def destination_key(prefix: str, key: str, strip: str = "") -> str:
    """``prefix`` + ``key`` less ``strip``: s3://src/a/b/x.mov -> s3://dst/c/x.mov with
    strip ``a/b/`` and prefix ``c/``, as ``aws s3 cp --recursive`` maps folders.

    Plain string operations on purpose: keys are opaque bytes, not paths to
    normalise, so ``a/b`` strips ``a/bc.mov`` to ``c.mov`` exactly as written. A key
    outside ``strip`` is refused rather than copied under some other name.
    """
    if not key.startswith(strip):
        raise InvalidTask(f"key {key!r} does not start with the prefix to strip, {strip!r}: not copied")
    mapped = f"{prefix}{key[len(strip):]}"
    if not mapped:
        raise InvalidTask(f"key {key!r} less the prefix to strip {strip!r} leaves no destination key: not copied")
    return mapped


def _error_message(cause: str | None) -> str:
    """Lambda errors arrive as a JSON cause with errorMessage; States errors as text."""
    if not cause:
        return ""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    if isinstance(parsed, dict):
        return str(parsed.get("errorMessage") or parsed.get("Cause") or cause)
    return cause


# Executions that end without an error name of their own.
_STATUS_ERRORS = {"TIMED_OUT": "States.Timeout", "ABORTED": "States.Aborted"}


def outcome_of_execution(description: dict[str, Any]) -> TaskOutcome:
    status = description["status"]
    if status == "SUCCEEDED":
        output = json.loads(description.get("output") or "{}")
        copy = output.get("copy") or {}
        verification = output.get("verification") or {}
        dest = output.get("destination") or {}
        message = (
            f"s3://{dest.get('bucket')}/{dest.get('key')} ETag {copy.get('etag')}, "
            f"{output.get('size', 0)} bytes; verified by {verification.get('method')}: {verification.get('message')}"
        )
        return TaskOutcome(SUCCEEDED, "Copied", message, 200, int(output.get("size") or 0))
    if status == "RUNNING":
        arn = description.get("executionArn", "")
        return TaskOutcome(TEMPORARY_FAILURE, IN_PROGRESS, f"copy still running: {arn}", 202)
    error = description.get("error") or _STATUS_ERRORS.get(status, f"States.{status}")
    return TaskOutcome.failure(error, _error_message(description.get("cause")) or status)


class TaskRunner:
    """Runs S3 Batch tasks; one per process, reusing its clients."""

    def __init__(self, settings: Settings, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.sleep = sleep
        self.clock = clock

    def run(self, task: BatchTask, remaining_ms: Callable[[], int]) -> TaskOutcome:
        try:
            return self._run(task, remaining_ms)
        except MediaSyncError as error:
            return TaskOutcome.from_error(error)
        except TRANSPORT_ERRORS as error:
            return TaskOutcome.from_error(from_transport_error(error))

    def _run(self, task: BatchTask, remaining_ms: Callable[[], int]) -> TaskOutcome:
        try:
            options = self.settings.defaults.merged(task.user_arguments)
        except ValueError as err:
            raise InvalidTask(f"bad job arguments: {err}") from err
        if not options.destination_bucket:
            raise InvalidTask("no destination bucket: set destinationBucket in the job's user arguments")
        # Mapped before any S3 call: a key outside strip_prefix costs no request.
        dest = ObjectRef(options.destination_bucket,
                         destination_key(options.destination_prefix, task.key, options.strip_prefix))
        s3 = clients.s3()
        source = inspect_source(s3, ObjectRef(task.bucket, task.key, task.version_id), options)
        if options.skip_existing and already_copied(s3, source, dest):
            return TaskOutcome(
                SUCCEEDED,
                "AlreadyCopied",
                f"{dest.url} already holds this object (ETag {source.etag}, size {source.size}, same metadata): not copied again",
                200,
            )
        plan = plan_copy(source.size, options, source_part_size=source.part_size, source_part_count=source.part_count)
        state = {
            "source": source.to_state(),
            "destination": {"bucket": dest.bucket, "key": dest.key},
            "options": options.to_event(),
            "plan": plan.to_state(),
        }
        if plan.machine == "express":
            return self._run_express(task, state)
        return self._run_standard(task, state, expected_execution_seconds(shape_of(plan), options), remaining_ms)

    def _run_express(self, task: BatchTask, state: dict[str, Any]) -> TaskOutcome:
        try:
            description = clients.stepfunctions().start_sync_execution(
                stateMachineArn=self.settings.express_state_machine_arn,
                name=execution_name(task.job_id, task.task_id, 0),
                input=json.dumps(state),
            )
        except ClientError as err:
            return _states_api_failure(err)
        return outcome_of_execution(description)

    def _run_standard(self, task: BatchTask, state: dict[str, Any], expected_seconds: float,
                      remaining_ms: Callable[[], int]) -> TaskOutcome:
        outcome = TaskOutcome.failure("InvalidTask", "no execution attempted")
        for attempt in range(self.settings.max_execution_attempts):
            name = execution_name(task.job_id, task.task_id, attempt)
            try:
                arn, started = self._start_or_attach(name, state)
            except ClientError as err:
                return _states_api_failure(err)
            outcome = self._wait(arn, expected_seconds, remaining_ms, started_now=started)
            if outcome.result_code != TEMPORARY_FAILURE or outcome.code == IN_PROGRESS:
                return outcome
            # The attempt failed in a way worth retrying: the next name starts afresh.
        return TaskOutcome(PERMANENT_FAILURE, outcome.code, f"{outcome.message} (after {self.settings.max_execution_attempts} executions)", outcome.http_status)

    def _start_or_attach(self, name: str, state: dict[str, Any]) -> tuple[str, bool]:
        """The execution's ARN, and whether this call started it."""
        sfn = clients.stepfunctions()
        machine = self.settings.standard_state_machine_arn
        try:
            return sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(state))["executionArn"], True
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
            # Same name already used: a retry of this task. Attach to that execution.
            return execution_arn(machine, name), False

    def _wait(self, arn: str, expected_seconds: float, remaining_ms: Callable[[], int], *,
              started_now: bool) -> TaskOutcome:
        """Poll the execution (``polling.poll_delays``) until it ends or this invocation's
        time is nearly up; then S3 Batch calls again and the wait goes on."""
        if started_now:
            expected_end = self.clock() + expected_seconds
        else:
            # Attached to an execution an earlier invocation started: it may have ended.
            description, outcome = _describe(arn)
            if outcome is not None:
                return outcome
            expected_end = description["startDate"].timestamp() + expected_seconds
        for delay in poll_delays(expected_end - self.clock(), expected_seconds):
            time_left = remaining_ms() / 1000 - self.settings.invoke_time_margin
            if time_left <= 0:
                break
            self.sleep(min(delay, time_left))
            _, outcome = _describe(arn)
            if outcome is not None:
                return outcome
        return outcome_of_execution({"status": "RUNNING", "executionArn": arn})


def _describe(arn: str) -> tuple[dict[str, Any], TaskOutcome | None]:
    """DescribeExecution, and the task's outcome if the execution has ended or the call failed."""
    try:
        description = clients.stepfunctions().describe_execution(executionArn=arn)
    except ClientError as err:
        return {}, _states_api_failure(err)
    return description, None if description["status"] == "RUNNING" else outcome_of_execution(description)


def _states_api_failure(err: ClientError) -> TaskOutcome:
    code = err.response.get("Error", {}).get("Code", "StepFunctionsError")
    message = err.response.get("Error", {}).get("Message", "")
    retry = code in ("ThrottlingException", "ServiceUnavailable", "InternalServerError", "ExecutionLimitExceeded")
    result = TEMPORARY_FAILURE if retry else PERMANENT_FAILURE
    return TaskOutcome(result, code, f"Step Functions refused the execution: {message}", 503 if retry else 400)
