"""A local job as `run` and `demo` show it: options from flags, the progress bar around
local.runner.run_job, and the summary table.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
from pathlib import Path
from typing import Mapping

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mediasync.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, console, invoked_as, out
from mediasync.core.settings import CopyOptions, format_size
from mediasync.manifests.filters import LeftOut
from mediasync.manifests.reader import read_manifest
from mediasync.manifests.s3batch_csv import ManifestError
from mediasync.manifests.sync_plan import Decision, PlanKey


def options_for(destination_bucket: str, values: dict) -> CopyOptions:
    try:
        return CopyOptions().merged({"destination_bucket": destination_bucket, **values})
    except ValueError as err:
        raise click.UsageError(flag_names(str(err))) from err


def flag_names(message: str) -> str:
    """Options named as the command line spells them: part_size -> --part-size."""
    names = CopyOptions().to_event()
    return re.sub(r"\b[a-z]+(?:_[a-z]+)+\b",
                  lambda match: f"--{match.group(0).replace('_', '-')}" if match.group(0) in names else match.group(0),
                  message)


# Counted once per command: the sandbox count and the progress bar both need it, and an
# S3 Inventory manifest's data files are read from S3 each time.
@functools.lru_cache(maxsize=4)
def count_rows(manifest: str | Path) -> int:
    return sum(1 for _ in read_manifest(manifest))


def run_job(runtime, manifest: str | Path, options: CopyOptions, report: Path, concurrency: int, *,
            plan: Mapping[PlanKey, Decision] | None = None, html: Path | None = None,
            left_out: LeftOut | None = None) -> int:
    """Run the job with a progress bar, print its summary; with ``html``, also write the
    report's page with charts there. ``left_out``, what the filters of a listed source
    left out, goes into the summary and beside the report (reports.summary reads it)."""
    from mediasync.local.runner import JobRequest, run_job

    try:
        total = count_rows(manifest)
    except ManifestError as err:
        console.print(f"[red]error:[/red] {escape(str(err))}")
        return EXIT_USAGE
    progress = Progress(
        TextColumn("[bold]copying"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(), console=console, transient=False,
    )
    failed = 0
    copied = 0

    with progress:
        task = progress.add_task("copy", total=total, detail="")

        def on_row(row) -> None:
            nonlocal failed, copied
            failed += row.status == "failed"
            copied += row.bytes
            progress.update(task, advance=1, detail=f"{format_size(copied)} copied, {failed} failed")

        try:
            summary = run_job(runtime, read_manifest(manifest), JobRequest(options, report, concurrency), on_row,
                              plan=plan)
        except ManifestError as err:
            console.print(f"[red]error:[/red] {escape(str(err))}")
            return EXIT_USAGE
    write_left_out(report, left_out or LeftOut())
    if html is not None:
        write_html(report, html)
    print_summary(summary, report, html, left_out)
    return EXIT_OK if summary.failed == 0 else EXIT_FAILED


def write_left_out(report: Path, left_out: LeftOut) -> None:
    """What the filters left out, beside the report (``REPORT.filters.json``), for `report`;
    a report without filters has none, so an earlier run's cannot be taken for its."""
    from mediasync.reports.rows import left_out_path

    path = left_out_path(report)
    if left_out.total:
        path.write_text(json.dumps(left_out.to_json(), indent=1) + "\n", encoding="utf-8")
    else:
        path.unlink(missing_ok=True)


def write_html(report: Path, html: Path) -> None:
    from mediasync.reports.html import render_html
    from mediasync.reports.summary import summarize

    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(render_html(summarize(str(report)), source=str(report)), encoding="utf-8")


def print_summary(summary, report: Path, html: Path | None = None, left_out: LeftOut | None = None) -> None:
    from mediasync.reports.terminal import shown

    table = Table(title=f"MediaSync job {summary.job_id}", show_header=False)
    table.add_row("objects", str(summary.tasks))
    table.add_row("succeeded", str(summary.succeeded))
    table.add_row("failed", str(summary.failed))
    if summary.moved or summary.kept:
        table.add_row("moved (source deleted)", str(summary.moved))
        table.add_row("copied, source kept", f"{summary.kept} (the report says why)")
    table.add_row("bytes copied", format_size(summary.bytes_copied))
    table.add_row("time", f"{summary.seconds:.1f} s")
    rate = summary.tasks / summary.seconds if summary.seconds else 0.0
    table.add_row("rate", f"{rate:.1f} objects/s, {format_size(int(summary.bytes_copied / max(summary.seconds, 1e-9)))}/s")
    for code, count in sorted(summary.failures_by_code.items()):
        table.add_row(f"failed: {code}", str(count))
    for flag, count in (left_out.objects if left_out else {}).items():
        table.add_row(f"left out by {shown(flag)}", f"{count} ({format_size(left_out.bytes[flag])}), not copied")
    table.add_row("report", str(report))
    quote = shlex.quote
    if html is not None:
        table.add_row("charts", f"{html} (open it in a browser)")
        table.add_row("summary again", f"{invoked_as()} report --report {quote(str(report))}")
    else:
        table.add_row("charts", f"{invoked_as()} report --report {quote(str(report))} "
                                f"--html {quote(str(report.with_suffix('.html')))}")
    out.print(table)



