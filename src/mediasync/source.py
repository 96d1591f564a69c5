"""What we learn about a source object before copying it."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .errors import SourceArchived, SourceMissing, from_client_error
from .request_args import source_request_args
from .settings import CopyOptions

_MULTIPART_ETAG = re.compile(r'^"?[0-9a-fA-F]+-(\d+)"?$')
ARCHIVE_CLASSES = {"GLACIER", "DEEP_ARCHIVE"}
ARCHIVE_TIERS = {"ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"}


def quoted_etag(etag: str | None) -> str:
    """ETags as HeadObject gives them, in quotes: SeaweedFS's CopyObject answers without."""
    return f'"{(etag or "").strip(chr(34))}"'


def etag_part_count(etag: str) -> int | None:
    """Parts of a multipart object from its ETag's ``-N`` suffix; None for single-part.

    The suffix is the only signal all servers agree on (SeaweedFS reports
    PartsCount=1 for plain PUTs).
    """
    match = _MULTIPART_ETAG.match(etag or "")
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    version_id: str | None = None

    def copy_source(self) -> dict[str, str]:
        source = {"Bucket": self.bucket, "Key": self.key}
        if self.version_id:
            source["VersionId"] = self.version_id
        return source

    def version_args(self) -> dict[str, str]:
        return {"VersionId": self.version_id} if self.version_id else {}

    @property
    def url(self) -> str:
        suffix = f"?versionId={self.version_id}" if self.version_id else ""
        return f"s3://{self.bucket}/{self.key}{suffix}"


@dataclass(frozen=True)
class SourceObject:
    bucket: str
    key: str
    version_id: str | None
    size: int
    etag: str
    part_count: int | None = None
    part_size: int | None = None
    storage_class: str = "STANDARD"
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.bucket, self.key, self.version_id)

    @property
    def multipart(self) -> bool:
        return bool(self.part_count)

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "SourceObject":
        return cls(**{name: state.get(name) for name in cls.__dataclass_fields__ if name in state})


def _archived_message(head: dict[str, Any], ref: ObjectRef) -> str | None:
    storage_class = head.get("StorageClass") or "STANDARD"
    restore = head.get("Restore") or ""
    restored = 'ongoing-request="false"' in restore
    if storage_class in ARCHIVE_CLASSES and not restored:
        state = "being restored" if 'ongoing-request="true"' in restore else "not restored"
        return f"{ref.url} is in {storage_class} and {state}: restore it before copying"
    tier = head.get("ArchiveStatus")
    if tier in ARCHIVE_TIERS and not restored:
        return f"{ref.url} is in INTELLIGENT_TIERING {tier} and not restored: restore it before copying"
    return None


def inspect_source(s3: Any, ref: ObjectRef, options: CopyOptions | None = None) -> SourceObject:
    """HeadObject the source; for a multipart source also its part size (PartNumber=1)."""
    try:
        head = s3.head_object(Bucket=ref.bucket, Key=ref.key, **ref.version_args(), **source_request_args(options))
    except ClientError as err:
        if err.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-delete-marker") == "true":
            raise SourceMissing(f"{ref.url} is a delete marker") from err
        raise from_client_error(err, side="source", bucket=ref.bucket, key=ref.key) from err
    if head.get("DeleteMarker"):
        raise SourceMissing(f"{ref.url} is a delete marker")
    archived = _archived_message(head, ref)
    if archived:
        raise SourceArchived(archived)
    etag = quoted_etag(head["ETag"])
    part_count = etag_part_count(etag)
    part_size = None
    if part_count:
        # The object ETag comes from the plain HEAD above: moto answers this one
        # with the part's ETag (and so fails an IfMatch on the object's ETag);
        # AWS and SeaweedFS with the object's.
        try:
            first = s3.head_object(Bucket=ref.bucket, Key=ref.key, PartNumber=1, **ref.version_args(),
                                   **source_request_args(options))
        except ClientError as err:
            raise from_client_error(err, side="source", bucket=ref.bucket, key=ref.key) from err
        part_size = first["ContentLength"]
    return SourceObject(
        bucket=ref.bucket,
        key=ref.key,
        # Only the manifest pins a version: a key without one means "the current
        # object", and CopySourceIfMatch then fails the copy if it is replaced.
        version_id=ref.version_id,
        size=head["ContentLength"],
        etag=etag,
        part_count=part_count,
        part_size=part_size,
        storage_class=head.get("StorageClass") or "STANDARD",
        content_type=head.get("ContentType"),
        metadata=dict(head.get("Metadata") or {}),
    )

