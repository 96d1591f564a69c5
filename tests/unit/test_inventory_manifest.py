"""S3 Inventory reports (manifest.json + gzip CSV data files) read as manifests."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import unicodedata
from pathlib import Path

import pytest

from mediasync.manifests.inventory_report import read_inventory_entries
from mediasync.manifests.reader import probe_manifest, read_manifest
from mediasync.manifests.s3batch_csv import ManifestError, encode_key

SCHEMA = "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass"


def gzip_csv(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return gzip.compress(text.getvalue().encode("utf-8"))


def row(key: str, *, version: str = "", latest: str = "true", deleted: str = "false", size: str = "5") -> list[str]:
    return ["media", encode_key(key), version, latest, deleted, size, "2026-11-24T00:00:00.000Z", "abc", "STANDARD"]


def write_report(folder: Path, files: list[list[list[str]]], *, schema: str = SCHEMA, file_format: str = "CSV",
                 md5: dict[int, str] | None = None) -> Path:
    """The layout `aws s3 cp --recursive` of an inventory destination gives: data/ beside the dated folder."""
    entries = []
    for number, rows in enumerate(files):
        body = gzip_csv(rows)
        key = f"media/all/data/{number}.csv.gz"
        (folder / "data").mkdir(parents=True, exist_ok=True)
        (folder / "data" / f"{number}.csv.gz").write_bytes(body)
        entries.append({"key": key, "size": len(body), "MD5checksum": (md5 or {}).get(number, hashlib.md5(body).hexdigest())})
    dated = folder / "2026-11-25T01-00Z"
    dated.mkdir(parents=True, exist_ok=True)
    manifest = dated / "manifest.json"
    manifest.write_text(json.dumps({"sourceBucket": "media", "destinationBucket": "arn:aws:s3:::inventory",
                                    "fileFormat": file_format, "fileSchema": schema, "files": entries}))
    return manifest


def test_rows_come_from_every_data_file_in_order_with_keys_decoded(tmp_path):
    nfd = unicodedata.normalize("NFD", "été.jpg")
    manifest = write_report(tmp_path, [[row("a b/c+d.mov"), row("50%.wav")], [row(nfd), row("x=1&y.txt")]])

    rows = list(read_manifest(manifest))

    assert [r.key for r in rows] == ["a b/c+d.mov", "50%.wav", nfd, "x=1&y.txt"]
    assert [r.line for r in rows] == [1, 2, 3, 4]  # numbered across files: task ids stay unique
    assert all(r.error is None and r.bucket == "media" for r in rows)
    probe_manifest(manifest)


def test_delete_markers_are_skipped_and_version_ids_kept(tmp_path):
    manifest = write_report(tmp_path, [[row("kept.mov", version="v2"), row("old.mov", deleted="true", size="")]])

    entries = list(read_inventory_entries(manifest))

    assert [(e.row.key, e.row.version_id, e.size, e.is_latest) for e in entries] == [("kept.mov", "v2", 5, True)]


def test_a_bad_key_fails_its_row_and_names_the_data_file(tmp_path):
    manifest = write_report(tmp_path, [[row("fine.txt"), ["media", "bad%zz", "", "true", "false", "1", "", "", ""]]])

    rows = list(read_manifest(manifest))

    assert rows[0].error is None
    assert rows[1].error is not None and "0.csv.gz line 2" in rows[1].error and "URL encoding" in rows[1].error


@pytest.mark.parametrize("change, message", [
    ({"file_format": "ORC"}, "only CSV inventories"),
    ({"schema": "Bucket, Size"}, "fileSchema lacks Key"),
    ({"md5": {0: "0" * 32}}, "does not match the MD5"),
])
def test_an_unusable_inventory_is_refused_with_the_reason(tmp_path, change, message):
    manifest = write_report(tmp_path, [[row("a.txt")]], **change)

    with pytest.raises(ManifestError, match=message):
        list(read_manifest(manifest))


def test_a_json_file_that_is_not_an_inventory_manifest_is_refused(tmp_path):
    not_json = tmp_path / "broken.json"
    not_json.write_text("{not json")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": "world"}))

    with pytest.raises(ManifestError, match="is not JSON"):
        probe_manifest(not_json)
    with pytest.raises(ManifestError, match="needs fileFormat, fileSchema and files"):
        probe_manifest(other)


def test_a_data_file_that_is_not_gzip_is_refused(tmp_path):
    manifest = write_report(tmp_path, [[row("a.txt")]], md5={0: ""})
    (tmp_path / "data" / "0.csv.gz").write_bytes(b"bucket,key\n")

    with pytest.raises(ManifestError, match="not a readable gzip CSV"):
        list(read_manifest(manifest))


def test_inventory_keys_keep_their_spaces(tmp_path):
    # An inventory writes the key as S3 has it; " " is a literal space after URL-decoding.
    manifest = write_report(tmp_path, [[["media", "a.mov ", "", "true", "false", "5", "", "abc", "STANDARD"],
                                        row("a.mov")]])

    assert [r.key for r in read_manifest(manifest)] == ["a.mov ", "a.mov"]
