"""A rerun that asks for other options applies them: "already copied" means holding the
source's content and what this run asks (core/requested.py), for skip-existing here
and for the sync plan (tests/unit/test_sync_plan.py)."""

from __future__ import annotations

import pytest

from mediasync.core.settings import MiB
from tests.conftest import batch_event, put_multipart

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ARGS = {"destinationBucket": "dst", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB)}


def run_task(runtime, key, task, **extra):
    event = batch_event("job-1", task, "src", key, user_arguments={**ARGS, **extra})
    return runtime.invoke("batch_invoke", event)["results"][0]["resultString"]


@pytest.mark.parametrize("size", [1000, 17 * MiB], ids=["CopyObject", "multipart"])
def test_a_rerun_with_another_storage_class_or_kms_key_copies_again(runtime, buckets, size):
    if size > 16 * MiB:
        put_multipart(buckets, "src", "a.mov", size, 8 * MiB)
    else:
        buckets.put_object(Bucket="src", Key="a.mov", Body=b"x" * size)
    assert run_task(runtime, "a.mov", "t1").startswith("Copied:")
    assert run_task(runtime, "a.mov", "t2").startswith("AlreadyCopied:")

    assert run_task(runtime, "a.mov", "t3", storageClass="STANDARD_IA").startswith("Copied:")
    assert buckets.head_object(Bucket="dst", Key="a.mov")["StorageClass"] == "STANDARD_IA"

    assert run_task(runtime, "a.mov", "t4", storageClass="STANDARD_IA", sseKmsKeyId=KEY).startswith("Copied:")
    head = buckets.head_object(Bucket="dst", Key="a.mov")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", KEY)

    if size < 16 * MiB:
        # moto gives a multipart copy no checksum, and an SSE-KMS ETag proves nothing:
        # only the single copy's CRC32 can prove it already holds the content.
        assert run_task(runtime, "a.mov", "t5", storageClass="STANDARD_IA", sseKmsKeyId=KEY).startswith("AlreadyCopied:")


def test_what_no_head_shows_is_named_not_assumed(runtime, buckets):
    buckets.put_object(Bucket="src", Key="a.mov", Body=b"x")
    run_task(runtime, "a.mov", "t1")
    again = run_task(runtime, "a.mov", "t2", acl="bucket-owner-full-control")
    assert again.startswith("AlreadyCopied:") and "not checked: its ACL" in again
