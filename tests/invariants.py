"""What must hold after any fault: nothing lost, nothing half-written, nothing orphaned.

Every fault test ends with :func:`assert_invariants`:
- the report has exactly one row per manifest row;
- every object at the destination is byte-identical to its source (nothing
  half-written, nothing that is not in the manifest), website redirect included;
- every row reported succeeded has that verified copy at the destination;
- no multipart upload is left open in the destination bucket.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from botocore.exceptions import ClientError

from mediasync.core.errors import InvalidTask
from mediasync.core.s3batch_task import destination_key
from mediasync.manifests.reader import read_manifest
from mediasync.manifests.s3batch_csv import ManifestRow
from mediasync.reports.rows import REPORT_COLUMNS


def _md5(s3: Any, bucket: str, key: str, version_id: str | None = None) -> str:
    extra = {"VersionId": version_id} if version_id else {}
    digest = hashlib.md5()
    for chunk in s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].iter_chunks(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def _fingerprint(s3: Any, bucket: str, key: str, version_id: str | None = None) -> str:
    """MD5 of the bytes; for an archived source moto will not serve (even restored), its single-part ETag."""
    try:
        return _md5(s3, bucket, key, version_id)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "InvalidObjectState":
            raise
    head = s3.head_object(Bucket=bucket, Key=key, **({"VersionId": version_id} if version_id else {}))
    assert "-" not in head["ETag"], f"cannot read s3://{bucket}/{key} to compare it"
    return head["ETag"].strip('"')


def _redirect(s3: Any, bucket: str, key: str, version_id: str | None = None) -> str | None:
    head = s3.head_object(Bucket=bucket, Key=key, **({"VersionId": version_id} if version_id else {}))
    return head.get("WebsiteRedirectLocation")


def _destination_keys(s3: Any, bucket: str, prefix: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def _mapped(prefix: str, key: str, strip: str) -> str | None:
    """The destination key, or None for a key the job refuses to map (it must fail)."""
    try:
        return destination_key(prefix, key, strip)
    except InvalidTask:
        return None


def report_rows(path: str | Path) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return read_report(handle)


def assert_invariants(
    s3: Any,
    manifest: str | Path | Iterable[ManifestRow],
    report: str | Path | list[dict[str, str]],
    destination: str,
    prefix: str = "",
    strip: str = "",
) -> list[dict[str, str]]:
    """Check the four invariants; returns the report rows for further checks."""
    rows = list(read_manifest(manifest) if isinstance(manifest, (str, Path)) else manifest)
    reported = report_rows(report) if isinstance(report, (str, Path)) else list(report)

    wanted = Counter((row.bucket, row.raw_key) for row in rows)
    got = Counter((row["Bucket"], row["Key"]) for row in reported)
    assert got == wanted, f"report rows differ from manifest rows: missing {wanted - got}, extra {got - wanted}"

    mapped = {id(row): _mapped(prefix, row.key, strip) for row in rows if row.error is None}
    sources = {mapped[id(row)]: row for row in rows if row.error is None and mapped[id(row)] is not None}
    present = _destination_keys(s3, destination, prefix)
    orphans = present - set(sources)
    assert not orphans, f"objects at s3://{destination} that no manifest row asked for: {sorted(orphans)}"
    for key in sorted(present):
        source = sources[key]
        assert _fingerprint(s3, destination, key) == _fingerprint(s3, source.bucket, source.key, source.version_id), (
            f"s3://{destination}/{key} differs from its source s3://{source.bucket}/{source.key}"
        )
        assert _redirect(s3, destination, key) == _redirect(s3, source.bucket, source.key, source.version_id), (
            f"s3://{destination}/{key} lost its source's website redirect"
        )

    # A bad row may repeat a good row's bucket and key (e.g. with an extra column).
    good = {(row.bucket, row.raw_key): row for row in rows if row.error is None}
    good_count = Counter((row.bucket, row.raw_key) for row in rows if row.error is None)
    succeeded = Counter((row["Bucket"], row["Key"]) for row in reported if row["TaskStatus"] == "succeeded")
    assert not succeeded - good_count, f"bad manifest rows reported succeeded: {succeeded - good_count}"
    for row in reported:
        if row["TaskStatus"] != "succeeded":
            continue
        source = good[row["Bucket"], row["Key"]]
        assert _mapped(prefix, source.key, strip) in present, f"reported succeeded but absent: {row}"
        assert "verified" in row["ResultMessage"] or "already holds this object" in row["ResultMessage"], row

    uploads = s3.list_multipart_uploads(Bucket=destination).get("Uploads", [])
    assert uploads == [], f"multipart uploads left open: {[(u['Key'], u['UploadId']) for u in uploads]}"
    return reported


def report_row_of(bucket: str, raw_key: str, result: dict[str, str]) -> dict[str, str]:
    """The report row S3 Batch writes for one batch_invoke result (tests that invoke directly)."""
    code, _, message = result["resultString"].partition(": ")
    status = "succeeded" if result["resultCode"] == "Succeeded" else "failed"
    return {"Bucket": bucket, "Key": raw_key, "TaskStatus": status, "ErrorCode": "" if status == "succeeded" else code,
            "ResultMessage": message}


def read_report(handle: Iterable[str]) -> list[dict[str, str]]:
    """A completion report's rows by column name, exactly as written (no parsing)."""
    return [dict(zip(REPORT_COLUMNS, fields)) for fields in csv.reader(handle)]
