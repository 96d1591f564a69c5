"""The acceptance manifest of the walking product, and the checks every server must pass."""

from __future__ import annotations

import unicodedata
from typing import Any

from mediasync.core.settings import MiB
from mediasync.local.sample import SampleObject, upload_sample
from mediasync.manifests.s3batch_csv import format_row
from tests.conftest import md5_of

THRESHOLD = 16 * MiB
PART_SIZE = 8 * MiB
MISSING_KEY = "does/not/exist.mov"

OBJECTS = [
    SampleObject("empty.bin", 0),
    SampleObject("one.bin", 1, content_type="text/plain"),
    SampleObject("with space/clip 01.mov", 3000, None, "video/quicktime", {"shot": "a b"}, {"kind": "proxy", "n": "1"}),
    SampleObject("plus+sign.mov", 1234, None, "video/quicktime", {"plus": "yes"}),
    SampleObject("100%done.mov", 4321),
    SampleObject(unicodedata.normalize("NFD", "café/Ünïcode.mov"), 2048),
    SampleObject(unicodedata.normalize("NFC", "café/Ünïcode.mov"), 2049),
    # 5 MiB parts, short last part, at the threshold: EXPRESS machine, inline Map.
    SampleObject("multipart/five.mov", 3 * 5 * MiB + MiB, 5 * MiB, "video/mp4", {"parts": "5MiB"}, {"tier": "mezz"}),
    # Above the threshold: STANDARD machine, Distributed Map, source layout kept.
    SampleObject("multipart/seven.mov", 3 * 7 * MiB + 2 * MiB + 7, 7 * MiB, "video/mp4", {"parts": "7MiB"}),
    SampleObject("multipart/eight.mov", 2 * 8 * MiB + 3 * MiB, 8 * MiB, "application/mxf", {"parts": "8MiB"}, {"tier": "master"}),
    # Single-part source above the threshold: copied in planned parts.
    SampleObject("single/large.bin", 20 * MiB + 5, None, "application/octet-stream", {"plain": "put"}),
]

# Objects with an S3 additional checksum chosen at upload: the content proof that
# survives SSE-KMS, where ETags prove nothing (tests/faults/kms_proxy.py).
CHECKSUM_OBJECTS = [
    SampleObject("checksums/crc64nvme.mov", 3000, None, "video/quicktime", checksum_algorithm="CRC64NVME"),
    SampleObject("checksums/crc32.mov", 3001, None, "video/quicktime", checksum_algorithm="CRC32"),
    SampleObject("checksums/crc64nvme-parts.mov", 2 * 5 * MiB + 7, 5 * MiB, "video/mp4",
                 checksum_algorithm="CRC64NVME", checksum_type="FULL_OBJECT"),
    SampleObject("checksums/crc32-full-parts.mov", 2 * 5 * MiB + 8, 5 * MiB, "video/mp4",
                 checksum_algorithm="CRC32", checksum_type="FULL_OBJECT"),
    SampleObject("checksums/crc32-composite-parts.mov", 2 * 5 * MiB + 9, 5 * MiB, "video/mp4",
                 checksum_algorithm="CRC32", checksum_type="COMPOSITE"),
]


def seed(s3: Any, source: str, destination: str, objects: list[SampleObject] = OBJECTS) -> str:
    """Create both buckets, upload the objects; returns the manifest text."""
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=destination)
    for obj in objects:
        upload_sample(s3, source, obj)
    return "".join(format_row(source, key) for key in [o.key for o in objects] + [MISSING_KEY])


def tags(s3: Any, bucket: str, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}


def check_copy(s3: Any, source: str, destination: str, report: list[dict[str, str]], *, etags_reproducible: bool,
               objects: list[SampleObject] = OBJECTS, etags_are_md5s: bool = True) -> None:
    """Every existing object byte-exact with its metadata; the missing key failed; nothing left open.

    ``etags_reproducible``: a multipart copy with the source's layout has the source's
    ETag. ``etags_are_md5s``: a single-part copy has the source's ETag (not so for
    SSE-KMS objects, whose copies get other ETags).
    """
    assert len(report) == len(objects) + 1, "one report row per manifest row"
    by_key = {row["Key"]: row for row in report}
    missing = by_key[format_row(source, MISSING_KEY).split(",")[1].strip()]
    assert (missing["TaskStatus"], missing["ErrorCode"], missing["HTTPStatusCode"]) == ("failed", "SourceMissing", "404")
    assert [row for row in report if row["TaskStatus"] != "succeeded"] == [missing], report

    for obj in objects:
        src = s3.head_object(Bucket=source, Key=obj.key)
        dst = s3.head_object(Bucket=destination, Key=obj.key)
        assert dst["ContentLength"] == obj.size
        assert md5_of(s3, destination, obj.key) == md5_of(s3, source, obj.key), obj.key
        assert dst.get("Metadata", {}) == (obj.metadata or {}), obj.key
        # Servers differ on the type of an object stored as octet-stream: compare with the source.
        assert dst.get("ContentType") == src.get("ContentType"), obj.key
        assert tags(s3, destination, obj.key) == (obj.tags or {}), obj.key
        if obj.part_size:
            same_layout = dst["ETag"].split("-")[-1] == src["ETag"].split("-")[-1]
            assert same_layout, (obj.key, dst["ETag"], src["ETag"])
            part1 = s3.head_object(Bucket=destination, Key=obj.key, PartNumber=1)
            assert part1["ContentLength"] == obj.part_size, obj.key
            if etags_reproducible:
                assert dst["ETag"] == src["ETag"], obj.key
        elif obj.size <= THRESHOLD and etags_are_md5s:
            assert dst["ETag"] == src["ETag"], obj.key
    assert s3.list_multipart_uploads(Bucket=destination).get("Uploads", []) == []
