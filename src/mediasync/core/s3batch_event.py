"""An S3 Batch Operations invocation, checked whole before any task runs.

S3 Batch invokes the Lambda with one task per event, in invocation schema 1.0 or
2.0 (2.0 adds the job's ``userArguments`` and names the bucket ``s3Bucket`` rather
than ``s3BucketArn``). An event that is not that shape answers every task it
names as ``PermanentFailure`` with an ``InvalidTask`` result string saying what was
wrong, and none of them runs: never an unhandled exception, never a copy started
from half an event.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import unquote_plus

from mediasync.core.s3batch_task import PERMANENT_FAILURE, BatchTask, TaskOutcome

SCHEMA_VERSIONS = ("1.0", "2.0")
# A task the answer leaves out has failed for good: never copied again unasked.
TREAT_MISSING_KEYS_AS = PERMANENT_FAILURE


class EventError(ValueError):
    """The invocation as a whole cannot be run; the message says why."""


@dataclass(frozen=True)
class Invocation:
    schema_version: str
    invocation_id: str
    task_ids: tuple[str, ...]  # every task the event names, to answer each
    task: BatchTask | None  # the one task to run, when the event is sound
    problem: str | None = None  # why nothing runs, when it is not

    def response(self, outcomes: dict[str, TaskOutcome]) -> dict[str, Any]:
        """The answer S3 Batch expects: one result per task the event named."""
        return {
            "invocationSchemaVersion": self.schema_version,
            "treatMissingKeysAs": TREAT_MISSING_KEYS_AS,
            "invocationId": self.invocation_id,
            "results": [
                {"taskId": task_id, "resultCode": outcomes[task_id].result_code,
                 "resultString": outcomes[task_id].result_string}
                for task_id in self.task_ids
            ],
        }


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _task_ids(tasks: Any) -> tuple[str, ...]:
    """The ids of the tasks an event names, whatever else is wrong with it."""
    if not isinstance(tasks, list):
        return ()
    return tuple(str(task.get("taskId")) for task in tasks if isinstance(task, dict) and task.get("taskId") is not None)


def parse_invocation(event: Any) -> Invocation:
    """The event's one task, or the reason none of its tasks may run."""
    document = event if isinstance(event, dict) else {}
    schema = _text(document.get("invocationSchemaVersion"))
    invocation_id = _text(document.get("invocationId"))
    task_ids = _task_ids(document.get("tasks"))
    try:
        task = _task_of(event, schema)
    except EventError as err:
        return Invocation(schema, invocation_id, task_ids, None, str(err))
    return Invocation(schema, invocation_id, task_ids, task)


def _task_of(event: Any, schema: str) -> BatchTask:
    if not isinstance(event, dict):
        raise EventError(f"the event is a JSON {type(event).__name__}, not an S3 Batch invocation object")
    if schema not in SCHEMA_VERSIONS:
        raise EventError(f"invocationSchemaVersion {event.get('invocationSchemaVersion')!r} is not "
                         f"{' or '.join(SCHEMA_VERSIONS)}")
    tasks = event.get("tasks")
    if not isinstance(tasks, list) or len(tasks) != 1:
        count = len(tasks) if isinstance(tasks, list) else "no list of"
        raise EventError(f"an S3 Batch invocation carries exactly one task; this one has {count} tasks, none run")
    job = event.get("job")
    if not isinstance(job, dict) or not _text(job.get("id")):
        raise EventError("the event has no job id (job.id)")
    if not _text(event.get("invocationId")):
        raise EventError("the event has no invocationId")
    arguments = job.get("userArguments") if schema == "2.0" else None
    if arguments is not None:
        if not isinstance(arguments, dict):
            raise EventError(f"job.userArguments is a {type(arguments).__name__}, not an object of name: value")
        wrong = sorted(str(name) for name, value in arguments.items() if not isinstance(value, str))
        if wrong:
            raise EventError(f"job.userArguments values are strings, as S3 Batch sends them; not {', '.join(wrong)}")
    return _batch_task(tasks[0], job["id"], arguments)


def _batch_task(task: Any, job_id: str, arguments: dict[str, str] | None) -> BatchTask:
    if not isinstance(task, dict):
        raise EventError(f"the task is a {type(task).__name__}, not an object")
    task_id = task.get("taskId")
    raw_key = task.get("s3Key")
    version = task.get("s3VersionId")
    bucket = _text(task.get("s3Bucket")) or _text(task.get("s3BucketArn")).rpartition(":::")[2]
    if not isinstance(task_id, str) or not task_id:
        raise EventError("the task has no taskId")
    if not bucket:
        raise EventError("the task names no bucket (s3Bucket, or s3BucketArn in schema 1.0)")
    if not isinstance(raw_key, str) or not raw_key:
        raise EventError("the task has no s3Key")
    if version is not None and not isinstance(version, str):
        raise EventError(f"the task's s3VersionId is a {type(version).__name__}, not a string")
    try:  # keys arrive URL-encoded
        key = unquote_plus(raw_key, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise EventError(f"the task's s3Key {raw_key!r} is not URL-encoded UTF-8") from None
    return BatchTask(job_id=job_id, task_id=task_id, bucket=bucket, key=key, version_id=version or None,
                     user_arguments=arguments)


def answer_invocation(invocation: Invocation, run: Callable[[BatchTask], TaskOutcome]) -> dict[str, Any]:
    """Run the invocation's task with ``run`` if the event is sound; answer every task it names."""
    if invocation.task is None:
        refused = TaskOutcome(PERMANENT_FAILURE, "InvalidTask", f"malformed S3 Batch event: {invocation.problem}", 400)
        return invocation.response(dict.fromkeys(invocation.task_ids, refused))
    return invocation.response({invocation.task.task_id: run(invocation.task)})
