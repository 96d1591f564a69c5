"""The two benchmark workloads, seeded into their own source buckets.

Every object carries user metadata, a Content-Type and tags, so the table can say
which tool kept them. The large object is uploaded in parts, so its ETag is a
multipart ETag (``<md5 of part md5s>-N``) and its part layout is worth keeping.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from mediasync.core.settings import GiB, KiB, MiB


@dataclass(frozen=True)
class Workload:
    name: str
    bucket: str
    objects: int
    object_size: int
    part_size: int | None  # uploaded multipart with this part size
    prefixes: int = 1
    # Timed on a destination that already holds every object (each tool's copy, untimed,
    # then its resume): what a restarted job costs when nothing is left to copy.
    resumed: bool = False

    @property
    def total_bytes(self) -> int:
        return self.objects * self.object_size

    def key(self, index: int) -> str:
        if self.objects == 1:
            return "masters/feature-4k.mov"  # s5cmd 2.3 cannot copy keys with spaces on SeaweedFS (404)
        return f"proxies/p{index % self.prefixes:02d}/clip_{index:05d}.mp4"

    def describe(self) -> str:
        if self.resumed:
            return f"{self.objects:,} x {_size(self.object_size)} already copied (a resumed run)"
        if self.part_size:
            return f"{self.objects} x {_size(self.object_size)} multipart ({_size(self.part_size)} parts)"
        return f"{self.objects:,} x {_size(self.object_size)} under {self.prefixes} prefixes"


@dataclass(frozen=True)
class SourceFacts:
    """What a faithful copy of one source object must show."""

    key: str
    size: int
    etag: str
    part_count: int | None
    part_size: int | None
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def _size(size: int) -> str:
    for unit, factor in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} B"


def workloads(quick: bool = False) -> list[Workload]:
    if quick:
        return [
            Workload("large", "bench-large", 1, 256 * MiB, 64 * MiB),
            Workload("small", "bench-small", 300, 64 * KiB, None, prefixes=4),
            Workload("resumed", "bench-small", 300, 64 * KiB, None, prefixes=4, resumed=True),
        ]
    return [
        Workload("large", "bench-large", 1, 1 * GiB, 64 * MiB),
        Workload("small", "bench-small", 2_000, 64 * KiB, None, prefixes=8),
        Workload("resumed", "bench-small", 2_000, 64 * KiB, None, prefixes=8, resumed=True),
    ]


def _object_args(workload: Workload, index: int) -> dict[str, Any]:
    kind = "master" if workload.part_size else "proxy"
    return {
        "ContentType": "video/quicktime" if workload.part_size else "video/mp4",
        "Metadata": {"title": f"{kind} {index}", "origin": "mediasync-bench"},
        "Tagging": f"kind={kind}&index={index}",
    }


def _upload_multipart(s3: Any, workload: Workload, index: int) -> None:
    key = workload.key(index)
    assert workload.part_size
    upload = s3.create_multipart_upload(Bucket=workload.bucket, Key=key, **_object_args(workload, index))["UploadId"]
    sizes = [min(workload.part_size, workload.object_size - start) for start in range(0, workload.object_size, workload.part_size)]

    def part(number: int) -> dict[str, Any]:
        body = os.urandom(sizes[number - 1])
        etag = s3.upload_part(Bucket=workload.bucket, Key=key, UploadId=upload, PartNumber=number, Body=body)["ETag"]
        return {"PartNumber": number, "ETag": etag}

    with ThreadPoolExecutor(max_workers=4) as pool:
        parts = list(pool.map(part, range(1, len(sizes) + 1)))
    s3.complete_multipart_upload(Bucket=workload.bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})


def seed(s3: Any, workload: Workload) -> None:
    s3.create_bucket(Bucket=workload.bucket)
    if workload.part_size:
        for index in range(workload.objects):
            _upload_multipart(s3, workload, index)
        return

    def put(index: int) -> None:
        s3.put_object(Bucket=workload.bucket, Key=workload.key(index), Body=os.urandom(workload.object_size),
                      **_object_args(workload, index))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, range(workload.objects)))


def object_facts(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    """Size, ETag, part layout, Content-Type, metadata and tags of one object, as the server says."""
    head = s3.head_object(Bucket=bucket, Key=key)
    etag = head["ETag"].strip('"')
    part_count = int(etag.rsplit("-", 1)[1]) if "-" in etag else None
    part_size = None
    if part_count:
        first = s3.head_object(Bucket=bucket, Key=key, PartNumber=1)
        part_size = first["ContentLength"]
        part_count = first.get("PartsCount", part_count)
    tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return {
        "size": head["ContentLength"],
        "etag": etag,
        "part_count": part_count,
        "part_size": part_size,
        "content_type": head.get("ContentType") or "",
        "metadata": dict(head.get("Metadata") or {}),
        "tags": {tag["Key"]: tag["Value"] for tag in tags},
    }


def source_facts(s3: Any, workload: Workload) -> dict[str, SourceFacts]:
    keys = [workload.key(index) for index in range(workload.objects)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        facts = list(pool.map(lambda key: object_facts(s3, workload.bucket, key), keys))
    return {key: SourceFacts(key=key, **fact) for key, fact in zip(keys, facts)}
