"""A whole local job: manifest -> S3 Batch emulation -> state machines -> report file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from mediasync.core.settings import CopyOptions, user_arguments
from mediasync.local.runtime import BATCH_INVOKE_FUNCTION, LocalRuntime
from mediasync.local.s3batch import JobSummary, ReportRow, ReportWriter, S3BatchJob
from mediasync.manifests.s3batch_csv import ManifestRow
from mediasync.reports.rows import timing_record, timings_path


@dataclass(frozen=True)
class JobRequest:
    options: CopyOptions
    report_path: Path
    concurrency: int = 16


def run_job(
    runtime: LocalRuntime,
    rows: Iterable[ManifestRow],
    request: JobRequest,
    on_row: Callable[[ReportRow], None] | None = None,
) -> JobSummary:
    request.report_path.parent.mkdir(parents=True, exist_ok=True)
    job = S3BatchJob(
        lambda event: runtime.invoke(BATCH_INVOKE_FUNCTION, event),
        user_arguments=user_arguments(request.options),
        concurrency=request.concurrency,
    )
    # Per-object timings beside the report, for `mediasync report --html` charts.
    with request.report_path.open("w", encoding="utf-8", newline="") as handle, \
            timings_path(request.report_path).open("w", encoding="utf-8") as timings:
        writer = ReportWriter(handle)

        def record(row: ReportRow) -> None:
            writer.write(row)
            timings.write(json.dumps(timing_record(row)) + "\n")
            if on_row:
                on_row(row)

        return job.run(rows, record)
