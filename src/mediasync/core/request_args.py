"""Copy options -> the extra arguments of the S3 calls that carry them.

Pure functions: what a call sends depends on the job's options (and, for the
destination, on the source's storage class), never on the call site.

- Requester Pays: S3 answers 403 to a request on a Requester Pays bucket that does
  not carry ``x-amz-request-payer: requester``
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ObjectsinRequesterPaysBuckets.html);
  on CopyObject and UploadPartCopy the one header covers both buckets ("If either
  the source or destination S3 bucket has Requester Pays enabled, the requester
  will pay", https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html).
- Storage class: CopyObject writes STANDARD unless told otherwise, so the source's
  class is sent explicitly unless the job overrides it.
- SSE-KMS: ``SSEKMSKeyId`` is honoured only with ``ServerSideEncryption=aws:kms``;
  ``BucketKeyEnabled`` only with SSE-KMS.
- Object Lock: a copy keeps none of its source's unless the request sets it
  (core.object_lock).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mediasync.core.object_lock import NO_LOCK, ObjectLock, lock_asked
from mediasync.core.settings import CopyOptions

if TYPE_CHECKING:
    from mediasync.core.source import SourceObject

# Not sent: every server applies it when no class is named, and some S3-compatible
# servers accept only a few class names.
DEFAULT_STORAGE_CLASS = "STANDARD"
REQUESTER = {"RequestPayer": "requester"}


def source_request_args(options: CopyOptions | None) -> dict[str, str]:
    """Arguments for every call that reads the source: HeadObject, GetObjectTagging,
    CopyObject, UploadPartCopy, ListObjectsV2, ListObjectVersions."""
    return dict(REQUESTER) if options is not None and options.requester_pays else {}


def storage_class(options: CopyOptions | None, source: SourceObject) -> str:
    """The class the copy is written in: the job's override, else the source's."""
    return class_asked(options, source.storage_class)


def class_asked(options: CopyOptions | None, source_class: str | None) -> str:
    """The class a copy of a source in ``source_class`` is written in."""
    return (options.storage_class if options is not None else "") or source_class or DEFAULT_STORAGE_CLASS


def destination_write_args(options: CopyOptions | None, source: SourceObject) -> dict[str, Any]:
    """Arguments for the calls that create the destination object: CopyObject and
    CreateMultipartUpload (UploadPartCopy and CompleteMultipartUpload inherit them)."""
    options = options if options is not None else CopyOptions()
    args: dict[str, Any] = {}
    chosen = storage_class(options, source)
    if chosen != DEFAULT_STORAGE_CLASS:
        args["StorageClass"] = chosen
    if options.sse_kms_key_id:
        args["ServerSideEncryption"] = "aws:kms"
        args["SSEKMSKeyId"] = options.sse_kms_key_id
        if options.bucket_key_enabled is not None:
            args["BucketKeyEnabled"] = options.bucket_key_enabled
    if options.acl:
        args["ACL"] = options.acl
    args.update(copy_lock(options, source).request_args())
    return args


def copy_lock(options: CopyOptions | None, source: SourceObject) -> ObjectLock:
    """The Object Lock the copy of ``source`` is written with (none unless asked)."""
    if options is None:
        return NO_LOCK
    # Never None here: the source's own lock is known (inspected).
    return lock_asked(options, source.lock) or NO_LOCK
