"""Every failure a user can cause ends as one clear report row; the job goes on."""

from __future__ import annotations

import datetime

import boto3
import pytest

from mediasync.core.settings import CopyOptions, MiB
from mediasync.local.recovery import abort_interrupted_uploads
from mediasync.local.runner import JobRequest, run_job
from mediasync.local.runtime import ACCOUNT_ID
from mediasync.manifests.reader import read_manifest
from mediasync.manifests.s3batch_csv import format_row, parse_lines
from tests.conftest import batch_event, put_multipart
from tests.invariants import assert_invariants, report_row_of

ARGS = {"destinationBucket": "dst", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB)}


def run_task(runtime, key, *, bucket="src", args=ARGS, version_id=None, task="t1"):
    """One S3 Batch task; then the invariants hold for it at s3://dst."""
    event = batch_event("job-1", task, bucket, key, user_arguments=args, version_id=version_id)
    result = runtime.invoke("batch_invoke", event)["results"][0]
    row = parse_lines([f"{bucket},{key}" + (f",{version_id}" if version_id else "")])
    assert_invariants(boto3.client("s3", region_name=runtime.region), row, [report_row_of(bucket, key, result)], "dst")
    return result


def code_of(result):
    return result["resultString"].split(":", 1)[0]


def test_version_that_does_not_exist(runtime, buckets):
    buckets.put_bucket_versioning(Bucket="src", VersioningConfiguration={"Status": "Enabled"})
    buckets.put_object(Bucket="src", Key="a.mov", Body=b"1")
    result = run_task(runtime, "a.mov", version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")
    assert (result["resultCode"], code_of(result)) == ("PermanentFailure", "SourceMissing")


def test_delete_marker_is_reported_as_missing_source(runtime, buckets):
    buckets.put_bucket_versioning(Bucket="src", VersioningConfiguration={"Status": "Enabled"})
    buckets.put_object(Bucket="src", Key="a.mov", Body=b"1")
    buckets.delete_object(Bucket="src", Key="a.mov")
    result = run_task(runtime, "a.mov")
    assert (result["resultCode"], code_of(result)) == ("PermanentFailure", "SourceMissing")


def test_a_pinned_version_is_copied_even_after_overwrite_when_asked(runtime, buckets):
    buckets.put_bucket_versioning(Bucket="src", VersioningConfiguration={"Status": "Enabled"})
    version = buckets.put_object(Bucket="src", Key="a.mov", Body=b"first")["VersionId"]
    buckets.put_object(Bucket="src", Key="a.mov", Body=b"second")
    result = run_task(runtime, "a.mov", version_id=version, args={**ARGS, "skipNoncurrent": "false"})
    assert result["resultCode"] == "Succeeded", result
    assert buckets.get_object(Bucket="dst", Key="a.mov")["Body"].read() == b"first"


@pytest.mark.parametrize("storage_class", ["GLACIER", "DEEP_ARCHIVE"])
def test_archived_source_names_its_storage_class(runtime, buckets, storage_class):
    buckets.put_object(Bucket="src", Key="old.mov", Body=b"x" * 100, StorageClass=storage_class)
    result = run_task(runtime, "old.mov")
    assert (result["resultCode"], code_of(result)) == ("PermanentFailure", "SourceArchived")
    assert storage_class in result["resultString"] and "restore" in result["resultString"]


def test_restored_archive_is_copied(runtime, buckets):
    buckets.put_object(Bucket="src", Key="old.mov", Body=b"x" * 100, StorageClass="GLACIER")
    buckets.restore_object(Bucket="src", Key="old.mov", RestoreRequest={"Days": 1})
    assert 'ongoing-request="false"' in buckets.head_object(Bucket="src", Key="old.mov").get("Restore", "")
    result = run_task(runtime, "old.mov")
    assert result["resultCode"] == "Succeeded", result


def test_missing_buckets_are_named(runtime, buckets):
    buckets.put_object(Bucket="src", Key="a.mov", Body=b"1")
    no_dest = run_task(runtime, "a.mov", args={**ARGS, "destinationBucket": "no-such-destination"})
    assert code_of(no_dest) == "BucketMissing" and "destination" in no_dest["resultString"]
    no_source = run_task(runtime, "a.mov", bucket="no-such-source")
    assert code_of(no_source) in ("BucketMissing", "SourceMissing") and "no-such-source" in no_source["resultString"]


def test_task_without_destination_is_refused_clearly(runtime, buckets):
    buckets.put_object(Bucket="src", Key="a.mov", Body=b"1")
    result = run_task(runtime, "a.mov", args={})
    assert (result["resultCode"], code_of(result)) == ("PermanentFailure", "InvalidTask")
    assert "destinationBucket" in result["resultString"]


def test_destination_that_differs_after_copy_is_deleted_and_reported(runtime, buckets):
    s3 = buckets
    put_multipart(s3, "src", "m.mov", 17 * MiB, 8 * MiB)

    def corrupt_destination(name, event):
        if name == "verify_copy":
            # The copy itself is wrong (S3 still reports the copy's ETag): a put would be
            # another writer's object, which Verify leaves alone (tests/asl/test_verification.py).
            from moto.s3.models import s3_backends

            s3_backends[ACCOUNT_ID]["aws"].get_object("dst", "m.mov").set_metadata({"x-amz-meta-corrupted": "yes"})

    runtime.before_invoke = corrupt_destination
    result = run_task(runtime, "m.mov")
    assert (result["resultCode"], code_of(result)) == ("PermanentFailure", "VerificationFailed")
    assert "deleted" in result["resultString"]
    assert "Contents" not in s3.list_objects_v2(Bucket="dst")


def test_second_run_skips_what_is_already_copied(runtime, buckets, tmp_path):
    s3 = buckets
    for i in range(5):
        s3.put_object(Bucket="src", Key=f"p/{i}.mp4", Body=b"x" * (i + 1), Metadata={"i": str(i)})
    put_multipart(s3, "src", "m.mov", 17 * MiB, 8 * MiB)
    manifest = tmp_path / "m.csv"
    manifest.write_text("".join(format_row("src", k) for k in [f"p/{i}.mp4" for i in range(5)] + ["m.mov"]))
    options = CopyOptions(destination_bucket="dst", multipart_threshold=16 * MiB, part_size=8 * MiB)
    first = run_job(runtime, read_manifest(manifest), JobRequest(options, tmp_path / "r1.csv", 4))
    copies = (runtime.invocations.get("copy_object"), runtime.invocations.get("copy_parts"))
    second = run_job(runtime, read_manifest(manifest), JobRequest(options, tmp_path / "r2.csv", 4))
    assert first.succeeded == second.succeeded == 6
    assert (runtime.invocations.get("copy_object"), runtime.invocations.get("copy_parts")) == copies
    assert_invariants(s3, manifest, tmp_path / "r1.csv", "dst")
    rows = assert_invariants(s3, manifest, tmp_path / "r2.csv", "dst")
    assert all("not copied again" in row["ResultMessage"] for row in rows)


def test_uploads_left_by_a_killed_run_are_aborted_for_this_manifest_only(runtime, buckets):
    s3 = buckets
    mine = s3.create_multipart_upload(Bucket="dst", Key="in/manifest.mov")["UploadId"]
    theirs = s3.create_multipart_upload(Bucket="dst", Key="someone/else.mov")["UploadId"]
    rows = parse_lines(["src,in/manifest.mov\n", "src,other.mov\n"])
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)
    assert abort_interrupted_uploads(s3, "dst", "", rows, later) == 1
    left = [(u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket="dst")["Uploads"]]
    assert left == [("someone/else.mov", theirs)] and mine not in dict(left).values()


def test_bad_manifest_rows_fail_alone_and_the_job_goes_on(runtime, buckets, tmp_path):
    buckets.put_object(Bucket="src", Key="good.mov", Body=b"1")
    manifest = tmp_path / "m.csv"
    manifest.write_text("\ufeffsrc,good.mov\n\nsrc\nBad Bucket!,x\nsrc,bad%zz\nsrc,good.mov,,extra\n")
    options = CopyOptions(destination_bucket="dst")
    summary = run_job(runtime, read_manifest(manifest), JobRequest(options, tmp_path / "r.csv", 2))
    rows = assert_invariants(buckets, manifest, tmp_path / "r.csv", "dst")
    assert (summary.tasks, summary.succeeded) == (5, 1)
    failed = [r for r in rows if r["TaskStatus"] == "failed"]
    assert {r["ErrorCode"] for r in failed} == {"InvalidManifestRow"}
    assert all("manifest line" in r["ResultMessage"] for r in failed)
