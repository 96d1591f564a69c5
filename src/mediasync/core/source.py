"""What we learn about a source object before copying it."""

from __future__ import annotations

import functools
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from botocore.exceptions import ClientError

from mediasync.core.errors import (
    BucketMissing,
    SourceArchived,
    SourceMissing,
    SourceNeedsCustomerKey,
    from_client_error,
    s3_errors,
)
from mediasync.core.object_lock import ObjectLock
from mediasync.core.plan import layout_fits, part_runs
from mediasync.core.request_args import source_request_args
from mediasync.core.settings import CopyOptions

_MULTIPART_ETAG = re.compile(r'^"?[0-9a-fA-F]+-(\d+)"?$')
_COMPOSITE_CHECKSUM = re.compile(r"-\d+$")
ARCHIVE_CLASSES = {"GLACIER", "DEEP_ARCHIVE"}
ARCHIVE_TIERS = {"ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"}
# S3 additional checksums, in the order one is preferred when an object has several.
CHECKSUM_ALGORITHMS = ("CRC64NVME", "CRC32C", "CRC32", "SHA256", "SHA1")
# Server-side encryptions whose ETags are not MD5 digests of the data (S3 API
# reference, Object.ETag): a copy of the same bytes gets another ETag.
OPAQUE_ETAG_ENCRYPTIONS = frozenset({"aws:kms", "aws:kms:dsse"})
# Reading an uneven part layout part by part: a bound on requests for servers that
# lack GetObjectAttributes ObjectParts; past it the copy uses its own equal parts.
MAX_PART_HEADS = 1000


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
class Checksum:
    """An S3 additional checksum as HeadObject (ChecksumMode=ENABLED) reports it."""

    algorithm: str
    value: str
    type: str  # "FULL_OBJECT" or "COMPOSITE"

    @classmethod
    def from_response(cls, response: dict[str, Any]) -> "Checksum | None":
        """The checksum a HeadObject answer shows, if its type is known.

        AWS always states the type. Without it, a value ending in -N is composite and
        a single-part object's checksum is full-object (PutObject's always is); a
        multipart object's unlabelled, unsuffixed checksum (moto's) could be either,
        so it proves nothing.
        """
        for algorithm in CHECKSUM_ALGORITHMS:
            value = response.get(f"Checksum{algorithm}")
            if not value:
                continue
            kind = response.get("ChecksumType")
            if not kind and _COMPOSITE_CHECKSUM.search(value):
                kind = "COMPOSITE"
            elif not kind and not etag_part_count(response.get("ETag") or ""):
                kind = "FULL_OBJECT"
            return cls(algorithm, value, kind) if kind else None
        return None

    def comparable(self, other: "Checksum | None") -> bool:
        return other is not None and (other.algorithm, other.type) == (self.algorithm, self.type)

    def describe(self) -> str:
        kind = "full-object" if self.type == "FULL_OBJECT" else "composite"
        return f"{kind} {self.algorithm}"


def etag_is_md5(head: dict[str, Any]) -> bool:
    """Whether an object's ETags are MD5 digests: not under SSE-KMS, DSSE-KMS or SSE-C."""
    return head.get("ServerSideEncryption") not in OPAQUE_ETAG_ENCRYPTIONS and not head.get("SSECustomerAlgorithm")


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
    # (part size, count) runs when the source's parts are not all of part 1's size.
    part_runs: list[list[int]] | None = None
    # The part sizes could not be read: the copy cannot reuse the layout.
    layout_unknown: bool = False
    checksum_algorithm: str | None = None
    checksum_value: str | None = None
    checksum_type: str | None = None
    # Whether the source's parts report their own checksums (GetObjectAttributes):
    # completing a composite copy needs each part's, and where ListParts omits the
    # copy's, the source's (same parts, same bytes) are the only other place to read them.
    part_checksums: bool = False
    encryption: str | None = None
    # The source's SSE-KMS key: an AccessDenied naming it is the source's, not the destination's.
    kms_key_id: str | None = None
    # Not carried by CopyObject's COPY directive: sent explicitly, compared by Verify.
    website_redirect_location: str | None = None
    # Its Object Lock, as HeadObject shows it to a role granted s3:GetObjectRetention and
    # s3:GetObjectLegalHold (core.object_lock); (mode, retain-until, legal hold).
    lock_mode: str | None = None
    lock_retain_until: str | None = None
    legal_hold: bool = False

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.bucket, self.key, self.version_id)

    @property
    def multipart(self) -> bool:
        return bool(self.part_count)

    @property
    def checksum(self) -> Checksum | None:
        if not (self.checksum_algorithm and self.checksum_value):
            return None
        return Checksum(self.checksum_algorithm, self.checksum_value, self.checksum_type or "FULL_OBJECT")

    @property
    def etag_is_md5(self) -> bool:
        return self.encryption not in OPAQUE_ETAG_ENCRYPTIONS

    @property
    def lock(self) -> ObjectLock:
        return ObjectLock(self.lock_mode, self.lock_retain_until, bool(self.legal_hold))

    def plan_args(self) -> dict[str, Any]:
        """What ``plan.plan_copy`` needs to know of this source, besides its size."""
        return {
            "source_part_size": None if self.layout_unknown else self.part_size,
            "source_part_count": self.part_count,
            "source_part_runs": self.part_runs,
            # A composite checksum is asked of the copy only where the parts' own can be read.
            "source_checksum_algorithm": None if self.checksum_type == "COMPOSITE" and not self.part_checksums
            else self.checksum_algorithm,
            "source_checksum_type": self.checksum_type,
        }

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


def _needs_customer_key(ref: ObjectRef, evidence: str) -> SourceNeedsCustomerKey:
    return SourceNeedsCustomerKey(
        f"{ref.url} {evidence}: server-side copy needs the customer-provided key (SSE-C), which MediaSync "
        "never holds; copy it with the key, or re-encrypt it with SSE-S3 or SSE-KMS first"
    )


def _readable(s3: Any, ref: ObjectRef, payer: dict[str, str]) -> bool:
    try:
        s3.head_object(Bucket=ref.bucket, Key=ref.key, **ref.version_args(), **payer)
    except ClientError:
        return False
    return True


def _head_failure(s3: Any, err: ClientError, ref: ObjectRef, payer: dict[str, str]) -> Exception:
    """Name why HeadObject on the source failed; HEAD answers carry no error body."""
    response = err.response
    if response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-delete-marker") == "true":
        return SourceMissing(f"{ref.url} is a delete marker")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = str(response.get("Error", {}).get("Code", ""))
    if status == 400 and code in ("400", "BadRequest", "InvalidRequest", ""):
        # S3 answers a bare 400 to a HEAD without the customer key of an SSE-C object,
        # and to a version id that is not one of the key's: the key's current version
        # tells them apart (it reads without a customer key unless it is SSE-C too).
        if ref.version_id and _readable(s3, ObjectRef(ref.bucket, ref.key), payer):
            return SourceMissing(
                f"{ref.url}: HeadObject answered 400 Bad Request, as S3 does for a version id that is not one of "
                f"this key's (s3://{ref.bucket}/{ref.key} itself reads; were this version SSE-C encrypted, "
                "MediaSync could not copy it either)")
        return _needs_customer_key(ref, "answered 400 Bad Request to HeadObject, as S3 does for SSE-C objects")
    if status == 404 and code in ("404", "NotFound"):
        # A missing bucket and a missing key both answer a bare 404 to HEAD.
        try:
            s3.head_bucket(Bucket=ref.bucket)
        except ClientError as bucket_err:
            if bucket_err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return BucketMissing(f"source bucket {ref.bucket!r} does not exist")
    return from_client_error(err, side="source", bucket=ref.bucket, key=ref.key)


@dataclass(frozen=True)
class CurrentVersion:
    """What a key's current version is: its id ("null" for an object written without
    versioning), or a delete marker's id when the key is deleted."""

    version_id: str
    delete_marker: bool = False


def _delete_marker_id(err: ClientError) -> str | None:
    headers = err.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return headers.get("x-amz-version-id") or "" if headers.get("x-amz-delete-marker") == "true" else None


def current_version(s3: Any, ref: ObjectRef, options: CopyOptions | None = None) -> CurrentVersion | None:
    """The current version of ``ref``'s key (HeadObject without a version); None when
    HeadObject cannot tell (the copy's own inspection then says what is wrong).

    A HEAD of a key whose current version is a delete marker answers 404 with
    ``x-amz-delete-marker: true`` and the marker's id in ``x-amz-version-id``
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
    """
    try:
        head = s3.head_object(Bucket=ref.bucket, Key=ref.key, **source_request_args(options))
    except ClientError as err:
        marker = _delete_marker_id(err)
        return CurrentVersion(marker, delete_marker=True) if marker is not None else None
    return CurrentVersion(head.get("VersionId") or "null")


OBJECT_VERSION = "object"
DELETE_MARKER_VERSION = "delete marker"


def version_kind(s3: Any, ref: ObjectRef, options: CopyOptions | None = None) -> str | None:
    """What the pinned version ``ref`` is: an object version, a delete marker (HEAD
    answers 405 with ``x-amz-delete-marker: true``), or None when HEAD finds neither."""
    try:
        s3.head_object(Bucket=ref.bucket, Key=ref.key, **ref.version_args(), **source_request_args(options))
    except ClientError as err:
        return DELETE_MARKER_VERSION if _delete_marker_id(err) is not None else None
    return OBJECT_VERSION


def inspect_source(s3: Any, ref: ObjectRef, options: CopyOptions | None = None) -> SourceObject:
    """HeadObject the source (with its checksum); for a multipart source also its part layout."""
    payer = source_request_args(options)
    try:
        head = s3.head_object(Bucket=ref.bucket, Key=ref.key, ChecksumMode="ENABLED", **ref.version_args(), **payer)
    except ClientError as err:
        raise _head_failure(s3, err, ref, payer) from err
    if head.get("DeleteMarker"):
        raise SourceMissing(f"{ref.url} is a delete marker")
    if head.get("SSECustomerAlgorithm"):
        raise _needs_customer_key(ref, "is encrypted with a customer-provided key")
    archived = _archived_message(head, ref)
    if archived:
        raise SourceArchived(archived)
    etag = quoted_etag(head["ETag"])
    size = head["ContentLength"]
    lock = ObjectLock.from_head(head)
    checksum = Checksum.from_response(head)
    part_checksums = False
    part_count = etag_part_count(etag)
    part_size = None
    runs = None
    layout_unknown = False
    if part_count:
        # The object ETag comes from the plain HEAD above: moto answers this one
        # with the part's ETag (and so fails an IfMatch on the object's ETag);
        # AWS and SeaweedFS with the object's.
        part_size = _part_length(s3, ref, 1, payer)
        # GetObjectAttributes serves both questions below: asked at most once.
        read_parts = functools.cache(lambda: object_parts(s3, ref, part_count, payer))
        if checksum and checksum.type == "COMPOSITE":
            parts = read_parts()
            part_checksums = parts is not None and all(part.get(f"Checksum{checksum.algorithm}") for part in parts)
        sizes = _uneven_part_sizes(s3, ref, size, part_count, part_size, payer, read_parts)
        if sizes == []:
            layout_unknown = True
        elif sizes:
            runs = [list(run) for run in part_runs(sizes)]
    return SourceObject(
        bucket=ref.bucket,
        key=ref.key,
        # Only the manifest pins a version: a key without one means "the current
        # object", and CopySourceIfMatch then fails the copy if it is replaced.
        version_id=ref.version_id,
        size=size,
        etag=etag,
        part_count=part_count,
        part_size=part_size,
        storage_class=head.get("StorageClass") or "STANDARD",
        content_type=head.get("ContentType"),
        metadata=dict(head.get("Metadata") or {}),
        part_runs=runs,
        layout_unknown=layout_unknown,
        checksum_algorithm=checksum.algorithm if checksum else None,
        checksum_value=checksum.value if checksum else None,
        checksum_type=checksum.type if checksum else None,
        part_checksums=part_checksums,
        encryption=head.get("ServerSideEncryption"),
        kms_key_id=head.get("SSEKMSKeyId"),
        website_redirect_location=head.get("WebsiteRedirectLocation"),
        lock_mode=lock.mode,
        lock_retain_until=lock.retain_until,
        legal_hold=lock.legal_hold,
    )


def _part_length(s3: Any, ref: ObjectRef, part_number: int, payer: dict[str, str]) -> int:
    with s3_errors("source", ref):
        head = s3.head_object(Bucket=ref.bucket, Key=ref.key, PartNumber=part_number, **ref.version_args(), **payer)
    return head["ContentLength"]


def _uneven_part_sizes(
    s3: Any, ref: ObjectRef, size: int, part_count: int, first: int, payer: dict[str, str],
    read_parts: Callable[[], list[dict[str, Any]] | None],
) -> list[int] | None:
    """Every part's size when they are not all ``first`` bytes (but the last); None when
    they are; [] when they could not be read.

    S3 does not require equal parts. Uploaders almost always use them, so part 1 and
    the last part decide: when both agree with equal parts, so is the layout taken to be.
    """
    if part_count == 1:
        return None
    if layout_fits(size, first, part_count):
        if _part_length(s3, ref, part_count, payer) == size - (part_count - 1) * first:
            return None
    parts = read_parts()
    sizes = [part["Size"] for part in parts] if parts and all("Size" in part for part in parts) else None
    if sizes is None and part_count <= MAX_PART_HEADS:
        with ThreadPoolExecutor(max_workers=8) as pool:
            sizes = [first, *pool.map(lambda n: _part_length(s3, ref, n, payer), range(2, part_count + 1))]
    if sizes is None or len(sizes) != part_count or sum(sizes) != size:
        return []
    return sizes


def object_parts(
    s3: Any, ref: ObjectRef, part_count: int, payer: dict[str, str] | None = None
) -> list[dict[str, Any]] | None:
    """Every part as GetObjectAttributes ObjectParts reports it (1,000 a page), in part
    order; None where the server (moto) or the object does not report them all."""
    parts: dict[int, dict[str, Any]] = {}
    marker = 0
    while len(parts) < part_count:
        try:
            response = s3.get_object_attributes(
                Bucket=ref.bucket, Key=ref.key, ObjectAttributes=["ObjectParts"], MaxParts=1000,
                PartNumberMarker=marker, **ref.version_args(), **(payer or {}),
            )
        except ClientError:
            return None
        page = (response.get("ObjectParts") or {}).get("Parts") or []
        if not page:
            break
        parts.update((part["PartNumber"], part) for part in page)
        marker = max(part["PartNumber"] for part in page)
        if not (response.get("ObjectParts") or {}).get("IsTruncated"):
            break
    if sorted(parts) != list(range(1, part_count + 1)):
        return None
    return [parts[n] for n in range(1, part_count + 1)]
