"""S3 Batch Operations, emulated: manifest rows in, one Lambda task each, a completion report out.

Like the real service it invokes ``batch_invoke`` with an invocation schema 2.0
event per task, runs tasks concurrently, asks again after ``TemporaryFailure``,
and writes report rows ``Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage``
with the key as the manifest has it.
"""

from __future__ import annotations

import csv
import hashlib
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, TextIO

from mediasync.core.errors import http_status_for
from mediasync.core.s3batch_task import (
    IN_PROGRESS,
    PERMANENT_FAILURE,
    SUCCEEDED,
    TEMPORARY_FAILURE,
    copied_bytes,
    parse_result_string,
)
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
                          later.finished, codes)

    def add(self, row: ReportRow) -> None:
        self.tasks += 1
        if row.status == "succeeded":
            self.succeeded += 1
            self.bytes_copied += row.bytes
        else:
            self.failed += 1
            self.failures_by_code[row.code] = self.failures_by_code.get(row.code, 0) + 1


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
    ) -> None:
        self.invoke = invoke
        self.user_arguments = user_arguments
        self.concurrency = concurrency
        self.max_temporary_retries = max_temporary_retries
        self.retry_delay = retry_delay
        self.job_id = job_id or str(uuid.uuid4())
        self.sleep = sleep
        # The rows in flight when the job was interrupted (see run).
        self.unfinished: list[ManifestRow] = []

    def run_task(self, row: ManifestRow) -> ReportRow:
        started = time.time()
        version = row.version_id or ""
        if row.error:
            return ReportRow(row.bucket, row.raw_key, version, "failed", "InvalidManifestRow", "400", row.error, 0, started, time.time())
        event = task_event(self.job_id, row, self.user_arguments)
        temporary = 0
        attempts = 0
        delay = self.retry_delay
        while True:
            attempts += 1
            try:
                result = self.invoke(event)["results"][0]
                code, message = parse_result_string(result.get("resultString", ""))
                result_code = result["resultCode"]
            except Exception as error:  # the Lambda itself failed: S3 Batch counts that as a failed task
                result_code, code, message = PERMANENT_FAILURE, "LambdaFailed", str(error)
            if result_code == TEMPORARY_FAILURE:
                # Still copying: ask again, as S3 Batch does, without using up retries.
                if code != IN_PROGRESS:
                    temporary += 1
                if temporary <= self.max_temporary_retries:
                    self.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    continue
            finished = time.time()
            if result_code == SUCCEEDED:
                size = copied_bytes(message)
                return ReportRow(row.bucket, row.raw_key, version, "succeeded", "", "200", message, size, started, finished, attempts)
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
