"""The sync plan in Athena: manifests.sync_sql over tables on the two inventory reports.

No row passes through the caller. The steps, each one Athena query (DDL is free; the
three DML queries are billed by the bytes they scan, $5 per TB, 10 MB at least):

1. a ``symlink.txt`` per side under the run's folder, naming exactly the data files
   its manifest.json lists (an inventory's ``data/`` folder holds every day's files),
   and a table over each with ``SymlinkTextInputFormat``, as Athena's S3 Inventory
   tables are made: CSV through OpenCSVSerde (every column a string), Parquet and ORC
   by column name;
2. ``CREATE TABLE ... AS`` the plan (the same text DuckDB runs here, manifests.sync_sql)
   into Parquet: the reports are scanned once;
3. ``UNLOAD`` each decision's manifest lines as gzip text, partitioned by decision
   (``.../manifests/action=copy/``...), and one count by decision and reason;
4. per decision a manifest.json in S3 Inventory's format naming those data files, which
   S3 Batch Operations (format ``S3InventoryReport_CSV_20161130``), ``mediasync submit``
   and ``run`` read. The copy manifest, OUTPUT, is written last: when it exists the
   plan is whole.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from mediasync.manifests.filters import NO_FILTER, ObjectFilter
from mediasync.manifests.inventory_report import CSV, InventoryManifest
from mediasync.manifests.locations import split_s3_url
from mediasync.manifests.plan_engine import InventorySide
from mediasync.manifests.sync_plan import CHECK, COPY, SAME, Destination, SyncCounts
from mediasync.manifests.sync_sql import (
    PLAN_FIELDS,
    TYPED_FIELDS,
    SideSchema,
    counts_sql,
    identifier,
    literal,
    objects_sql,
    plan_sql,
)

TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
SERDES = {
    CSV: ("ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'", ""),
    "PARQUET": ("ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'", ""),
    # ORC tables read columns by position unless told otherwise; ours name only some.
    "ORC": ("ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.orc.OrcSerde'",
            " TBLPROPERTIES ('orc.column.index.access' = 'false')"),
}
_NAME = re.compile(r"^[a-z0-9_]{1,255}$")


class AthenaPlanError(Exception):
    """A query failed or the plan cannot be made in Athena: the message says which and why."""


@dataclass(frozen=True)
class AthenaPlace:
    """Where the plan runs: a workgroup, a Glue database, and an S3 folder for results."""

    workgroup: str
    database: str
    results: str  # s3://bucket/prefix/ (ends with '/')


@dataclass
class AthenaPlan:
    counts: SyncCounts
    manifests: dict[str, str]  # action -> s3:// URL of its manifest.json
    scanned: list[int] = field(default_factory=list)  # bytes each billed (DML) query scanned
    queries: list[str] = field(default_factory=list)  # every query text, in order


def run_query(athena: Any, sql: str, place: AthenaPlace, *, sleep: Callable[[float], None] = time.sleep,
              longest_wait: float = 5.0) -> dict[str, Any]:
    """Start one query and poll it (backing off to ``longest_wait`` s) until it ends; its
    QueryExecution, or AthenaPlanError with Athena's reason."""
    started = athena.start_query_execution(
        QueryString=sql, WorkGroup=place.workgroup, QueryExecutionContext={"Database": place.database},
        ResultConfiguration={"OutputLocation": place.results})
    execution_id = started["QueryExecutionId"]
    wait = 0.5
    while True:
        execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
        status = execution["Status"]
        if status["State"] == "SUCCEEDED":
            return execution
        if status["State"] in TERMINAL:
            reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage", "")
            raise AthenaPlanError(f"Athena query {execution_id} {status['State'].lower()}: {reason} "
                                  f"(query: {sql[:120]}...)")
        sleep(wait)
        wait = min(longest_wait, wait * 2)


def table_ddl(table: str, manifest: InventoryManifest, location: str) -> str:
    """A table over the data files a ``symlink.txt`` at ``location`` names."""
    serde, properties = SERDES[manifest.file_format]
    if manifest.file_format == CSV:  # positional: every column, as strings
        columns = [f"`{name}` string" for name in manifest.field_names]
    else:  # by name: only what the plan reads
        columns = [f"`{name}` {TYPED_FIELDS[name]}" for name in manifest.field_names if name in PLAN_FIELDS]
    return (f"CREATE EXTERNAL TABLE {table} ({', '.join(columns)}) {serde} "
            "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat' "
            "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat' "
            f"LOCATION {literal(location)}{properties}")


def symlink_text(manifest: InventoryManifest) -> str:
    return "".join(f"s3://{manifest.destination_bucket}/{item.key}\n" for item in manifest.files)


def _md5_of(s3: Any, bucket: str, key: str, head: dict[str, Any]) -> str:
    """The data file's MD5 for its manifest.json: its ETag where that is one (a single-part
    object without KMS), else hashed as it streams (a few compressed lines files)."""
    etag = head.get("ETag", "").strip('"')
    if re.fullmatch(r"[0-9a-f]{32}", etag) and head.get("ServerSideEncryption") != "aws:kms":
        return etag
    digest = hashlib.md5()
    for chunk in s3.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def _data_files(s3: Any, url: str) -> list[dict[str, Any]]:
    bucket, prefix = split_s3_url(url)
    files = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents") or []:
            head = s3.head_object(Bucket=bucket, Key=item["Key"])
            files.append({"key": item["Key"], "size": item["Size"], "MD5checksum": _md5_of(s3, bucket, item["Key"], head)})
    return files


def plan_in_athena(s3: Any, athena: Any, source: InventoryManifest, destination: InventoryManifest,
                   target: Destination, outputs: dict[str, str], place: AthenaPlace, *, source_prefix: str = "",
                   selected: ObjectFilter = NO_FILTER, as_of: datetime.datetime | None = None,
                   sleep: Callable[[float], None] = time.sleep) -> AthenaPlan:
    """Run the plan of the ``source`` objects ``selected`` keeps against ``destination``
    in Athena; write a manifest.json for each decision at ``outputs`` (action -> s3:// URL)."""
    if not _NAME.match(place.database):
        raise AthenaPlanError(f"--athena-database {place.database!r}: Athena database names are lower-case "
                              "letters, digits and underscores")
    InventorySide(source).schema(selected)  # refused before any query when a filter's column is missing
    run = f"mediasync_plan_{uuid.uuid4().hex[:12]}"
    folder = f"{place.results}{run}/"
    bucket, prefix = split_s3_url(folder)
    tables = {name: f"`{place.database}`.`{run}_{name}`" for name in ("source", "destination")}
    decided = f"{identifier(place.database)}.{identifier(run + '_decided')}"
    plan = AthenaPlan(SyncCounts(), {})

    def query(sql: str, *, billed: bool = False) -> dict[str, Any]:
        """``billed``: a query Athena charges by the bytes it scans (CTAS too, though its
        StatementType is DDL); CREATE/DROP statements are free."""
        plan.queries.append(sql)
        execution = run_query(athena, sql, place, sleep=sleep)
        if billed:
            plan.scanned.append(int(execution.get("Statistics", {}).get("DataScannedInBytes", 0) or 0))
        return execution

    for name, manifest in (("source", source), ("destination", destination)):
        s3.put_object(Bucket=bucket, Key=f"{prefix}{name}/symlink.txt", Body=symlink_text(manifest).encode())
    query(f"CREATE DATABASE IF NOT EXISTS `{place.database}`")
    try:
        for name, manifest in (("source", source), ("destination", destination)):
            query(table_ddl(tables[name], manifest, f"{folder}{name}/"))
        relation = {name: f"{identifier(place.database)}.{identifier(f'{run}_{name}')}" for name in tables}
        schema = {name: SideSchema(manifest.file_format, manifest.field_names)
                  for name, manifest in (("source", source), ("destination", destination))}
        query(f"CREATE TABLE {decided} WITH (format = 'PARQUET', external_location = {literal(folder + 'decided/')}) AS "
              + plan_sql(objects_sql(relation["source"], schema["source"]),
                         objects_sql(relation["destination"], schema["destination"]), target, source_prefix,
                         selected),
              billed=True)
        decisions = ", ".join(literal(action) for action in (COPY, CHECK, SAME))
        query(f"UNLOAD (SELECT line, action FROM {decided} WHERE action IN ({decisions})) "
              f"TO {literal(folder + 'manifests/')} "
              "WITH (format = 'TEXTFILE', compression = 'GZIP', partitioned_by = ARRAY['action'])", billed=True)
        counted = query(counts_sql(decided), billed=True)
        for row in _result_rows(athena, counted["QueryExecutionId"]):
            action, reason, objects, size = row
            plan.counts.objects[action, reason] += int(objects)
            plan.counts.bytes[action, reason] += int(size or 0)
    finally:
        for name in ("source", "destination", "decided"):
            query(f"DROP TABLE IF EXISTS `{place.database}`.`{run}_{name}`")
    schema_line = "Bucket, Key, VersionId" if "version_id" in source.field_names else "Bucket, Key"
    created = str(int((as_of or datetime.datetime.now(datetime.timezone.utc)).timestamp() * 1000))
    for action in (SAME, CHECK, COPY):  # the copy manifest, OUTPUT, last
        files = _data_files(s3, f"{folder}manifests/action={action}/")
        if not files:  # no rows: one empty data file, so the manifest is still one to read
            key = f"{prefix}manifests/action={action}/empty.gz"
            body = gzip.compress(b"")
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files = [{"key": key, "size": len(body), "MD5checksum": hashlib.md5(body).hexdigest()}]
        document = {"sourceBucket": source.source_bucket, "destinationBucket": f"arn:{_partition(s3)}:s3:::{bucket}",
                    "version": "2016-11-30", "creationTimestamp": created, "fileFormat": CSV,
                    "fileSchema": schema_line, "files": files}
        out_bucket, out_key = split_s3_url(outputs[action])
        s3.put_object(Bucket=out_bucket, Key=out_key, Body=json.dumps(document, indent=1).encode(),
                      ContentType="application/json")
        plan.manifests[action] = outputs[action]
    return plan


def _partition(s3: Any) -> str:
    return getattr(s3.meta, "partition", None) or "aws"


def _result_rows(athena: Any, execution_id: str) -> list[list[str]]:
    """A small result's rows, the header row left out."""
    rows = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id):
        rows += [[cell.get("VarCharValue") for cell in row["Data"]] for row in page["ResultSet"]["Rows"]]
    return rows[1:] if rows and rows[0] == ["action", "reason", "objects", "bytes"] else rows
