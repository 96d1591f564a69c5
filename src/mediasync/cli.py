"""The ``mediasync`` command line.

Exit codes: 0 every task succeeded, 1 some task failed, 2 bad usage or an
unreadable manifest.
"""

from __future__ import annotations

import datetime
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .manifest import ManifestError, format_row, probe_manifest, read_manifest
from .settings import WORKER_MODES, CopyOptions, format_size, parse_size

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

console = Console(stderr=True)
out = Console()


class SizeParam(click.ParamType):
    name = "size"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        try:
            return parse_size(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)


SIZE = SizeParam()


def copy_options(func):  # type: ignore[no-untyped-def]
    """Options shared by every command that copies."""
    defaults = CopyOptions()
    for option in reversed(
        [
            click.option("--destination-prefix", default="", help="Prepended to every key at the destination."),
            click.option("--multipart-threshold", type=SIZE, default=str(defaults.multipart_threshold),
                         show_default="256MiB", help="Larger objects are copied in parts (max 5GiB)."),
            click.option("--part-size", type=SIZE, default=str(defaults.part_size), show_default="64MiB",
                         help="Part size for sources that are not multipart already (multipart sources keep theirs)."),
            click.option("--parts-per-group", type=click.IntRange(1, 10_000), default=defaults.parts_per_group,
                         show_default=True, help="Parts one copy_parts invocation copies."),
            click.option("--worker", type=click.Choice(WORKER_MODES), default=defaults.worker, show_default=True,
                         help="Where part groups run: Lambda, AWS Batch, or by size."),
            click.option("--max-concurrency", type=click.IntRange(1, 10_000), default=defaults.max_concurrency,
                         show_default=True, help="Distributed Map MaxConcurrency (part groups in flight per object)."),
            click.option("--skip-existing/--no-skip-existing", default=defaults.skip_existing, show_default=True,
                         help="Leave objects whose destination already matches the source (resumed jobs)."),
            click.option("--concurrency", type=click.IntRange(1, 512), default=16, show_default=True,
                         help="Objects copied at once (S3 Batch task concurrency)."),
            click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
                         help="Completion report CSV [default: mediasync-report-<time>.csv]."),
        ]
    ):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="mediasync")
def main() -> None:
    """Copy media between S3 buckets with server-side copy, verified, at any scale.

    Runs the real MediaSync state machines and handlers on this machine
    (embedded S3 by default, or any S3 endpoint with --endpoint-url).
    """


@main.command()
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="S3 Batch CSV manifest: bucket,url-encoded-key[,version-id] per line.")
@click.option("--destination-bucket", required=True, help="Bucket to copy into.")
@click.option("--endpoint-url", default=None,
              help="S3-compatible endpoint (credentials from the usual AWS environment/config). "
                   "Without it, an embedded in-process S3 is used.")
@copy_options
def run(manifest: Path, destination_bucket: str, endpoint_url: str | None, report: Path | None,
        concurrency: int, **option_values: object) -> None:
    """Copy every object listed in a manifest, then write the completion report.

    Example: mediasync run --manifest m.csv --destination-bucket dst --endpoint-url http://127.0.0.1:8333
    """
    try:
        probe_manifest(manifest)
    except ManifestError as err:
        console.print(f"[red]error:[/red] {err}")
        sys.exit(EXIT_USAGE)
    options = _options(destination_bucket, option_values)
    from .local.runtime import LocalRuntime

    started = datetime.datetime.now(datetime.timezone.utc)
    with LocalRuntime(s3_endpoint_url=endpoint_url) as runtime:
        _abort_interrupted_uploads(manifest, options, started)
        code = _run_job(runtime, manifest, options, report, concurrency)
    sys.exit(code)


def _abort_interrupted_uploads(manifest: Path, options: CopyOptions, started: datetime.datetime) -> None:
    """A run killed mid-job leaves multipart uploads open: abort this manifest's."""
    from botocore.exceptions import BotoCoreError, ClientError

    from . import clients
    from .local.recovery import abort_interrupted_uploads

    try:
        aborted = abort_interrupted_uploads(
            clients.s3(), options.destination_bucket, options.destination_prefix, read_manifest(manifest), started
        )
    except (ClientError, BotoCoreError) as err:
        console.print(f"[yellow]note:[/yellow] could not look for interrupted uploads: {err}")
        return
    if aborted:
        console.print(f"aborted {aborted} multipart uploads left open by an interrupted run")


@main.command()
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-output"),
              show_default=True, help="Where the manifest and the report are written.")
@click.option("--proxies", type=click.IntRange(0, 100_000), default=300, show_default=True,
              help="How many small proxy files to generate.")
@click.option("--concurrency", type=click.IntRange(1, 512), default=16, show_default=True)
def demo(output_dir: Path, proxies: int, concurrency: int) -> None:
    """Run a whole copy job on the embedded S3 with generated sample media.

    Creates a source and a destination bucket, uploads masters (multipart and
    single-part, above the threshold), mezzanine files, stills with NFC/NFD
    names, empty and 1-byte sidecars and hundreds of proxies, writes a manifest,
    runs it, and prints where the completion report is.
    """
    import boto3

    from .local.runtime import LocalRuntime
    from .local.sample import sample_media, upload_sample

    output_dir.mkdir(parents=True, exist_ok=True)
    manifest = output_dir / "manifest.csv"
    options = CopyOptions(destination_bucket="media-destination", multipart_threshold=32 * 1024 * 1024,
                          part_size=8 * 1024 * 1024, parts_per_group=2, max_concurrency=8)
    with LocalRuntime() as runtime:
        s3 = boto3.client("s3", region_name=runtime.region)
        s3.create_bucket(Bucket="media-source")
        s3.create_bucket(Bucket=options.destination_bucket)
        samples = sample_media(proxies)
        with console.status(f"uploading {len(samples)} sample objects to s3://media-source"):
            for sample in samples:
                upload_sample(s3, "media-source", sample)
        manifest.write_text("".join(format_row("media-source", sample.key) for sample in samples), encoding="utf-8")
        console.print(
            f"sample media: {len(samples)} objects, {format_size(sum(s.size for s in samples))}; "
            f"multipart threshold {format_size(options.multipart_threshold)}; manifest {manifest}"
        )
        code = _run_job(runtime, manifest, options, output_dir / "report.csv", concurrency)
        leftover = s3.list_multipart_uploads(Bucket=options.destination_bucket).get("Uploads", [])
        if leftover:
            console.print(f"[red]{len(leftover)} multipart uploads left open[/red]")
            code = EXIT_FAILED
    sys.exit(code)


def _options(destination_bucket: str, values: dict) -> CopyOptions:
    try:
        return CopyOptions().merged({"destination_bucket": destination_bucket, **values})
    except ValueError as err:
        raise click.UsageError(str(err)) from err


def _count_rows(manifest: Path) -> int:
    return sum(1 for _ in read_manifest(manifest))


def _run_job(runtime, manifest: Path, options: CopyOptions, report: Path | None, concurrency: int) -> int:  # type: ignore[no-untyped-def]
    from .local.runner import JobRequest, run_job

    report = report or Path(f"mediasync-report-{time.strftime('%Y%m%d-%H%M%S')}.csv")
    total = _count_rows(manifest)
    progress = Progress(
        TextColumn("[bold]copying"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(), console=console, transient=False,
    )
    failed = 0
    copied = 0

    with progress:
        task = progress.add_task("copy", total=total, detail="")

        def on_row(row) -> None:  # type: ignore[no-untyped-def]
            nonlocal failed, copied
            failed += row.task_status == "failed"
            copied += row.bytes_copied
            progress.update(task, advance=1, detail=f"{format_size(copied)} copied, {failed} failed")

        try:
            summary = run_job(runtime, read_manifest(manifest), JobRequest(options, report, concurrency), on_row)
        except ManifestError as err:
            console.print(f"[red]error:[/red] {err}")
            return EXIT_USAGE
    _print_summary(summary, report)
    return EXIT_OK if summary.failed == 0 else EXIT_FAILED


def _print_summary(summary, report: Path) -> None:  # type: ignore[no-untyped-def]
    table = Table(title=f"MediaSync job {summary.job_id}", show_header=False)
    table.add_row("objects", str(summary.tasks))
    table.add_row("succeeded", str(summary.succeeded))
    table.add_row("failed", str(summary.failed))
    table.add_row("bytes copied", format_size(summary.bytes_copied))
    table.add_row("time", f"{summary.seconds:.1f} s")
    rate = summary.tasks / summary.seconds if summary.seconds else 0.0
    table.add_row("rate", f"{rate:.1f} objects/s, {format_size(int(summary.bytes_copied / max(summary.seconds, 1e-9)))}/s")
    for code, count in sorted(summary.failures_by_code.items()):
        table.add_row(f"failed: {code}", str(count))
    table.add_row("report", str(report))
    out.print(table)


if __name__ == "__main__":
    main()
