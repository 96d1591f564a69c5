"""Copy options on the real state machines: the S3 calls carry them and the copies show them.

moto stores StorageClass, ServerSideEncryption, SSEKMSKeyId and (on CopyObject)
BucketKeyEnabled, so the destination's HeadObject proves those. It neither
enforces Requester Pays nor keeps canned ACLs apart when one account owns both
buckets: for those, every S3 call the handlers make is recorded and checked.
"""

from __future__ import annotations

from typing import Any

import pytest

from mediasync.core import clients
from mediasync.core.settings import CopyOptions, MiB
from mediasync.local.runner import JobRequest, run_job
from mediasync.manifests.reader import read_manifest
from mediasync.manifests.s3batch_csv import format_row
from tests.conftest import batch_event, put_multipart
from tests.invariants import assert_invariants

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# 16 MiB threshold, 8 MiB parts: a 17 MiB object takes the STANDARD machine's Distributed Map.
ARGS = {"destinationBucket": "dst", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB),
        "partsPerGroup": "1", "maxConcurrency": "4"}
# The operations that read the source bucket.
SOURCE_OPERATIONS = {"HeadObject", "GetObjectTagging", "CopyObject", "UploadPartCopy"}


@pytest.fixture
def calls(runtime) -> list[tuple[str, dict[str, Any]]]:
    """(operation, parameters) of every S3 call the handlers and the worker make."""
    recorded: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        recorded.append((model.name, dict(params)))

    clients.s3().meta.events.register("before-parameter-build.s3", record)
    return recorded


def run_task(runtime, key, args, task="t1"):
    return runtime.invoke("batch_invoke", batch_event("job-1", task, "src", key, user_arguments=args))["results"][0]


def reads_source(operation: str, params: dict[str, Any]) -> bool:
    # botocore has already turned CopySource into "bucket/key" text by this event.
    return params.get("Bucket") == "src" or str(params.get("CopySource", "")).startswith("src/")


def test_copies_are_written_with_the_chosen_class_kms_key_bucket_key_and_acl(runtime, buckets, calls):
    s3 = buckets
    s3.put_object(Bucket="src", Key="proxy.mp4", Body=b"x" * 1000)
    put_multipart(s3, "src", "master.mov", 17 * MiB, 8 * MiB)
    args = {**ARGS, "sseKmsKeyId": KEY, "bucketKeyEnabled": "true", "acl": "bucket-owner-full-control"}

    assert run_task(runtime, "proxy.mp4", {**args, "storageClass": "GLACIER_IR"})["resultCode"] == "Succeeded"
    assert run_task(runtime, "master.mov", {**args, "storageClass": "STANDARD_IA"}, "t2")["resultCode"] == "Succeeded"

    small = s3.head_object(Bucket="dst", Key="proxy.mp4")
    assert (small["StorageClass"], small["ServerSideEncryption"], small["SSEKMSKeyId"], small["BucketKeyEnabled"]) == (
        "GLACIER_IR", "aws:kms", KEY, True)
    large = s3.head_object(Bucket="dst", Key="master.mov")
    assert (large["StorageClass"], large["ServerSideEncryption"], large["SSEKMSKeyId"]) == ("STANDARD_IA", "aws:kms", KEY)
    writes = [params for operation, params in calls if operation in ("CopyObject", "CreateMultipartUpload")]
    assert [params["Key"] for params in writes] == ["proxy.mp4", "master.mov"]
    for params in writes:
        assert (params["ACL"], params["BucketKeyEnabled"], params["SSEKMSKeyId"]) == ("bucket-owner-full-control", True, KEY)


def test_the_source_class_is_kept_unless_overridden_even_back_to_standard(runtime, buckets):
    s3 = buckets
    for key in ("kept.mp4", "standard.mp4"):
        s3.put_object(Bucket="src", Key=key, Body=b"x" * 1000, StorageClass="STANDARD_IA")

    assert run_task(runtime, "kept.mp4", ARGS)["resultCode"] == "Succeeded"
    assert run_task(runtime, "standard.mp4", {**ARGS, "storageClass": "STANDARD"}, "t2")["resultCode"] == "Succeeded"

    assert s3.head_object(Bucket="dst", Key="kept.mp4")["StorageClass"] == "STANDARD_IA"
    assert s3.head_object(Bucket="dst", Key="standard.mp4").get("StorageClass", "STANDARD") == "STANDARD"


def test_requester_pays_is_sent_on_every_call_that_reads_the_source(runtime, buckets, calls):
    s3 = buckets
    s3.put_object(Bucket="src", Key="proxy.mp4", Body=b"x" * 1000, Tagging="kind=proxy")
    put_multipart(s3, "src", "master.mov", 17 * MiB, 8 * MiB, Tagging="kind=master")
    put_multipart(s3, "src", "broken.mov", 17 * MiB, 8 * MiB)

    def fail_broken_group(name: str, event: dict) -> None:
        if name == "copy_parts" and (event.get("destination") or {}).get("key") == "broken.mov":
            raise RuntimeError("injected: the part group failed")

    runtime.before_invoke = fail_broken_group
    args = {**ARGS, "requesterPays": "true"}
    assert run_task(runtime, "proxy.mp4", args)["resultCode"] == "Succeeded"
    assert run_task(runtime, "master.mov", args, "t2")["resultCode"] == "Succeeded"
    assert run_task(runtime, "broken.mov", args, "t3")["resultCode"] == "TemporaryFailure"  # for S3 Batch to redrive

    source_calls = [(operation, params) for operation, params in calls if reads_source(operation, params)]
    assert {operation for operation, _ in source_calls} == SOURCE_OPERATIONS
    assert any("PartNumber" in params for operation, params in source_calls if operation == "HeadObject")
    missing = [(operation, params.get("Key")) for operation, params in source_calls if params.get("RequestPayer") != "requester"]
    assert missing == []
    # batch_invoke inspects it once; each AbortUpload diagnoses the failed copy with another HEAD.
    plain_heads = [params for operation, params in source_calls
                   if operation == "HeadObject" and params["Key"] == "broken.mov" and not {"PartNumber", "IfMatch"} & set(params)]
    assert runtime.invocations["abort_upload"] >= 1
    assert len(plain_heads) == 1 + runtime.invocations["abort_upload"]


def test_without_requester_pays_no_call_names_a_payer(runtime, buckets, calls):
    buckets.put_object(Bucket="src", Key="proxy.mp4", Body=b"x")
    assert run_task(runtime, "proxy.mp4", ARGS)["resultCode"] == "Succeeded"
    assert calls and not [operation for operation, params in calls if "RequestPayer" in params]


def test_strip_prefix_maps_folders_and_refuses_keys_outside_it_per_object(runtime, buckets, calls, tmp_path):
    s3 = buckets
    s3.put_object(Bucket="src", Key="a/b/x.mov", Body=b"x" * 1000)
    put_multipart(s3, "src", "a/b/deep/m.mov", 17 * MiB, 8 * MiB)
    s3.put_object(Bucket="src", Key="z/y.mov", Body=b"y")
    manifest = tmp_path / "m.csv"
    manifest.write_text("".join(format_row("src", key) for key in ("a/b/x.mov", "a/b/deep/m.mov", "z/y.mov")))
    options = CopyOptions(destination_bucket="dst", destination_prefix="c/", strip_prefix="a/b/",
                          multipart_threshold=16 * MiB, part_size=8 * MiB)

    summary = run_job(runtime, read_manifest(manifest), JobRequest(options, tmp_path / "r.csv", 2))

    rows = assert_invariants(s3, manifest, tmp_path / "r.csv", "dst", prefix="c/", strip="a/b/")
    assert (summary.tasks, summary.succeeded) == (3, 2)
    assert sorted(item["Key"] for item in s3.list_objects_v2(Bucket="dst")["Contents"]) == ["c/deep/m.mov", "c/x.mov"]
    [refused] = [row for row in rows if row["TaskStatus"] == "failed"]
    assert refused["Key"] == "z/y.mov" and refused["ErrorCode"] == "InvalidTask"
    assert refused["ResultMessage"] == "key 'z/y.mov' does not start with the prefix to strip, 'a/b/': not copied"
    assert not [operation for operation, params in calls if params.get("Key") == "z/y.mov"], "refused before any S3 call"
