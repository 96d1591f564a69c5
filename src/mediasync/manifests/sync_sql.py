"""The sync plan as one SQL text: DuckDB runs it on this machine, Athena on AWS.

Written in Athena's dialect (Trino); the few functions DuckDB names otherwise are
given to it as macros (:data:`DUCKDB_MACROS`), so the text each engine runs is the
same string. Three layers:

1. **raw rows**: each side's inventory as the engine reads it, a relation with the
   report's own columns in the snake case its Parquet schema and Athena's tables use
   (``bucket``, ``key``, ``last_modified_date``, ``e_tag``...). DuckDB reads the data
   files (manifests.plan_engine), Athena a table over them (stack.athena_plan). A
   listed bucket is written as a CSV inventory first, so it takes the same path.
2. **objects** (:func:`objects_sql`): one side's current objects with exact keys:
   CSV keys URL-decoded ('+' is a space, '%2B' a plus), never trimmed or normalised
   (NFC and NFD spellings stay two keys); noncurrent versions and delete markers of
   an all-versions inventory dropped; ETags without quotes; dates as timestamps.
3. **the plan** (:func:`plan_sql`): source objects under the prefix, each with the
   filter flag that leaves it out (manifests.filters rendered as SQL, :func:`selected_sql`),
   mapped onto destination keys, joined with the destination, and decided by
   manifests.sync_plan.RULES rendered as one CASE; a row a filter left out is decided
   ``filtered``, its reason the flag. Each row carries its manifest line
   (``bucket,url-encoded-key[,version-id]``).
"""

from __future__ import annotations

from dataclasses import dataclass

from mediasync.manifests.filters import FILTERED, NO_FILTER, ObjectFilter, literal
from mediasync.manifests.inventory_report import CSV
from mediasync.manifests.sync_plan import RULES, Destination

# Athena (Trino) functions DuckDB has under other names. DuckDB's url_decode leaves '+'
# alone, Trino's makes it a space: the SQL turns '+' into a space before decoding, which
# gives the same key in both.
DUCKDB_MACROS = (
    "CREATE OR REPLACE MACRO from_iso8601_timestamp(value) AS CAST(value AS TIMESTAMPTZ)",
    # Both engines search (a partial match); the filters' expressions anchor themselves.
    "CREATE OR REPLACE MACRO regexp_like(value, pattern) AS regexp_matches(value, pattern)",
)

# The columns a plan reads, as Athena names them.
PLAN_FIELDS = ("bucket", "key", "version_id", "is_latest", "is_delete_marker", "size", "last_modified_date", "e_tag",
               "storage_class")
REQUIRED_FIELDS = ("bucket", "key", "size")
# Without these nothing can be left out: every present object of the same size is checked.
COMPARED_FIELDS = ("e_tag", "last_modified_date")
# The types S3 Inventory gives them in Parquet and ORC reports (Athena's documented table).
TYPED_FIELDS = {"bucket": "string", "key": "string", "version_id": "string", "is_latest": "boolean",
                "is_delete_marker": "boolean", "size": "bigint", "last_modified_date": "timestamp",
                "e_tag": "string", "storage_class": "string"}


def identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class SideSchema:
    """How one side's raw rows look: the report's format and the fields it has."""

    file_format: str  # CSV, PARQUET or ORC
    fields: tuple[str, ...]

    def missing(self, wanted: tuple[str, ...]) -> list[str]:
        return [name for name in wanted if name not in self.fields]


def objects_sql(relation: str, schema: SideSchema) -> str:
    """The current objects of one side: bucket, key (exact), encoded_key (as a manifest
    writes it), version_id, size, etag, last_modified."""
    text = schema.file_format == CSV

    def column(name: str) -> str | None:
        return identifier(name) if name in schema.fields else None

    def text_or_null(name: str) -> str:
        present = column(name)
        return f"nullif({present}, '')" if present else "CAST(NULL AS varchar)"

    key = column("key")
    if text:
        decoded, encoded = f"url_decode(replace({key}, '+', ' '))", key
        size = f"CAST({text_or_null('size')} AS bigint)"
        written = f"from_iso8601_timestamp({text_or_null('last_modified_date')})"
        latest = f"coalesce(lower({text_or_null('is_latest')}), 'true') = 'true'"
        deleted = f"coalesce(lower({text_or_null('is_delete_marker')}), 'false') = 'true'"
        version = text_or_null("version_id")
    else:
        decoded, encoded = key, f"url_encode({key})"
        size = column("size")
        present = column("last_modified_date")
        written = f"CAST({present} AS timestamp with time zone)" if present else "CAST(NULL AS timestamp with time zone)"
        latest = f"coalesce({column('is_latest') or 'NULL'}, TRUE)"
        deleted = f"coalesce({column('is_delete_marker') or 'NULL'}, FALSE)"
        version = f"nullif({column('version_id')}, '')" if column("version_id") else "CAST(NULL AS varchar)"
    etag = f"nullif(replace({column('e_tag')}, '\"', ''), '')" if column("e_tag") else "CAST(NULL AS varchar)"
    return (f"SELECT {identifier('bucket')} AS bucket, {decoded} AS {identifier('key')}, {encoded} AS encoded_key, "
            f"{version} AS version_id, {size} AS size, {etag} AS etag, {written} AS last_modified, "
            f"{text_or_null('storage_class')} AS storage_class "
            f"FROM {relation} WHERE {latest} AND NOT {deleted}")


def selected_sql(objects: str, prefix: str = "", selected: ObjectFilter = NO_FILTER) -> str:
    """The source objects under ``prefix``, each with ``left_out_by``: the flag of the
    filter that leaves it out (manifests.filters, its patterns matched below ``prefix``),
    NULL for the objects the plan decides."""
    where = f"starts_with({identifier('key')}, {literal(prefix)})" if prefix else "TRUE"
    return (f"SELECT *, {selected.under(prefix).sql()} AS left_out_by FROM ({objects}) AS objects "
            f"WHERE {where}")


def mapped_key_sql(target: Destination) -> str:
    """``destination_key`` of manifests.sync_plan.Destination.key_of in SQL: the prefix
    plus the key less the prefix to strip (code points, as Python slices); NULL when
    the key is outside the prefix to strip or nothing would be left."""
    rest = f"substr({identifier('key')}, {len(target.strip) + 1})"
    conditions = [f"starts_with({identifier('key')}, {literal(target.strip)})"]
    if not target.prefix:
        conditions.append(f"{rest} <> ''")
    return f"CASE WHEN {' AND '.join(conditions)} THEN {literal(target.prefix)} || {rest} END"


def decision_sql(part: str) -> str:
    """RULES as one CASE, after the filters: ``part`` "action" or "reason" of the first
    rule that holds (FILTERED and the flag for an object a filter left out)."""
    left_out = literal(FILTERED) if part == "action" else "s.left_out_by"
    branches = " ".join(f"WHEN {rule.when.sql()} THEN {literal(getattr(rule, part))}" for rule in RULES)
    return f"CASE WHEN s.left_out_by IS NOT NULL THEN {left_out} {branches} END"


def plan_sql(source_objects: str, destination_objects: str, target: Destination, source_prefix: str = "",
             selected: ObjectFilter = NO_FILTER) -> str:
    """Every source object with its decision: action, reason, size and its manifest line."""
    line = "s.bucket || ',' || s.encoded_key || coalesce(',' || s.version_id, '')"
    return (
        f"SELECT {decision_sql('action')} AS action, {decision_sql('reason')} AS reason, s.size AS size, "
        f"{line} AS line "
        f"FROM (SELECT *, {mapped_key_sql(target)} AS destination_key "
        f"FROM ({selected_sql(source_objects, source_prefix, selected)}) AS selected) AS s "
        f"LEFT JOIN ({destination_objects}) AS d ON d.{identifier('key')} = s.destination_key"
    )


def counts_sql(decided: str) -> str:
    """Objects and bytes by decision and reason."""
    return (f"SELECT action, reason, count(*) AS objects, coalesce(sum(size), 0) AS bytes "
            f"FROM {decided} GROUP BY action, reason")
