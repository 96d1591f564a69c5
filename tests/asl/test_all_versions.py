"""An "all versions" S3 Inventory report as the manifest: S3 Batch makes a task of every
version row, and only current versions may be copied.

AWS rules modeled (docs/aws-rules.md): S3 Batch runs a task per row of an all-versions
inventory, noncurrent versions and delete markers included, and fails every row whose
VersionId is an empty string
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/inventory-configure-bops.html).
The local inventory reader and the S3 Batch emulation send exactly those tasks.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from pathlib import Path

from mediasync.core.settings import CopyOptions, MiB
from mediasync.local.runner import JobRequest, run_job
from mediasync.manifests.reader import read_manifest
from mediasync.manifests.s3batch_csv import encode_key
from tests.conftest import md5_of, put_multipart
from tests.invariants import report_rows

ALL_VERSIONS_SCHEMA = "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, ETag, StorageClass"


def write_inventory(folder: Path, rows: list[list[str]], schema: str = ALL_VERSIONS_SCHEMA) -> Path:
    """manifest.json and its gzip CSV data file, as `aws s3 cp --recursive` downloads a report."""
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    body = gzip.compress(text.getvalue().encode())
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "0.csv.gz").write_bytes(body)
    dated = folder / "2026-11-25T01-00Z"
    dated.mkdir()
    (dated / "manifest.json").write_text(json.dumps({
        "sourceBucket": "src", "destinationBucket": "arn:aws:s3:::inventory", "fileFormat": "CSV",
        "fileSchema": schema,
        "files": [{"key": "src/all/data/0.csv.gz", "size": len(body), "MD5checksum": hashlib.md5(body).hexdigest()}],
    }))
    return dated / "manifest.json"


def inventory_row(key: str, version: str, *, latest: bool, deleted: bool = False) -> list[str]:
    return ["src", encode_key(key), version, str(latest).lower(), str(deleted).lower(), "", "", "STANDARD"]


def test_only_current_versions_are_copied_and_every_other_row_says_why(runtime, buckets, tmp_path):
    s3 = buckets
    s3.put_object(Bucket="src", Key="before-versioning.txt", Body=b"null version")
    s3.put_bucket_versioning(Bucket="src", VersioningConfiguration={"Status": "Enabled"})
    # The old version is a STANDARD multipart copy, slower than the current small one:
    # copied after it, it would be what the destination ends up holding.
    put_multipart(s3, "src", "clip.mov", 17 * MiB, 8 * MiB)
    old = s3.head_object(Bucket="src", Key="clip.mov")["VersionId"]
    current = s3.put_object(Bucket="src", Key="clip.mov", Body=b"the current take")["VersionId"]
    was_here = s3.put_object(Bucket="src", Key="gone.mov", Body=b"deleted since")["VersionId"]
    marker = s3.delete_object(Bucket="src", Key="gone.mov")["VersionId"]
    manifest = write_inventory(tmp_path / "inventory", [
        inventory_row("before-versioning.txt", "", latest=True),
        inventory_row("clip.mov", current, latest=True),
        inventory_row("clip.mov", old, latest=False),
        inventory_row("gone.mov", marker, latest=True, deleted=True),
        inventory_row("gone.mov", was_here, latest=False),
    ])
    options = CopyOptions(destination_bucket="dst", multipart_threshold=16 * MiB, part_size=8 * MiB)

    # One task at a time, in the inventory's order: the old version would land last.
    run_job(runtime, read_manifest(manifest), JobRequest(options, tmp_path / "report.csv", concurrency=1))

    rows = {(row["Key"], row["VersionId"]): row for row in report_rows(tmp_path / "report.csv")}
    assert len(rows) == 5, "a report row for every inventory row, delete markers included"
    assert md5_of(s3, "dst", "clip.mov") == md5_of(s3, "src", "clip.mov", VersionId=current)
    assert "Copied" not in rows["clip.mov", old]["ResultMessage"]
    assert rows["clip.mov", old]["TaskStatus"] == "succeeded"
    assert f"not the current version of s3://src/clip.mov (now version {current})" in rows["clip.mov", old]["ResultMessage"]
    # Deleted at the source: nothing comes back from a noncurrent version.
    assert "Contents" not in s3.list_objects_v2(Bucket="dst", Prefix="gone.mov")
    assert "is a delete marker and the key's current version" in rows["gone.mov", marker]["ResultMessage"]
    assert "now a delete marker" in rows["gone.mov", was_here]["ResultMessage"]
    # The null version's empty VersionId: failed without an invocation, as S3 Batch fails it.
    null_row = rows["before-versioning.txt", ""]
    assert (null_row["TaskStatus"], null_row["ErrorCode"]) == ("failed", "EmptyVersionId")
    assert "inventory-configure-bops" in null_row["ResultMessage"]
    assert s3.list_multipart_uploads(Bucket="dst").get("Uploads", []) == []


def test_a_current_versions_inventory_copies_its_rows(runtime, buckets, tmp_path):
    """Without IsLatest the inventory lists current versions only: an empty VersionId is
    an object written without versioning, copied as such."""
    buckets.put_object(Bucket="src", Key="a.txt", Body=b"a")
    manifest = write_inventory(tmp_path / "inventory", [["src", "a.txt", "", "1", "", "STANDARD"]],
                               schema="Bucket, Key, VersionId, Size, ETag, StorageClass")

    summary = run_job(runtime, read_manifest(manifest),
                      JobRequest(CopyOptions(destination_bucket="dst"), tmp_path / "report.csv", concurrency=1))

    assert (summary.succeeded, summary.failed) == (1, 0)
    assert buckets.get_object(Bucket="dst", Key="a.txt")["Body"].read() == b"a"
