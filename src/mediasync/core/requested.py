"""Whether a destination object holds what a run asks of a copy, besides the source's bytes.

"Already copied" means the destination holds the source's content **and** what this
run asks for: its storage class (the job's, else the source's), with
``sse_kms_key_id`` SSE-KMS under that key (and the Bucket Key setting asked), and the
Object Lock asked (core.object_lock). An object copied by an earlier run with other
options is copied again. This is the one
decision the task's skip-existing check (``verify.already_copied``, from HeadObject)
and the sync plan (``manifests.sync_plan``, from a listing) both make.

What a view does not show is *unknown*, never taken as met: a listing shows the
storage class but not the encryption nor any lock, so the sync plan leaves such an
object to the task's check; no view shows an object's ACL (GetObjectAcl would), so the check says
it did not look. User metadata and Content-Type are the source's own and are compared
with it elsewhere (``verify``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mediasync.core.object_lock import ObjectLock, lock_asked, lock_problems, lock_requested
from mediasync.core.request_args import class_asked
from mediasync.core.settings import CopyOptions

ACL_NOT_SHOWN = "its ACL (no HeadObject or listing shows one)"


@dataclass(frozen=True)
class Seen:
    """What one view shows of a destination object; None where it shows nothing."""

    storage_class: str | None = None
    # Whether the view shows encryption at all (HeadObject does, a listing does not).
    shows_encryption: bool = False
    encryption: str | None = None
    kms_key_id: str | None = None
    bucket_key_enabled: bool | None = None
    # None where the view shows no lock (a listing); HeadObject shows it to a role granted it.
    lock: ObjectLock | None = None

    @classmethod
    def from_head(cls, head: dict[str, Any]) -> "Seen":
        # HeadObject names the class only when it is not STANDARD.
        return cls(head.get("StorageClass") or "STANDARD", True, head.get("ServerSideEncryption"),
                   head.get("SSEKMSKeyId"), bool(head.get("BucketKeyEnabled")), ObjectLock.from_head(head))

    @classmethod
    def from_listing(cls, listed_storage_class: str | None) -> "Seen":
        return cls(listed_storage_class or "STANDARD")


@dataclass(frozen=True)
class Unmet:
    """What the object plainly lacks (copy it again), and what this view cannot tell."""

    differs: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


def same_kms_key(held: str | None, asked: str) -> bool | None:
    """Whether ``held`` (the key ARN S3 reports) is the key ``asked`` names (an ARN or a
    key id); None for an alias, which S3 never reports back."""
    if asked.startswith("alias/") or ":alias/" in asked:
        return None
    return bool(held) and (held == asked or str(held).endswith(f":key/{asked}"))


def unmet_requests(options: CopyOptions, source_storage_class: str | None, seen: Seen,
                   source_lock: ObjectLock | None = None) -> Unmet:
    """What ``seen`` (a destination object) lacks of what ``options`` ask of a copy of a
    source in ``source_storage_class``, locked as ``source_lock`` (None: not known)."""
    differs: list[str] = []
    unknown: list[str] = []
    wanted = class_asked(options, source_storage_class)
    if seen.storage_class is None:
        unknown.append("its storage class")
    elif seen.storage_class != wanted:
        differs.append(f"storage class {seen.storage_class}, asked {wanted}")
    if options.sse_kms_key_id:
        if not seen.shows_encryption:
            unknown.append("its encryption")
        else:
            same = same_kms_key(seen.kms_key_id, options.sse_kms_key_id) if seen.encryption == "aws:kms" else False
            if same is None:
                unknown.append(f"whether its KMS key {seen.kms_key_id} is {options.sse_kms_key_id}")
            elif not same:
                held = f"KMS key {seen.kms_key_id}" if seen.encryption == "aws:kms" else seen.encryption or "no SSE-KMS"
                differs.append(f"encrypted with {held}, asked KMS key {options.sse_kms_key_id}")
            elif options.bucket_key_enabled is not None and seen.bucket_key_enabled != options.bucket_key_enabled:
                differs.append(f"S3 Bucket Key {'on' if seen.bucket_key_enabled else 'off'}, asked "
                               f"{'on' if options.bucket_key_enabled else 'off'}")
    if options.acl:
        unknown.append(ACL_NOT_SHOWN)
    if lock_requested(options):
        asked = lock_asked(options, source_lock)
        if asked is None or seen.lock is None:
            unknown.append("its Object Lock")
        else:
            differs += lock_problems(asked, seen.lock)
    return Unmet(tuple(differs), tuple(unknown))

