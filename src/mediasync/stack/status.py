"""Progress of an S3 Batch Operations job and of its large-object copies.

``describe_job`` gives the task counts; the STANDARD state machine's running
executions whose names carry the job id (see :func:`mediasync.core.s3batch_task.execution_name`)
are the large objects in flight, and each one's Distributed Map Run tells how many
part groups are done.

S3 Batch redrives a ``TemporaryFailure`` only a limited, unpublished number of
times: a copy still running at the last one is a failed task in its report while
the execution goes on. Such rows name the execution (``batch.still_running``);
once the job has ended, :func:`reconcile` asks each one how it really ended.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Group
from rich.markup import escape
from rich.table import Table

from mediasync.core.s3batch_task import execution_arn_in, outcome_of_execution
from mediasync.core.settings import format_size
from mediasync.manifests.s3batch_csv import ManifestError
from mediasync.reports.rows import ReportRow, display_key, read_report
from mediasync.reports.terminal import shown

TERMINAL = ("Complete", "Failed", "Cancelled")
# The stack output naming the STANDARD (large-object) state machine (template.yaml Outputs).
STATE_MACHINE_OUTPUT = "CopyLargeStateMachineArn"


@dataclass(frozen=True)
class JobProgress:
    job_id: str
    status: str
    total: int
    succeeded: int
    failed: int
    elapsed_seconds: int
    description: str = ""
    reason: str = ""
    failures: tuple[str, ...] = ()
    report: str = ""  # s3://bucket/prefix/job-<id>/ where the completion report goes
    generated_manifest: str = ""  # s3://... of the manifest S3 Batch generated (submit --source)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.succeeded - self.failed)


@dataclass(frozen=True)
class LargeCopy:
    execution: str
    key: str
    size: int
    groups_total: int
    groups: dict[str, int] = field(default_factory=dict)  # Map Run item counts: succeeded, running, failed...


@dataclass(frozen=True)
class Reconciled:
    """A task S3 Batch reported failed while its execution ran, and how that execution ended."""

    key: str  # as in the manifest (URL-encoded)
    reported: str  # the task's code in S3 Batch's report ("InProgress"...)
    execution: str
    status: str  # the execution's: SUCCEEDED, FAILED, RUNNING... or NOT_FOUND
    outcome: str  # "Copied", the failure's error name, or "InProgress"
    message: str

    @property
    def copied(self) -> bool:
        return self.outcome == "Copied"


@dataclass(frozen=True)
class Reconciliation:
    rows: tuple[Reconciled, ...] = ()
    unchecked: int = 0  # rows naming an execution beyond the limit
    note: str = ""  # why the report was not read

    @property
    def copied(self) -> int:
        return sum(row.copied for row in self.rows)


def job_progress(response: dict[str, Any]) -> JobProgress:
    job = response["Job"]
    summary = job.get("ProgressSummary") or {}
    report = job.get("Report") or {}
    location = ""
    if report.get("Enabled") and report.get("Bucket"):
        bucket = report["Bucket"].split(":::", 1)[-1]
        prefix = f"{report['Prefix'].rstrip('/')}/" if report.get("Prefix") else ""
        location = f"s3://{bucket}/{prefix}job-{job['JobId']}/"
    return JobProgress(
        job_id=job["JobId"],
        status=job.get("Status", "Unknown"),
        total=int(summary.get("TotalNumberOfTasks") or 0),
        succeeded=int(summary.get("NumberOfTasksSucceeded") or 0),
        failed=int(summary.get("NumberOfTasksFailed") or 0),
        elapsed_seconds=int((summary.get("Timers") or {}).get("ElapsedTimeInActiveSeconds") or 0),
        description=job.get("Description", ""),
        reason=job.get("StatusUpdateReason", ""),
        failures=tuple(f"{item.get('FailureCode')}: {item.get('FailureReason')}" for item in job.get("FailureReasons") or []),
        report=location,
        generated_manifest=generated_manifest_url(job),
    )


def generated_manifest_url(job: dict[str, Any]) -> str:
    """Where the manifest a job's ManifestGenerator wrote is kept (DescribeJob's
    GeneratedManifestDescriptor, filled once the generator has run)."""
    arn = ((job.get("GeneratedManifestDescriptor") or {}).get("Location") or {}).get("ObjectArn", "")
    return f"s3://{arn.split(':::', 1)[1]}" if ":::" in arn else ""


def describe(s3control: Any, account_id: str, job_id: str) -> JobProgress:
    return job_progress(s3control.describe_job(AccountId=account_id, JobId=job_id))


def execution_prefix(job_id: str) -> str:
    """The start of every execution name batch_invoke gives this job's objects."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", job_id)[:36] + "-"


def state_machine_from_outputs(outputs: dict[str, str]) -> str | None:
    return outputs.get(STATE_MACHINE_OUTPUT) or None


def running_copies(sfn: Any, state_machine_arn: str, job_id: str, limit: int = 10) -> tuple[list[LargeCopy], int]:
    """Up to ``limit`` running large-object copies of the job, and how many are running in all."""
    prefix = execution_prefix(job_id)
    running = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn, statusFilter="RUNNING"):
        running += [item["executionArn"] for item in page.get("executions", []) if item["name"].startswith(prefix)]
    copies = []
    for arn in running[:limit]:
        state = json.loads(sfn.describe_execution(executionArn=arn).get("input") or "{}")
        plan = state.get("plan") or {}
        groups: dict[str, int] = {}
        runs = sfn.list_map_runs(executionArn=arn).get("mapRuns", [])
        if runs:
            counts = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"]).get("itemCounts") or {}
            groups = {name: int(value) for name, value in counts.items()}
        copies.append(LargeCopy(
            execution=arn.rsplit(":", 1)[-1],
            key=(state.get("destination") or {}).get("key", "?"),
            size=int(plan.get("size") or (state.get("source") or {}).get("size") or 0),
            groups_total=int(plan.get("group_count") or groups.get("total") or 0),
            groups=groups,
        ))
    return copies, len(running)


def reconcile(sfn: Any, results: Iterable[ReportRow], limit: int = 200) -> Reconciliation:
    """DescribeExecution for up to ``limit`` failed report rows that name an execution."""
    rows: list[Reconciled] = []
    unchecked = 0
    for result in results:
        arn = execution_arn_in(result.message) if result.status != "succeeded" else None
        if arn is None:
            continue
        if len(rows) >= limit:
            unchecked += 1
            continue
        try:
            description = sfn.describe_execution(executionArn=arn)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                raise
            rows.append(Reconciled(result.key, result.code, arn, "NOT_FOUND", result.code,
                                   "no such execution: it never started, or its history is past retention"))
            continue
        outcome = outcome_of_execution(description)
        rows.append(Reconciled(result.key, result.code, arn, description["status"], outcome.code, outcome.message))
    return Reconciliation(tuple(rows), unchecked)


def reconcile_report(s3: Any, sfn: Any, manifest: str) -> Reconciliation:
    """:func:`reconcile` over S3 Batch's report; a report that cannot be read is a note, not an error."""
    try:
        return reconcile(sfn, read_report(manifest, s3))
    except (ManifestError, ClientError, BotoCoreError) as err:
        return Reconciliation(note=f"report {manifest} not reconciled with the executions: {err}")


def report_manifest(progress: JobProgress) -> str | None:
    """The manifest.json S3 Batch writes beside its result CSVs once the job ends."""
    return f"{progress.report}manifest.json" if progress.report and progress.done else None


def render_reconciliation(progress: JobProgress, reconciliation: Reconciliation) -> Group:
    if reconciliation.note:
        return Group(reconciliation.note)
    if not reconciliation.rows:
        return Group()
    table = Table(title="tasks S3 Batch gave up on while their copy ran, and how the copy ended",
                  title_justify="left")
    for column in ("object", "S3 Batch said", "execution", "copy"):
        table.add_column(column)
    for row in reconciliation.rows:
        outcome = row.outcome if row.copied else f"[red]{escape(row.outcome)}[/red]: {escape(row.message)}"
        table.add_row(shown(display_key(row.key)), escape(row.reported), escape(row.execution.rsplit(":", 1)[-1]),
                      f"{row.status} {outcome}")
    lines: list[Any] = [table]
    lines.append(f"{reconciliation.copied:,} of the {progress.failed:,} failed tasks were copied and verified "
                 "after S3 Batch stopped asking")
    if reconciliation.unchecked:
        lines.append(f"{reconciliation.unchecked:,} more tasks name an execution and were not checked")
    return Group(*lines)


def _bar(done: int, total: int, width: int = 24) -> str:
    if total <= 0:
        return " " * width
    filled = round(width * min(done, total) / total)
    return "█" * filled + "░" * (width - filled)


def render(progress: JobProgress, copies: list[LargeCopy] | None = None, running: int = 0, note: str = "") -> Group:
    table = Table(title=f"S3 Batch job {progress.job_id}", show_header=False, title_justify="left")
    table.add_row("status", progress.status + (f" ({progress.reason})" if progress.reason else ""))
    if progress.description:
        table.add_row("description", progress.description)
    finished = progress.succeeded + progress.failed
    table.add_row("tasks", f"{_bar(finished, progress.total)} {finished:,}/{progress.total:,}")
    table.add_row("succeeded", f"{progress.succeeded:,}")
    table.add_row("failed", f"[red]{progress.failed:,}[/red]" if progress.failed else "0")
    table.add_row("remaining", f"{progress.remaining:,}")
    table.add_row("active for", f"{progress.elapsed_seconds // 60} min {progress.elapsed_seconds % 60} s")
    for failure in progress.failures:
        table.add_row("job failure", failure)
    if progress.report:
        table.add_row("report", f"{progress.report} (mediasync report --report {progress.report}manifest.json)")
    if progress.generated_manifest:
        table.add_row("generated manifest", progress.generated_manifest)
    parts: list[Any] = [table]
    if copies:
        large = Table(title=f"large objects in flight: {running}" + (f" (first {len(copies)})" if running > len(copies) else ""),
                      title_justify="left")
        for column in ("object", "size", "part groups", "done", "running", "failed"):
            large.add_column(column, justify="left" if column == "object" else "right")
        for copy in copies:
            done = copy.groups.get("succeeded", 0)
            large.add_row(copy.key, format_size(copy.size), f"{_bar(done, copy.groups_total, 12)} {copy.groups_total}",
                          str(done), str(copy.groups.get("running", 0)),
                          str(copy.groups.get("failed", 0) + copy.groups.get("timedOut", 0) + copy.groups.get("aborted", 0)))
        parts.append(large)
    elif running == 0 and not progress.done:
        parts.append("no large-object copy running" if not note else note)
    if note and copies:
        parts.append(note)
    return Group(*parts)


def exit_code(progress: JobProgress, reconciliation: Reconciliation | None = None) -> int:
    """0 all good so far, 1 a task or the job failed (as ``run``); a task whose
    execution has since copied and verified the object is not a failure."""
    failed = progress.failed - (reconciliation.copied if reconciliation else 0)
    return 1 if failed > 0 or progress.status in ("Failed", "Cancelled") else 0
