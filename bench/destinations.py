"""Check a tool's destination against the source, object by object.

A run counts only when every object arrived with its size. What else each tool
kept (ETag, part layout, user metadata, Content-Type, tags) is counted per object
and shown in the table: dropping them is legal for a copier, just not faithful.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from workloads import SourceFacts, object_facts

# What the table reports, in this order.
ATTRIBUTES = ("etag", "layout", "metadata", "content_type", "tags")


@dataclass
class DestinationCheck:
    expected: int
    found: int = 0
    complete: int = 0  # present with the source's size
    kept: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ATTRIBUTES, 0))
    problems: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        """Every object there, with its size, and nothing else."""
        return self.found == self.expected and self.complete == self.expected

    def preserved(self) -> dict[str, bool]:
        return {name: self.verified and count == self.expected for name, count in self.kept.items()}

    def to_json(self) -> dict[str, Any]:
        return {"expected": self.expected, "found": self.found, "complete": self.complete, "kept": self.kept,
                "verified": self.verified, "problems": self.problems[:10]}


def _list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def check_destination(s3: Any, bucket: str, prefix: str, sources: dict[str, SourceFacts]) -> DestinationCheck:
    check = DestinationCheck(expected=len(sources))
    found = set(_list_keys(s3, bucket, prefix))
    check.found = len(found)
    unexpected = found - {prefix + key for key in sources}
    if unexpected:
        check.problems.append(f"{len(unexpected)} unexpected keys, e.g. {sorted(unexpected)[0]}")

    def compare(source: SourceFacts) -> tuple[bool, dict[str, bool], str | None]:
        try:
            dest = object_facts(s3, bucket, prefix + source.key)
        except ClientError as err:
            return False, {}, f"{source.key}: {err.response.get('Error', {}).get('Code')}"
        if dest["size"] != source.size:
            return False, {}, f"{source.key}: size {dest['size']} != {source.size}"
        same_layout = dest["part_count"] == source.part_count and (
            not source.part_count or dest["part_size"] == source.part_size
        )
        return True, {
            "etag": dest["etag"] == source.etag,
            "layout": same_layout,
            "metadata": dest["metadata"] == source.metadata,
            "content_type": dest["content_type"] == source.content_type,
            "tags": dest["tags"] == source.tags,
        }, None

    with ThreadPoolExecutor(max_workers=16) as pool:
        for complete, kept, problem in pool.map(compare, sources.values()):
            if problem and len(check.problems) < 10:
                check.problems.append(problem)
            if complete:
                check.complete += 1
                for name, same in kept.items():
                    check.kept[name] += same
    return check


def empty_prefix(s3: Any, bucket: str, prefix: str) -> None:
    """Delete a run's copies so the disk holds one copy at a time."""
    keys = _list_keys(s3, bucket, prefix)
    for start in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in keys[start : start + 1000]],
                                                  "Quiet": True})
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])
    for upload in uploads:
        s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
