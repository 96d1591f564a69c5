"""One S3 Batch Operations task: inspect, start the right state machine, report the truth.

Never ``Succeeded`` before the destination is verified: small objects wait for the
EXPRESS machine synchronously; large ones run on the STANDARD machine under a
deterministic execution name, so S3 Batch's retries re-attach to the running copy
instead of starting a second one, and ``TemporaryFailure`` asks S3 Batch to call
again while the copy is still running.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import time
import weakref
from dataclasses import dataclass, replace
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from mediasync.core import clients
from mediasync.core.copy import abort_lost_uploads
from mediasync.core.errors import (
    TRANSPORT_ERRORS,
    CopyOutcomeUnknown,
    InvalidTask,
    MediaSyncError,
    from_sdk_error,
    http_status_for,
    is_retryable,
    s3_errors,
)
from mediasync.core.move import MOVED, move_source
from mediasync.core.object_lock import lock_bucket_problem, lock_requested
from mediasync.core.plan import Plan, copy_state
from mediasync.core.polling import poll_delays
from mediasync.core.settings import CopyOptions, Settings
from mediasync.core.source import (
    DELETE_MARKER_VERSION,
    OBJECT_VERSION,
    ObjectRef,
    SourceObject,
    current_version,
    inspect_source,
    version_kind,
)
from mediasync.core.timing import expected_execution_seconds, shape_of
from mediasync.core.verify import already_copied

SUCCEEDED = "Succeeded"
TEMPORARY_FAILURE = "TemporaryFailure"
PERMANENT_FAILURE = "PermanentFailure"
IN_PROGRESS = "InProgress"
# Rows of a task that names a version it does not copy (Succeeded: nothing is wrong).
NOT_CURRENT_VERSION = "NotCurrentVersion"
DELETE_MARKER = "DeleteMarker"

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
    code: str  # "Copied", "AlreadyCopied", "Moved", an error name, or "InProgress"
    message: str
    http_status: int
    bytes_copied: int = 0
    # A success's proof (verify.Verification.method) and the source ETag the copy was
    # made from: what a move needs to delete the source (core.move).
    verified_by: str = ""
    source_etag: str = ""

    @property
    def result_string(self) -> str:
        return f"{self.code}: {self.message}"

    @property
    def metric_name(self) -> str:
        """The CloudWatch metric batch_invoke counts this outcome under: its result code,
        except a copy still running (InProgress), which is no failure at all."""
        return IN_PROGRESS if self.code == IN_PROGRESS else self.result_code

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


def still_running(arn: str, note: str = "") -> TaskOutcome:
    """The copy goes on: S3 Batch should call again.

    S3 Batch redrives a TemporaryFailure only a limited number of times; after the
    last one this message is what its completion report keeps, so the ARN comes
    first (``mediasync status`` reads it back and asks the execution how it ended).
    """
    return TaskOutcome(TEMPORARY_FAILURE, IN_PROGRESS, f"copy still running: {arn}" + (f" ({note})" if note else ""), 202)


_EXECUTION_ARN = re.compile(r"arn:aws[\w-]*:states:[\w-]+:\d{12}:execution:[\w-]+:[\w-]+")


def execution_arn_in(message: str) -> str | None:
    """The STANDARD execution a result message names, if any."""
    match = _EXECUTION_ARN.search(message or "")
    return match.group(0) if match else None


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
        return TaskOutcome(SUCCEEDED, "Copied", message, 200, int(output.get("size") or 0),
                           str(verification.get("method") or ""), str(output.get("source_etag") or ""))
    if status == "RUNNING":
        return still_running(description.get("executionArn", ""))
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
        except BotoCoreError as error:
            return TaskOutcome.from_error(from_sdk_error(error))

    def _run(self, task: BatchTask, remaining_ms: Callable[[], int]) -> TaskOutcome:
        try:
            options = self.settings.defaults.merged(task.user_arguments)
        except ValueError as err:
            raise InvalidTask(f"bad job arguments: {err}") from err
        if not options.destination_bucket:
            raise InvalidTask("no destination bucket: set destinationBucket in the job's user arguments")
        self._refuse_what_the_stack_may_not_do(options)
        allowed = self.settings.allowed_destination_buckets
        if allowed and options.destination_bucket not in allowed:
            # IAM would deny the copy's first write deep inside the state machine:
            # say here which setting to change instead.
            raise InvalidTask(
                f"destination bucket {options.destination_bucket!r} is not one this stack may write to "
                f"({', '.join(allowed)}): add it to the stack's AllowedDestinationBuckets parameter "
                "(ALLOWED_DESTINATION_BUCKETS in deploy/config.env) and run make install again"
            )
        # Mapped before any S3 call: a key outside strip_prefix costs no request.
        dest = ObjectRef(options.destination_bucket,
                         destination_key(options.destination_prefix, task.key, options.strip_prefix))
        if options.move and (task.bucket, task.key) == (dest.bucket, dest.key):
            raise InvalidTask(f"move would copy {dest.url} onto itself and then delete the only copy: give another "
                              "destination bucket or prefix")
        s3 = clients.s3()
        if lock_requested(options):
            _refuse_unlockable_destination(s3, options.destination_bucket)
        pinned = ObjectRef(task.bucket, task.key, task.version_id)
        if pinned.version_id:
            skipped = _pinned_version_skipped(s3, pinned, options)
            if skipped is not None:
                return skipped
        source = inspect_source(s3, pinned, options)
        proof = already_copied(s3, source, dest, options) if options.skip_existing else None
        if proof is not None:
            outcome = TaskOutcome(
                SUCCEEDED,
                "AlreadyCopied",
                f"{dest.url} already holds this object ({source.size} bytes, same metadata, as this run asks); "
                f"verified by {proof.method}: {proof.message}; not copied again",
                200, verified_by=proof.method, source_etag=source.etag,
            )
        else:
            state = copy_state(source, {"bucket": dest.bucket, "key": dest.key}, options)
            plan = Plan.from_state(state["plan"])
            if plan.machine == "express":
                outcome = self._run_express(task, state)
            else:
                outcome = self._run_standard(task, state, expected_execution_seconds(shape_of(plan), options),
                                             remaining_ms)
        return _moved(s3, outcome, source, options) if options.move else outcome

    def _refuse_what_the_stack_may_not_do(self, options: CopyOptions) -> None:
        """A job asking what the stack's IAM does not grant fails here, naming the parameter
        that grants it, before any copy: a move would copy and then fail to delete, and a
        lock asked would be copied without one (HeadObject shows no lock to a role not
        granted s3:GetObjectRetention, core.object_lock)."""
        if options.move and not self.settings.source_deletes_allowed:
            raise InvalidTask(
                "move deletes each source once its copy is proved, and this stack may not delete sources: deploy it "
                "with AllowSourceDeletes=true (ALLOW_SOURCE_DELETES=true in deploy/config.env, then make install), "
                "or run the job without move"
            )
        if lock_requested(options) and not self.settings.object_lock_allowed:
            raise InvalidTask(
                "the job asks Object Lock on its copies (objectLock, objectLockMode or legalHold), and this stack may "
                "not set or read locks: deploy it with ObjectLock=allowed or keep (OBJECT_LOCK in "
                "deploy/config.env, then make install), or run the job without them"
            )

    def _run_express(self, task: BatchTask, state: dict[str, Any]) -> TaskOutcome:
        started = datetime.datetime.now(datetime.timezone.utc)
        try:
            description = clients.sync_stepfunctions().start_sync_execution(
                stateMachineArn=self.settings.express_state_machine_arn,
                name=execution_name(task.job_id, task.task_id, 0),
                input=json.dumps(state),
            )
        except ClientError as err:
            return _states_api_failure(err)
        except TRANSPORT_ERRORS as err:
            # Not started again here: the lost answer may belong to a copy that ran.
            return TaskOutcome.from_error(_outcome_unknown(state, err))
        outcome = outcome_of_execution(description)
        if description.get("status") == "TIMED_OUT":
            return _after_express_ceiling(outcome, state, started)
        return outcome

    def _run_standard(self, task: BatchTask, state: dict[str, Any], expected_seconds: float,
                      remaining_ms: Callable[[], int]) -> TaskOutcome:
        """Start (or re-attach to) this task's execution and wait for it; at most one new
        execution per invocation.

        Attempt ``n`` runs under its own deterministic name. One that failed in a way
        worth retrying (a throttle past the Map's Retry, a Map Run failed by it) ends
        this invocation with TemporaryFailure: S3 Batch redrives the task later, which
        is its tool for exactly this
        (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html),
        and the redrive, finding that name closed, starts the next attempt. Starting
        it at once would copy everything again under the same throttle.
        """
        attempts = self.settings.max_execution_attempts
        outcome = TaskOutcome.failure("InvalidTask", "no execution attempted")
        for attempt in range(attempts):
            name = execution_name(task.job_id, task.task_id, attempt)
            try:
                arn, started_at = self._start_or_attach(name, state)
            except ClientError as err:
                return _states_api_failure(err)
            except TRANSPORT_ERRORS as err:
                arn = execution_arn(self.settings.standard_state_machine_arn, name)
                return TaskOutcome.from_error(CopyOutcomeUnknown(
                    f"no answer from StartExecution for {arn} ({err}): it may be running; "
                    "S3 Batch's next attempt re-attaches to it by name"))
            outcome = self._wait(arn, expected_seconds, remaining_ms, started_at=started_at)
            if outcome.result_code != TEMPORARY_FAILURE or outcome.code == IN_PROGRESS:
                return outcome
            if started_at is not None and attempt + 1 < attempts:
                # It ran in this invocation: the next attempt waits for S3 Batch's redrive.
                return replace(outcome, message=f"{outcome.message} (execution {attempt + 1} of {attempts}; "
                                                "S3 Batch's redrive starts the next)")
            # Closed before this invocation (a redrive): the next name starts afresh.
        return TaskOutcome(PERMANENT_FAILURE, outcome.code, f"{outcome.message} (after {attempts} executions)",
                           outcome.http_status)

    def _start_or_attach(self, name: str, state: dict[str, Any]) -> tuple[str, float | None]:
        """The execution's ARN, and its start time (epoch seconds) when StartExecution answered.

        StartExecution with the name and input of a *running* execution answers 200
        with that execution, as the first call did: its ``startDate``, not "this call
        started it", says how long the copy has run. A closed execution of that
        name answers ExecutionAlreadyExists.
        https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
        """
        sfn = clients.stepfunctions()
        machine = self.settings.standard_state_machine_arn
        try:
            started = sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(state))
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
            # Same name already used and closed (or its input changed): look at how it ended.
            return execution_arn(machine, name), None
        return started["executionArn"], started["startDate"].timestamp()

    def _wait(self, arn: str, expected_seconds: float, remaining_ms: Callable[[], int], *,
              started_at: float | None) -> TaskOutcome:
        """Poll the execution (``polling.poll_delays``) until it ends or this invocation's
        time is nearly up; then S3 Batch calls again and the wait goes on.

        The expected end counts from the execution's start, so an invocation that
        re-attaches to a copy running for a while polls soon instead of waiting the
        whole expected duration again."""
        if started_at is None:
            description, outcome = _describe(arn)
            if outcome is not None:
                return outcome
            started_at = description["startDate"].timestamp()
        expected_end = started_at + expected_seconds
        for delay in poll_delays(expected_end - self.clock(), expected_seconds):
            time_left = remaining_ms() / 1000 - self.settings.invoke_time_margin
            if time_left <= 0:
                break
            self.sleep(min(delay, time_left))
            _, outcome = _describe(arn)
            if outcome is not None:
                return outcome
        return still_running(arn)


def _moved(s3: Any, outcome: TaskOutcome, source: SourceObject, options: CopyOptions) -> TaskOutcome:
    """A proved copy's outcome with its source moved (core.move): Moved, or the copy's own
    outcome saying why the source was kept. Anything else is left as it is."""
    if outcome.result_code != SUCCEEDED or outcome.code not in ("Copied", "AlreadyCopied"):
        return outcome
    result = move_source(s3, ObjectRef(source.bucket, source.key), outcome.source_etag, outcome.verified_by,
                         source.lock, options)
    message = f"{outcome.message}; {result.note}"
    return replace(outcome, code=MOVED, message=message) if result.moved else replace(outcome, message=message)


# Buckets each S3 client (one a process, core.clients) has seen with Object Lock enabled:
# S3 never turns it off again.
_LOCKABLE_BUCKETS: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def _refuse_unlockable_destination(s3: Any, bucket: str) -> None:
    """InvalidTask when ``bucket`` cannot hold the locks asked (core.object_lock), asked of
    S3 once per bucket and client."""
    seen = _LOCKABLE_BUCKETS.setdefault(s3, set())
    if bucket in seen:
        return
    with s3_errors("destination", ObjectRef(bucket, "")):
        problem = lock_bucket_problem(s3, bucket)
    if problem:
        raise InvalidTask(f"{problem} (the job's objectLock, objectLockMode and legalHold arguments, or the stack's "
                          "ObjectLock=keep)")
    seen.add(bucket)


def _after_express_ceiling(outcome: TaskOutcome, state: dict[str, Any], started: datetime.datetime) -> TaskOutcome:
    """An EXPRESS execution ended at its 5-minute ceiling, where no Catch runs
    (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-standard-vs-express.html):
    AbortUpload never ran, so the uploads of this key it opened are aborted here
    (parts of an upload never completed are billed until it is aborted). S3 Batch's
    redrive then copies again, checking the destination first."""
    dest = ObjectRef(state["destination"]["bucket"], state["destination"]["key"])
    aborted = abort_lost_uploads(clients.s3(), dest, "", started)
    return replace(outcome, message=(
        f"the EXPRESS execution for {dest.url} reached its ceiling, where no Catch runs; "
        f"{aborted} multipart upload(s) it left open aborted"))


def _pinned_version_skipped(s3: Any, pinned: ObjectRef, options: CopyOptions) -> TaskOutcome | None:
    """The outcome of a task whose version is not copied: a delete marker, or not the
    key's current version; None when it is to be copied (current, or skip_noncurrent off).

    S3 Batch makes a task of every row of an "all versions" S3 Inventory report,
    noncurrent versions and delete markers included
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/inventory-configure-bops.html).
    Each would be copied to the same destination key, the last to finish winning, and
    a key deleted at the source would come back from an old version: only the current
    version is copied, and every other row says why it was not. A version that does
    not exist is left to the inspection, which reports it missing.
    """
    if not options.skip_noncurrent:
        return None
    current = current_version(s3, pinned, options)
    if current is None:
        return None
    if current.version_id == pinned.version_id:
        if current.delete_marker:
            return TaskOutcome(SUCCEEDED, DELETE_MARKER, f"{pinned.url} is a delete marker and the key's current "
                               "version: it was deleted at the source; nothing to copy", 200)
        return None
    kind = version_kind(s3, pinned, options)
    if kind == DELETE_MARKER_VERSION:
        return TaskOutcome(SUCCEEDED, DELETE_MARKER, f"{pinned.url} is a noncurrent delete marker; nothing to copy", 200)
    if kind != OBJECT_VERSION:
        return None
    now = "a delete marker (deleted at the source)" if current.delete_marker else f"version {current.version_id}"
    return TaskOutcome(
        SUCCEEDED, NOT_CURRENT_VERSION,
        f"{pinned.url} is not the current version of s3://{pinned.bucket}/{pinned.key} (now {now}): only current "
        "versions are copied, so an older version never overwrites a newer one (skipNoncurrent=false copies it); "
        "not copied", 200,
    )


def _outcome_unknown(state: dict[str, Any], err: Exception) -> CopyOutcomeUnknown:
    dest = state["destination"]
    then = (
        "S3 Batch's next attempt checks the destination before copying again"
        if state["options"].get("skip_existing", True)
        else "skipExisting is off, so S3 Batch's next attempt copies again"
    )
    return CopyOutcomeUnknown(
        f"no answer from StartSyncExecution for s3://{dest['bucket']}/{dest['key']} ({err}): "
        f"the copy's outcome is unknown, it may have finished or still be running; {then}"
    )


def _describe(arn: str) -> tuple[dict[str, Any], TaskOutcome | None]:
    """DescribeExecution, and the task's outcome if the execution has ended or the call failed."""
    try:
        description = clients.stepfunctions().describe_execution(executionArn=arn)
    except ClientError as err:
        failure = _states_api_failure(err, verb="could not describe")
        if failure.result_code == TEMPORARY_FAILURE:
            return {}, still_running(arn, f"{failure.code}: {failure.message}")
        # The copy may run on without us: name it in the report all the same.
        return {}, replace(failure, message=f"{failure.message}; execution {arn}")
    except TRANSPORT_ERRORS as err:
        return {}, still_running(arn, f"DescribeExecution failed: {err}")
    return description, None if description["status"] == "RUNNING" else outcome_of_execution(description)


def _states_api_failure(err: ClientError, verb: str = "refused") -> TaskOutcome:
    code = err.response.get("Error", {}).get("Code", "StepFunctionsError")
    message = err.response.get("Error", {}).get("Message", "")
    retry = code in ("ThrottlingException", "ServiceUnavailable", "InternalServerError", "ExecutionLimitExceeded")
    result = TEMPORARY_FAILURE if retry else PERMANENT_FAILURE
    return TaskOutcome(result, code, f"Step Functions {verb} the execution: {message}", 503 if retry else 400)
