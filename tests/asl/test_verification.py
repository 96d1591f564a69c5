"""How a copy is proven: checksums first, MD5 ETags only where they are MD5s, and the
exact part layout of sources whose parts differ in size (S3 does not require equal parts)."""

from __future__ import annotations

import os
from unittest import mock

import pytest

from mediasync.core import clients
from mediasync.core.settings import MiB
from tests.asl.test_per_object_failures import ARGS, code_of, run_task
from tests.conftest import batch_event, put_parts
from tests.faults.aws_rules import bare_head_errors, refuse_heads_without_customer_key

UNEVEN = [8 * MiB, 5 * MiB, 8 * MiB, 3 * MiB]


def dest_part_sizes(s3, key, count):
    return [s3.head_object(Bucket="dst", Key=key, PartNumber=n)["ContentLength"] for n in range(1, count + 1)]


@pytest.mark.parametrize("args", [{}, {"multipartThreshold": str(64 * MiB)}], ids=["standard", "express"])
def test_a_source_with_uneven_parts_is_copied_with_its_exact_layout(runtime, buckets, args):
    etag, body = put_parts(buckets, "src", "uneven.mov", UNEVEN)
    result = run_task(runtime, "uneven.mov", args={**ARGS, **args})
    assert result["resultCode"] == "Succeeded", result
    assert "under S3's 5 MiB" not in result["resultString"]
    assert buckets.head_object(Bucket="dst", Key="uneven.mov")["ETag"] == etag
    assert dest_part_sizes(buckets, "uneven.mov", 4) == UNEVEN
    assert buckets.get_object(Bucket="dst", Key="uneven.mov")["Body"].read() == body


@pytest.mark.parametrize("verify, proof", [
    ("auto", "full-object SHA256 checksum in S3's answer to the copy equals the source's"),
    ("readback", "full-object SHA256 checksum equals the source's"),
])
def test_a_single_part_source_is_proven_by_its_checksum(runtime, buckets, verify, proof):
    buckets.put_object(Bucket="src", Key="a.mov", Body=b"x" * 1000, ChecksumAlgorithm="SHA256")
    heads = runtime.invocations.get("verify_copy", 0)
    result = run_task(runtime, "a.mov", args={**ARGS, "verify": verify})
    assert result["resultCode"] == "Succeeded", result
    assert f"verified by checksum-SHA256: {proof}" in result["resultString"]
    assert runtime.invocations.get("verify_copy", 0) == heads + 1
    head = buckets.head_object(Bucket="dst", Key="a.mov", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == buckets.head_object(Bucket="src", Key="a.mov", ChecksumMode="ENABLED")["ChecksumSHA256"]


def test_skip_existing_names_its_proof(runtime, buckets):
    buckets.put_object(Bucket="src", Key="a.mov", Body=b"x" * 1000, ChecksumAlgorithm="SHA256")
    assert run_task(runtime, "a.mov")["resultCode"] == "Succeeded"
    again = run_task(runtime, "a.mov", task="t2")
    assert code_of(again) == "AlreadyCopied"
    assert "verified by checksum-SHA256" in again["resultString"]


def test_a_destination_with_another_checksum_is_copied_again(runtime, buckets):
    buckets.put_object(Bucket="src", Key="a.mov", Body=b"x" * 1000, ChecksumAlgorithm="SHA256")
    buckets.put_object(Bucket="dst", Key="a.mov", Body=b"y" * 1000, ChecksumAlgorithm="SHA256")
    result = run_task(runtime, "a.mov")
    assert code_of(result) == "Copied", result
    assert buckets.get_object(Bucket="dst", Key="a.mov")["Body"].read() == b"x" * 1000


def test_a_missing_source_bucket_is_named(runtime, buckets, aws_head_rules):
    # With AWS's bare 404, which a missing key answers too: HeadBucket tells them apart.
    result = run_task(runtime, "a.mov", bucket="no-such-bucket")
    assert (result["resultCode"], code_of(result)) == ("PermanentFailure", "BucketMissing")
    assert "source bucket 'no-such-bucket' does not exist" in result["resultString"]


@pytest.fixture
def aws_head_rules():
    """AWS's HeadObject rules, which moto does not follow, on the clients the handlers
    use: errors without a body, and SSE-C objects refused without their key."""
    keys: set[tuple[str, str]] = set()
    create = clients.Clients._create

    def create_with_rules(self, service):
        client = create(self, service)
        if service == "s3":
            refuse_heads_without_customer_key(bare_head_errors(client), keys)
        return client

    with mock.patch.object(clients.Clients, "_create", create_with_rules):
        clients.CLIENTS._clients.pop("s3", None)
        yield keys
    clients.CLIENTS._clients.pop("s3", None)


def test_an_sse_c_source_is_refused_with_its_cause(runtime, buckets, aws_head_rules):
    key = b"k" * 32
    buckets.put_object(Bucket="src", Key="secret.mov", Body=b"x" * 10, SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    aws_head_rules.add(("src", "secret.mov"))  # an SSE-C object
    result = run_task(runtime, "secret.mov")
    assert (result["resultCode"], code_of(result)) == ("PermanentFailure", "SourceNeedsCustomerKey"), result
    assert "customer-provided key (SSE-C)" in result["resultString"]


def test_an_unlabelled_multipart_checksum_proves_nothing(runtime, buckets):
    """moto answers HeadObject of a CRC32 multipart upload with an unsuffixed value and no
    x-amz-checksum-type, where AWS says COMPOSITE and appends -N: such a value could be
    either type, so it is neither compared nor asked of the copy."""
    body = os.urandom(13 * MiB)
    upload = buckets.create_multipart_upload(Bucket="src", Key="crc.mov", ChecksumAlgorithm="CRC32")["UploadId"]
    parts = []
    for number, start in enumerate(range(0, len(body), 8 * MiB), 1):
        answer = buckets.upload_part(Bucket="src", Key="crc.mov", UploadId=upload, PartNumber=number,
                                     Body=body[start:start + 8 * MiB], ChecksumAlgorithm="CRC32")
        parts.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumCRC32": answer["ChecksumCRC32"]})
    buckets.complete_multipart_upload(Bucket="src", Key="crc.mov", UploadId=upload, MultipartUpload={"Parts": parts})
    head = buckets.head_object(Bucket="src", Key="crc.mov", ChecksumMode="ENABLED")
    assert "ChecksumType" not in head and not head["ChecksumCRC32"].endswith("-2")
    result = run_task(runtime, "crc.mov")
    assert result["resultCode"] == "Succeeded", result
    assert "verified by etag" in result["resultString"]


def test_a_bare_400_for_a_version_that_is_not_the_keys_is_not_called_sse_c(runtime, buckets, aws_head_rules):
    """HEAD errors carry no code on AWS (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html):
    a version id that is not one of the key's answers a bare 400, as an SSE-C object does."""
    buckets.put_object(Bucket="src", Key="a.mov", Body=b"x")  # an unversioned bucket: no such version
    event = batch_event("job-1", "t1", "src", "a.mov", user_arguments={"destinationBucket": "dst"},
                        version_id="3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo")
    [result] = runtime.invoke("batch_invoke", event)["results"]
    assert (result["resultCode"], code_of(result)) == ("PermanentFailure", "SourceMissing"), result
    assert "not one of this key's" in result["resultString"]


@pytest.mark.parametrize("versioned", [False, True])
def test_a_copy_failing_verification_is_deleted_only_while_it_is_the_copy(runtime, buckets, versioned):
    """Another writer replaced the copy before Verify read it: the copy is removed only by
    its own version, or by a delete conditional on its ETag
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html), so
    the writer's object stays. moto enforces DeleteObject If-Match as S3 does."""
    if versioned:
        buckets.put_bucket_versioning(Bucket="dst", VersioningConfiguration={"Status": "Enabled"})
    buckets.put_object(Bucket="src", Key="a.mov", Body=b"x" * 1000)

    def another_writer(name, event):
        if name == "verify_copy":
            buckets.put_object(Bucket="dst", Key="a.mov", Body=b"another writer's take")

    runtime.before_invoke = another_writer
    [result] = runtime.invoke("batch_invoke", batch_event("j", "t1", "src", "a.mov",
                                                          user_arguments={**ARGS, "verify": "readback"}))["results"]

    assert buckets.get_object(Bucket="dst", Key="a.mov")["Body"].read() == b"another writer's take"
    if versioned:
        # Verify reads the copy's own version, which is right; the writer's is newer.
        assert result["resultCode"] == "Succeeded", result
    else:
        assert (result["resultCode"], code_of(result)) == ("PermanentFailure", "VerificationFailed"), result
        assert "another writer replaced it" in result["resultString"]
