"""Progress of an S3 Batch Operations job and of its large-object copies.

``describe_job`` gives the task counts; the STANDARD state machine's running
executions whose names carry the job id (see :func:`mediasync.batch.execution_name`)
are the large objects in flight, and each one's Distributed Map Run tells how many
part groups are done.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group
from rich.table import Table

from .settings import format_size

TERMINAL = ("Complete", "Failed", "Cancelled")
# Stack outputs that may name the STANDARD (large-object) state machine.
STATE_MACHINE_OUTPUTS = ("CopyLargeStateMachineArn", "StandardStateMachineArn", "LargeCopyStateMachineArn")


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
    )


def describe(s3control: Any, account_id: str, job_id: str) -> JobProgress:
    return job_progress(s3control.describe_job(AccountId=account_id, JobId=job_id))


def execution_prefix(job_id: str) -> str:
    """The start of every execution name batch_invoke gives this job's objects."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", job_id)[:36] + "-"


def state_machine_from_outputs(outputs: dict[str, str]) -> str | None:
    for name in STATE_MACHINE_OUTPUTS:
        if outputs.get(name):
            return outputs[name]
    return None


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


def exit_code(progress: JobProgress) -> int:
    """0 all good so far, 1 a task or the job failed (as ``run``)."""
    return 1 if progress.failed or progress.status in ("Failed", "Cancelled") else 0
