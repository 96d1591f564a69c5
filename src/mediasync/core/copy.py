"""Server-side copy calls: CopyObject, and the multipart upload lifecycle.

Every copy call carries ``CopySourceIfMatch`` with the ETag seen at inspection, so
a source replaced mid-copy fails loudly instead of producing a mixed object.
"""

from __future__ import annotations

import datetime
import hashlib
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from typing import Any, Callable
from urllib.parse import urlencode

from botocore.exceptions import ClientError

from mediasync.core.errors import MediaSyncError, PartsMissing, WorkerInterrupted, from_client_error, s3_errors
from mediasync.core.observability import logger
from mediasync.core.plan import Grouping, PartLayout
from mediasync.core.request_args import destination_write_args, source_request_args
from mediasync.core.settings import CopyOptions
from mediasync.core.source import Checksum, ObjectRef, SourceObject, etag_part_count, object_parts, quoted_etag

# HeadObject fields carried into CreateMultipartUpload, by allowlist (as s3transfer
# does): anything else HeadObject returns is about the source object, not its content.
HEAD_TO_CREATE_FIELDS = (
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "ContentType",
    "Expires",
    "Metadata",
    "WebsiteRedirectLocation",
)


@dataclass(frozen=True)
class CopyResult:
    etag: str
    version_id: str | None = None
    # For a multipart copy: the ETag S3 should have computed from the part ETags,
    # when those are plain MD5s (None when the server returns something else).
    expected_etag: str | None = None
    # What S3 said of the object it wrote, in the copy's own answer: its checksum
    # (CopyObjectResult, CompleteMultipartUpload) and encryption. Verify can prove
    # the content from these without reading the copy back.
    checksum: Checksum | None = None
    encryption: str | None = None

    @classmethod
    def from_response(cls, response: dict[str, Any], result: dict[str, Any], **extra: Any) -> "CopyResult":
        """``result`` is where the answer keeps ETag and checksum (CopyObjectResult, or the
        CompleteMultipartUpload answer itself); ``response`` has the headers."""
        return cls(etag=result["ETag"], version_id=response.get("VersionId"),
                   checksum=Checksum.from_response(result), encryption=response.get("ServerSideEncryption"), **extra)

    def to_state(self) -> dict[str, Any]:
        # Unversioned buckets answer VersionId "null" (moto) or nothing: not a pin.
        version = None if self.version_id in (None, "", "null") else self.version_id
        return {
            "etag": quoted_etag(self.etag), "version_id": version, "expected_etag": self.expected_etag,
            "checksum": asdict(self.checksum) if self.checksum else None, "encryption": self.encryption,
        }


def _checksum_args(algorithm: str | None, checksum_type: str | None = None) -> dict[str, str]:
    args = {"ChecksumAlgorithm": algorithm} if algorithm else {}
    if algorithm and checksum_type:
        args["ChecksumType"] = checksum_type
    return args


def copy_single(s3: Any, source: SourceObject, dest: ObjectRef, options: CopyOptions | None = None, *,
                checksum_algorithm: str | None = None) -> CopyResult:
    """CopyObject: metadata, Content-Type and tags come along by the COPY directives;
    ``checksum_algorithm`` asks S3 for the copy's checksum to compare with the source's."""
    try:
        response = s3.copy_object(
            Bucket=dest.bucket,
            Key=dest.key,
            CopySource=source.ref.copy_source(),
            CopySourceIfMatch=source.etag,
            MetadataDirective="COPY",
            TaggingDirective="COPY",
            **destination_write_args(options, source),
            **source_request_args(options),
            **_checksum_args(checksum_algorithm),
        )
    except ClientError as err:
        raise _copy_error(err, source, dest) from err
    return CopyResult.from_response(response, response["CopyObjectResult"])


def _copy_error(err: ClientError, source: SourceObject, dest: ObjectRef) -> MediaSyncError:
    """Blame the side the error is about: a copy call touches both buckets."""
    error = err.response.get("Error", {})
    code = error.get("Code", "")
    bucket_name = error.get("BucketName")
    if code == "NoSuchBucket" and bucket_name != source.bucket:
        return from_client_error(err, side="destination", bucket=dest.bucket, key=dest.key)
    # AWS's AccessDenied names no bucket. The source already passed HeadObject (the
    # same s3:GetObject a copy needs), so a refusal without a name is the destination's.
    if code == "NoSuchUpload" or (code == "AccessDenied" and bucket_name != source.bucket):
        return from_client_error(err, side="destination", bucket=dest.bucket, key=dest.key)
    # A missing source answers NoSuchKey with an S3 error body; a bare 404 (no body) is
    # the server failing to route the request, as for a destination key it cannot take.
    if code in ("404", "NotFound"):
        return from_client_error(err, side="destination", bucket=dest.bucket, key=dest.key)
    return from_client_error(err, side="source", bucket=source.bucket, key=source.key)


def _tagging(s3: Any, source: SourceObject, options: CopyOptions | None = None) -> str | None:
    with s3_errors("source", source):
        tags = s3.get_object_tagging(Bucket=source.bucket, Key=source.key, **source.ref.version_args(),
                                     **source_request_args(options))["TagSet"]
    return urlencode([(tag["Key"], tag["Value"]) for tag in tags]) or None


def create_upload(s3: Any, source: SourceObject, dest: ObjectRef, options: CopyOptions | None = None, *,
                  checksum_algorithm: str | None = None, checksum_type: str | None = None) -> str:
    """CreateMultipartUpload carrying the source's content headers, metadata, tags and class,
    and asking for the checksum (algorithm and type) that can equal the source's."""
    with s3_errors("source", source):
        head = s3.head_object(Bucket=source.bucket, Key=source.key, IfMatch=source.etag, **source.ref.version_args(),
                              **source_request_args(options))
    args = {name: head[name] for name in HEAD_TO_CREATE_FIELDS if head.get(name) is not None}
    tagging = _tagging(s3, source, options)
    if tagging:
        args["Tagging"] = tagging
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        response = s3.create_multipart_upload(Bucket=dest.bucket, Key=dest.key, **args,
                                              **destination_write_args(options, source),
                                              **_checksum_args(checksum_algorithm, checksum_type))
    except ClientError as err:
        if err.response.get("ResponseMetadata", {}).get("RetryAttempts"):
            abort_lost_uploads(s3, dest, "", started)
        raise from_client_error(err, side="destination", bucket=dest.bucket, key=dest.key) from err
    if response.get("ResponseMetadata", {}).get("RetryAttempts"):
        abort_lost_uploads(s3, dest, response["UploadId"], started)
    return response["UploadId"]


def abort_lost_uploads(s3: Any, dest: ObjectRef, upload_id: str, since: datetime.datetime) -> int:
    """Abort uploads of ``dest`` that a retried CreateMultipartUpload created but never heard of.

    When an answer is lost after S3 created the upload, botocore's retry creates a
    second one and the first stays open, unknown to anyone. Only uploads of this
    exact key initiated since the call began count (less a second for servers that
    round the time). Listing may be denied: the bucket's lifecycle rule then
    remains the guard.
    """
    since -= datetime.timedelta(seconds=1)
    aborted = 0
    try:
        uploads = [
            upload
            for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=dest.bucket, Prefix=dest.key)
            for upload in page.get("Uploads", [])
            if upload["Key"] == dest.key and upload["UploadId"] != upload_id
        ]
        ours = [u for u in uploads if u.get("Initiated") and u["Initiated"] >= since]
        if not ours and uploads and not _reports_initiation_times(uploads):
            # moto answers one fixed Initiated for every upload: the key is this
            # task's, so every other upload of it is the lost one.
            ours = uploads
        for upload in ours:
            aborted += abort_upload(s3, dest, upload["UploadId"])
    except (ClientError, MediaSyncError) as err:
        logger.warning("could not look for uploads a retried CreateMultipartUpload left open",
                       extra={"destination": dest.url, "reason": str(err)})
    return aborted


def _reports_initiation_times(uploads: list[dict[str, Any]]) -> bool:
    """Whether the server dates uploads at all: a date years before now is a constant."""
    oldest_plausible = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=3650)
    return any(upload.get("Initiated") and upload["Initiated"] > oldest_plausible for upload in uploads)


def copy_part(s3: Any, source: SourceObject, dest: ObjectRef, upload_id: str, layout: PartLayout, part: int,
              options: CopyOptions | None = None) -> str:
    start, end = layout.part_range(part)
    try:
        response = s3.upload_part_copy(
            Bucket=dest.bucket,
            Key=dest.key,
            UploadId=upload_id,
            PartNumber=part,
            CopySource=source.ref.copy_source(),
            CopySourceRange=f"bytes={start}-{end}",
            CopySourceIfMatch=source.etag,
            **source_request_args(options),
        )
    except ClientError as err:
        raise _copy_error(err, source, dest) from err
    return response["CopyPartResult"]["ETag"]


def copy_part_group(
    s3: Any,
    source: SourceObject,
    dest: ObjectRef,
    upload_id: str,
    layout: PartLayout,
    grouping: Grouping,
    group: int,
    *,
    concurrency: int,
    stop: threading.Event | None = None,
    on_part: Callable[[int, int], None] | None = None,
    options: CopyOptions | None = None,
) -> dict[str, int]:
    """Copy one group's parts with a small thread pool.

    Copying a part twice is harmless (the later upload of a part number wins), so a
    retried group simply starts over. ``stop`` (set on SIGTERM) stops taking new parts.
    """
    parts = grouping.parts(group, layout.part_count)
    copied = 0
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(parts)))) as pool:
        pending = set()
        todo = iter(parts)
        failure: BaseException | None = None
        while True:
            while failure is None and len(pending) < concurrency and not (stop and stop.is_set()):
                part = next(todo, None)
                if part is None:
                    break
                pending.add(pool.submit(copy_part, s3, source, dest, upload_id, layout, part, options))
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    failure = failure or future.exception()
                else:
                    copied += 1
                    if on_part:
                        on_part(copied, len(parts))
        if failure is not None:
            raise failure
    if copied < len(parts):
        raise WorkerInterrupted(f"stopped after {copied} of {len(parts)} parts of group {group}")
    return {"group": group, "parts": copied, "bytes": sum(layout.part_length(p) for p in parts)}


def list_parts(s3: Any, dest: ObjectRef, upload_id: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    paginator = s3.get_paginator("list_parts")
    with s3_errors("destination", dest):
        for page in paginator.paginate(Bucket=dest.bucket, Key=dest.key, UploadId=upload_id):
            parts.extend(page.get("Parts", []))
    return parts


def composite_etag(part_etags: list[str]) -> str | None:
    """The multipart ETag S3 computes from part ETags, if they are plain MD5s."""
    digests = []
    for etag in part_etags:
        hexdigest = etag.strip('"')
        if len(hexdigest) != 32 or etag_part_count(etag):
            return None
        try:
            digests.append(bytes.fromhex(hexdigest))
        except ValueError:
            return None
    return f'"{hashlib.md5(b"".join(digests)).hexdigest()}-{len(digests)}"'


def _part_checksums(
    listed: dict[int, dict[str, Any]], count: int, algorithm: str | None, s3: Any, source: SourceObject | None,
    options: CopyOptions | None,
) -> dict[int, str]:
    """Each part's checksum for CompleteMultipartUpload, which a composite checksum needs.

    AWS's ListParts reports them; SeaweedFS's does not, and then the source's own part
    checksums (GetObjectAttributes) stand in: a part copied with the source's layout
    has the same bytes, so the same checksum.
    """
    if not algorithm:
        return {}
    field = f"Checksum{algorithm}"
    checksums = {n: listed[n][field] for n in range(1, count + 1) if listed[n].get(field)}
    if len(checksums) < count and source is not None:
        source_parts = object_parts(s3, source.ref, count, source_request_args(options)) or []
        checksums = {**{part["PartNumber"]: part[field] for part in source_parts if part.get(field)}, **checksums}
    return checksums if len(checksums) == count else {}


def complete_upload(s3: Any, dest: ObjectRef, upload_id: str, layout: PartLayout, *,
                    checksum_algorithm: str | None = None, source: SourceObject | None = None,
                    options: CopyOptions | None = None) -> CopyResult:
    """Complete with the parts S3 lists, after checking every planned part is there,
    passing each part's checksum when the upload was created with ``checksum_algorithm``."""
    listed = {part["PartNumber"]: part for part in list_parts(s3, dest, upload_id)}
    missing = [n for n in range(1, layout.part_count + 1) if n not in listed]
    wrong_size = [n for n, part in listed.items() if n <= layout.part_count and part["Size"] != layout.part_length(n)]
    if missing or wrong_size:
        raise PartsMissing(
            f"upload {upload_id} for s3://{dest.bucket}/{dest.key} lacks parts {_ranges(missing)}"
            + (f"; parts {_ranges(wrong_size)} have the wrong size" if wrong_size else "")
        )
    etags = [listed[n]["ETag"] for n in range(1, layout.part_count + 1)]
    checksums = _part_checksums(listed, layout.part_count, checksum_algorithm, s3, source, options)
    parts = [
        {"PartNumber": n, "ETag": etag, **({f"Checksum{checksum_algorithm}": checksums[n]} if checksums else {})}
        for n, etag in enumerate(etags, 1)
    ]
    with s3_errors("destination", dest):
        response = s3.complete_multipart_upload(
            Bucket=dest.bucket,
            Key=dest.key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )
    return CopyResult.from_response(response, response, expected_etag=composite_etag(etags))


def abort_upload(s3: Any, dest: ObjectRef, upload_id: str) -> bool:
    """Abort; an upload that is already gone (aborted or completed) is fine."""
    try:
        s3.abort_multipart_upload(Bucket=dest.bucket, Key=dest.key, UploadId=upload_id)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("NoSuchUpload", "404"):
            return False
        raise from_client_error(err, side="destination", bucket=dest.bucket, key=dest.key) from err
    return True


def _ranges(numbers: list[int]) -> str:
    """[1,2,3,7] -> '1-3,7': keeps messages short when thousands of parts are missing."""
    spans: list[str] = []
    for n in sorted(numbers):
        if spans and spans[-1].split("-")[-1] == str(n - 1):
            spans[-1] = f"{spans[-1].split('-')[0]}-{n}"
        else:
            spans.append(str(n))
    return ",".join(spans) or "none"
