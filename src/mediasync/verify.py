"""Check the destination against the source before anything is reported copied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .errors import VerificationFailed, from_client_error
from .plan import Plan
from .source import ObjectRef, SourceObject, etag_part_count, quoted_etag


@dataclass(frozen=True)
class Verification:
    method: str  # "etag", "composite-etag" or "layout"
    message: str

    def to_state(self) -> dict[str, str]:
        return {"method": self.method, "message": self.message}


def _head(s3: Any, dest: ObjectRef, **extra: Any) -> dict[str, Any]:
    try:
        return s3.head_object(Bucket=dest.bucket, Key=dest.key, **dest.version_args(), **extra)
    except ClientError as err:
        raise from_client_error(err, side="destination", bucket=dest.bucket, key=dest.key) from err


def check_copy(
    s3: Any,
    source: SourceObject,
    dest: ObjectRef,
    plan: Plan,
    *,
    etag: str,
    expected_etag: str | None,
) -> Verification:
    """Compare size, metadata, ETag and part layout; raise VerificationFailed on any difference.

    ETag equality is proof on AWS and moto. A single-part source copied in parts
    cannot keep its ETag: the destination must then carry the ETag computed from the
    copied parts. Servers whose UploadPartCopy part ETags are not MD5s (SeaweedFS)
    leave only size and part layout to check, and the message says so.
    """
    head = _head(s3, dest)
    head["ETag"] = quoted_etag(head.get("ETag"))
    problems: list[str] = []
    if head["ContentLength"] != source.size:
        problems.append(f"size {head['ContentLength']} != source {source.size}")
    if head.get("ETag") != etag:
        problems.append(f"ETag {head.get('ETag')} != the one the copy returned, {etag}")
    if (head.get("Metadata") or {}) != (source.metadata or {}):
        problems.append("user metadata differs")
    if source.content_type and head.get("ContentType") != source.content_type:
        problems.append(f"Content-Type {head.get('ContentType')!r} != {source.content_type!r}")

    if plan.route == "single" and source.multipart:
        method = "size"
        message = (
            "the source's parts are under S3's 5 MiB minimum, so CopyObject made a single-part "
            "copy whose ETag cannot equal the source's: verified size and metadata"
        )
    elif plan.route == "single" or (plan.reuses_source_layout and expected_etag is not None):
        method, message = "etag", "ETag equals the source's"
        if head.get("ETag") != source.etag:
            problems.append(f"ETag {head.get('ETag')} != source {source.etag}")
    elif expected_etag is not None:
        method = "composite-etag"
        message = (
            f"source ETag {source.etag} is not a multipart ETag of this layout; verified the "
            f"ETag computed from the {plan.part_count} copied parts, size and part layout"
        )
        if head.get("ETag") != expected_etag:
            problems.append(f"ETag {head.get('ETag')} != {expected_etag} computed from the parts")
    else:
        method = "layout"
        message = "the server's part ETags are not MD5s, so the ETag cannot be reproduced: verified size and part layout"

    if plan.route == "multipart" and not problems:
        if etag_part_count(head.get("ETag", "")) != plan.part_count:
            problems.append(f"ETag {head.get('ETag')} does not show {plan.part_count} parts")
        else:
            first = _head(s3, dest, PartNumber=1)
            if first["ContentLength"] != plan.layout.part_length(1):
                problems.append(f"part 1 is {first['ContentLength']} bytes, planned {plan.layout.part_length(1)}")
            if first.get("PartsCount") not in (None, plan.part_count):
                problems.append(f"PartsCount {first.get('PartsCount')} != {plan.part_count}")

    if problems:
        raise VerificationFailed(f"s3://{dest.bucket}/{dest.key}: " + "; ".join(problems))
    return Verification(method, message)


def discard(s3: Any, dest: ObjectRef) -> None:
    """Remove a destination that failed verification: absent beats wrong."""
    try:
        s3.delete_object(Bucket=dest.bucket, Key=dest.key, **dest.version_args())
    except ClientError as err:
        raise from_client_error(err, side="destination", bucket=dest.bucket, key=dest.key) from err


def already_copied(s3: Any, source: SourceObject, dest: ObjectRef) -> bool:
    """Whether the destination already holds this exact source (ETag and size equal).

    Used to skip objects a previous, interrupted run already copied and verified.
    """
    try:
        head = s3.head_object(Bucket=dest.bucket, Key=dest.key)
    except ClientError:
        return False
    return (
        quoted_etag(head.get("ETag")) == source.etag
        and head["ContentLength"] == source.size
        and (head.get("Metadata") or {}) == (source.metadata or {})
        and (not source.content_type or head.get("ContentType") == source.content_type)
    )
