"""S3 Object Lock on the copies: what a run asks of each copy, what an object shows, and
whether a bucket can hold a lock at all.

A CopyObject copy keeps neither the source's retention nor its legal hold: the request
sets them (``ObjectLockMode``, ``ObjectLockRetainUntilDate``, ``ObjectLockLegalHoldStatus``
on CopyObject and CreateMultipartUpload), which needs s3:PutObjectRetention and
s3:PutObjectLegalHold, and only a bucket with Object Lock enabled takes them. HeadObject
shows an object's lock only to a caller granted s3:GetObjectRetention and
s3:GetObjectLegalHold: "If you GET or HEAD an object version but don't have the necessary
permissions to view its lock status, the request succeeds. However, it doesn't return
information that you don't have permission to view"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html). So a
stack that does not grant them must never be asked to keep a lock: it would see none and
copy none (core.s3batch_task refuses such a job).

Object Lock protects object *versions*: a DeleteObject without a version ID puts a delete
marker over a locked version and succeeds, and the locked version stays, billed, until its
retention ends. A move therefore keeps a locked source rather than hide it (core.move).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mediasync.core.times import iso_text, iso_time

if TYPE_CHECKING:
    from mediasync.core.settings import CopyOptions

# What --object-lock takes: copy each source's lock onto its copy, or not.
KEEP, OFF = "keep", "off"
OBJECT_LOCK_CHOICES = (KEEP, OFF)
MODES = ("GOVERNANCE", "COMPLIANCE")
LEGAL_HOLDS = ("ON", "OFF")


def parse_time(text: str | datetime.datetime) -> datetime.datetime:
    """ISO 8601 (a date, or a date and time; without a zone, UTC), or a datetime."""
    if isinstance(text, datetime.datetime):
        return text if text.tzinfo else text.replace(tzinfo=datetime.timezone.utc)
    try:
        return iso_time(str(text))
    except ValueError:
        raise ValueError(f"not a time: {text!r} (give ISO 8601, e.g. 2031-01-31 or 2031-01-31T18:00:00Z; "
                         "no zone: UTC)") from None


def time_text(when: str | datetime.datetime) -> str:
    """A time as this module keeps it: ISO 8601 in UTC, ``Z``, milliseconds only when there are some."""
    return iso_text(parse_time(when))


def _same_second(first: str | None, second: str | None) -> bool:
    """Retain-until dates S3 may give back at another precision than they were sent."""
    if not first or not second:
        return first == second
    return parse_time(first).replace(microsecond=0) == parse_time(second).replace(microsecond=0)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclass(frozen=True)
class ObjectLock:
    """One object's lock, or one copy's lock asked: a retention (a mode and the time it
    lasts until) and a legal hold. Empty: no lock."""

    mode: str | None = None
    retain_until: str | None = None  # time_text
    legal_hold: bool = False

    @classmethod
    def from_head(cls, head: dict[str, Any]) -> "ObjectLock":
        until = head.get("ObjectLockRetainUntilDate")
        return cls(head.get("ObjectLockMode") or None, time_text(until) if until else None,
                   head.get("ObjectLockLegalHoldStatus") == "ON")

    @property
    def empty(self) -> bool:
        return not (self.mode or self.legal_hold)

    def retained(self, now: datetime.datetime | None = None) -> bool:
        """Under a retention that has not ended."""
        return bool(self.mode and self.retain_until and parse_time(self.retain_until) > (now or _now()))

    def locked(self, now: datetime.datetime | None = None) -> bool:
        """Under a retention that has not ended, or a legal hold: S3 will not delete this version."""
        return self.retained(now) or self.legal_hold

    def request_args(self) -> dict[str, Any]:
        """The CopyObject and CreateMultipartUpload arguments that put this lock on the new object."""
        args: dict[str, Any] = {}
        if self.mode and self.retain_until:
            args["ObjectLockMode"] = self.mode
            args["ObjectLockRetainUntilDate"] = parse_time(self.retain_until)
        if self.legal_hold:
            args["ObjectLockLegalHoldStatus"] = "ON"
        return args

    def describe(self) -> str:
        parts = [f"{self.mode} retention until {self.retain_until}"] if self.mode else []
        parts += ["a legal hold"] if self.legal_hold else []
        return " and ".join(parts) or "no lock"

    def to_state(self) -> dict[str, Any]:
        return {"mode": self.mode, "retain_until": self.retain_until, "legal_hold": self.legal_hold}


NO_LOCK = ObjectLock()


def lock_requested(options: CopyOptions) -> bool:
    """Whether ``options`` ask any copy for a lock (the destination must then have Object Lock)."""
    return options.object_lock == KEEP or bool(options.object_lock_mode) or options.legal_hold == "ON"


def lock_asked(options: CopyOptions, source_lock: ObjectLock | None,
               now: datetime.datetime | None = None) -> ObjectLock | None:
    """The lock the copy of a source locked as ``source_lock`` must carry; None when it
    cannot be told (``keep`` asked, and the source's lock unknown: a listing shows none).

    ``keep`` copies the source's retention while it lasts (a retention that has ended
    cannot be set again: S3 refuses a retain-until date in the past) and its legal hold;
    a mode and date given, or a legal hold given, take the place of the source's.
    """
    mode = until = None
    hold = False
    if options.object_lock == KEEP:
        if source_lock is None:
            return None
        if source_lock.retained(now):
            mode, until = source_lock.mode, source_lock.retain_until
        hold = source_lock.legal_hold
    if options.object_lock_mode:
        mode, until = options.object_lock_mode, options.object_lock_retain_until
    if options.legal_hold:
        hold = options.legal_hold == "ON"
    return ObjectLock(mode, until, hold)


def lock_problems(asked: ObjectLock, seen: ObjectLock) -> list[str]:
    """What of the ``asked`` lock the object (``seen``) lacks. A lock the destination
    bucket's default retention added beyond it is no problem: it was not asked against."""
    problems = []
    if asked.mode and (seen.mode != asked.mode or not _same_second(seen.retain_until, asked.retain_until)):
        held = f"{seen.mode} retention until {seen.retain_until}" if seen.mode else "no retention"
        problems.append(f"Object Lock {held}, asked {asked.mode} until {asked.retain_until}")
    if asked.legal_hold and not seen.legal_hold:
        problems.append("no legal hold, asked one")
    return problems


def lock_bucket_problem(s3: Any, bucket: str) -> str | None:
    """Why ``bucket`` cannot hold the locks asked (Object Lock not enabled), or None.

    GetObjectLockConfiguration: "If you make a request for an Object Lock configuration
    on a bucket that doesn't have S3 Object Lock enabled, Amazon S3 returns an error"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html),
    ObjectLockConfigurationNotFoundError. Other errors are the caller's to name."""
    from botocore.exceptions import ClientError

    try:
        config = s3.get_object_lock_configuration(Bucket=bucket).get("ObjectLockConfiguration") or {}
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "ObjectLockConfigurationNotFoundError":
            raise
        config = {}
    if config.get("ObjectLockEnabled") == "Enabled":
        return None
    return (f"destination bucket {bucket!r} does not have Object Lock enabled, so no copy in it can carry a "
            "retention or a legal hold: enable Object Lock on the bucket (versioning comes with it), or copy "
            "without asking for a lock")
