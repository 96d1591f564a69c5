"""``mediasync estimate``: what a job will do, cost and take on AWS, without copying.

Sizes come from HeadObject on every manifest row (in parallel, through the same
``inspect_source`` the copy uses, so multipart layouts are read the same way), or from
an S3 Inventory's Size and ETag columns. The model is :mod:`mediasync.model`.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import click
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table

from mediasync.cli.common import s3_error
from mediasync.cli.options import (
    ENDPOINT,
    FilterCommand,
    filter_options,
    object_filter,
    refuse_filters_with_a_manifest,
    s3_place,
    task_options,
)
from mediasync.core import clients
from mediasync.core.errors import MediaSyncError
from mediasync.core.s3batch_task import destination_key
from mediasync.core.settings import CopyOptions, format_size
from mediasync.core.source import ObjectRef, etag_part_count, inspect_source
from mediasync.core.timing import (
    INVOKE_CONCURRENCY,
    PATH_LABELS,
    QUOTA_NAMES,
    QUOTAS_READ,
    STANDARD_BATCH,
    STANDARD_LAMBDA,
    Quotas,
    Rates,
    Resources,
    with_quota,
)
from mediasync.manifests.inventory_report import is_inventory_manifest, read_inventory_entries
from mediasync.manifests.reader import probe_manifest, read_manifest
from mediasync.manifests.s3batch_csv import ManifestError, ManifestRow, encode_key
from mediasync.model.cost import PRICES_AS_OF, PRICES_REGION
from mediasync.model.estimate import Estimate, raise_quota
from mediasync.model.estimate import estimate as model_estimate
from mediasync.model.rates import RatesFileError, format_rate, load_rates, ranges_markdown, value_at
from mediasync.model.regions import DEFAULT_REGION, has_high_quotas, quotas_for_region
from mediasync.model.scale import format_duration, price_text, scale_markdown
from mediasync.model.usage import SourceListing
from mediasync.model.wall_time import BATCH_DISPATCH
from mediasync.model.workload import SIZE_BINS, ObjectSpec, Workload, infer_part_size, prefix_of

EXIT_OK, EXIT_UNSIZED, EXIT_USAGE = 0, 1, 2
UNSIZED_SHOWN = 20

console = Console(stderr=True)
out = Console()


class S3Unreachable(Exception):
    """S3 cannot be asked at all (no credentials, no connection): not a per-object failure."""


@dataclass(frozen=True)
class Unsized:
    line: int
    bucket: str
    key: str  # as the manifest wrote it
    code: str
    message: str


@dataclass
class Sizing:
    """What sizing found: objects go straight into the workload tally (memory bounded by
    distinct layouts and prefixes, not by objects); rows that failed are kept to list."""

    options: CopyOptions
    workload: Workload = field(default_factory=Workload)
    unsized: list[Unsized] = field(default_factory=list)
    unsized_by_code: Counter = field(default_factory=Counter)
    headed: int = 0  # rows sized by HeadObject (the rest came from the inventory)

    def add(self, spec: ObjectSpec) -> None:
        self.workload.add(spec, self.options)

    def fail(self, row: ManifestRow, code: str, message: str) -> None:
        self.unsized_by_code[code] += 1
        self.unsized.append(Unsized(row.line, row.bucket, row.raw_key, code, message))


def _spec(size: int, etag: str | None, part_size: int | None, key: str, options: CopyOptions) -> ObjectSpec:
    part_count = etag_part_count(etag or "")
    if part_count and part_size is None:
        part_size = infer_part_size(size, part_count)
    return ObjectSpec(size, part_count, part_size if part_count else None,
                      prefix_of(destination_key(options.destination_prefix, key, options.strip_prefix)))


def head_row(s3: Any, row: ManifestRow, options: CopyOptions) -> ObjectSpec:
    """Size one manifest row exactly as batch_invoke would inspect it."""
    destination_key(options.destination_prefix, row.key, options.strip_prefix)  # batch_invoke refuses before HEAD
    try:
        source = inspect_source(s3, ObjectRef(row.bucket, row.key, row.version_id), options)
    except BotoCoreError as err:
        raise S3Unreachable(str(err)) from err
    return _spec(source.size, source.etag, source.part_size, row.key, options)


def _bounded_map(func: Callable[[ManifestRow], ObjectSpec], rows: Iterable[ManifestRow],
                 threads: int) -> Iterator[tuple[ManifestRow, Future]]:
    """Run ``func`` on rows with at most ``2 * threads`` in flight: a manifest of millions
    of rows is streamed, never held in memory."""
    window: deque[tuple[ManifestRow, Future]] = deque()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for row in rows:
            window.append((row, pool.submit(func, row)))
            if len(window) >= 2 * threads:
                yield window.popleft()
        while window:
            yield window.popleft()


def size_rows(s3: Any, rows: Iterable[ManifestRow], options: CopyOptions, threads: int,
              sizing: Sizing, on_row: Callable[[], None] = lambda: None) -> None:
    def to_head() -> Iterator[ManifestRow]:
        for row in rows:
            if row.error:
                sizing.fail(row, "InvalidManifestRow", row.error)
                on_row()
            else:
                yield row

    for row, future in _bounded_map(lambda row: head_row(s3, row, options), to_head(), threads):
        try:
            sizing.add(future.result())
            sizing.headed += 1
        except MediaSyncError as error:
            sizing.fail(row, error.code, str(error))
        on_row()


def size_inventory(s3: Any, manifest: str, options: CopyOptions, threads: int, sizing: Sizing,
                   on_row: Callable[[], None] = lambda: None) -> None:
    """Sizes from the inventory's Size and ETag columns; rows without a size are HEADed."""

    def rows_to_head() -> Iterator[ManifestRow]:
        for entry in read_inventory_entries(manifest, s3):
            if entry.row.error or entry.size is None:
                yield entry.row
            else:
                try:
                    sizing.add(_spec(entry.size, entry.etag, None, entry.row.key, options))
                except MediaSyncError as error:
                    sizing.fail(entry.row, error.code, str(error))
                on_row()

    size_rows(s3, rows_to_head(), options, threads, sizing, on_row)


def _parse_quotas(values: tuple[str, ...], quotas: Quotas = Quotas()) -> Quotas:
    for text in values:
        name, _, value = text.partition("=")
        name = name.strip().replace("-", "_")
        if name not in QUOTA_NAMES:
            raise click.BadParameter(f"{name!r} is not a quota; use one of: {', '.join(QUOTA_NAMES)}",
                                     param_hint="--quota")
        try:
            number = float(value)
        except ValueError:
            raise click.BadParameter(f"{text!r}: the value must be a number (NAME=VALUE)", param_hint="--quota") from None
        if number <= 0:
            raise click.BadParameter(f"{text!r}: the value must be positive", param_hint="--quota")
        quotas = with_quota(quotas, name, number)
    return quotas


@click.command("estimate", cls=FilterCommand,
               short_help="What a job will do, cost and take on AWS, without copying.")
@click.option("--manifest", default=None,
              help="S3 Batch CSV manifest (bucket,url-encoded-key[,version-id]) or an S3 Inventory "
                   "manifest.json (local path or s3://bucket/key).")
@click.option("--source", default=None, metavar="s3://BUCKET[/PREFIX]",
              help="Instead of --manifest: the job `submit --source` would create, sized from a listing here (the "
                   "filters applied), with the cost of its manifest: S3 Batch's generator, or the listing here.")
@click.option("--endpoint-url", default=None, type=ENDPOINT,
              help="S3-compatible endpoint to HEAD the objects on. Without it: Amazon S3 itself, with "
                   "the usual AWS credentials and Region.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the estimate as JSON to this file.")
@click.option("--threads", type=click.IntRange(1, 64), default=32, show_default=True,
              help="HeadObject requests in flight.")
@click.option("--cross-region", is_flag=True, help="Source and destination are in different Regions "
              "(adds inter-Region transfer cost).")
@click.option("--quota", "quota_values", multiple=True, metavar="NAME=VALUE",
              help="Your account's value of a quota, e.g. lambda_concurrency=5000 (repeatable). "
                   f"Names: {', '.join(QUOTA_NAMES)}.")
@click.option("--invoke-concurrency", type=click.IntRange(0), default=0, show_default=True, metavar="N",
              help="The stack's BatchInvokeReservedConcurrency: batch_invoke holds one of N slots for each "
                   "object's whole copy, so at most N objects copy at once (0: none reserved).")
@click.option("--rates", "rates_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A rates file (JSON) from `mediasync calibrate` or written by hand: its rates replace the "
                   "best-supported defaults of docs/performance.md.")
@click.option("--region", default=DEFAULT_REGION, show_default=True,
              help="The Region the job runs in: outside us-east-1, us-west-2 and eu-west-1, Step Functions "
                   "starts, state transitions and DescribeExecution have lower default quotas.")
@click.option("--partitioned-destination", is_flag=True,
              help="S3 has already partitioned the destination (a bucket written this hard before, or "
                   "pre-partitioned on request): every prefix takes 3,500 writes/s from the start instead "
                   "of the whole destination for its first half hour.")
@click.option("--scale-table", is_flag=True,
              help="Print the AWS scale model table of docs/performance.md (no manifest needed) and exit.")
@click.option("--ranges-table", is_flag=True,
              help="Print the headline at both ends of the evidence, as docs/performance.md shows it, and exit.")
@click.option("--sync-plan-inventories", nargs=2, default=None, metavar="SOURCE_JSON DESTINATION_JSON",
              help="Price `plan --athena-workgroup` over these two S3 Inventory reports (their manifest.json, on "
                   "disk or s3://; no data file is read) and exit.")
@filter_options
@task_options
def estimate(manifest: str | None, source: str | None, endpoint_url: str | None, json_path: Path | None, threads: int,
                     cross_region: bool, quota_values: tuple[str, ...], invoke_concurrency: int,
                     rates_path: Path | None, region: str, partitioned_destination: bool,
                     scale_table: bool, ranges_table: bool, sync_plan_inventories: tuple[str, str] | None,
                     **option_values: Any) -> None:
    """Estimate a job without copying: object count, bytes, sizes, how each object will be
    copied, S3 requests, Step Functions and Lambda use, Fargate hours, a dollar cost
    breakdown and the wall time on AWS with the quota that limits it.

    Every manifest row is sized with HeadObject (nothing is read or written), or from
    the Size and ETag columns of an S3 Inventory manifest.json. Without --endpoint-url
    the objects are looked up on Amazon S3 itself: the embedded S3 of `mediasync run`
    lives inside that command's own process, so there is nothing there to estimate.

    Costs are us-east-1 list prices; the wall time comes from published default quotas
    (override yours with --quota) and the best-supported rates of docs/performance.md,
    or your own measured with `mediasync calibrate` (--rates FILE).

    Exit status: 0 every row sized, 1 some rows could not be sized (listed, and left out
    of the estimate), 2 bad usage or an unreadable manifest.

    Example: mediasync estimate --manifest manifest.csv --endpoint-url http://127.0.0.1:8333
    """
    if scale_table:
        click.echo(scale_markdown(), nl=False)
        return
    if ranges_table:
        click.echo(ranges_markdown(), nl=False)
        return
    if sync_plan_inventories:
        _price_athena_plan(sync_plan_inventories, endpoint_url)
        return
    if (manifest is None) == (source is None):
        raise click.UsageError("give the objects: --manifest FILE or --source s3://BUCKET[/PREFIX] (one of them; or "
                               "--scale-table, --ranges-table)")
    selected = object_filter(option_values)
    if manifest is not None:
        refuse_filters_with_a_manifest(selected)
    try:
        quotas = _parse_quotas(quota_values, quotas_for_region(region))
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--region") from None
    rates, rates_source = Rates(), "best-supported defaults (docs/performance.md)"
    if rates_path is not None:
        try:
            rates, document = load_rates(rates_path)
        except RatesFileError as err:
            raise click.BadParameter(str(err), param_hint="--rates") from None
        measured = document.get("measured", {})
        rates_source = f"{rates_path}" + (f", measured {measured.get('at', '')} in {measured.get('region', '?')}"
                                          if isinstance(measured, dict) and measured else "")
    if partitioned_destination:
        rates = replace(rates, prefix_partition_seconds=0.0)
    try:
        options = CopyOptions().merged(option_values)
    except ValueError as err:
        raise click.UsageError(str(err)) from err
    configured = endpoint_url is not None
    if configured:
        clients.CLIENTS.configure_s3(endpoint_url)
    try:
        if source is not None:
            sizing, listing = _size_source(source, selected, options)
        else:
            sizing, listing = _size(manifest, options, threads), None
    except ManifestError as err:
        console.print(f"[red]error:[/red] {err}")
        sys.exit(EXIT_USAGE)
    except S3Unreachable as err:
        where = endpoint_url or "Amazon S3"
        console.print(f"[red]error:[/red] cannot ask {where} about the objects: {err}. "
                      "Check credentials and --endpoint-url.")
        sys.exit(EXIT_USAGE)
    finally:
        if configured:
            clients.CLIENTS.reset()
    result = model_estimate(sizing.workload, options, quotas=quotas, cross_region=cross_region, rates=rates,
                            resources=Resources(batch_invoke_concurrency=invoke_concurrency), listing=listing)
    print_estimate(result, sizing, rates_source=rates_source, region=region)
    if json_path is not None:
        document = {"manifest": manifest or source, "options": options.to_event(), **result.to_dict(),
                    "rates_source": rates_source, "region": region, "assumptions": assumptions(result, region),
                    "unsized": [vars(item) for item in sorted(sizing.unsized, key=lambda item: item.line)],
                    "unsized_by_code": dict(sizing.unsized_by_code)}
        raised = raise_quota(result)
        if raised is not None:
            document["if_binding_raised"] = {"quota": raised.quota, "value": raised.value,
                                             "wall_seconds": round(raised.wall.seconds, 3),
                                             "binding": raised.wall.binding.name}
        json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        console.print(f"estimate written to {json_path}")
    sys.exit(EXIT_UNSIZED if sizing.unsized else EXIT_OK)


def _price_athena_plan(manifests: tuple[str, str], endpoint_url: str | None) -> None:
    """What a sync plan in Athena costs: it scans both reports' data files once (the
    join); its two other billed queries read only the plan's own table (10 MB at least)."""
    from mediasync.manifests.inventory_report import FORMATS, load_inventory_manifest
    from mediasync.model.cost import ATHENA_MINIMUM_BYTES, ATHENA_PLAN_QUERIES, ATHENA_SCANNED, athena_dollars

    if endpoint_url is not None:
        clients.CLIENTS.configure_s3(endpoint_url)
    try:
        reports = [load_inventory_manifest(path, clients.s3() if path.startswith("s3:") else None, formats=FORMATS)
                   for path in manifests]
    except ManifestError as err:
        console.print(f"[red]error:[/red] {err}")
        sys.exit(EXIT_USAGE)
    sized = [item.size for report in reports for item in report.files]
    if None in sized:
        console.print("[yellow]note:[/yellow] a data file's size is missing from a manifest.json: counted as 0")
    scanned = sum(size or 0 for size in sized)
    columnar = any(report.file_format != "CSV" for report in reports)
    dollars = athena_dollars([scanned] + [ATHENA_MINIMUM_BYTES] * (ATHENA_PLAN_QUERIES - 1))
    out.print(f"sync plan in Athena over {len(sized)} data files: the join scans {format_size(scanned)}"
              f"{' at most (Parquet/ORC: only the columns a plan reads)' if columnar else ''}; "
              f"{ATHENA_PLAN_QUERIES} billed queries: about ${dollars:,.4f} at ${ATHENA_SCANNED.amount * 1e12:.2f} per TB "
              f"(10 MB at least a query; {ATHENA_SCANNED.source}). `plan` prints what Athena really scanned.")


def _size_source(source: str, selected: Any, options: CopyOptions) -> tuple[Sizing, SourceListing]:
    """Sizes from a listing of ``source`` (Size and ETag, as an inventory gives them), the
    objects ``selected`` keeps; and how `submit --source` would make the job's manifest."""
    from mediasync.manifests.filters import generator_filter
    from mediasync.manifests.listing import list_bucket
    from mediasync.reports.terminal import shown

    bucket, prefix = s3_place("--source", source)
    sizing = Sizing(options)

    def add(item: Any) -> None:
        try:
            sizing.add(_spec(item.size, item.etag.strip('"'), None, item.key, options))
        except MediaSyncError as error:
            sizing.fail(ManifestRow(0, item.bucket, encode_key(item.key), item.key, item.version_id), error.code, str(error))

    try:
        with console.status(f"listing {source}"):
            listed = list_bucket(clients.s3(), bucket, prefix, emit=add, selected=selected,
                                 requester_pays=options.requester_pays)
    except BotoCoreError as err:
        raise S3Unreachable(str(err)) from err
    except ClientError as err:
        raise S3Unreachable(s3_error(err)[0]) from err
    found = generator_filter(selected, prefix)
    for line in listed.left_out.lines():
        out.print(f"left out by {shown(line)}")
    if found.document is not None:
        out.print(f"manifest: with submit --source, S3 Batch's generator lists the {listed.objects:,} objects under "
                  f"{source} (priced per object listed; more if S3 counts the whole bucket)")
    else:
        out.print(f"manifest: listed here in {listed.requests:,} ListObjectsV2 requests ({shown(found.reason)})")
    return sizing, SourceListing(listed.objects, found.document is not None, listed.requests)


def _size(manifest: str, options: CopyOptions, threads: int) -> Sizing:
    inventory = is_inventory_manifest(manifest)
    probe_manifest(manifest)
    sizing = Sizing(options)
    lock = threading.Lock()
    counted = 0
    with console.status("sizing objects") as status:
        def on_row() -> None:
            nonlocal counted
            with lock:
                counted += 1
                if counted % 500 == 0:
                    status.update(f"sizing objects: {counted:,}")

        if inventory:
            size_inventory(clients.s3(), manifest, options, threads, sizing, on_row)
        else:
            size_rows(clients.s3(), read_manifest(manifest), options, threads, sizing, on_row)
    return sizing


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    return table


def assumptions(result: Estimate, region: str = DEFAULT_REGION) -> list[str]:
    """What the wall time takes for granted that AWS does not publish or the user may know better."""
    rates = result.rates
    slow = value_at("batch_dispatch_per_second", "slow")
    dispatch = next(c for c in result.wall.constraints if c.name == BATCH_DISPATCH)
    notes = [f"ASSUMED: S3 Batch Operations starts {rates.batch_dispatch_per_second:,.0f} tasks a second "
             f"(its rate is not published): {format_duration(dispatch.seconds)} for "
             f"{result.workload.objects:,} tasks; at {slow:,.0f} a second "
             f"{format_duration(dispatch.seconds * rates.batch_dispatch_per_second / slow)}"]
    if rates.prefix_partition_seconds:
        notes.append(f"the destination is fresh: {result.quotas.s3_copy_per_prefix.value:,.0f} writes/s in all for "
                     f"its first {format_rate('prefix_partition_seconds', rates.prefix_partition_seconds)}, until S3 "
                     "has partitioned it (--partitioned-destination if it already is)")
    if not has_high_quotas(region):
        notes.append(f"{region}: Step Functions quotas lower than us-east-1's (docs/performance.md)")
    return notes


def print_estimate(result: Estimate, sizing: Sizing, *, rates_source: str = "best-supported defaults",
                   region: str = DEFAULT_REGION) -> None:
    workload, used, wall = result.workload, result.usage, result.wall
    summary = _table("Workload", "", "")
    summary.add_row("objects", f"{workload.objects:,}")
    summary.add_row("bytes", f"{workload.bytes:,} ({format_size(workload.bytes)})")
    summary.add_row("multipart sources", f"{workload.multipart_sources:,}")
    summary.add_row("destination prefixes", f"{workload.prefix_count:,}" + (" or more" if workload.prefixes_capped else ""))
    summary.add_row("rows not sized", f"{len(sizing.unsized):,}")
    out.print(summary)

    histogram = _table("Sizes", "size", "objects")
    for (label, _), count in zip(SIZE_BINS, workload.histogram):
        if count:
            histogram.add_row(label, f"{count:,}")
    out.print(histogram)

    paths = _table("How they are copied", "path", "objects", "bytes", "parts", "part groups")
    for name, tally_ in workload.paths.items():
        if tally_.objects:
            paths.add_row(PATH_LABELS[name], f"{tally_.objects:,}", format_size(tally_.bytes),
                          f"{tally_.parts:,}", f"{tally_.groups:,}")
    out.print(paths)

    requests = _table("S3 requests", "API", "calls")
    for name, calls in sorted(used.requests.items()):
        requests.add_row(name, f"{calls:,}")
    requests.add_row("total", f"{used.tier1_requests + used.tier2_requests + used.free_requests:,}")
    out.print(requests)

    compute = _table("Step Functions, Lambda, Fargate", "", "")
    compute.add_row("EXPRESS executions", f"{used.express_executions:,}")
    compute.add_row("STANDARD executions (Map Runs)", f"{used.standard_executions:,} ({used.map_runs:,})")
    compute.add_row("STANDARD state transitions", f"{used.standard_transitions:,}")
    compute.add_row("DescribeExecution polls", f"{used.describe_calls:,}")
    for function, invocations in sorted(used.lambda_invocations.items()):
        compute.add_row(f"Lambda {function}", f"{invocations:,} invocations, "
                                              f"{used.lambda_gb_seconds[function]:,.1f} GB-s")
    compute.add_row("Lambda GB-seconds", f"{used.lambda_gb_seconds_total:,.1f}")
    compute.add_row("AWS Batch jobs", f"{used.batch_jobs:,}")
    compute.add_row("Fargate Spot vCPU-hours / GB-hours", f"{used.fargate_vcpu_hours:,.2f} / {used.fargate_gb_hours:,.2f}")
    out.print(compute)

    dollars = _table(f"Cost in US dollars ({PRICES_REGION} list prices read {PRICES_AS_OF})",
                     "item", "quantity", "unit price", "dollars")
    for line in result.cost:
        dollars.add_row(line.item, f"{line.quantity:,.2f}".rstrip("0").rstrip("."), price_text(line.unit_price),
                        f"{line.dollars:,.4f}")
    dollars.add_row("[bold]total[/bold]", "", "", f"[bold]{result.dollars:,.2f}[/bold]")
    out.print(dollars)

    timing = _table(f"Wall time on AWS (default quotas read {QUOTAS_READ})", "limit", "alone needs", "detail")
    for constraint in wall.constraints[:6]:
        timing.add_row(constraint.name, format_duration(constraint.seconds), constraint.detail)
    out.print(timing)
    out.print(f"modeled wall time: [bold]{format_duration(wall.seconds)}[/bold] "
              f"({format_duration(wall.job_start)} S3 Batch job start + {format_duration(wall.copy_seconds)}); "
              f"binding: [bold]{wall.binding.name}[/bold] ({wall.binding.detail})")
    raised = raise_quota(result)
    if raised is not None:
        out.print(f"raising {raised.label} to {raised.value:,.0f}: {format_duration(raised.wall.seconds)}, "
                  f"then {raised.wall.binding.name} binds")
    elif wall.binding.name == INVOKE_CONCURRENCY:
        unreserved = model_estimate(result.workload, result.options, rates=result.rates, quotas=result.quotas,
                                    resources=replace(result.resources, batch_invoke_concurrency=0),
                                    cross_region=result.cross_region)
        out.print(f"batch_invoke's {result.resources.batch_invoke_concurrency:,} reserved slots bind (one per object "
                  f"being copied): without the reservation {format_duration(unreserved.wall.seconds)}")
    elif wall.binding.name == BATCH_DISPATCH:
        out.print("S3 Batch Operations' own task rate binds, as assumed: split the manifest into several jobs "
                  "run at once, or calibrate the rate from a real job (tasks succeeded per minute)")
    elif wall.binding.quota:
        out.print(f"{wall.binding.quota} is a hard limit: spread the work (more prefixes, more jobs) instead")
    elif used.longest_object_path == STANDARD_BATCH:
        out.print("the longest object binds: its part groups wait for Fargate tasks to start; --worker lambda, "
                  "or --max-concurrency at least its group count, shortens it")
    elif used.longest_object_path == STANDARD_LAMBDA:
        out.print("the longest object binds: more part groups at once (--max-concurrency) shortens it")
    out.print(f"rates: {rates_source}")
    for note in assumptions(result, region):
        out.print(f"  - {note}")

    if sizing.unsized:
        missing = _table(f"Rows not sized ({len(sizing.unsized):,}; left out of the estimate)",
                         "line", "bucket", "key", "error")
        for item in sorted(sizing.unsized, key=lambda item: item.line)[:UNSIZED_SHOWN]:
            missing.add_row(str(item.line), item.bucket, item.key, f"{item.code}: {item.message}")
        out.print(missing)
        if len(sizing.unsized) > UNSIZED_SHOWN:
            out.print(f"... and {len(sizing.unsized) - UNSIZED_SHOWN:,} more (--json lists them all)")

