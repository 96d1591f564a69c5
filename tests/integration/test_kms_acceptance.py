"""`mediasync run` where every object is SSE-KMS encrypted, as on AWS (through tests/faults/kms_proxy.py).

There an ETag is not an MD5 and a copy gets another ETag than its source
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html, ETag), so ETag
equality proves nothing; the S3 additional checksums do, read with HeadObject
``ChecksumMode=ENABLED`` (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
Every object must still be copied and verified, a resumed run must skip what a
checksum proves already there, and a checksum that differs must fail the object.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from mediasync.local.sample import sample_media, upload_sample
from mediasync.manifests.s3batch_csv import format_row
from tests.faults.cli import mediasync_run
from tests.integration.acceptance import CHECKSUM_OBJECTS, OBJECTS, check_copy, seed
from tests.invariants import assert_invariants, report_rows

OPTIONS = ("--multipart-threshold", "16MiB", "--part-size", "8MiB", "--parts-per-group", "2", "--concurrency", "8")
# The words a report message uses for what it compared (ETag alone proves nothing here).
METHODS = ("checksum", "ETag", "layout", "size")
ALL_OBJECTS = OBJECTS + CHECKSUM_OBJECTS


def buckets(name: str) -> tuple[str, str]:
    # The servers live for the whole session: every test gets buckets of its own.
    suffix = uuid.uuid4().hex[:8]
    return f"{name}-src-{suffix}", f"{name}-dst-{suffix}"


def raw_key(bucket: str, key: str) -> str:
    """The key as the manifest and so the report write it."""
    return format_row(bucket, key).split(",")[1].strip()


def checksum(s3: Any, bucket: str, key: str) -> dict[str, str]:
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    return {name: value for name, value in head.items() if name.startswith("Checksum")}


def failures(rows: list[dict[str, str]]) -> dict[str, str]:
    return {r["Key"]: r["ErrorCode"] for r in rows if r["TaskStatus"] != "succeeded"}


def messages_of_failures(rows: list[dict[str, str]]) -> list[str]:
    return [f'{r["ErrorCode"]}: {r["ResultMessage"]}' for r in rows if r["TaskStatus"] != "succeeded"]


def run(kms_s3, manifest: Path, destination: str, report: Path) -> list[dict[str, str]]:
    result = mediasync_run(kms_s3.server, manifest, destination, report, kms_s3.proxy.endpoint_url, *OPTIONS)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return report_rows(report)


def test_every_object_is_copied_and_verified_without_reproducible_etags(kms_s3, tmp_path):
    s3, upstream = kms_s3.client(), kms_s3.upstream.client()
    source, destination = buckets("kms-accept")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(seed(s3, source, destination, ALL_OBJECTS), encoding="utf-8")

    rows = run(kms_s3, manifest, destination, tmp_path / "report.csv")

    assert failures(rows) == {raw_key(source, "does/not/exist.mov"): "SourceMissing"}, messages_of_failures(rows)
    # Bytes read through the proxy, metadata, tags, part layout; no ETag comparison.
    check_copy(s3, source, destination, rows, etags_reproducible=False, objects=ALL_OBJECTS, etags_are_md5s=False)
    assert_invariants(upstream, manifest, rows, destination)
    messages = {r["Key"]: r["ResultMessage"] for r in rows if r["TaskStatus"] == "succeeded"}
    assert all(any(method in message for method in METHODS) for message in messages.values()), messages
    for obj in CHECKSUM_OBJECTS:
        message = messages[raw_key(source, obj.key)]
        if obj.checksum_type == "COMPOSITE":
            # Completing a composite copy needs every part's checksum, and neither moto's nor
            # SeaweedFS's ListParts or GetObjectAttributes reports them (AWS's do): the copy
            # asks for none, and the ETag computed from the copied parts is the proof left.
            assert "verified by composite-etag" in message, (obj.key, message)
            continue
        assert f"verified by checksum-{obj.checksum_algorithm}" in message, (obj.key, message)
        assert checksum(s3, destination, obj.key) == checksum(s3, source, obj.key), obj.key


def test_a_resumed_run_skips_objects_a_checksum_proves_copied(kms_s3, tmp_path):
    s3 = kms_s3.client()
    source, destination = buckets("kms-resume")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(seed(s3, source, destination, ALL_OBJECTS), encoding="utf-8")
    first = run(kms_s3, manifest, destination, tmp_path / "first.csv")
    assert list(failures(first).values()) == ["SourceMissing"], messages_of_failures(first)

    copies_before = kms_s3.proxy.forwarded["CopyObject"] + kms_s3.proxy.forwarded["UploadPartCopy"]
    second = run(kms_s3, manifest, destination, tmp_path / "second.csv")

    assert list(failures(second).values()) == ["SourceMissing"], messages_of_failures(second)
    messages = {r["Key"]: r["ResultMessage"] for r in second}
    # Where both sides show the same checksum, equality is proven: nothing to copy.
    proven = [obj.key for obj in ALL_OBJECTS
              if checksum(s3, source, obj.key) and checksum(s3, source, obj.key) == checksum(s3, destination, obj.key)]
    assert {obj.key for obj in CHECKSUM_OBJECTS if obj.checksum_type != "COMPOSITE"} <= set(proven)
    skipped = [key for key in proven if "AlreadyCopied" in messages[raw_key(source, key)]
               or "not copied again" in messages[raw_key(source, key)]]
    assert skipped == proven, {key: messages[raw_key(source, key)] for key in proven}
    if len(proven) == len(ALL_OBJECTS):
        copies = kms_s3.proxy.forwarded["CopyObject"] + kms_s3.proxy.forwarded["UploadPartCopy"]
        assert copies == copies_before, "objects proven copied were copied again"


def test_a_copy_whose_checksum_differs_fails_verification_and_is_removed(kms_s3, tmp_path):
    s3, upstream = kms_s3.client(), kms_s3.upstream.client()
    source, destination = buckets("kms-corrupt")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(seed(s3, source, destination, CHECKSUM_OBJECTS), encoding="utf-8")
    corrupted = {"checksums/crc32.mov", "checksums/crc64nvme-parts.mov"}
    kms_s3.proxy.corrupt_checksum = lambda bucket, key: bucket == destination and key in corrupted

    rows = run(kms_s3, manifest, destination, tmp_path / "report.csv")

    outcomes = {r["Key"]: (r["TaskStatus"], r["ErrorCode"]) for r in rows}
    for obj in CHECKSUM_OBJECTS:
        expected = ("failed", "VerificationFailed") if obj.key in corrupted else ("succeeded", "")
        assert outcomes[raw_key(source, obj.key)] == expected, (obj.key, messages_of_failures(rows))
    present = {item["Key"] for item in upstream.list_objects_v2(Bucket=destination).get("Contents", [])}
    assert present == {obj.key for obj in CHECKSUM_OBJECTS} - corrupted
    assert upstream.list_multipart_uploads(Bucket=destination).get("Uploads", []) == []


def test_the_demo_sample_media(kms_s3, tmp_path):
    """The demo's objects (multipart masters, NFC/NFD and %/+ keys, empty sidecars, proxies) via `mediasync run`."""
    s3, upstream = kms_s3.client(), kms_s3.upstream.client()
    source, destination = buckets("kms-demo")
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=destination)
    samples = sample_media(proxies=12)
    for sample in samples:
        upload_sample(s3, source, sample)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("".join(format_row(source, sample.key) for sample in samples), encoding="utf-8")

    # The demo's own options (src/mediasync/cli/demo.py).
    result = mediasync_run(kms_s3.server, manifest, destination, tmp_path / "report.csv", kms_s3.proxy.endpoint_url,
                           "--multipart-threshold", "32MiB", "--part-size", "8MiB", "--parts-per-group", "2",
                           "--max-concurrency", "8")

    rows = report_rows(tmp_path / "report.csv")
    assert failures(rows) == {}, messages_of_failures(rows)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_invariants(upstream, manifest, rows, destination)
    assert all(any(method in r["ResultMessage"] for method in METHODS) for r in rows), rows
