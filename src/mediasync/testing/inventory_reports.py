"""S3 Inventory reports written on disk as S3 writes them, for tests and benchmarks.

A ``manifest.json`` in a dated folder and its data files under ``data/``, the layout
``aws s3 cp --recursive`` of an inventory destination gives: CSV data files gzip'd
with every field quoted and keys URL-encoded ('+' for a space), or Parquet files with
plain keys and typed columns (written with DuckDB).
"""

from __future__ import annotations

import csv
import datetime
import gzip
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from mediasync.manifests.s3batch_csv import encode_key

CSV_SCHEMA = ("Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker", "Size", "LastModifiedDate", "ETag",
              "StorageClass")
REPORT_TIME = datetime.datetime(2026, 12, 6, 1, 0, tzinfo=datetime.timezone.utc)


@dataclass(frozen=True)
class InventoryRow:
    key: str
    size: int
    etag: str = "0cc175b9c0f1b6a831c399e269772661"
    last_modified: datetime.datetime | None = REPORT_TIME - datetime.timedelta(days=1)
    version_id: str = ""
    is_latest: bool = True
    is_delete_marker: bool = False
    storage_class: str = "STANDARD"


def iso_millis(when: datetime.datetime | None) -> str:
    if when is None:
        return ""
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _csv_value(row: InventoryRow, bucket: str, column: str) -> str:
    values = {"Bucket": bucket, "Key": encode_key(row.key), "VersionId": row.version_id,
              "IsLatest": str(row.is_latest).lower(), "IsDeleteMarker": str(row.is_delete_marker).lower(),
              "Size": "" if row.is_delete_marker else str(row.size), "LastModifiedDate": iso_millis(row.last_modified),
              "ETag": "" if row.is_delete_marker else row.etag, "StorageClass": row.storage_class}
    return values[column]


def write_inventory_report(folder: Path, bucket: str, rows: Iterable[InventoryRow], *,
                           columns: Sequence[str] = CSV_SCHEMA, file_format: str = "CSV",
                           rows_per_file: int = 100_000, created: datetime.datetime = REPORT_TIME,
                           inventory_bucket: str = "inventory") -> Path:
    """Write a report of ``rows`` under ``folder``; its manifest.json's path."""
    prefix = f"{bucket}/all"
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    files: list[dict[str, object]] = []
    batch: list[InventoryRow] = []

    def flush() -> None:
        name = f"{len(files):04d}.{'csv.gz' if file_format == 'CSV' else 'parquet'}"
        path = data / name
        if file_format == "CSV":
            text = io.StringIO()
            writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
            writer.writerows([_csv_value(row, bucket, column) for column in columns] for row in batch)
            path.write_bytes(gzip.compress(text.getvalue().encode("utf-8"), compresslevel=1))
        else:
            _write_parquet(path, bucket, batch)
        body = path.read_bytes()
        files.append({"key": f"{prefix}/data/{name}", "size": len(body), "MD5checksum": hashlib.md5(body).hexdigest()})
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= rows_per_file:
            flush()
    if batch or not files:
        flush()
    if file_format == "CSV":
        schema = ", ".join(columns)
    else:
        schema = ("message s3.inventory { required binary bucket (STRING); required binary key (STRING); "
                  "optional binary version_id (STRING); optional boolean is_latest; optional boolean is_delete_marker; "
                  "optional int64 size; optional int64 last_modified_date (TIMESTAMP(MILLIS,true)); "
                  "optional binary e_tag (STRING); optional binary storage_class (STRING); }")
    dated = folder / created.strftime("%Y-%m-%dT%H-%MZ")
    dated.mkdir(parents=True, exist_ok=True)
    manifest = dated / "manifest.json"
    manifest.write_text(json.dumps({
        "sourceBucket": bucket, "destinationBucket": f"arn:aws:s3:::{inventory_bucket}", "version": "2016-11-30",
        "creationTimestamp": str(int(created.timestamp() * 1000)), "fileFormat": file_format,
        "fileSchema": schema, "files": files,
    }))
    return manifest


def _write_parquet(path: Path, bucket: str, rows: list[InventoryRow]) -> None:
    """Parquet as S3 Inventory writes it: plain keys, typed columns."""
    import duckdb

    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        connection.execute("CREATE TABLE report (bucket VARCHAR, key VARCHAR, version_id VARCHAR, is_latest BOOLEAN, "
                           "is_delete_marker BOOLEAN, size BIGINT, last_modified_date TIMESTAMPTZ, e_tag VARCHAR, "
                           "storage_class VARCHAR)")
        connection.executemany("INSERT INTO report VALUES (?, ?, ?, ?, ?, ?, CAST(? AS TIMESTAMPTZ), ?, ?)", [
            (bucket, row.key, row.version_id or None, row.is_latest, row.is_delete_marker,
             None if row.is_delete_marker else row.size, iso_millis(row.last_modified) or None,
             None if row.is_delete_marker else row.etag, row.storage_class) for row in rows])
        connection.execute(f"COPY report TO '{path}' (FORMAT parquet)")
    finally:
        connection.close()
