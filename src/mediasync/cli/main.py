"""The ``mediasync`` command line: a copy job from the first listing to the final report.

    inventory -> (estimate) -> run here, or submit to S3 Batch Operations -> status -> report

Exit codes, the same for every command: 0 everything succeeded, 1 some object or
task failed (the rest went on), 2 bad usage, or an input that cannot be used at
all (a file that is not a manifest, a bucket that does not exist, no credentials).

``run`` and ``demo`` copy on this machine, on an embedded in-process S3 unless
``--endpoint-url`` names a server. The other commands talk to the S3 that the AWS
configuration names (AWS itself), or to ``--endpoint-url``: the embedded S3 lives
only inside the one process that runs a job, so a separate command would find it
empty. (Called in-process inside a ``LocalRuntime``, as the tests do, ``inventory``
and ``report`` without ``--endpoint-url`` read that runtime's embedded S3.)
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterator, NoReturn

import click
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .cli_options import copy_options, task_options
from .estimate_command import estimate
from .inventory_manifest import is_inventory_manifest, is_s3_url, split_s3_url
from .manifest import ManifestError, format_row, probe_manifest, read_manifest
from .settings import CopyOptions, format_size

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_STACK = "mediasync"
# A sandbox process costs about 2 s of CPU to start and 200 MiB; a small object about
# 15 ms of CPU to copy locally. Below a few hundred objects a second one does not pay.
ROWS_PER_SANDBOX = 250

console = Console(stderr=True)
out = Console()

ENDPOINT_HELP = ("S3-compatible endpoint (credentials from the usual AWS environment/config). "
                 "Without it, S3 as your AWS configuration names it.")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    console.print(f"[red]error:[/red] {escape(message)}")
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="mediasync")
def main() -> None:
    """Copy media between S3 buckets with server-side copy, verified, at any scale.

    \b
    A job, start to finish:
      mediasync inventory --bucket media --output manifest.csv    list what to copy
      mediasync estimate  --manifest manifest.csv                 cost and time on AWS
      mediasync run       --manifest manifest.csv --destination-bucket archive
                                                                  copy on this machine
      mediasync submit    --manifest s3://jobs/manifest.csv --destination-bucket archive
                          --report-bucket jobs                    or as an S3 Batch job on AWS
      mediasync status    JOB_ID --watch                          follow it
      mediasync report    --report report.csv --html report.html  what happened, with charts

    Every manifest may be an S3 Batch CSV or an S3 Inventory manifest.json.

    Exit status: 0 all succeeded, 1 some objects failed, 2 bad usage or unusable input.
    `mediasync COMMAND --help` explains each command.
    """


# The cost model's command lives beside the model (estimate.py, estimate_command.py).
main.add_command(estimate)


def _use_s3_endpoint(endpoint_url: str | None) -> Any:
    """The process's S3 client, pointed at ``endpoint_url`` when one is given."""
    from . import clients

    if endpoint_url:
        clients.CLIENTS.configure_s3(endpoint_url, None)
    return clients.s3()


def _s3_error(err: Exception) -> tuple[str, int]:
    """A message and exit code for an S3 error that stopped a whole command."""
    from botocore.exceptions import ClientError, NoCredentialsError, ParamValidationError

    if isinstance(err, ParamValidationError):
        return str(err).replace("\n", " "), EXIT_USAGE
    if isinstance(err, NoCredentialsError):
        return ("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) "
                "for this S3", EXIT_USAGE)
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        code = str(error.get("Code", ""))
        usage = code in ("NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                         "AllAccessDisabled", "InvalidBucketName", "403", "404", "NotFoundException",
                         "NoSuchJob", "BadRequestException", "AccessDeniedException", "UnrecognizedClientException")
        return f"{code}: {error.get('Message') or err}", EXIT_USAGE if usage else EXIT_FAILED
    return str(err), EXIT_FAILED


# -- run ---------------------------------------------------------------------------------


@main.command(short_help="Copy a manifest's objects (or a prefix) on this machine; write the report.")
@click.option("--manifest", default=None, metavar="FILE|s3://BUCKET/manifest.json",
              help="S3 Batch CSV manifest (bucket,url-encoded-key[,version-id] per line), or an S3 Inventory "
                   "report's manifest.json (local, or s3:// with --endpoint-url).")
@click.option("--source", default=None, metavar="s3://BUCKET[/PREFIX]",
              help="Instead of --manifest: list this bucket or prefix into a manifest beside the report "
                   "(report.csv -> report.manifest.csv), then copy it: `inventory` and `run` in one. "
                   "Needs --endpoint-url.")
@click.option("--destination-bucket", required=True, help="Bucket to copy into.")
@click.option("--endpoint-url", default=None,
              help="S3-compatible endpoint (credentials from the usual AWS environment/config). "
                   "Without it, an embedded in-process S3 is used.")
@click.option("--processes", type=click.IntRange(0, 64), default=0, show_default="0: automatic",
              help="Sandbox processes that run batch_invoke, as S3 Batch runs Lambdas side by side. "
                   f"Automatic: one per CPU, up to one per {ROWS_PER_SANDBOX} manifest rows, with "
                   "--endpoint-url; one without it (the embedded S3 lives in one process).")
@copy_options
def run(manifest: str | None, source: str | None, destination_bucket: str, endpoint_url: str | None, processes: int,
        report: Path | None, concurrency: int, **option_values: object) -> None:
    """Copy every object of a manifest (or under --source) on this machine, then write the completion report.

    Runs the real state machines and handlers locally, against an S3-compatible
    server (--endpoint-url) or an embedded in-process S3. Beside the report it
    writes REPORT.timings.jsonl, per-object timings that `mediasync report --html`
    charts.

    \b
    Examples:
      mediasync run --manifest manifest.csv --destination-bucket archive \\
          --endpoint-url http://127.0.0.1:8333 --report report.csv
      mediasync run --source s3://media/masters/ --destination-bucket archive \\
          --endpoint-url http://127.0.0.1:8333 --report report.csv
    """
    report = report or Path(f"mediasync-report-{time.strftime('%Y%m%d-%H%M%S')}.csv")
    if (manifest is None) == (source is None):
        raise click.UsageError("give the objects to copy: --manifest FILE or --source s3://BUCKET/PREFIX (one of them)")
    options = _options(destination_bucket, option_values)
    if processes > 1 and not endpoint_url:
        raise click.UsageError("--processes above 1 needs --endpoint-url: the embedded S3 lives inside one process")
    if manifest is None:
        manifest = _manifest_of_source(str(source), endpoint_url, report, requester_pays=options.requester_pays)
    in_s3 = is_s3_url(manifest)
    if in_s3 and not is_inventory_manifest(manifest):
        fail(f"{manifest}: run reads CSV manifests from disk (download it first); from S3 it reads an "
             "S3 Inventory manifest.json")
    if in_s3 and not endpoint_url:
        fail(f"{manifest}: an s3:// manifest needs --endpoint-url (the embedded S3 starts empty)")
    if not in_s3:
        _probe_or_exit(manifest)

    started = datetime.datetime.now(datetime.timezone.utc)
    with _local_runtime(manifest, endpoint_url, processes, concurrency) as runtime:
        if in_s3:
            _probe_or_exit(manifest)
        _abort_interrupted_uploads(manifest, options, started)
        code = _run_job(runtime, manifest, options, report, concurrency)
    sys.exit(code)


def _manifest_of_source(source: str, endpoint_url: str | None, report: Path, *, requester_pays: bool = False) -> str:
    """List ``--source`` into a manifest beside the report; its path."""
    if not endpoint_url:
        raise click.UsageError("--source lists a bucket on the server --endpoint-url names: the embedded S3 starts empty")
    try:
        if not is_s3_url(source):
            raise ValueError(source)
        bucket, prefix = split_s3_url(source, key_required=False)
    except ValueError:
        raise click.UsageError(f"--source {source!r} is not an s3://BUCKET[/PREFIX] URL") from None
    manifest = str(report.with_name(report.stem + ".manifest.csv"))
    _list_into_manifest(_use_s3_endpoint(endpoint_url), bucket, prefix, manifest, requester_pays=requester_pays)
    return manifest


@contextlib.contextmanager
def _local_runtime(manifest: str, endpoint_url: str | None, processes: int, concurrency: int) -> Iterator[Any]:
    """One LocalRuntime in this process, or sandbox processes each running one (with an endpoint)."""
    from .local.runtime import LocalRuntime, resolve_credentials

    if endpoint_url and processes == 0:
        if is_s3_url(manifest):
            _use_s3_endpoint(endpoint_url)
        try:
            rows = _count_rows(manifest)
        except ManifestError:
            rows = 0  # the job's own read of the manifest says what is wrong
        processes = min(os.cpu_count() or 1, max(1, rows // ROWS_PER_SANDBOX))
    if processes <= 1:
        with LocalRuntime(s3_endpoint_url=endpoint_url) as runtime:
            yield runtime
        return
    from .local.sandboxes import SandboxFailed, Sandboxes

    credentials = resolve_credentials()
    _use_s3_endpoint(endpoint_url)  # this process still reads the manifest and looks for lost uploads
    if credentials is None:
        fail(f"no AWS credentials found for {endpoint_url}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
             "(or a profile) for that server")
    sandboxes = Sandboxes(processes, s3_endpoint_url=str(endpoint_url), s3_credentials=credentials,
                          threads=concurrency)
    try:
        with console.status(f"starting {processes} sandbox processes"):
            sandboxes.__enter__()
    except SandboxFailed as err:
        fail(f"a sandbox process could not start: {err}")
    console.print(f"{processes} sandbox processes run batch_invoke")
    try:
        yield sandboxes
    finally:
        sandboxes.__exit__(None, None, None)


def _probe_or_exit(manifest: str) -> None:
    try:
        probe_manifest(manifest)
    except ManifestError as err:
        fail(str(err))


def _abort_interrupted_uploads(manifest: str, options: CopyOptions, started: datetime.datetime) -> None:
    """A run killed mid-job leaves multipart uploads open: abort this manifest's."""
    from botocore.exceptions import BotoCoreError, ClientError

    from . import clients
    from .local.recovery import abort_interrupted_uploads

    try:
        aborted = abort_interrupted_uploads(
            clients.s3(), options.destination_bucket, options.destination_prefix, read_manifest(manifest), started,
            strip=options.strip_prefix,
        )
    except ManifestError:
        return  # reading the manifest for the job says what is wrong with it
    except (ClientError, BotoCoreError) as err:
        console.print(f"[yellow]note:[/yellow] could not look for interrupted uploads: {escape(str(err))}")
        return
    if aborted:
        console.print(f"aborted {aborted} multipart uploads left open by an interrupted run")


@main.command(short_help="Run a whole sample job on the embedded S3.")
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


# Counted once per command: the sandbox count and the progress bar both need it, and an
# S3 Inventory manifest's data files are read from S3 each time.
@functools.lru_cache(maxsize=4)
def _count_rows(manifest: str | Path) -> int:
    return sum(1 for _ in read_manifest(manifest))


def _run_job(runtime, manifest: str | Path, options: CopyOptions, report: Path, concurrency: int) -> int:  # type: ignore[no-untyped-def]
    from .local.runner import JobRequest, run_job

    try:
        total = _count_rows(manifest)
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

        def on_row(row) -> None:  # type: ignore[no-untyped-def]
            nonlocal failed, copied
            failed += row.task_status == "failed"
            copied += row.bytes_copied
            progress.update(task, advance=1, detail=f"{format_size(copied)} copied, {failed} failed")

        try:
            summary = run_job(runtime, read_manifest(manifest), JobRequest(options, report, concurrency), on_row)
        except ManifestError as err:
            console.print(f"[red]error:[/red] {escape(str(err))}")
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
    table.add_row("charts", f"mediasync report --report {report} --html {report.with_suffix('.html')}")
    out.print(table)



# -- inventory ---------------------------------------------------------------------------


@main.command(short_help="List a bucket into a manifest (parallel, streamed).")
@click.option("--bucket", required=True, help="Bucket to list.")
@click.option("--prefix", default="", help="List only keys starting with this.")
@click.option("--versions", is_flag=True,
              help="Pin each key's current version: a third column with its version id (ListObjectVersions). "
                   "Keys whose current version is a delete marker are left out.")
@click.option("--output", required=True, metavar="FILE|s3://BUCKET/KEY",
              help="Where the manifest goes: a file (written whole or not at all) or an S3 object "
                   "(streamed as a multipart upload).")
@click.option("--endpoint-url", default=None, help=ENDPOINT_HELP)
@click.option("--workers", type=click.IntRange(1, 256), default=16, show_default=True,
              help="Prefixes listed at once.")
@click.option("--requester-pays", is_flag=True,
              help="The bucket is Requester Pays: list it with RequestPayer=requester, at this account's expense.")
def inventory(bucket: str, prefix: str, versions: bool, output: str, endpoint_url: str | None,
              workers: int, requester_pays: bool) -> None:
    """List a bucket into an S3 Batch CSV manifest that run, estimate and submit accept.

    Lists in parallel, one worker per common prefix ("folder"), and streams rows
    to the output as pages arrive, so buckets of millions of keys take memory for
    the prefixes still to list, not for the keys. Keys are URL-encoded exactly as
    S3 Batch expects: spaces, '+', '=', '%' and unicode (NFC and NFD stay distinct)
    come back as they are. Rows are in no particular order.

    \b
    Examples:
      mediasync inventory --bucket media --prefix masters/ --output manifest.csv
      mediasync inventory --bucket media --versions --output s3://jobs/manifest.csv
      mediasync inventory --bucket media --output m.csv --endpoint-url http://127.0.0.1:8333
    """
    _list_into_manifest(_use_s3_endpoint(endpoint_url), bucket, prefix, output, versions=versions, workers=workers,
                        requester_pays=requester_pays)


def _list_into_manifest(s3: Any, bucket: str, prefix: str, output: str, *, versions: bool = False,
                        workers: int = 16, requester_pays: bool = False) -> None:
    """List ``s3://bucket/prefix`` into a manifest at ``output``, with a progress line."""
    from botocore.exceptions import BotoCoreError, ClientError

    from .inventory import open_sink, write_inventory

    try:
        sink = open_sink(output, s3)
    except (ValueError, OSError) as err:
        fail(f"cannot write {output}: {err}")
    progress = Progress(SpinnerColumn(), TextColumn("[bold]listing[/bold] {task.description}"),
                        TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=console)
    with progress:
        task = progress.add_task(f"s3://{bucket}/{prefix}", total=None, detail="")

        def on_progress(state) -> None:  # type: ignore[no-untyped-def]
            progress.update(task, detail=f"{state.objects:,} objects, {format_size(state.bytes)}, "
                                         f"{state.prefixes_pending:,} prefixes to list")

        try:
            listed = write_inventory(s3, bucket, sink, prefix, versions=versions, latest_only=versions,
                                     workers=workers, on_progress=on_progress, requester_pays=requester_pays)
        except (ClientError, BotoCoreError) as err:
            message, code = _s3_error(err)
            fail(f"listing s3://{bucket}/{prefix} failed, no manifest written: {message}", code)
    skipped = ""
    if versions and (listed.delete_markers_skipped or listed.older_versions_skipped):
        skipped = (f" (left out: {listed.older_versions_skipped:,} older versions, "
                   f"{listed.delete_markers_skipped:,} delete markers)")
    noun = "object" if listed.objects == 1 else "objects"
    out.print(f"wrote {listed.objects:,} {noun}, {format_size(listed.bytes)}, to {escape(output)}{skipped}")
    if listed.objects == 0:
        console.print(f"[yellow]note:[/yellow] s3://{escape(bucket)}/{escape(prefix)} has no objects")


# -- report ------------------------------------------------------------------------------


@main.command(short_help="Summarize a completion report; --html for charts.")
@click.option("--report", "source", required=True, metavar="FILE|s3://BUCKET/KEY",
              help="A completion report: the CSV that run writes, an S3 Batch Operations result CSV, or "
                   "the manifest.json S3 Batch writes beside its results.")
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a self-contained HTML page with charts (no network needed to view it).")
@click.option("--timings", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Per-object timings [default: REPORT.timings.jsonl beside a local report, if present].")
@click.option("--endpoint-url", default=None, help=ENDPOINT_HELP)
def report(source: str, html: Path | None, timings: Path | None, endpoint_url: str | None) -> None:
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
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from .report_view import render_html, summarize, summary_tables

    s3 = _use_s3_endpoint(endpoint_url) if is_s3_url(source) else None
    try:
        summary = summarize(source, s3, timings)
    except ManifestError as err:
        fail(str(err))
    except (ClientError, BotoCoreError) as err:
        fail(*_s3_error(err))
    if summary.tasks == 0:
        fail(f"{source} has no task rows")
    out.print(summary_tables(summary, source))
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_html(summary, source=source), encoding="utf-8")
        out.print(f"charts: {escape(str(html))}")
    sys.exit(EXIT_OK if summary.failed == 0 else EXIT_FAILED)


# -- submit and status (AWS) -------------------------------------------------------------


@main.command(short_help="Create the S3 Batch Operations job on AWS; print its id.")
@click.option("--manifest", required=True, metavar="s3://BUCKET/KEY",
              help="The manifest in S3: an S3 Batch CSV, or an S3 Inventory manifest.json.")
@click.option("--destination-bucket", required=True, help="Bucket to copy into.")
@click.option("--report-bucket", required=True, help="Bucket (or its ARN) for the completion report.")
@click.option("--report-prefix", default="mediasync-reports", show_default=True,
              help="Reports go to s3://REPORT-BUCKET/PREFIX/job-ID/.")
@click.option("--function-arn", default=None,
              help="The batch_invoke Lambda [default: the stack's BatchInvokeFunctionArn output].")
@click.option("--role-arn", default=None,
              help="The role S3 Batch assumes [default: the stack's BatchOperationsRoleArn output].")
@click.option("--stack-name", default=DEFAULT_STACK, show_default=True, envvar="MEDIASYNC_STACK_NAME",
              help="Deployed MediaSync stack whose outputs name the ARNs not given.")
@click.option("--account-id", default=None, help="AWS account that runs the job [default: from the function ARN].")
@click.option("--region", default=None, help="AWS region [default: from the AWS configuration].")
@click.option("--priority", type=click.IntRange(0, 2_147_483_647), default=10, show_default=True)
@click.option("--confirm/--no-confirm", "confirmation_required", default=False, show_default=True,
              help="Create the job suspended until confirmed in the console.")
@click.option("--description", default=None, help="Job description [default: the destination].")
@click.option("--dry-run", is_flag=True, help="Print the create_job request instead of sending it.")
@task_options
def submit(manifest: str, destination_bucket: str, report_bucket: str, report_prefix: str,
           function_arn: str | None, role_arn: str | None, stack_name: str, account_id: str | None,
           region: str | None, priority: int, confirmation_required: bool, description: str | None,
           dry_run: bool, **option_values: object) -> None:
    """Create the S3 Batch Operations job that runs MediaSync on AWS; print its id.

    One s3control create_job call: LambdaInvoke on the deployed batch_invoke
    function (invocation schema 2.0), the destination and the copy options given
    here as userArguments (options not given keep the stack's settings), the
    manifest located by its ETag, and a completion report of every task. ARNs not
    given come from the outputs of the deployed stack.

    \b
    Examples:
      mediasync submit --manifest s3://jobs/manifest.csv --destination-bucket archive \\
          --report-bucket jobs --dry-run
      mediasync submit --manifest s3://inventory/media/all/2026-11-25T01-00Z/manifest.json \\
          --destination-bucket archive --report-bucket jobs --part-size 128MiB
    """
    from botocore.exceptions import BotoCoreError

    from .submit import (SubmitError, account_of, aws_client, caller_account, create_job_request, locate_manifest,
                         resolve_arns, stack_outputs, submit_job)

    options = _options(destination_bucket, option_values)
    context = click.get_current_context()
    # Options left at their defaults are not sent: the stack's own settings apply.
    given = [name for name in option_values
             if context.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
    try:
        outputs = None
        if not (function_arn and role_arn):
            outputs = stack_outputs(aws_client("cloudformation", region), stack_name)
        function_arn, role_arn = resolve_arns(function_arn, role_arn, outputs)
        account_id = account_id or account_of(function_arn) or caller_account(aws_client("sts", region))
        request = create_job_request(
            account_id=account_id, manifest=locate_manifest(aws_client("s3", region), manifest), options=options,
            given_options=given, function_arn=function_arn, role_arn=role_arn, report_bucket=report_bucket, report_prefix=report_prefix,
            priority=priority, confirmation_required=confirmation_required, description=description,
        )
        if dry_run:
            click.echo(json.dumps(request, indent=2, ensure_ascii=False))
            console.print("dry run: no job created")
            return
        job_id = submit_job(aws_client("s3control", region), request)
    except SubmitError as err:
        fail(str(err))
    except BotoCoreError as err:
        fail(*_s3_error(err))
    console.print(f"created S3 Batch Operations job; follow it with: mediasync status {job_id}"
                  + (" (confirm it in the S3 console first)" if confirmation_required else ""))
    click.echo(job_id)


@main.command(short_help="Follow an S3 Batch job and its large objects.")
@click.argument("job_id")
@click.option("--watch", is_flag=True, help="Redraw until the job is complete, failed or cancelled.")
@click.option("--interval", type=click.FloatRange(1, 3600), default=10, show_default=True,
              help="Seconds between redraws with --watch.")
@click.option("--account-id", default=None, help="AWS account that runs the job [default: the caller's].")
@click.option("--region", default=None, help="AWS region [default: from the AWS configuration].")
@click.option("--stack-name", default=DEFAULT_STACK, show_default=True, envvar="MEDIASYNC_STACK_NAME",
              help="Deployed MediaSync stack whose outputs name the large-object state machine.")
@click.option("--state-machine-arn", default=None,
              help="The STANDARD (large-object) state machine [default: from the stack's outputs].")
def status(job_id: str, watch: bool, interval: float, account_id: str | None, region: str | None,
           stack_name: str, state_machine_arn: str | None) -> None:
    """Show an S3 Batch job's progress and its large objects in flight.

    Task counts (succeeded, failed, remaining) come from the job; each large
    object being copied is a running execution of the STANDARD state machine,
    shown with its Distributed Map Run's part groups done. Once the job has
    ended with failed tasks, the rows of its completion report that name an
    execution (copies still running when S3 Batch stopped asking) are checked
    against how that execution really ended. Exit status: 0 no task failed (so
    far; a task whose execution has since copied the object counts as done),
    1 tasks failed or the job failed, 2 no such job.

    \b
    Examples:
      mediasync status 3f6a2c1e-0b5d-4a39-9c1e-2b7d5e8f9a10
      mediasync status 3f6a2c1e-0b5d-4a39-9c1e-2b7d5e8f9a10 --watch --interval 30
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from .status import (describe, exit_code, reconcile_report, render, render_reconciliation, report_manifest,
                         running_copies, state_machine_from_outputs)
    from .submit import SubmitError, aws_client, caller_account, stack_outputs

    try:
        account_id = account_id or caller_account(aws_client("sts", region))
        note = ""
        if state_machine_arn is None:
            try:
                state_machine_arn = state_machine_from_outputs(
                    stack_outputs(aws_client("cloudformation", region), stack_name))
            except SubmitError as err:
                note = f"large objects not shown: {err}"
            if state_machine_arn is None and not note:
                note = f"large objects not shown: stack {stack_name} names no state machine; pass --state-machine-arn"
        s3control = aws_client("s3control", region)
        sfn = aws_client("stepfunctions", region) if state_machine_arn else None

        def snapshot():  # type: ignore[no-untyped-def]
            progress = describe(s3control, account_id, job_id)
            copies, running = (running_copies(sfn, state_machine_arn, job_id)
                               if sfn is not None and not progress.done else ([], 0))
            return progress, render(progress, copies, running, note)

        progress, view = snapshot()
        if watch and not progress.done:
            with Live(view, console=out, auto_refresh=False) as live:
                while not progress.done:
                    time.sleep(interval)
                    progress, view = snapshot()
                    live.update(view, refresh=True)
        else:
            out.print(view)
        reconciliation = None
        manifest = report_manifest(progress) if progress.failed else None
        if manifest:
            reconciliation = reconcile_report(aws_client("s3", region), sfn or aws_client("stepfunctions", region),
                                              manifest)
            out.print(render_reconciliation(progress, reconciliation))
    except SubmitError as err:
        fail(str(err))
    except (ClientError, BotoCoreError) as err:
        message, code = _s3_error(err)
        fail(f"cannot read job {job_id}: {message}", code)
    sys.exit(exit_code(progress, reconciliation))


if __name__ == "__main__":
    main()
