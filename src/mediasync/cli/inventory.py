"""`mediasync inventory`: list a bucket into a manifest (manifests.listing), to a file or to S3."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from mediasync.cli.common import ENDPOINT_HELP, console, fail, out, s3_error, use_s3_endpoint
from mediasync.cli.options import ENDPOINT, FilterCommand, filter_options, object_filter
from mediasync.core.settings import format_size
from mediasync.manifests.filters import NO_FILTER, LeftOut, ObjectFilter

if TYPE_CHECKING:
    from mediasync.manifests.listing import ListingProgress

# -- inventory ---------------------------------------------------------------------------


@click.command(cls=FilterCommand, short_help="List a bucket into a manifest (parallel, streamed).")
@click.option("--bucket", required=True, help="Bucket to list.")
@click.option("--prefix", default="", help="List only keys starting with this.")
@click.option("--versions", is_flag=True,
              help="Pin each key's current version: a third column with its version id (ListObjectVersions). "
                   "Keys whose current version is a delete marker are left out.")
@click.option("--output", required=True, metavar="FILE|s3://BUCKET/KEY",
              help="Where the manifest goes: a file (written whole or not at all) or an S3 object "
                   "(streamed as a multipart upload).")
@click.option("--endpoint-url", default=None, type=ENDPOINT, help=ENDPOINT_HELP)
@click.option("--workers", type=click.IntRange(1, 256), default=16, show_default=True,
              help="Prefixes listed at once.")
@click.option("--requester-pays", is_flag=True,
              help="The bucket is Requester Pays: list it with RequestPayer=requester, at this account's expense.")
@click.option("--destination-bucket", default=None,
              help="Write a sync plan against this bucket instead of a plain listing (as `mediasync plan --source "
                   "s3://BUCKET/PREFIX --destination-bucket`): OUTPUT gets only the objects absent there or of another "
                   "size (submit it with --no-skip-existing); beside it (sync.csv -> sync.check.csv, sync.same.csv) "
                   "those the listings cannot settle (submit it as it is) and those left out.")
@click.option("--destination-prefix", default="", help="With --destination-bucket: as submit's, where keys land.")
@click.option("--strip-prefix", default="", metavar="PREFIX",
              help="With --destination-bucket: as submit's, taken off each source key before --destination-prefix.")
@filter_options
def inventory(bucket: str, prefix: str, versions: bool, output: str, endpoint_url: str | None,
              workers: int, requester_pays: bool, destination_bucket: str | None, destination_prefix: str,
              strip_prefix: str, **filters: object) -> None:
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
      mediasync inventory --bucket media --prefix masters/ --destination-bucket archive \\
          --output s3://jobs/masters-sync.csv
      mediasync inventory --bucket media --prefix masters/ --exclude '*' --include '*.mov' \\
          --min-size 1MiB --output masters-mov.csv
    """
    selected = object_filter(filters)
    if destination_bucket is None:
        if destination_prefix or strip_prefix:
            raise click.UsageError("--destination-prefix and --strip-prefix shape a sync plan: "
                                   "give --destination-bucket too")
    else:
        from mediasync.core.bucket_names import bucket_name_problem

        problem = bucket_name_problem(destination_bucket)
        if problem:
            fail(f"--destination-bucket {problem}")
        # `mediasync plan` with both sides listed.
        from mediasync.cli.plan import plan_into_manifests
        from mediasync.manifests.plan_engine import ListedSide
        from mediasync.manifests.sync_plan import Destination

        target = Destination(destination_bucket, destination_prefix, strip_prefix)
        plan_into_manifests(use_s3_endpoint(endpoint_url), ListedSide(bucket, prefix, versions, requester_pays),
                            ListedSide(destination_bucket, target.listing_prefix(prefix)), target, output,
                            source_prefix=prefix, workers=workers, requester_pays=requester_pays, selected=selected)
        return
    list_into_manifest(use_s3_endpoint(endpoint_url), bucket, prefix, output, versions=versions, workers=workers,
                        requester_pays=requester_pays, selected=selected)


def list_into_manifest(s3: Any, bucket: str, prefix: str, output: str | None, *, versions: bool = False,
                        workers: int = 16, requester_pays: bool = False,
                        selected: ObjectFilter = NO_FILTER) -> ListingProgress:
    """List ``s3://bucket/prefix`` into a manifest at ``output`` (the objects ``selected``
    keeps; None: counted, not written), with a progress line; what the listing found."""
    from botocore.exceptions import BotoCoreError, ClientError

    from mediasync.manifests.listing import DiscardSink, open_sink, write_inventory

    try:
        sink = open_sink(output, s3) if output is not None else DiscardSink()
    except (ValueError, OSError) as err:
        fail(f"cannot write {output}: {err}")
    progress = Progress(SpinnerColumn(), TextColumn("[bold]listing[/bold] {task.description}"),
                        TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=console)
    with progress:
        task = progress.add_task(f"s3://{bucket}/{prefix}", total=None, detail="")

        def on_progress(state) -> None:
            progress.update(task, detail=f"{state.objects:,} objects, {format_size(state.bytes)}, "
                                         f"{state.prefixes_pending:,} prefixes to list")

        try:
            listed = write_inventory(s3, bucket, sink, prefix, versions=versions, latest_only=versions,
                                     workers=workers, on_progress=on_progress, requester_pays=requester_pays,
                                     selected=selected)
        except (ClientError, BotoCoreError) as err:
            message, code = s3_error(err)
            fail(f"listing s3://{bucket}/{prefix} failed, no manifest written: {message}", code)
    skipped = ""
    if versions and (listed.delete_markers_skipped or listed.older_versions_skipped):
        skipped = (f" (left out: {listed.older_versions_skipped:,} older versions, "
                   f"{listed.delete_markers_skipped:,} delete markers)")
    noun = "object" if listed.kept == 1 else "objects"
    if output is not None:
        out.print(f"wrote {listed.kept:,} {noun}, {format_size(listed.kept_bytes)}, to {escape(output)}{skipped}")
    else:
        out.print(f"{listed.kept:,} {noun}, {format_size(listed.kept_bytes)}, would go into the manifest "
                  f"(nothing written){skipped}")
    print_left_out(listed.objects, listed.left_out)
    if listed.objects == 0:
        console.print(f"[yellow]note:[/yellow] s3://{escape(bucket)}/{escape(prefix)} has no objects")
    return listed


def print_left_out(listed: int, left_out: LeftOut) -> None:
    """How many of the ``listed`` objects each filter left out, one line each."""
    from mediasync.reports.terminal import shown

    if left_out.total:
        out.print(f"left out by the filters, of {listed:,} listed:")
        for line in left_out.lines():
            out.print(f"  {shown(line)}")
