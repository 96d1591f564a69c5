"""A whole local job: manifest -> S3 Batch emulation -> state machines -> report file."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

from mediasync.core.settings import CopyOptions, user_arguments
from mediasync.local.runtime import BATCH_INVOKE_FUNCTION, LocalRuntime
from mediasync.local.s3batch import JobSummary, ReportRow, ReportWriter, S3BatchJob
from mediasync.manifests.s3batch_csv import ManifestRow
from mediasync.manifests.sync_plan import CHECK, SAME, Decision, PlanKey, left_out_message, plan_key
from mediasync.reports.rows import timing_record, timings_path


@dataclass(frozen=True)
class JobRequest:
    options: CopyOptions
    report_path: Path
    concurrency: int = 16


def run_job(
    runtime: LocalRuntime | None,
    rows: Iterable[ManifestRow],
    request: JobRequest,
    on_row: Callable[[ReportRow], None] | None = None,
    *,
    plan: Mapping[PlanKey, Decision] | None = None,
) -> JobSummary:
    """Copy every row, reporting each.

    ``plan``, each object's sync-plan decision (manifests.sync_plan), splits the job:
    rows to copy go to a job that does not look at the destination first (one
    HeadObject fewer each), rows to check go through the skip-existing check, and rows
    the listings prove already copied are reported so with no request at all (and
    without ``runtime``, when that is all there is). With ``move``, those go through the
    check as well: its task proves each by its content and deletes the source (a
    listing's ETags do not show an SSE-KMS copy's content). The report has a row for
    every row.
    """
    request.report_path.parent.mkdir(parents=True, exist_ok=True)
    options = request.options
    if plan is None or not options.skip_existing:
        return _run_jobs(runtime, [(rows, options)], request, on_row)
    to_check: list[ManifestRow] = []
    left_out: list[ReportRow] = []

    def rows_to_copy() -> Iterator[ManifestRow]:
        for row in rows:
            decision = plan.get(plan_key(row.bucket, row.key, row.version_id))
            if decision is None or decision.action == CHECK or (decision.action == SAME and options.move):
                to_check.append(row)
            elif decision.action == SAME:
                now = time.time()
                left_out.append(ReportRow(row.bucket, row.raw_key, row.version_id or "", "succeeded", "", "200",
                                          left_out_message(decision), 0, now, now))
            else:
                yield row

    return _run_jobs(runtime, [(rows_to_copy(), replace(options, skip_existing=False)), (to_check, options)],
                     request, on_row, left_out)


def _run_jobs(
    runtime: LocalRuntime,
    jobs: list[tuple[Iterable[ManifestRow], CopyOptions]],
    request: JobRequest,
    on_row: Callable[[ReportRow], None] | None,
    left_out: list[ReportRow] | None = None,
) -> JobSummary:
    """S3 Batch jobs one after the other, into one report; their summaries summed, with
    the rows ``left_out`` (filled as the jobs read their rows) reported after them."""
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
                lambda event: _engine(runtime).invoke(BATCH_INVOKE_FUNCTION, event),
                user_arguments=user_arguments(options),
                concurrency=request.concurrency,
            )
            try:
                summary = job.run(rows, record)
            except KeyboardInterrupt:
                for row in job.unfinished:
                    record(interrupted_row(row))
                raise
            total = summary if total is None else total.merged(summary)
        assert total is not None
        for row in left_out or []:
            record(row)
            total.add(row)
        return total


INTERRUPTED = "Interrupted"


def interrupted_row(row: ManifestRow) -> ReportRow:
    """The report's row for an object in flight when the run was stopped."""
    now = time.time()
    return ReportRow(row.bucket, row.raw_key, row.version_id or "", "failed", INTERRUPTED, "503",
                     "the run was stopped (Ctrl-C or SIGTERM) before this object was done; the multipart upload it "
                     "had opened, if any, was aborted; run again to copy it", 0, now, now)


def _engine(runtime: LocalRuntime | None) -> LocalRuntime:
    if runtime is None:
        raise RuntimeError("a row to copy reached a job run without the local runtime (the plan left nothing to copy)")
    return runtime
