"""Object Lock on the copies, through batch_invoke and the real state machines: kept from
each source or set by the job, on CopyObject and multipart copies, and checked by Verify.

AWS rules relied on (core.object_lock): CopyObject and CreateMultipartUpload set a copy's
lock only from their ObjectLock* headers (a copy keeps none of its source's otherwise); only
a bucket with Object Lock enabled holds a lock
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html); HeadObject shows
a lock only to a role granted s3:GetObjectRetention and s3:GetObjectLegalHold
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html; client
rule lock_status_hidden). moto's CreateMultipartUpload drops the headers: the local runtime's
fidelity patch (local/moto_patches.py) gives the completed object its lock, as AWS does.
"""

from __future__ import annotations

import datetime

import pytest

from mediasync.core.object_lock import time_text
from mediasync.core.settings import MiB, reset_settings
from tests.conftest import batch_event, put_multipart
from tests.faults.aws_rules import lock_status_hidden, on_handler_clients

ARGS = {"destinationBucket": "vault", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB)}
SIZES = pytest.mark.parametrize("size", [100, 17 * MiB], ids=["CopyObject", "multipart"])


def _in(days: int) -> datetime.datetime:
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)).replace(microsecond=0)


@pytest.fixture
def locked(s3):
    """A source bucket and a destination bucket, both with Object Lock (versioning comes with it)."""
    for bucket in ("src", "vault"):
        s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    return s3


def _put(s3, key, size, **lock):
    if size > 16 * MiB:
        put_multipart(s3, "src", key, size, 8 * MiB, **lock)
    else:
        s3.put_object(Bucket="src", Key=key, Body=b"x" * size, ChecksumAlgorithm="SHA256", **lock)


def _lock(s3, key):
    head = s3.head_object(Bucket="vault", Key=key)
    until = head.get("ObjectLockRetainUntilDate")
    return head.get("ObjectLockMode"), time_text(until) if until else None, head.get("ObjectLockLegalHoldStatus")


@SIZES
def test_keep_gives_each_copy_its_sources_retention_and_legal_hold(runtime, locked, size):
    until = _in(3)
    _put(locked, "master.mov", size, ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until,
         ObjectLockLegalHoldStatus="ON")
    _put(locked, "proxy.mov", size)

    for task, key in (("t1", "master.mov"), ("t2", "proxy.mov")):
        result = runtime.invoke("batch_invoke", batch_event("job-1", task, "src", key,
                                                            user_arguments={**ARGS, "objectLock": "keep"}))
        assert result["results"][0]["resultCode"] == "Succeeded", result

    assert _lock(locked, "master.mov") == ("COMPLIANCE", time_text(until), "ON")
    assert _lock(locked, "proxy.mov") == (None, None, None), "a source without a lock gives its copy none"


@SIZES
def test_a_mode_and_date_and_a_legal_hold_asked_are_set_on_every_copy(runtime, locked, size):
    _put(locked, "clip.mov", size, ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=_in(1))
    until = _in(400)
    arguments = {**ARGS, "objectLock": "keep", "objectLockMode": "governance",
                 "objectLockRetainUntil": until.isoformat(), "legalHold": "on"}

    result = runtime.invoke("batch_invoke", batch_event("job-1", "t1", "src", "clip.mov", user_arguments=arguments))

    assert result["results"][0]["resultCode"] == "Succeeded", result
    assert _lock(locked, "clip.mov") == ("GOVERNANCE", time_text(until), "ON")


def test_verify_finds_a_copy_without_the_lock_asked(runtime, locked):
    """No answer to a copy shows its lock: Verify reads it back. A copy that lost its legal
    hold before Verify is no copy as asked, and is deleted."""
    _put(locked, "clip.mov", 100)

    def release(name, event):
        if name == "verify_copy":
            locked.put_object_legal_hold(Bucket="vault", Key="clip.mov", LegalHold={"Status": "OFF"})

    runtime.before_invoke = release
    result = runtime.invoke("batch_invoke", batch_event("job-1", "t1", "src", "clip.mov",
                                                        user_arguments={**ARGS, "legalHold": "on"}))

    row = result["results"][0]
    assert row["resultCode"] == "PermanentFailure", row
    assert row["resultString"].startswith("VerificationFailed:") and "no legal hold, asked one" in row["resultString"]
    assert "the destination object was deleted" in row["resultString"]


def test_a_destination_without_object_lock_is_refused_before_any_copy(runtime, s3):
    s3.create_bucket(Bucket="src")
    s3.create_bucket(Bucket="vault")
    put_multipart(s3, "src", "master.mov", 17 * MiB, 8 * MiB)

    result = runtime.invoke("batch_invoke", batch_event("job-1", "t1", "src", "master.mov",
                                                        user_arguments={**ARGS, "objectLock": "keep"}))

    row = result["results"][0]
    assert row["resultCode"] == "PermanentFailure", row
    assert row["resultString"].startswith("InvalidTask: destination bucket 'vault' does not have Object Lock enabled")
    assert s3.list_objects_v2(Bucket="vault").get("KeyCount") == 0
    assert s3.list_multipart_uploads(Bucket="vault").get("Uploads", []) == []


def test_a_stack_that_may_not_lock_refuses_keep_rather_than_copy_without_the_lock(runtime, locked, monkeypatch):
    """A stack deployed with ObjectLock=off grants no s3:GetObjectRetention: HeadObject would
    show no lock and keep would copy none, silently. The job is refused by name instead."""
    _put(locked, "master.mov", 100, ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=_in(2))
    monkeypatch.setenv("MEDIASYNC_OBJECT_LOCK_ALLOWED", "false")
    reset_settings()
    try:
        with on_handler_clients("s3", lock_status_hidden):
            result = runtime.invoke("batch_invoke", batch_event("job-1", "t1", "src", "master.mov",
                                                                user_arguments={**ARGS, "objectLock": "keep"}))
    finally:
        monkeypatch.delenv("MEDIASYNC_OBJECT_LOCK_ALLOWED")
        reset_settings()

    row = result["results"][0]
    assert row["resultCode"] == "PermanentFailure", row
    assert row["resultString"].startswith("InvalidTask: the job asks Object Lock") and "ObjectLock=allowed or keep" in row[
        "resultString"]
    assert locked.list_objects_v2(Bucket="vault").get("KeyCount") == 0


def test_an_earlier_copy_without_the_lock_asked_is_copied_again(runtime, locked):
    """The skip-existing check compares the lock too (core.requested)."""
    _put(locked, "clip.mov", 100, ObjectLockLegalHoldStatus="ON")
    plain = runtime.invoke("batch_invoke", batch_event("job-1", "t1", "src", "clip.mov", user_arguments=ARGS))
    assert plain["results"][0]["resultString"].startswith("Copied:")

    kept = runtime.invoke("batch_invoke", batch_event("job-2", "t1", "src", "clip.mov",
                                                      user_arguments={**ARGS, "objectLock": "keep"}))
    again = runtime.invoke("batch_invoke", batch_event("job-3", "t1", "src", "clip.mov",
                                                       user_arguments={**ARGS, "objectLock": "keep"}))

    assert kept["results"][0]["resultString"].startswith("Copied:"), kept
    assert again["results"][0]["resultString"].startswith("AlreadyCopied:"), again
    assert _lock(locked, "clip.mov")[2] == "ON"
