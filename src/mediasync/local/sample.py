"""Sample media for the demo: a few large masters, many small proxies, awkward keys."""

from __future__ import annotations

import os
import random
import unicodedata
from dataclasses import dataclass
from typing import Any

from mediasync.core.settings import KiB, MiB


@dataclass(frozen=True)
class SampleObject:
    key: str
    size: int
    part_size: int | None = None  # uploaded multipart with this part size
    content_type: str = "application/octet-stream"
    metadata: dict[str, str] | None = None
    tags: dict[str, str] | None = None
    # An S3 additional checksum to upload with ("CRC64NVME", "CRC32", ...), and for a
    # multipart upload its type ("FULL_OBJECT" or "COMPOSITE"; None: the server's default).
    checksum_algorithm: str | None = None
    checksum_type: str | None = None


def sample_media(proxies: int = 300, seed: int = 7) -> list[SampleObject]:
    rng = random.Random(seed)
    objects = [
        SampleObject("masters/feature 4K.mov", 48 * MiB, 8 * MiB, "video/quicktime",
                     {"title": "Feature", "codec": "prores"}, {"tier": "master"}),
        SampleObject("masters/trailer.mxf", 40 * MiB, None, "application/mxf", {"title": "Trailer"}, {"tier": "master"}),
        SampleObject("mezzanine/episode 01.mxf", 23 * MiB, 5 * MiB, "application/mxf", {"episode": "1"}),
        SampleObject("mezzanine/episode+02 100%.mxf", 15 * MiB + 12345, 7 * MiB, "application/mxf"),
        SampleObject("stills/" + unicodedata.normalize("NFC", "café.jpg"), 200 * KiB, None, "image/jpeg"),
        SampleObject("stills/" + unicodedata.normalize("NFD", "café.jpg"), 201 * KiB, None, "image/jpeg"),
        SampleObject("sidecars/empty.xml", 0, None, "application/xml"),
        SampleObject("sidecars/one-byte.txt", 1, None, "text/plain"),
    ]
    for index in range(proxies):
        objects.append(
            SampleObject(
                f"proxies/{index // 100:02d}/clip_{index:04d}.mp4",
                rng.randint(1, 64) * KiB,
                None,
                "video/mp4",
                {"clip": str(index)},
                {"kind": "proxy"} if index % 3 == 0 else None,
            )
        )
    return objects


def upload_sample(s3: Any, bucket: str, obj: SampleObject) -> dict[str, Any]:
    """Upload ``obj`` with random bytes; returns the PutObject or CompleteMultipartUpload answer."""
    body = os.urandom(obj.size)
    extra: dict[str, Any] = {"ContentType": obj.content_type, "Metadata": obj.metadata or {}}
    if obj.tags:
        extra["Tagging"] = "&".join(f"{k}={v}" for k, v in obj.tags.items())
    checksum = {"ChecksumAlgorithm": obj.checksum_algorithm} if obj.checksum_algorithm else {}
    if not obj.part_size:
        return s3.put_object(Bucket=bucket, Key=obj.key, Body=body, **extra, **checksum)
    kind = {"ChecksumType": obj.checksum_type} if obj.checksum_type else {}
    upload = s3.create_multipart_upload(Bucket=bucket, Key=obj.key, **extra, **checksum, **kind)["UploadId"]
    parts = []
    for number, start in enumerate(range(0, obj.size, obj.part_size), 1):
        answer = s3.upload_part(Bucket=bucket, Key=obj.key, UploadId=upload, PartNumber=number,
                                Body=body[start : start + obj.part_size], **checksum)
        part = {"PartNumber": number, "ETag": answer["ETag"]}
        if obj.checksum_algorithm:  # an upload with a checksum wants each part's back at completion
            name = f"Checksum{obj.checksum_algorithm}"
            part[name] = answer[name]
        parts.append(part)
    return s3.complete_multipart_upload(
        Bucket=bucket, Key=obj.key, UploadId=upload, MultipartUpload={"Parts": parts})
