"""S3 Batch Operations, emulated: manifest rows in, one Lambda task each, a completion report out.

Like the real service it invokes ``batch_invoke`` with an invocation schema 2.0
event per task, runs tasks concurrently, and writes report rows
``Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage`` with the
key as the manifest has it. What S3 Batch does that a local run would otherwise
hide (docs/aws-rules.md lists each rule with its test):

- every row is a task, noncurrent versions and delete markers of an "all versions"
  S3 Inventory included; a row whose version ID is an empty string there fails
  without an invocation, as S3 Batch fails it
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/inventory-configure-bops.html);
- a ``TemporaryFailure`` is redriven a limited number of times, whatever its
  message (an ``InProgress`` poll counts like any other); after the last one the
  task fails with that message in the report
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html);
- a Lambda that errors, or runs past its timeout, is a function error: the task
  fails with ``Lambda returned function error: ...``, no result of ours in it
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-examples-reports.html).
"""

from __future__ import annotations

import csv
import datetime
import gzip
import hashlib
import io
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, TextIO

from mediasync.core.errors import http_status_for
from mediasync.core.move import MOVED, SOURCE_KEPT
from mediasync.core.s3batch_task import (
    PERMANENT_FAILURE,
    SUCCEEDED,
    TEMPORARY_FAILURE,
    copied_bytes,
    parse_result_string,
)
from mediasync.core.times import iso_time
from mediasync.manifests.s3batch_csv import ManifestRow
from mediasync.reports.rows import ReportRow


@dataclass
class JobSummary:
    job_id: str
    tasks: int = 0
    succeeded: int = 0
    failed: int = 0
    bytes_copied: int = 0
    started: float = field(default_factory=time.time)
    finished: float = 0.0
    failures_by_code: dict[str, int] = field(default_factory=dict)
    # Of the succeeded, with move: sources deleted, and sources kept (the row says why).
    moved: int = 0
    kept: int = 0

    @property
    def seconds(self) -> float:
        return (self.finished or time.time()) - self.started

    def merged(self, later: "JobSummary") -> "JobSummary":
        """This job and one run after it, as one."""
        codes = dict(self.failures_by_code)
        for code, count in later.failures_by_code.items():
            codes[code] = codes.get(code, 0) + count
        return JobSummary(self.job_id, self.tasks + later.tasks, self.succeeded + later.succeeded,
                          self.failed + later.failed, self.bytes_copied + later.bytes_copied, self.started,
                          later.finished, codes, self.moved + later.moved, self.kept + later.kept)

    def add(self, row: ReportRow) -> None:
        self.tasks += 1
        if row.status == "succeeded":
            self.succeeded += 1
            self.bytes_copied += row.bytes
            self.moved += row.code == MOVED
            self.kept += SOURCE_KEPT in row.message
        else:
            self.failed += 1
            self.failures_by_code[row.code] = self.failures_by_code.get(row.code, 0) + 1


# The local report's code for a task S3 Batch fails itself, without a result of ours.
LAMBDA_FAILED = "LambdaFailed"
EMPTY_VERSION_ID = "EmptyVersionId"
EMPTY_VERSION_MESSAGE = (
    "S3 Batch Operations fails the task of a row whose version ID is an empty string in an all-versions "
    "S3 Inventory report (its null versions): convert them to 'null' "
    "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/inventory-configure-bops.html) "
    "or use a current-versions inventory"
)


def function_error(message: str) -> str:
    """How S3 Batch reports a Lambda function error (an unhandled error or a timeout)."""
    return "Lambda returned function error: " + json.dumps({"errorMessage": message})


def task_id(row: ManifestRow) -> str:
    digest = hashlib.sha256(f"{row.line}\0{row.bucket}\0{row.raw_key}\0{row.version_id}".encode()).hexdigest()
    return f"{row.line:08d}-{digest[:16]}"


def task_event(job_id: str, row: ManifestRow, user_arguments: dict[str, str]) -> dict[str, Any]:
    return {
        "invocationSchemaVersion": "2.0",
        "invocationId": str(uuid.uuid4()),
        "job": {"id": job_id, "userArguments": user_arguments},
        "tasks": [
            {
                "taskId": task_id(row),
                "s3Bucket": row.bucket,
                "s3Key": row.raw_key,
                "s3VersionId": row.version_id,
            }
        ],
    }


class S3BatchJob:
    """One job: streams manifest rows through a bounded pool of concurrent tasks."""

    def __init__(
        self,
        invoke: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        user_arguments: dict[str, str],
        concurrency: int = 16,
        max_temporary_retries: int = 3,
        retry_delay: float = 0.2,
        job_id: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        function_timeout: float | None = None,
    ) -> None:
        self.invoke = invoke
        self.user_arguments = user_arguments
        self.concurrency = concurrency
        # S3 Batch redrives a TemporaryFailure "before the job completes", a number of
        # times it does not publish: 3 here.
        self.max_temporary_retries = max_temporary_retries
        self.retry_delay = retry_delay
        self.job_id = job_id or str(uuid.uuid4())
        self.sleep = sleep
        # The function's Timeout: an invocation still running then is a function error
        # (None: invocations are not timed, as when the runtime itself bounds them).
        self.function_timeout = function_timeout
        # The rows in flight when the job was interrupted (see run).
        self.unfinished: list[ManifestRow] = []

    def _call(self, event: dict[str, Any]) -> tuple[str, str, str]:
        """(result code, our code, message) of one invocation, as S3 Batch sees it."""
        try:
            result = self._invoke_within_timeout(event)["results"][0]
        except TimeoutError:
            return PERMANENT_FAILURE, LAMBDA_FAILED, function_error(
                f"Task timed out after {self.function_timeout:.2f} seconds")
        except Exception as error:  # the Lambda itself failed: S3 Batch counts that as a failed task
            return PERMANENT_FAILURE, LAMBDA_FAILED, str(error)
        code, message = parse_result_string(result.get("resultString", ""))
        return result["resultCode"], code, message

    def _invoke_within_timeout(self, event: dict[str, Any]) -> dict[str, Any]:
        if self.function_timeout is None:
            return self.invoke(event)
        answer: dict[str, Any] = {}
        done = threading.Event()

        def invoke() -> None:
            try:
                answer["result"] = self.invoke(event)
            except BaseException as error:
                answer["error"] = error
            finally:
                done.set()

        # A daemon thread, left running past the timeout as a killed Lambda's copy may run on.
        threading.Thread(target=invoke, name="lambda", daemon=True).start()
        if not done.wait(self.function_timeout):
            raise TimeoutError
        if "error" in answer:
            raise answer["error"]
        return answer["result"]

    def run_task(self, row: ManifestRow) -> ReportRow:
        started = time.time()
        version = row.version_id or ""

        def failed(code: str, status: str, message: str) -> ReportRow:
            return ReportRow(row.bucket, row.raw_key, version, "failed", code, status, message, 0, started, time.time())

        if row.error:
            return failed("InvalidManifestRow", "400", row.error)
        if row.version_id == "":
            return failed(EMPTY_VERSION_ID, "400", EMPTY_VERSION_MESSAGE)
        event = task_event(self.job_id, row, self.user_arguments)
        redrives = 0
        attempts = 0
        delay = self.retry_delay
        while True:
            attempts += 1
            result_code, code, message = self._call(event)
            # S3 Batch cannot tell a copy still running from any other TemporaryFailure:
            # every one uses up a redrive, and the last one's message is what the report keeps.
            if result_code == TEMPORARY_FAILURE and redrives < self.max_temporary_retries:
                redrives += 1
                self.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            finished = time.time()
            if result_code == SUCCEEDED:
                size = copied_bytes(message)
                # A success's code stays out of the report, as S3 Batch leaves it in the message; but
                # a moved object's row says so where a reader looks first.
                return ReportRow(row.bucket, row.raw_key, version, "succeeded", MOVED if code == MOVED else "", "200",
                                 message, size, started, finished, attempts)
            return ReportRow(
                row.bucket, row.raw_key, version, "failed", code or result_code, str(http_status_for(code)), message,
                0, started, finished, attempts,
            )

    def run(self, rows: Iterable[ManifestRow], on_row: Callable[[ReportRow], None]) -> JobSummary:
        """Run every row; ``on_row`` is called once per row, from one thread at a time.

        Interrupted (KeyboardInterrupt, in the calling thread), it stops at once: the
        rows in flight are left in ``unfinished`` and nothing more is reported."""
        summary = JobSummary(self.job_id)
        lock = threading.Lock()
        errors: list[BaseException] = []
        in_flight: dict[int, ManifestRow] = {}
        stopped = False
        # Bounded in-flight work keeps memory flat on million-row manifests.
        slots = threading.BoundedSemaphore(self.concurrency * 2)

        def finish(number: int, row: ManifestRow) -> None:
            try:
                report_row = self.run_task(row)
                with lock:
                    if stopped:
                        return  # reported as unfinished by the interrupted run
                    in_flight.pop(number, None)
                    summary.add(report_row)
                    on_row(report_row)
            except BaseException as error:  # e.g. the report file cannot be written
                errors.append(error)
            finally:
                slots.release()

        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="s3batch")
        try:
            for number, row in enumerate(rows):
                if errors:
                    break
                slots.acquire()
                with lock:
                    in_flight[number] = row
                pool.submit(finish, number, row)
            pool.shutdown(wait=True)
        except KeyboardInterrupt:
            with lock:
                stopped = True
                self.unfinished = list(in_flight.values())
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        except BaseException:
            pool.shutdown(wait=True)
            raise
        if errors:
            raise errors[0]
        summary.finished = time.time()
        return summary


class ReportWriter:
    """Writes S3 Batch completion report rows (no header, as S3 Batch writes them)."""

    def __init__(self, handle: TextIO) -> None:
        self._writer = csv.writer(handle, lineterminator="\n")
        self._handle = handle

    def write(self, row: ReportRow) -> None:
        self._writer.writerow(row.as_csv())


# -- manifests S3 Batch generates itself (CreateJob's ManifestGenerator) ---------------------------
#
# Emulated from the CreateJob API reference
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_JobManifestGeneratorFilter.html):
# every condition given must hold; CreatedAfter/Before and ObjectSize GreaterThan/LessThan are
# strict; KeyNameConstraint matches the whole key, each list holding one string; an object's
# creation time is its LastModified. Written independently of manifests.filters, so a test
# shows that what `submit --source` asks the generator for is what the filters keep. The
# generated manifest is an S3 Inventory-style manifest.json (S3InventoryReport_CSV_20211130)
# with gzip CSV data files; AWS does not document the keys it writes them under: here
# PREFIX/job-ID/manifest.json and PREFIX/job-ID/data/. Current versions only, without
# version ids (as a ListObjectsV2 listing).


def _created(value: Any) -> datetime.datetime:
    """A CreatedAfter/CreatedBefore value: a datetime, or ISO 8601 text (a request read back from JSON)."""
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    return iso_time(str(value))


def generator_admits(item: Any, conditions: Mapping[str, Any]) -> bool:
    """Whether S3 Batch's JobManifestGeneratorFilter ``conditions`` admit a listed object
    (``key``, ``size``, ``last_modified``, ``storage_class``)."""
    names = conditions.get("KeyNameConstraint") or {}
    if not all(item.key.startswith(text) for text in names.get("MatchAnyPrefix") or []):
        return False
    if not all(item.key.endswith(text) for text in names.get("MatchAnySuffix") or []):
        return False
    if not all(text in item.key for text in names.get("MatchAnySubstring") or []):
        return False
    if "CreatedAfter" in conditions and not item.last_modified > _created(conditions["CreatedAfter"]):
        return False
    if "CreatedBefore" in conditions and not item.last_modified < _created(conditions["CreatedBefore"]):
        return False
    if "ObjectSizeGreaterThanBytes" in conditions and not item.size > int(conditions["ObjectSizeGreaterThanBytes"]):
        return False
    if "ObjectSizeLessThanBytes" in conditions and not item.size < int(conditions["ObjectSizeLessThanBytes"]):
        return False
    classes = conditions.get("MatchAnyStorageClass")
    return not classes or (item.storage_class or "STANDARD") in classes


def generate_manifest(s3: Any, generator: Mapping[str, Any], job_id: str, *,
                      created: datetime.datetime | None = None) -> str:
    """Run ``generator`` (CreateJob's ``ManifestGenerator``) as S3 Batch does before its
    tasks: list the source bucket, keep what the filter admits, write the manifest to
    ManifestOutputLocation. The s3:// URL of its manifest.json (run --manifest reads it)."""
    from mediasync.manifests.listing import list_bucket
    from mediasync.manifests.s3batch_csv import encode_key

    spec = generator["S3JobManifestGenerator"]
    source = str(spec["SourceBucket"]).split(":::", 1)[-1]
    conditions = spec.get("Filter") or {}
    output = spec.get("ManifestOutputLocation")
    if not spec.get("EnableManifestOutput") or not output:
        raise ValueError("the emulation writes the generated manifest: EnableManifestOutput and ManifestOutputLocation")
    # Listing under the one prefix asked for gives what listing the bucket and filtering would.
    prefixes = (conditions.get("KeyNameConstraint") or {}).get("MatchAnyPrefix") or [""]
    lines = io.StringIO()
    writer = csv.writer(lines, quoting=csv.QUOTE_ALL, lineterminator="\n")

    def admit(item: Any) -> None:
        if generator_admits(item, conditions):
            writer.writerow([item.bucket, encode_key(item.key)])

    list_bucket(s3, source, prefixes[0], emit=admit)
    body = gzip.compress(lines.getvalue().encode("utf-8"))
    bucket = str(output["Bucket"]).split(":::", 1)[-1]
    folder = f"{str(output.get('ManifestPrefix') or '').rstrip('/')}/job-{job_id}/".lstrip("/")
    data_key = f"{folder}data/{uuid.uuid4()}.csv.gz"
    s3.put_object(Bucket=bucket, Key=data_key, Body=body)
    when = created or datetime.datetime.now(datetime.timezone.utc)
    document = {"sourceBucket": source, "destinationBucket": f"arn:aws:s3:::{bucket}", "version": "2021-11-30",
                "creationTimestamp": str(int(when.timestamp() * 1000)), "fileFormat": "CSV",
                "fileSchema": "Bucket, Key",
                "files": [{"key": data_key, "size": len(body), "MD5checksum": hashlib.md5(body).hexdigest()}]}
    s3.put_object(Bucket=bucket, Key=f"{folder}manifest.json", Body=json.dumps(document).encode("utf-8"),
                  ContentType="application/json")
    return f"s3://{bucket}/{folder}manifest.json"
