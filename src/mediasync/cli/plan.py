"""`mediasync plan`: what a sync job must still copy, from two listings or two S3 Inventory reports.

The decision is manifests.sync_plan's; DuckDB runs it here at any object count
(manifests.plan_engine), Athena on AWS with --athena-workgroup (stack.athena_plan).
`inventory --destination-bucket` is this command with both sides listed.
"""

from __future__ import annotations

import datetime
import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from mediasync.cli.common import ENDPOINT_HELP, console, fail, out, s3_error, use_s3_endpoint
from mediasync.cli.options import FilterCommand, filter_options, object_filter, s3_place
from mediasync.core.settings import format_size
from mediasync.manifests.filters import NO_FILTER, ObjectFilter

if TYPE_CHECKING:
    from mediasync.manifests.plan_engine import PlanResult, PlanSide
    from mediasync.manifests.sync_plan import Destination, SyncCounts

# Two reports further apart than this: the plan says so (changes between them are seen
# from one side only; the plan is true as of the older).
REPORTS_FAR_APART = datetime.timedelta(hours=24)


@click.command(cls=FilterCommand,
               short_help="Write the sync plan of a source against a destination (listings or inventories).")
@click.option("--source", default=None, metavar="s3://BUCKET[/PREFIX]", help="The source, listed now.")
@click.option("--source-inventory", default=None, metavar="MANIFEST_JSON",
              help="Instead of --source: the source's S3 Inventory report, its manifest.json on disk (the data files "
                   "beside it, as `aws s3 cp --recursive` downloads them) or s3://. CSV or Parquet here; with "
                   "--athena-workgroup CSV, Parquet or ORC.")
@click.option("--source-prefix", default="", metavar="PREFIX",
              help="With --source-inventory: plan only the keys under PREFIX.")
@click.option("--destination-bucket", default=None,
              help="The destination, listed now (under where the source's keys land).")
@click.option("--destination-inventory", default=None, metavar="MANIFEST_JSON",
              help="Instead of listing the destination: its S3 Inventory report (the destination bucket is the "
                   "report's sourceBucket).")
@click.option("--destination-prefix", default="", help="As submit's: where keys land in the destination.")
@click.option("--strip-prefix", default="", metavar="PREFIX",
              help="As submit's: taken off each source key before --destination-prefix.")
@click.option("--output", required=True, metavar="FILE|s3://BUCKET/KEY",
              help="The copy manifest; beside it OUTPUT.check.csv and OUTPUT.same.csv. Written whole or not at all. "
                   "With --athena-workgroup: s3://BUCKET/NAME.json, S3 Inventory-style manifests S3 Batch reads.")
@click.option("--versions", is_flag=True, help="With --source: pin each key's current version (as inventory's).")
@click.option("--requester-pays", is_flag=True, help="The source is Requester Pays: list it at this account's expense.")
@click.option("--move", is_flag=True,
              help="The submit commands printed move: each job deletes its sources once their copies are proved, "
                   "and one more job over OUTPUT.same.csv proves what the listings show already copied and deletes "
                   "those sources (docs/migration.md).")
@click.option("--endpoint-url", default=None, help=ENDPOINT_HELP)
@click.option("--workers", type=click.IntRange(1, 256), default=16, show_default=True, help="Prefixes listed at once.")
@click.option("--work-dir", default=None, type=click.Path(file_okay=False), metavar="DIR",
              help="Where DuckDB spills what does not fit in --memory-limit [default: the system's temp directory].")
@click.option("--memory-limit", default="600MB", show_default=True, callback=lambda ctx, param, value: _size(value),
              help="What DuckDB may hold in memory, e.g. 600MB or 2GB (the process adds about 150 MB).")
@click.option("--athena-workgroup", default=None, metavar="WORKGROUP",
              help="Plan in Athena on AWS instead of here: both sides inventories in S3; no row passes through "
                   "this machine.")
@click.option("--athena-database", default="mediasync", show_default=True,
              help="With --athena-workgroup: the Glue database for the plan's tables (created if absent).")
@click.option("--athena-output", default=None, metavar="s3://BUCKET/PREFIX/",
              help="With --athena-workgroup: where Athena writes results and the plan's data files "
                   "[default: beside --output].")
@filter_options
def plan(source: str | None, source_inventory: str | None, source_prefix: str, destination_bucket: str | None,
         destination_inventory: str | None, destination_prefix: str, strip_prefix: str, output: str, versions: bool,
         requester_pays: bool, move: bool, endpoint_url: str | None, workers: int, work_dir: str | None, memory_limit: str,
         athena_workgroup: str | None, athena_database: str, athena_output: str | None, **filters: object) -> None:
    """Write the sync plan of a source against a destination: which objects to copy,
    which to check object by object, which to leave out.

    Each side is a bucket listed now, or an S3 Inventory report (up to a day or two
    old, but read in minutes at any object count; see docs/sync-plans.md for when to
    use which). The plan is true as of the older side's time; a later pass catches
    what was written after it. It runs in DuckDB on this machine in bounded memory,
    spilling to disk, or with --athena-workgroup in Athena where the reports lie.

    \b
    Examples:
      mediasync plan --source s3://media/masters/ --destination-bucket archive --output plan.csv
      mediasync plan --source-inventory s3://inv/media/all/2026-12-06T01-00Z/manifest.json \\
          --destination-inventory s3://inv/archive/all/2026-12-06T01-00Z/manifest.json --output s3://jobs/plan.csv
      mediasync plan --source-inventory s3://inv/media/.../manifest.json --destination-inventory \\
          s3://inv/archive/.../manifest.json --athena-workgroup primary --output s3://jobs/plan.json
      mediasync plan --source s3://media/masters/ --destination-bucket archive --exclude '*.tmp' \\
          --modified-after 2026-01-01 --output plan.csv
    """
    from mediasync.manifests.sync_plan import Destination

    selected = object_filter(filters)
    if (source is None) == (source_inventory is None):
        raise click.UsageError("give the source: --source s3://BUCKET[/PREFIX] or --source-inventory MANIFEST_JSON "
                               "(one of them)")
    if destination_bucket is None and destination_inventory is None:
        raise click.UsageError("give the destination: --destination-bucket BUCKET or --destination-inventory "
                               "MANIFEST_JSON")
    if source_prefix and source_inventory is None:
        raise click.UsageError("--source-prefix narrows --source-inventory; with --source put the prefix in its URL")
    if versions and source is None:
        raise click.UsageError("--versions pins versions while listing --source; an inventory carries its own")
    s3 = use_s3_endpoint(endpoint_url)
    source_side, prefix = _source_side(s3, source, source_inventory, source_prefix, versions, requester_pays)
    reported = _load(s3, destination_inventory) if destination_inventory is not None else None
    bucket = destination_bucket or reported.bucket
    if not bucket:
        fail(f"{destination_inventory} names no sourceBucket: give --destination-bucket too")
    if reported is not None and reported.bucket != bucket:
        fail(f"--destination-bucket {bucket} is not the bucket {destination_inventory} lists "
             f"({reported.bucket or 'no sourceBucket'})")
    target = Destination(bucket, destination_prefix, strip_prefix)
    if athena_workgroup is not None:
        plan_with_athena(s3, source_side, reported, target, output, source_prefix=prefix, selected=selected,
                         workgroup=athena_workgroup, database=athena_database, results=athena_output, move=move)
        return
    from mediasync.manifests.plan_engine import ListedSide

    # A destination given by name is listed where the source's keys land.
    destination_side = reported or ListedSide(bucket, target.listing_prefix(prefix))
    plan_into_manifests(s3, source_side, destination_side, target, output, source_prefix=prefix, selected=selected,
                        workers=workers, requester_pays=requester_pays, work_dir=work_dir, memory_limit=memory_limit,
                        move=move)


def _size(value: str) -> str:
    if not re.fullmatch(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value.strip(), re.IGNORECASE):
        raise click.BadParameter(f"{value!r} is not a size such as 600MB or 2GB")
    return value.strip()


def _load(s3: Any, manifest: str) -> Any:
    from mediasync.manifests.inventory_report import FORMATS, load_inventory_manifest
    from mediasync.manifests.plan_engine import InventorySide
    from mediasync.manifests.s3batch_csv import ManifestError

    try:
        return InventorySide(load_inventory_manifest(manifest, s3, formats=FORMATS))
    except ManifestError as err:
        fail(str(err))


def _source_side(s3: Any, source: str | None, inventory: str | None, prefix: str, versions: bool,
                 requester_pays: bool) -> tuple[Any, str]:
    from mediasync.manifests.plan_engine import ListedSide

    if inventory is not None:
        return _load(s3, inventory), prefix
    bucket, listed_prefix = s3_place("--source", str(source))
    return ListedSide(bucket, listed_prefix, versions, requester_pays), listed_prefix


def plan_output(output: str, action: str) -> str:
    """Where a sync plan's manifest for ``action`` goes: OUTPUT itself for the copies,
    beside it for the rest (``sync.csv`` -> ``sync.check.csv``, ``sync.json`` -> ``sync.check.json``)."""
    from mediasync.manifests.sync_plan import COPY

    if action == COPY:
        return output
    for extension in (".csv", ".json"):
        if output.lower().endswith(extension):
            return f"{output[:-len(extension)]}.{action}{extension}"
    return f"{output}.{action}.csv"


def plan_into_manifests(s3: Any, source: PlanSide, destination: PlanSide, target: Destination, output: str, *,
                        source_prefix: str = "", selected: ObjectFilter = NO_FILTER, workers: int = 16,
                        requester_pays: bool = False, work_dir: str | None = None,
                        memory_limit: str | None = None, move: bool = False) -> None:
    """The sync plan of the source objects ``selected`` keeps against ``destination`` as
    three manifests, with the counts, the time it is true as of, and the submit commands
    that run it."""
    import duckdb
    from botocore.exceptions import BotoCoreError, ClientError

    from mediasync.manifests.listing import open_sink
    from mediasync.manifests.plan_engine import MEMORY_LIMIT, write_plan
    from mediasync.manifests.s3batch_csv import ManifestError
    from mediasync.manifests.sync_plan import CHECK, COPY, SAME

    outputs = {action: plan_output(output, action) for action in (COPY, CHECK, SAME)}
    sinks = {}
    try:
        for action, path in outputs.items():
            sinks[action] = open_sink(path, s3)
    except (ValueError, OSError) as err:
        for sink in sinks.values():
            sink.abort()
        fail(f"cannot write {path}: {err}")
    try:
        with console.status(f"planning {escape(source.describe())} against {escape(destination.describe())}") as status:
            result = write_plan(s3, source, destination, target, sinks, source_prefix=source_prefix,
                                selected=selected, workers=workers,
                                work_dir=Path(work_dir) if work_dir else None, memory_limit=memory_limit or MEMORY_LIMIT,
                                on_progress=lambda step: status.update(escape(step)))
    except (ClientError, BotoCoreError) as err:
        message, code = s3_error(err)
        fail(f"reading for the sync plan failed, no manifest written: {message}", code)
    except ManifestError as err:
        fail(f"{err}; no manifest written")
    except duckdb.Error as err:
        fail(f"the inventory data could not be read, no manifest written: {str(err).splitlines()[0]}")
    except OSError as err:
        fail(f"the sync plan could not be written, no manifest written: {err}")
    report_plan(result, outputs, target, requester_pays=requester_pays, move=move)


def report_plan(result: PlanResult, outputs: dict[str, str], target: Destination, *,
                requester_pays: bool = False, move: bool = False) -> None:
    """What a written plan says: counts, the time it is true as of, and its submit commands;
    with ``move``, commands that move, one more over the objects left out: its tasks prove
    each by its content and delete its source (a listing's ETags do not prove it)."""
    from mediasync.manifests.sync_plan import CHECK, COPY, SAME

    counts = result.counts
    out.print(describe_plan(counts))
    for note in result.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    as_of = as_of_line(result)
    if as_of:
        out.print(as_of)
    apart = far_apart_warning(result)
    if apart:
        console.print(f"[yellow]warning:[/yellow] {escape(apart)}")
    where = ["--destination-bucket", target.bucket]
    where += ["--destination-prefix", target.prefix] if target.prefix else []
    where += ["--strip-prefix", target.strip] if target.strip else []
    where += ["--requester-pays"] if requester_pays else []
    where += ["--move"] if move else []
    jobs = [(COPY, ["--no-skip-existing"]), (CHECK, [])]
    if not any(counts.total(action) for action, _ in jobs):
        out.print("nothing to copy: the destination holds every object")
    for action, flags in jobs + ([(SAME, [])] if move else []):
        if counts.total(action):
            command = ["mediasync", "submit", "--manifest", outputs[action], *where, *flags, "--report-bucket", "BUCKET"]
            out.print(f"  {escape(shlex.join(command))}")
    if move:
        out.print(f"already copied, moved by the last job: {escape(outputs[SAME])}")
    else:
        out.print(f"left out: {escape(outputs[SAME])}")


def plan_with_athena(s3: Any, source: Any, destination: Any, target: Destination, output: str, *,
                     source_prefix: str, workgroup: str, database: str, results: str | None,
                     selected: ObjectFilter = NO_FILTER, move: bool = False) -> None:
    """The plan made in Athena (stack.athena_plan): manifests in S3, counts and cost printed."""
    from botocore.exceptions import BotoCoreError, ClientError

    from mediasync.manifests.locations import is_s3_url, split_s3_url
    from mediasync.manifests.plan_engine import InventorySide, PlanResult, missing_comparisons_note
    from mediasync.manifests.s3batch_csv import ManifestError
    from mediasync.manifests.sync_plan import CHECK, COPY, SAME
    from mediasync.model.cost import athena_dollars
    from mediasync.stack.athena_plan import AthenaPlace, AthenaPlanError, plan_in_athena
    from mediasync.stack.submit import aws_client

    sides = (("--source-inventory", source), ("--destination-inventory", destination))
    for flag, side in sides:
        if not isinstance(side, InventorySide) or not is_s3_url(side.manifest.location):
            fail(f"--athena-workgroup plans two S3 Inventory reports where they lie: give {flag} s3://.../manifest.json")
    if not (is_s3_url(output) and output.lower().endswith(".json")):
        fail(f"--output {output}: with --athena-workgroup the plan is S3 Inventory-style manifests in S3: "
             "give s3://BUCKET/NAME.json")
    bucket, key = split_s3_url(output)
    results = results or f"s3://{bucket}/{key.rsplit('/', 1)[0] + '/' if '/' in key else ''}athena/"
    if not is_s3_url(results):
        fail(f"--athena-output {results} is not an s3://BUCKET/PREFIX/ URL")
    place = AthenaPlace(workgroup, database, results if results.endswith("/") else results + "/")
    outputs = {action: plan_output(output, action) for action in (COPY, CHECK, SAME)}
    as_of = min((when for when in (source.manifest.created, destination.manifest.created) if when), default=None)
    try:
        with console.status(f"planning in Athena (workgroup {escape(workgroup)})"):
            made = plan_in_athena(s3, aws_client("athena"), source.manifest, destination.manifest, target, outputs,
                                  place, source_prefix=source_prefix, selected=selected, as_of=as_of)
    except (AthenaPlanError, ManifestError) as err:
        fail(f"{err}; no manifest written")
    except (ClientError, BotoCoreError) as err:
        message, code = s3_error(err)
        fail(f"planning in Athena failed, no manifest written: {message}", code)
    report_plan(PlanResult(made.counts, source.manifest.created, destination.manifest.created,
                           notes=[note for side in (source, destination) for note in missing_comparisons_note(side)],
                           kinds={"source": "report", "destination": "report"}), outputs, target, move=move)
    out.print(f"Athena scanned {format_size(sum(made.scanned))} in {len(made.scanned)} billed queries: "
              f"${athena_dollars(made.scanned):,.4f} at $5 per TB (10 MB at least a query)")


def _when(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def as_of_line(result: PlanResult) -> str | None:
    """The time the plan is true as of: the older side's (a report's creation time, a listing's start)."""
    if result.as_of is None:
        return None
    older = "source" if result.source_as_of == result.as_of else "destination"
    return (f"true as of {_when(result.as_of)} (the {older}'s {result.kinds[older]}): objects written after it "
            "are left to a later pass")


def far_apart_warning(result: PlanResult) -> str | None:
    if result.source_as_of is None or result.destination_as_of is None:
        return None
    gap = abs(result.source_as_of - result.destination_as_of)
    if gap <= REPORTS_FAR_APART:
        return None
    newer = "source" if result.source_as_of > result.destination_as_of else "destination"
    return (f"the two sides are {gap.total_seconds() / 3600:.0f} hours apart (source {_when(result.source_as_of)}, "
            f"destination {_when(result.destination_as_of)}): what changed in between is seen only on the {newer}'s "
            "side; objects copied since the destination's report are copied again (a fresher destination report "
            "avoids it)")


def describe_plan(counts: SyncCounts) -> str:
    """One line of a sync plan's counts, each with its reasons (rich markup)."""
    from mediasync.manifests.filters import FILTERED
    from mediasync.manifests.sync_plan import CHECK, COPY, SAME
    from mediasync.reports.terminal import shown

    def part(action: str, label: str) -> str:
        # A reason may be a filter's flag, with the user's brackets in it: shown, not read as markup.
        reasons = ", ".join(f"{count:,} {shown(reason)}" for reason, count in counts.by_reason(action).items())
        size = f", {format_size(counts.bytes_of(action))}" if counts.total(action) else ""
        return f"{counts.total(action):,} {label}{size}" + (f" ({reasons})" if reasons else "")

    line = (f"sync plan: {part(COPY, 'to copy')}; {part(CHECK, 'to check object by object')}; "
            f"{part(SAME, 'left out')}")
    if counts.total(FILTERED):
        line += f"; {part(FILTERED, 'left out by the filters')}"
    return line
