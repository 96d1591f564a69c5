"""`mediasync report`: summarize a completion report in the terminal; --html for the page with charts."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from mediasync.cli.common import ENDPOINT_HELP, EXIT_FAILED, EXIT_OK, fail, out, s3_error, use_s3_endpoint
from mediasync.cli.options import ENDPOINT
from mediasync.cli.paths import check_writable, refuse_overwriting_inputs
from mediasync.manifests.locations import is_s3_url
from mediasync.manifests.s3batch_csv import ManifestError

# -- report ------------------------------------------------------------------------------


@click.command(short_help="Summarize a completion report; --html for charts.")
@click.option("--report", "sources", required=True, multiple=True, metavar="FILE|s3://BUCKET/KEY",
              help="A completion report: the CSV that run writes, an S3 Batch Operations result CSV, or "
                   "the manifest.json S3 Batch writes beside its results. Repeat it for the jobs of one "
                   "sync plan: one summary of them all.")
@click.option("--left-out", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              metavar="FILE", help="The objects a sync plan left out of its jobs (inventory --destination-bucket's "
                                   "NAME.same.csv, downloaded): counted as succeeded, proved by the listings.")
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a self-contained HTML page with charts (no network needed to view it).")
@click.option("--timings", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Per-object timings [default: REPORT.timings.jsonl beside a local report, if present].")
@click.option("--endpoint-url", default=None, type=ENDPOINT, help=ENDPOINT_HELP)
def report(sources: tuple[str, ...], left_out: tuple[Path, ...], html: Path | None, timings: Path | None,
           endpoint_url: str | None) -> None:
    """Summarize a completion report: outcomes, failures by cause, bytes, slowest objects.

    Reads our report or S3 Batch Operations' (the cause of a failure is
    MediaSync's error code wherever the result message carries one). With
    --html, writes a page with charts: throughput over time (from the timings
    run writes beside its report), size distribution, outcomes and failures by
    cause. Exit status: 0 no task failed, 1 some failed, 2 unreadable report.

    \b
    Examples:
      mediasync report --report report.csv --html report.html
      mediasync report --report s3://jobs/mediasync-reports/job-ID/manifest.json
      mediasync report --report s3://jobs/mediasync-reports/job-A/manifest.json \\
          --report s3://jobs/mediasync-reports/job-B/manifest.json --left-out masters-sync.same.csv
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from mediasync.reports.html import render_html
    from mediasync.reports.summary import summarize
    from mediasync.reports.terminal import summary_tables

    source = " + ".join(sources)
    if html is not None:
        inputs = {f"--report {one}": one for one in sources}
        inputs.update({f"--left-out {one}": one for one in left_out})
        inputs.update({"--timings file": timings} if timings is not None else {})
        refuse_overwriting_inputs({"--html": html}, inputs)
        check_writable("--html", html)
    s3 = use_s3_endpoint(endpoint_url) if any(is_s3_url(one) for one in sources) else None
    try:
        summary = summarize(list(sources), s3, timings, left_out=left_out)
    except ManifestError as err:
        fail(str(err))
    except (ClientError, BotoCoreError) as err:
        fail(*s3_error(err))
    if summary.tasks == 0:
        fail(f"{source} has no task rows")
    out.print(summary_tables(summary, source))
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(summary, source=source), encoding="utf-8")
        out.print(f"charts: {escape(str(html))}")
    sys.exit(EXIT_OK if summary.failed == 0 else EXIT_FAILED)


