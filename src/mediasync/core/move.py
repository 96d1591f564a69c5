"""Moving: each source deleted once its copy is proved, as ``aws s3 mv`` deletes it.

The delete runs in batch_invoke, after the task's outcome is known (core.s3batch_task):
one place for a copy just verified and for an object the skip-existing check proved
already copied, on AWS as in the local S3 Batch emulation; and a delete that fails can
only leave the source in place, never turn the copy into a failure.

A source is deleted only when all of these hold, and kept otherwise, the report saying why:

- the copy was proved by its **content** (verify.proves_content: a checksum, or MD5
  ETags); size and part layout alone never delete a source;
- the source is under no Object Lock retention nor legal hold. S3 would not refuse the
  delete: without a version ID it puts a delete marker over the locked version, which
  stays, billed, until its retention ends
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html);
  hiding what someone locked is not moving it;
- it still has the ETag its copy was made from: DeleteObject with ``If-Match``
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html; it
  needs s3:GetObject beside s3:DeleteObject, and applies to the current version only)
  answers 412 for a source rewritten since, and leaves it.

The delete names no version: on a versioned source S3 puts a delete marker over the
current version, which stays as a noncurrent version (recoverable, and billed until a
lifecycle rule expires it), as ``aws s3 mv`` leaves it. A specific version is never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mediasync.core.object_lock import ObjectLock
from mediasync.core.request_args import source_request_args
from mediasync.core.settings import CopyOptions
from mediasync.core.source import ObjectRef
from mediasync.core.verify import proves_content

# The outcome code of a task whose source was deleted; a kept source adds SOURCE_KEPT and
# the reason to the copy's own message (Copied, AlreadyCopied).
MOVED = "Moved"
SOURCE_KEPT = "source kept: "


@dataclass(frozen=True)
class MoveResult:
    moved: bool
    note: str  # what became of the source, for the report


def kept(reason: str) -> MoveResult:
    return MoveResult(False, SOURCE_KEPT + reason)


def move_source(s3: Any, source: ObjectRef, etag: str | None, method: str, lock: ObjectLock,
                options: CopyOptions) -> MoveResult:
    """Delete ``source`` (its key: never a version) if its copy, proved by ``method``, may
    stand for it and it still has ``etag``; else keep it and say why."""
    where = f"s3://{source.bucket}/{source.key}"
    if not proves_content(method):
        return kept(f"the copy was verified by {method}, which does not prove its content (only an S3 checksum or "
                    "MD5 ETags do), so the source is not deleted")
    if lock.locked():
        return kept(f"{where} is locked ({lock.describe()}): deleting it would only hide the locked version behind "
                    "a delete marker")
    if not etag:
        return kept("the copy's execution does not say which source ETag it copied")
    try:
        answer = s3.delete_object(Bucket=source.bucket, Key=source.key, IfMatch=etag, **source_request_args(options))
    except ClientError as err:
        return _refused(err, where, etag)
    except BotoCoreError as err:
        return kept(f"DeleteObject of {where} got no answer ({err}): it may or may not be deleted; run the job again "
                    "to move it")
    if answer.get("DeleteMarker"):
        return MoveResult(True, f"source {where} deleted: a delete marker (version {answer.get('VersionId')}) now "
                                "hides it, its version kept by the bucket's versioning")
    return MoveResult(True, f"source {where} deleted")


def _refused(err: ClientError, where: str, etag: str) -> MoveResult:
    """What a DeleteObject If-Match answered with an error means: 412 the ETag no longer
    matches, 404 no object to match, 409 a write or delete at the same moment
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html)."""
    error = err.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if status == 412 or code == "PreconditionFailed":
        return kept(f"{where} changed since it was copied (its ETag is no longer {etag}): not deleted")
    if status == 404 or code == "NoSuchKey":
        return MoveResult(True, f"source {where} was already gone (deleted by someone else since its copy)")
    if status == 409:
        return kept(f"{where} was written or deleted by someone else at the same moment (409 Conflict): run the job "
                    "again to move it")
    return kept(f"DeleteObject of {where} failed ({code or status}: {error.get('Message') or ''}); run the job again "
                "to move it")
