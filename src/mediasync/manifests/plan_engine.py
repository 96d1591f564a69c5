"""A sync plan of any size on this machine: manifests.sync_sql run in DuckDB.

Each side is an S3 Inventory report (its data files read where they lie on disk, or
downloaded from S3 first) or a bucket listed now (written as a CSV inventory on disk
first, so it takes the same SQL). DuckDB joins the two out of core: it holds at most
``memory_limit`` and spills the rest to ``work_dir``, so memory stays flat whatever the
object count (docs/sync-plans.md has the measurements). The decided rows go to a table
in the work directory, then each decision's manifest lines stream out to their sink.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from mediasync.manifests.filters import NO_FILTER, ObjectFilter
from mediasync.manifests.inventory_report import CSV, InventoryManifest, data_files_on_disk
from mediasync.manifests.listing import Listed, ListingProgress, ManifestSink, list_bucket
from mediasync.manifests.s3batch_csv import ManifestError, encode_key
from mediasync.manifests.sync_plan import CHECK, COPY, SAME, Destination, SyncCounts
from mediasync.manifests.sync_sql import (
    COMPARED_FIELDS,
    DUCKDB_MACROS,
    REQUIRED_FIELDS,
    SideSchema,
    counts_sql,
    literal,
    objects_sql,
    plan_sql,
)

# What DuckDB may hold before it spills to disk; the process adds about 150 MiB (Python,
# boto3, DuckDB itself), so a plan fits in 1 GiB at any size.
MEMORY_LIMIT = "600MB"
LISTING_FIELDS = ("bucket", "key", "version_id", "size", "last_modified_date", "e_tag", "storage_class")
FETCH_ROWS = 50_000


@dataclass(frozen=True)
class ListedSide:
    """A side given as a bucket (and prefix) to list now."""

    bucket: str
    prefix: str = ""
    versions: bool = False  # pin each key's current version, as inventory --versions
    requester_pays: bool = False

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class InventorySide:
    """A side given as an S3 Inventory report (its manifest.json, loaded)."""

    manifest: InventoryManifest

    @property
    def bucket(self) -> str:
        return self.manifest.source_bucket

    def describe(self) -> str:
        return f"the inventory {self.manifest.location}"

    def schema(self, selected: ObjectFilter = NO_FILTER) -> SideSchema:
        """The report's schema, refused when it lacks what a plan (and ``selected``) reads."""
        schema = SideSchema(self.manifest.file_format, self.manifest.field_names)
        unfilterable = schema.missing(tuple(sorted(selected.needs())))
        if unfilterable:
            raise ManifestError(f"{self.manifest.location} has no {', '.join(unfilterable)} column, which the "
                                f"filters {' '.join(selected.flags())} read; add it to the inventory configuration's "
                                "optional fields, or list the bucket (--source)")
        missing = schema.missing(REQUIRED_FIELDS)
        if missing:
            raise ManifestError(f"{self.manifest.location} has no {', '.join(missing)} column: a sync plan compares "
                                "sizes; add Size to the inventory configuration's optional fields")
        if schema.file_format == "ORC":
            raise ManifestError(f"{self.manifest.location} is an ORC inventory, which DuckDB does not read here: plan "
                                "it in Athena (--athena-workgroup), or configure the inventory as CSV or Parquet")
        return schema


PlanSide = ListedSide | InventorySide


@dataclass
class PlanResult:
    counts: SyncCounts
    # The time each side's rows are true as of: a report's creationTimestamp, a listing's start.
    source_as_of: datetime.datetime | None
    destination_as_of: datetime.datetime | None
    notes: list[str] = field(default_factory=list)  # what the user should know (fields missing)
    kinds: dict[str, str] = field(default_factory=dict)  # "source"/"destination" -> "report" or "listing"

    @property
    def as_of(self) -> datetime.datetime | None:
        """The plan is true as of the older side's time."""
        times = [when for when in (self.source_as_of, self.destination_as_of) if when is not None]
        return min(times) if times else None


def side_as_of(side: PlanSide) -> datetime.datetime | None:
    return side.manifest.created if isinstance(side, InventorySide) else None


def missing_comparisons_note(side: PlanSide) -> list[str]:
    """What to say when an inventory lacks a column the plan compares (a listing has them all)."""
    if not isinstance(side, InventorySide):
        return []
    missing = SideSchema(side.manifest.file_format, side.manifest.field_names).missing(COMPARED_FIELDS)
    return [f"{side.describe()} has no {' or '.join(missing)}: objects of the same size there are checked, "
            "none left out"] if missing else []


@contextlib.contextmanager
def duckdb_connection(work_dir: Path, memory_limit: str = MEMORY_LIMIT, threads: int | None = None) -> Iterator[Any]:
    """A DuckDB database in ``work_dir`` that spills there, with the Athena function names."""
    import duckdb

    connection = duckdb.connect(str(work_dir / "plan.duckdb"))
    try:
        connection.execute(f"SET memory_limit = {literal(memory_limit)}")
        connection.execute(f"SET temp_directory = {literal(str(work_dir / 'spill'))}")
        # Row order means nothing in a manifest; keeping it would hold rows back.
        connection.execute("SET preserve_insertion_order = false")
        connection.execute("SET TimeZone = 'UTC'")
        if threads:
            connection.execute(f"SET threads = {int(threads)}")
        for macro in DUCKDB_MACROS:
            connection.execute(macro)
        yield connection
    finally:
        connection.close()


def _read_csv(paths: list[Path], fields: tuple[str, ...], *, gzip: bool) -> str:
    files = "[" + ", ".join(literal(str(path)) for path in paths) + "]"
    columns = "{" + ", ".join(f"{literal(name)}: 'VARCHAR'" for name in fields) + "}"
    return (f"read_csv({files}, columns = {columns}, header = false, auto_detect = false, delim = ',', "
            f"quote = '\"', escape = '\"', compression = {literal('gzip' if gzip else 'none')})")


def _write_listing(s3: Any, side: ListedSide, path: Path, *, workers: int,
                   on_progress: Callable[[ListingProgress], None]) -> int:
    """List ``side`` into a CSV inventory at ``path``: keys URL-encoded as S3 Inventory does."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")

        def emit(item: Listed) -> None:
            written = item.last_modified.isoformat() if item.last_modified is not None else ""
            writer.writerow([item.bucket, encode_key(item.key), item.version_id or "", item.size, written, item.etag,
                             item.storage_class])

        listed = list_bucket(s3, side.bucket, side.prefix, versions=side.versions, latest_only=side.versions,
                             workers=workers, emit=emit, on_progress=on_progress, requester_pays=side.requester_pays)
    return listed.objects


def write_plan(
    s3: Any,
    source: PlanSide,
    destination_side: PlanSide,
    target: Destination,
    sinks: dict[str, ManifestSink],
    *,
    source_prefix: str = "",
    selected: ObjectFilter = NO_FILTER,
    work_dir: Path | None = None,
    memory_limit: str = MEMORY_LIMIT,
    threads: int | None = None,
    workers: int = 16,
    on_progress: Callable[[str], None] = lambda step: None,
) -> PlanResult:
    """The plan of ``source`` against ``destination_side`` as manifests, one per decision
    (``sinks`` by COPY, CHECK, SAME): all closed, or all aborted on error.

    ``source_prefix`` keeps the source objects under it (a listed source is listed only
    there), ``selected`` those its filters keep (the others are counted, FILTERED by
    flag); ``target`` maps their keys onto the destination's.
    """
    scratch = Path(tempfile.mkdtemp(prefix="mediasync-plan-", dir=work_dir))
    try:
        result = _plan(s3, source, destination_side, target, sinks, scratch, source_prefix=source_prefix,
                       selected=selected, memory_limit=memory_limit, threads=threads, workers=workers,
                       on_progress=on_progress)
    except BaseException:
        for sink in sinks.values():
            sink.abort()
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for sink in sinks.values():
        sink.close()
    return result


def _plan(s3: Any, source: PlanSide, destination_side: PlanSide, target: Destination,
          sinks: dict[str, ManifestSink], scratch: Path, *, source_prefix: str, selected: ObjectFilter,
          memory_limit: str, threads: int | None, workers: int, on_progress: Callable[[str], None]) -> PlanResult:
    counts = SyncCounts()
    times: dict[str, datetime.datetime | None] = {}
    kinds = {name: "listing" if isinstance(side, ListedSide) else "report"
             for name, side in (("source", source), ("destination", destination_side))}

    def relation(name: str, side: PlanSide) -> str:
        if isinstance(side, ListedSide):
            on_progress(f"listing {side.describe()}")
            times[name] = datetime.datetime.now(datetime.timezone.utc)
            path = scratch / f"{name}.csv"
            listed = _write_listing(s3, side, path, workers=workers, on_progress=lambda progress: None)
            if name == "destination":
                counts.destination_listed = listed
            return objects_sql(_read_csv([path], LISTING_FIELDS, gzip=False), SideSchema(CSV, LISTING_FIELDS))
        schema = side.schema(selected if name == "source" else NO_FILTER)
        times[name] = side.manifest.created
        on_progress(f"reading {side.describe()}")
        folder = scratch / name
        folder.mkdir()
        paths = data_files_on_disk(side.manifest, s3, folder)
        if schema.file_format == CSV:
            raw = _read_csv(paths, schema.fields, gzip=True)
        else:
            raw = "read_parquet([" + ", ".join(literal(str(path)) for path in paths) + "])"
        return objects_sql(raw, schema)

    if isinstance(source, InventorySide):
        source.schema(selected)  # refused before anything is listed
    destination_objects = relation("destination", destination_side)
    source_objects = relation("source", source)
    notes = [note for side in (source, destination_side) for note in missing_comparisons_note(side)]
    with duckdb_connection(scratch, memory_limit, threads) as connection:
        on_progress("joining the two sides")
        started = time.monotonic()
        connection.execute("CREATE TABLE decided AS " + plan_sql(source_objects, destination_objects, target,
                                                                   source_prefix, selected))
        for action, reason, objects, size in connection.execute(counts_sql("decided")).fetchall():
            counts.objects[action, reason] += objects
            counts.bytes[action, reason] += size
        on_progress(f"writing the manifests (joined in {time.monotonic() - started:.0f} s)")
        for action in (COPY, CHECK, SAME):
            cursor = connection.execute("SELECT line FROM decided WHERE action = ?", [action])
            while rows := cursor.fetchmany(FETCH_ROWS):
                sinks[action].write("".join(line + "\n" for (line,) in rows))
    return PlanResult(counts, times.get("source"), times.get("destination"), notes, kinds)

