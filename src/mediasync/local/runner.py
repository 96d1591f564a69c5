"""A whole local job: manifest -> S3 Batch emulation -> state machines -> report file."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from mediasync.core.errors import InvalidTask
from mediasync.core.s3batch_task import destination_key
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
    *,
    listed_destination: frozenset[str] | None = None,
) -> JobSummary:
    """Copy every row, reporting each.

    ``listed_destination``, the destination keys one listing found, splits the job as
    a sync plan would: rows whose destination key is absent are copied by a job that
    does not look at the destination first (one HeadObject fewer each), and only the
    others go through the skip-existing check. The report has a row for every row.
    """
    request.report_path.parent.mkdir(parents=True, exist_ok=True)
    options = request.options
    if listed_destination is None or not options.skip_existing:
        return _run_jobs(runtime, [(rows, options)], request, on_row)
    present: list[ManifestRow] = []

    def absent_rows() -> Iterator[ManifestRow]:
        for row in rows:
            if _destination_key(row, options) in listed_destination:
                present.append(row)
            else:
                yield row

    return _run_jobs(runtime, [(absent_rows(), replace(options, skip_existing=False)), (present, options)],
                     request, on_row)


def _destination_key(row: ManifestRow, options: CopyOptions) -> str | None:
    try:
        return destination_key(options.destination_prefix, row.key, options.strip_prefix)
    except InvalidTask:
        return None  # batch_invoke reports it


def _run_jobs(
    runtime: LocalRuntime,
    jobs: list[tuple[Iterable[ManifestRow], CopyOptions]],
    request: JobRequest,
    on_row: Callable[[ReportRow], None] | None,
) -> JobSummary:
    """S3 Batch jobs one after the other, into one report; their summaries summed."""
    # Per-object timings beside the report, for `mediasync report --html` charts.
    with request.report_path.open("w", encoding="utf-8", newline="") as handle, \
            timings_path(request.report_path).open("w", encoding="utf-8") as timings:
        writer = ReportWriter(handle)

        def record(row: ReportRow) -> None:
            writer.write(row)
            timings.write(json.dumps(timing_record(row)) + "\n")
            if on_row:
                on_row(row)

        total: JobSummary | None = None
        for rows, options in jobs:
            job = S3BatchJob(
                lambda event: runtime.invoke(BATCH_INVOKE_FUNCTION, event),
                user_arguments=user_arguments(options),
                concurrency=request.concurrency,
            )
            summary = job.run(rows, record)
            total = summary if total is None else total.merged(summary)
        assert total is not None
        return total
