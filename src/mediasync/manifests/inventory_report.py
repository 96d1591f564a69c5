"""S3 Inventory reports used as manifests: ``manifest.json`` plus gzip CSV data files.

An inventory report is a ``manifest.json`` naming its data files (keys in the
inventory's destination bucket, with their MD5) and the CSV columns
(``fileSchema``). Keys in the data files are URL-encoded, as in an S3 Batch CSV
manifest, so each row becomes the same :class:`~mediasync.manifests.s3batch_csv.ManifestRow`
(the report repeats the key as the inventory has it).

Data files are read from disk when the report was downloaded next to its
``manifest.json`` (``aws s3 cp --recursive`` of the inventory prefix keeps the key
layout), otherwise streamed from S3. Rows are streamed, never held in memory.
Delete markers are skipped: there is nothing to copy. Only CSV inventories are
supported (ORC and Parquet are not text a manifest reader can stream).
"""

from __future__ import annotations

import csv
import datetime
import gzip
import hashlib
import io
import json
import re
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Iterator

from mediasync.manifests.locations import file_beside, is_s3_url, open_s3_object, split_s3_url
from mediasync.manifests.s3batch_csv import ManifestError, ManifestRow, parse_row

REQUIRED_COLUMNS = ("Bucket", "Key")
CSV = "CSV"
# What S3 Inventory writes; only CSV is text a manifest reader streams (and what S3 Batch
# takes). A sync plan reads the others with an engine that knows them (manifests.sync_sql).
FORMATS = (CSV, "PARQUET", "ORC")


@dataclass(frozen=True)
class InventoryFile:
    key: str
    size: int | None = None
    md5: str | None = None


@dataclass(frozen=True)
class InventoryManifest:
    location: str  # where manifest.json was read: a local path or s3://bucket/key
    source_bucket: str
    destination_bucket: str  # bucket name (the manifest has its ARN)
    columns: tuple[str, ...]
    files: tuple[InventoryFile, ...]
    file_format: str = CSV
    created: datetime.datetime | None = None  # creationTimestamp: the time the report lists the bucket as of

    def column(self, name: str) -> int | None:
        return self.columns.index(name) if name in self.columns else None

    @property
    def field_names(self) -> tuple[str, ...]:
        """The columns as Athena names them (``LastModifiedDate`` -> ``last_modified_date``)."""
        return tuple(field_name(column) for column in self.columns)


def field_name(column: str) -> str:
    """An inventory column in the snake case of its Parquet/ORC schema and Athena's tables."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", column).lower()


def _schema_columns(file_format: str, schema: str) -> tuple[str, ...]:
    """Column names of a fileSchema: a CSV header list, a Parquet message or an ORC struct."""
    if file_format == CSV:
        return tuple(name.strip() for name in schema.split(","))
    if file_format == "PARQUET":  # message s3.inventory { required binary bucket (STRING); ... }
        return tuple(re.findall(r"(?:required|optional|repeated)\s+\w+\s+(\w+)", schema))
    return tuple(re.findall(r"(\w+):", schema))  # ORC: struct<bucket:string,key:string,...>


@dataclass(frozen=True)
class InventoryEntry:
    """One inventory row: the manifest row and what the inventory knows of the object."""

    row: ManifestRow
    size: int | None = None
    etag: str | None = None
    storage_class: str | None = None
    is_latest: bool | None = None


def is_inventory_manifest(path: str | Path) -> bool:
    return str(path).lower().endswith(".json")


def _bucket_from_arn(value: str) -> str:
    return value.split(":::", 1)[1] if value.startswith("arn:") else value


def parse_inventory_manifest(text: str, location: str, *, formats: tuple[str, ...] = (CSV,)) -> InventoryManifest:
    """Validate a manifest.json document; raise ManifestError with what is wrong.
    ``formats``: the fileFormats the caller reads (a manifest reader only CSV)."""
    try:
        document = json.loads(text)
    except ValueError as err:
        raise ManifestError(f"{location} is not JSON: {err}") from err
    if not isinstance(document, dict) or "files" not in document or "fileSchema" not in document:
        raise ManifestError(
            f"{location} is not an S3 Inventory manifest.json: it needs fileFormat, fileSchema and files"
        )
    file_format = str(document.get("fileFormat", "")).upper()
    if file_format not in formats:
        if formats == (CSV,):
            raise ManifestError(
                f"{location} is a {document.get('fileFormat')} inventory: only CSV inventories can be used as "
                "manifests (S3 Batch Operations accepts only CSV too)"
            )
        raise ManifestError(f"{location} is a {document.get('fileFormat')} inventory: this reads "
                            f"{', '.join(formats)} inventories")
    columns = _schema_columns(file_format, str(document["fileSchema"]))
    missing = [name for name in REQUIRED_COLUMNS if field_name(name) not in map(field_name, columns)]
    if missing:
        raise ManifestError(f"{location}: fileSchema lacks {', '.join(missing)}")
    try:
        files = tuple(
            InventoryFile(str(item["key"]), int(item["size"]) if item.get("size") is not None else None,
                          item.get("MD5checksum"))
            for item in document["files"]
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ManifestError(f"{location}: malformed files entry ({err})") from err
    if not files:
        raise ManifestError(f"{location} lists no data files: the inventory is empty")
    try:
        created = datetime.datetime.fromtimestamp(int(document["creationTimestamp"]) / 1000, datetime.timezone.utc)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        created = None
    return InventoryManifest(
        location=location,
        source_bucket=str(document.get("sourceBucket", "")),
        destination_bucket=_bucket_from_arn(str(document.get("destinationBucket", ""))),
        columns=columns,
        files=files,
        file_format=file_format,
        created=created,
    )


def load_inventory_manifest(path: str | Path, s3: Any = None, *, formats: tuple[str, ...] = (CSV,)) -> InventoryManifest:
    location = str(path)
    if is_s3_url(location):
        bucket, key = split_s3_url(location)
        location = f"s3://{bucket}/{key}"
        text = open_s3_object(s3, bucket, key).read().decode("utf-8")
        return parse_inventory_manifest(text, location, formats=formats)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ManifestError(f"cannot read manifest {path}: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise ManifestError(f"{path} is not UTF-8 JSON ({err.reason})") from err
    return parse_inventory_manifest(text, location, formats=formats)


class _Md5Reader(io.RawIOBase):
    """Passes bytes through while hashing them, so a data file is checked as it streams."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.md5 = hashlib.md5()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        self.md5.update(data)
        buffer[: len(data)] = data
        return len(data)


def local_data_file(manifest: InventoryManifest, item: InventoryFile) -> Path | None:
    """The data file on disk, if the report was downloaded beside its manifest.json."""
    return file_beside(manifest.location, item.key, "data", "../data")


def _open_data_file(manifest: InventoryManifest, item: InventoryFile, s3: Any) -> tuple[IO[bytes], str]:
    path = local_data_file(manifest, item)
    if path is not None:
        return path.open("rb"), str(path)
    if not manifest.destination_bucket:
        raise ManifestError(f"{manifest.location}: data file {item.key} is not on disk and no destinationBucket is named")
    return open_s3_object(s3, manifest.destination_bucket, item.key), f"s3://{manifest.destination_bucket}/{item.key}"


def data_files_on_disk(manifest: InventoryManifest, s3: Any, into: Path) -> list[Path]:
    """Every data file as a file on disk, for an engine that reads files: those beside
    the manifest.json as they are, the others downloaded into ``into``; each checked
    against the MD5 the manifest gives it."""
    paths = []
    for number, item in enumerate(manifest.files):
        path = local_data_file(manifest, item)
        if path is None:
            path = into / f"{number:06d}-{item.key.rsplit('/', 1)[-1]}"
            raw, name = _open_data_file(manifest, item, s3)
            with raw, path.open("wb") as copy:
                for chunk in iter(lambda: raw.read(1 << 20), b""):
                    copy.write(chunk)
        else:
            name = str(path)
        if item.md5:
            digest = hashlib.md5()
            with path.open("rb") as data:
                for chunk in iter(lambda: data.read(1 << 20), b""):
                    digest.update(chunk)
            if digest.hexdigest() != item.md5.lower():
                raise ManifestError(f"inventory data file {name} does not match the MD5 in {manifest.location}")
        paths.append(path)
    return paths


def _bool(value: str | None) -> bool | None:
    return None if value in (None, "") else value.strip().lower() == "true"


def read_inventory_entries(path: str | Path, s3: Any = None) -> Iterator[InventoryEntry]:
    """Every object row of the inventory, file after file; delete markers skipped."""
    manifest = load_inventory_manifest(path, s3)
    index = {name: manifest.column(name) for name in (
        "Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker", "Size", "ETag", "StorageClass")}
    line = 0  # numbered across files, so every row of the job has its own task id

    def field(fields: list[str], name: str) -> str | None:
        position = index[name]
        return fields[position] if position is not None and position < len(fields) else None

    for item in manifest.files:
        raw, name = _open_data_file(manifest, item, s3)
        hashed = _Md5Reader(raw)
        try:
            with raw, gzip.GzipFile(fileobj=io.BufferedReader(hashed, 1 << 20), mode="rb") as unzipped:
                text = io.TextIOWrapper(unzipped, encoding="utf-8", newline="")
                for file_line, fields in enumerate(csv.reader(text), 1):
                    if not fields or not any(fields):
                        continue
                    if _bool(field(fields, "IsDeleteMarker")):
                        continue
                    line += 1
                    row = parse_row(line, [field(fields, "Bucket") or "", field(fields, "Key") or "",
                                           field(fields, "VersionId") or ""])
                    if row.error:
                        reason = row.error.split(": ", 1)[-1]
                        row = replace(row, error=f"inventory file {name} line {file_line}: {reason}")
                    size = field(fields, "Size")
                    yield InventoryEntry(
                        row,
                        int(size) if size and size.isdigit() else None,
                        field(fields, "ETag") or None,
                        field(fields, "StorageClass") or None,
                        _bool(field(fields, "IsLatest")),
                    )
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, csv.Error) as err:
            raise ManifestError(f"inventory data file {name} is not a readable gzip CSV: {err}") from err
        if item.md5 and hashed.md5.hexdigest() != item.md5.lower():
            raise ManifestError(f"inventory data file {name} does not match the MD5 in {manifest.location}")


def read_inventory_manifest(path: str | Path, s3: Any = None) -> Iterator[ManifestRow]:
    for entry in read_inventory_entries(path, s3):
        yield entry.row


def probe_inventory_manifest(path: str | Path) -> None:
    """Raise ManifestError unless ``path`` is a usable CSV inventory manifest.json.

    Data files on disk are opened and their first rows checked; data files in S3
    are left for the read itself (the probe may run before the S3 endpoint is set).
    """
    manifest = load_inventory_manifest(path)
    if local_data_file(manifest, manifest.files[0]) is None:
        return
    rows = 0
    for entry in read_inventory_entries(path):
        rows += 1
        if entry.row.error is None:
            return
        if rows >= 20:
            break
    if rows == 0:
        return  # only delete markers in the first file: still an inventory
    raise ManifestError(f"{path}: no usable row in the first {rows} rows of its first data file")
