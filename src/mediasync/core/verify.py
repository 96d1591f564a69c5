"""Check the destination against the source before anything is reported copied."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from mediasync.core.errors import AccessDenied, VerificationFailed, from_client_error, s3_errors
from mediasync.core.object_lock import NO_LOCK, ObjectLock, lock_problems
from mediasync.core.plan import Plan
from mediasync.core.requested import Seen, unmet_requests
from mediasync.core.settings import CopyOptions
from mediasync.core.source import Checksum, ObjectRef, SourceObject, etag_is_md5, etag_part_count, quoted_etag


@dataclass(frozen=True)
class Verification:
    # "checksum-<ALGORITHM>", "etag", "composite-etag" or "size-and-layout"
    method: str
    message: str

    def to_state(self) -> dict[str, str]:
        return {"method": self.method, "message": self.message}


def proves_content(method: str) -> bool:
    """Whether a verification ``method`` proves the copy holds the source's bytes: an S3
    checksum equal on both sides, or MD5 ETags equal. A composite ETag only shows the
    copy is made of the parts that were copied, and size and layout show no bytes at all:
    enough to report a copy, not to delete its source (core.move)."""
    return method == "etag" or method.startswith("checksum-")


def _head(s3: Any, dest: ObjectRef, **extra: Any) -> dict[str, Any]:
    with s3_errors("destination", dest):
        return s3.head_object(Bucket=dest.bucket, Key=dest.key, **dest.version_args(), **extra)


def _same_attributes(head: dict[str, Any], source: SourceObject) -> list[str]:
    """Size, user metadata, Content-Type and website redirect: what every method checks."""
    problems = []
    if head["ContentLength"] != source.size:
        problems.append(f"size {head['ContentLength']} != source {source.size}")
    if (head.get("Metadata") or {}) != (source.metadata or {}):
        problems.append("user metadata differs")
    if source.content_type and head.get("ContentType") != source.content_type:
        problems.append(f"Content-Type {head.get('ContentType')!r} != {source.content_type!r}")
    if head.get("WebsiteRedirectLocation") != source.website_redirect_location:
        problems.append(f"website redirect {head.get('WebsiteRedirectLocation')!r} != source "
                        f"{source.website_redirect_location!r}")
    return problems


def _checksum_proof(
    ours: Checksum | None, source: SourceObject, where: str = ""
) -> tuple[Verification | None, list[str]]:
    """An S3 additional checksum of the same algorithm and type on both sides: content
    proof that holds under any encryption. ``where`` says where the copy's was read."""
    theirs = source.checksum
    if ours is None or theirs is None or not theirs.comparable(ours):
        return None, []
    if ours.value != theirs.value:
        return None, [f"{ours.describe()} checksum{where} {ours.value} != source {theirs.value}"]
    return Verification(f"checksum-{ours.algorithm}", f"{ours.describe()} checksum{where} equals the source's"), []


def check_copy(
    s3: Any,
    source: SourceObject,
    dest: ObjectRef,
    plan: Plan,
    *,
    etag: str,
    expected_etag: str | None,
    lock: ObjectLock = NO_LOCK,
) -> Verification:
    """Prove the destination holds the source's content, and the Object Lock asked
    (``lock``); raise VerificationFailed on any difference.

    The strongest proof available names the method: a checksum S3 computed on both
    sides; else ETag equality where both ETags are MD5s (no SSE-KMS, DSSE-KMS or
    SSE-C) and the layouts match; else the multipart ETag computed from the copied
    parts; else size, part layout and metadata only, and the message says so. Every
    check that applies must pass, whichever names the method.
    """
    head = _head(s3, dest, ChecksumMode="ENABLED")
    head["ETag"] = quoted_etag(head.get("ETag"))
    problems = _same_attributes(head, source) + lock_problems(lock, ObjectLock.from_head(head))
    if head["ETag"] != etag:
        problems.append(f"ETag {head['ETag']} != the one the copy returned, {etag}")
    proof, mismatch = _checksum_proof(Checksum.from_response(head), source)
    problems += mismatch
    md5_etags = source.etag_is_md5 and etag_is_md5(head)

    etag_proof: Verification | None = None
    if plan.route == "single" and source.multipart:
        pass  # parts under 5 MiB were joined by CopyObject: no ETag can match.
    elif md5_etags and (plan.route == "single" or (plan.reuses_source_layout and expected_etag is not None)):
        etag_proof = Verification("etag", "ETag equals the source's")
        if head["ETag"] != source.etag:
            problems.append(f"ETag {head['ETag']} != source {source.etag}")
    elif expected_etag is not None:
        etag_proof = Verification(
            "composite-etag",
            f"the ETag is the one computed from the {plan.part_count} copied parts' ETags; size and part layout match",
        )
        if head["ETag"] != expected_etag:
            problems.append(f"ETag {head['ETag']} != {expected_etag} computed from the parts")

    if plan.route == "multipart" and not problems:
        problems += _layout_problems(s3, dest, plan, head["ETag"])

    if problems:
        raise VerificationFailed(f"s3://{dest.bucket}/{dest.key}: " + "; ".join(problems))
    return proof or etag_proof or Verification("size-and-layout", _unprovable(source, head, plan))


def proof_from_response(source: SourceObject, plan: Plan, copied: dict[str, Any]) -> Verification | None:
    """The proof S3's answer to the copy itself carries, where it is as strong as
    reading the copy back; None where only a read-back can tell (Verify then reads).

    CopyObjectResult and CompleteMultipartUpload's answer give the new object's
    ETag, its checksum (where asked for) and its encryption, computed by S3 from the
    bytes it wrote. A checksum of the same algorithm and type as the source's, or a
    single-part copy's MD5 ETag equal to the source's, proves the bytes; equal bytes
    have the source's size, and the COPY directives (the allowlist of a multipart
    copy) carry its metadata. A multipart copy must also show its planned part count.
    Raises VerificationFailed where the answer disproves the copy.
    """
    etag = quoted_etag(copied.get("etag"))
    if plan.route == "multipart" and etag_part_count(etag) != plan.part_count:
        return None
    state = copied.get("checksum")
    proof, mismatch = _checksum_proof(Checksum(**state) if state else None, source, " in S3's answer to the copy")
    if mismatch:
        raise VerificationFailed("; ".join(mismatch))
    if proof is not None:
        return proof
    md5_etags = source.etag_is_md5 and etag_is_md5({"ServerSideEncryption": copied.get("encryption")})
    if plan.route == "single" and not source.multipart and md5_etags and etag == source.etag:
        return Verification("etag", "ETag in S3's answer to the copy equals the source's")
    return None


def _layout_problems(s3: Any, dest: ObjectRef, plan: Plan, etag: str) -> list[str]:
    if etag_part_count(etag) != plan.part_count:
        return [f"ETag {etag} does not show {plan.part_count} parts"]
    first = _head(s3, dest, PartNumber=1)
    problems = []
    if first["ContentLength"] != plan.layout.part_length(1):
        problems.append(f"part 1 is {first['ContentLength']} bytes, planned {plan.layout.part_length(1)}")
    if first.get("PartsCount") not in (None, plan.part_count):
        problems.append(f"PartsCount {first.get('PartsCount')} != {plan.part_count}")
    return problems


def _unprovable(source: SourceObject, head: dict[str, Any], plan: Plan) -> str:
    """Why no check could prove the content, for the report."""
    reasons = []
    if source.checksum is None:
        reasons.append("the source has no S3 checksum")
    else:
        reasons.append(f"the copy has no {source.checksum.describe()} checksum to compare")
    if not (source.etag_is_md5 and etag_is_md5(head)):
        reasons.append("SSE-KMS/SSE-C ETags are not MD5s")
    elif plan.route == "single":
        reasons.append("the source's parts were under 5 MiB, so CopyObject joined them")
    else:
        reasons.append("the server's part ETags are not MD5s")
    layout = "size, part layout and metadata" if plan.route == "multipart" else "size and metadata"
    return f"content not provable ({'; '.join(reasons)}): verified {layout}"


def discard(s3: Any, dest: ObjectRef, etag: str) -> bool:
    """Remove a copy that failed verification (absent beats wrong), and only that copy:
    its version where the bucket keeps versions, else the object only while it still has
    the copy's ETag, a conditional delete
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html; it
    needs s3:GetObject beside s3:DeleteObject). False when another writer's object has
    replaced the copy since: that one is left alone."""
    try:
        s3.delete_object(Bucket=dest.bucket, Key=dest.key, **(dest.version_args() or {"IfMatch": etag}))
    except ClientError as err:
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 412 or err.response.get("Error", {}).get("Code") == "PreconditionFailed":
            return False
        raise from_client_error(err, side="destination", bucket=dest.bucket, key=dest.key) from err
    return True


def already_copied(s3: Any, source: SourceObject, dest: ObjectRef, options: CopyOptions | None = None) -> Verification | None:
    """The proof that the destination already holds this exact source as this run asks
    for it (``requested.unmet_requests``: storage class, KMS key), or None.

    Used to skip objects a previous, interrupted run already copied. Only content
    proof counts (a checksum, or MD5 ETags equal): size and metadata alone would
    leave a different object of the same size in place, so such an object is
    copied again; so is one held in another class or under another key than asked.

    Only a 404 means absent. A refusal is "cannot tell", never "absent": taken for
    absent, it turned skip-existing off without a word and every resumed job copied
    everything again (new versions in a versioned bucket).
    """
    try:
        head = s3.head_object(Bucket=dest.bucket, Key=dest.key, ChecksumMode="ENABLED")
    except ClientError as err:
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404:
            return None
        if status == 403:
            raise AccessDenied(_cannot_tell(dest)) from err
        raise from_client_error(err, side="destination", bucket=dest.bucket, key=dest.key) from err
    if _same_attributes(head, source):
        return None
    unmet = unmet_requests(options or CopyOptions(), source.storage_class, Seen.from_head(head), source.lock)
    if unmet.differs:
        return None
    proof, mismatch = _checksum_proof(Checksum.from_response(head), source)
    if mismatch:
        return None
    if proof is None and source.etag_is_md5 and etag_is_md5(head) and quoted_etag(head.get("ETag")) == source.etag:
        proof = Verification("etag", "ETag equals the source's")
    if proof is not None and unmet.unknown:
        proof = replace(proof, message=f"{proof.message}; not checked: {', '.join(unmet.unknown)}")
    return proof


def _cannot_tell(dest: ObjectRef) -> str:
    # HeadObject with ChecksumMode=ENABLED on an SSE-KMS object needs kms:Decrypt
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
    return (
        f"access denied to destination {dest.url}: cannot tell whether it already holds this object (HeadObject "
        "was denied), so it was not copied again blindly. The role needs s3:GetObject and s3:ListBucket on the destination and, when the "
        "destination bucket encrypts with a customer managed KMS key by default, kms:Decrypt on that key: set "
        "DestinationKmsKeyArn to it (make install), or run with --no-skip-existing to copy without looking"
    )
