"""The acceptance manifest of the walking product, and the checks every server must pass."""

from __future__ import annotations

import unicodedata
from typing import Any

from mediasync.local.sample import SampleObject, upload_sample
from mediasync.manifest import format_row
from mediasync.settings import MiB
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


def seed(s3: Any, source: str, destination: str) -> str:
    """Create both buckets, upload the objects; returns the manifest text."""
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=destination)
    for obj in OBJECTS:
        upload_sample(s3, source, obj)
    return "".join(format_row(source, key) for key in [o.key for o in OBJECTS] + [MISSING_KEY])


def tags(s3: Any, bucket: str, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}


def check_copy(s3: Any, source: str, destination: str, report: list[dict[str, str]], *, etags_reproducible: bool) -> None:
    """Every existing object byte-exact with its metadata; the missing key failed; nothing left open."""
    assert len(report) == len(OBJECTS) + 1, "one report row per manifest row"
    by_key = {row["Key"]: row for row in report}
    missing = by_key[format_row(source, MISSING_KEY).split(",")[1].strip()]
    assert (missing["TaskStatus"], missing["ErrorCode"], missing["HTTPStatusCode"]) == ("failed", "SourceMissing", "404")
    assert [row for row in report if row["TaskStatus"] != "succeeded"] == [missing], report

    for obj in OBJECTS:
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
        elif obj.size <= THRESHOLD:
            assert dst["ETag"] == src["ETag"], obj.key
    assert s3.list_multipart_uploads(Bucket=destination).get("Uploads", []) == []
