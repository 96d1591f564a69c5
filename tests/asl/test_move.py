"""Move: the source deleted once its copy is proved by its content, through batch_invoke and
the real state machines (core.move), and kept, with the reason in its row, otherwise.

AWS rules relied on: DeleteObject with If-Match deletes only the object with that ETag and
answers 412 otherwise, and applies to the current version
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html; moto 5.2.6
enforces it); a delete without a version ID on a versioned bucket puts a delete marker and
keeps the version (https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeleteMarker.html).
"""

from __future__ import annotations

import hashlib

import pytest
from botocore.exceptions import ClientError

from mediasync.core.s3batch_task import SUCCEEDED, TaskOutcome, _moved
from mediasync.core.settings import CopyOptions, MiB, reset_settings
from mediasync.core.source import ObjectRef, inspect_source
from tests.conftest import batch_event, put_multipart

ARGS = {"destinationBucket": "dst", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB), "move": "true"}


def _md5(s3, bucket, key, **version):
    return hashlib.md5(s3.get_object(Bucket=bucket, Key=key, **version)["Body"].read()).hexdigest()


def _gone(s3, bucket, key) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        return err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    return False


@pytest.mark.parametrize("size", [100, 17 * MiB], ids=["CopyObject", "multipart"])
def test_a_proved_copy_moves_its_versioned_source_behind_a_delete_marker(runtime, buckets, size):
    buckets.put_bucket_versioning(Bucket="src", VersioningConfiguration={"Status": "Enabled"})
    if size > 16 * MiB:
        put_multipart(buckets, "src", "clip.mov", size, 8 * MiB)
    else:
        buckets.put_object(Bucket="src", Key="clip.mov", Body=b"x" * size)
    version = buckets.head_object(Bucket="src", Key="clip.mov")["VersionId"]
    digest = _md5(buckets, "src", "clip.mov")

    result = runtime.invoke("batch_invoke", batch_event("job-1", "t1", "src", "clip.mov", user_arguments=ARGS))

    row = result["results"][0]
    assert row["resultCode"] == SUCCEEDED and row["resultString"].startswith("Moved: s3://dst/clip.mov"), row
    assert "verified by" in row["resultString"] and "delete marker" in row["resultString"]
    assert _md5(buckets, "dst", "clip.mov") == digest
    assert _gone(buckets, "src", "clip.mov"), "the source key still answers"
    # As `aws s3 mv` on a versioned bucket: the version stays, behind the marker.
    assert _md5(buckets, "src", "clip.mov", VersionId=version) == digest


def test_an_object_already_copied_is_moved_by_the_check_that_proves_it(runtime, buckets):
    buckets.put_object(Bucket="src", Key="done.mov", Body=b"done")
    first = runtime.invoke("batch_invoke", batch_event("job-1", "t1", "src", "done.mov",
                                                       user_arguments={**ARGS, "move": "false"}))
    assert first["results"][0]["resultString"].startswith("Copied:")

    again = runtime.invoke("batch_invoke", batch_event("job-2", "t1", "src", "done.mov", user_arguments=ARGS))

    message = again["results"][0]["resultString"]
    assert message.startswith("Moved: s3://dst/done.mov already holds this object"), message
    assert "not copied again; source s3://src/done.mov deleted" in message
    assert _gone(buckets, "src", "done.mov")


def test_a_source_rewritten_after_its_copy_is_kept(runtime, buckets):
    """The delete names the ETag the copy was made from: a source rewritten between the
    copy and the delete answers 412 and stays (moto 5.2.6 enforces If-Match on delete)."""
    buckets.put_object(Bucket="src", Key="live.mov", Body=b"first cut")

    def rewrite(name, event):
        if name == "verify_copy":
            buckets.put_object(Bucket="src", Key="live.mov", Body=b"second cut")

    runtime.before_invoke = rewrite
    result = runtime.invoke("batch_invoke", batch_event("job-1", "t1", "src", "live.mov", user_arguments=ARGS))

    message = result["results"][0]["resultString"]
    assert message.startswith("Copied:") and "source kept: s3://src/live.mov changed since it was copied" in message
    assert buckets.get_object(Bucket="src", Key="live.mov")["Body"].read() == b"second cut"


def test_a_locked_source_is_kept(runtime, s3):
    import datetime

    s3.create_bucket(Bucket="src", ObjectLockEnabledForBucket=True)
    s3.create_bucket(Bucket="dst")
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    s3.put_object(Bucket="src", Key="held.mov", Body=b"evidence", ObjectLockLegalHoldStatus="ON",
                  ChecksumAlgorithm="SHA256")
    s3.put_object(Bucket="src", Key="retained.mov", Body=b"record", ObjectLockMode="GOVERNANCE",
                  ObjectLockRetainUntilDate=until, ChecksumAlgorithm="SHA256")

    for task, key, lock in (("t1", "held.mov", "a legal hold"), ("t2", "retained.mov", "GOVERNANCE retention")):
        result = runtime.invoke("batch_invoke", batch_event("job-1", task, "src", key, user_arguments=ARGS))
        message = result["results"][0]["resultString"]
        assert message.startswith("Copied:") and f"source kept: s3://src/{key} is locked (" in message, message
        assert lock in message
        assert not _gone(s3, "src", key)


def test_a_stack_that_may_not_delete_refuses_a_move_before_copying(runtime, buckets, monkeypatch):
    buckets.put_object(Bucket="src", Key="clip.mov", Body=b"x")
    monkeypatch.setenv("MEDIASYNC_SOURCE_DELETES_ALLOWED", "false")
    reset_settings()
    try:
        result = runtime.invoke("batch_invoke", batch_event("job-1", "t1", "src", "clip.mov", user_arguments=ARGS))
    finally:
        monkeypatch.delenv("MEDIASYNC_SOURCE_DELETES_ALLOWED")
        reset_settings()

    row = result["results"][0]
    assert row["resultCode"] == "PermanentFailure" and row["resultString"].startswith("InvalidTask: move deletes")
    assert "AllowSourceDeletes=true" in row["resultString"]
    assert buckets.list_objects_v2(Bucket="dst").get("KeyCount") == 0, "nothing is copied"


def test_a_move_onto_its_own_key_is_refused(runtime, buckets):
    """A copy onto itself (in another storage class, which S3 allows) has the source's
    ETag: its conditional delete would delete the one copy there is."""
    buckets.put_object(Bucket="src", Key="only.mov", Body=b"only")

    result = runtime.invoke("batch_invoke", batch_event("job-1", "t1", "src", "only.mov", user_arguments={
        **ARGS, "destinationBucket": "src", "storageClass": "STANDARD_IA"}))

    row = result["results"][0]
    assert row["resultCode"] == "PermanentFailure" and "onto itself and then delete the only copy" in row["resultString"]
    assert buckets.get_object(Bucket="src", Key="only.mov")["Body"].read() == b"only"


@pytest.mark.parametrize("method", ["size-and-layout", "composite-etag"])
def test_a_copy_proved_without_its_content_keeps_its_source(runtime, buckets, method):
    """Only a checksum or MD5 ETags prove the bytes; the report says why the source stays."""
    buckets.put_object(Bucket="src", Key="opaque.mov", Body=b"x")
    source = inspect_source(buckets, ObjectRef("src", "opaque.mov"))
    copied = TaskOutcome(SUCCEEDED, "Copied", f"s3://dst/opaque.mov ETag \"e\", 1 bytes; verified by {method}: ...",
                         200, 1, verified_by=method, source_etag=source.etag)
    options = CopyOptions().merged(ARGS)

    outcome = _moved(buckets, copied, source, options)

    assert outcome.code == "Copied" and f"source kept: the copy was verified by {method}" in outcome.message
    assert not _gone(buckets, "src", "opaque.mov")
