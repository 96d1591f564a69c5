"""The real ASL files executed by moto's interpreter with the real handlers in-process."""

from __future__ import annotations

from mediasync.core.errors import SourceChanged, Throttled
from mediasync.core.settings import MiB
from tests.conftest import batch_event, md5_of, put_multipart

ARGS = {"destinationBucket": "dst", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB),
        "partsPerGroup": "1", "maxConcurrency": "4"}


def run_task(runtime, key, *, args=ARGS, task="t1", job="job-1", **kw):
    response = runtime.invoke("batch_invoke", batch_event(job, task, "src", key, user_arguments=args, **kw))
    return response["results"][0]


def open_uploads(s3, bucket="dst"):
    return s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def test_small_object_goes_through_express_machine_with_metadata_and_tags(runtime, buckets):
    s3 = buckets
    s3.put_object(Bucket="src", Key="clip.mp4", Body=b"x" * 1000, ContentType="video/mp4",
                  Metadata={"shot": "12"}, Tagging="kind=proxy")
    result = run_task(runtime, "clip.mp4")
    assert result["resultCode"] == "Succeeded", result
    head = s3.head_object(Bucket="dst", Key="clip.mp4")
    assert head["ETag"] == s3.head_object(Bucket="src", Key="clip.mp4")["ETag"]
    assert (head["ContentType"], head["Metadata"]) == ("video/mp4", {"shot": "12"})
    assert s3.get_object_tagging(Bucket="dst", Key="clip.mp4")["TagSet"] == [{"Key": "kind", "Value": "proxy"}]
    assert runtime.invocations.get("copy_object") == 1 and "copy_parts" not in runtime.invocations


def test_multipart_source_keeps_its_layout_and_etag_on_distributed_map(runtime, buckets):
    s3 = buckets
    etag = put_multipart(s3, "src", "master.mov", 19 * MiB + 3, 7 * MiB, Metadata={"t": "1"}, ContentType="video/quicktime")
    result = run_task(runtime, "master.mov")
    assert result["resultCode"] == "Succeeded", result
    assert s3.head_object(Bucket="dst", Key="master.mov")["ETag"] == etag
    assert md5_of(s3, "dst", "master.mov") == md5_of(s3, "src", "master.mov")
    assert runtime.invocations["copy_parts"] == 3  # one group per part (partsPerGroup 1)
    assert open_uploads(s3) == []


def test_part_groups_run_on_the_batch_worker_when_asked(runtime, buckets):
    s3 = buckets
    etag = put_multipart(s3, "src", "master.mov", 17 * MiB, 8 * MiB)
    result = run_task(runtime, "master.mov", args={**ARGS, "worker": "batch", "batchPartsPerGroup": "1"})
    assert result["resultCode"] == "Succeeded", result
    assert s3.head_object(Bucket="dst", Key="master.mov")["ETag"] == etag
    assert runtime.invocations.get("worker") == 3 and "copy_parts" not in runtime.invocations


def test_throttled_part_group_is_retried_by_the_state_machine(runtime, buckets):
    s3 = buckets
    etag = put_multipart(s3, "src", "master.mov", 17 * MiB, 8 * MiB)
    failed_once: set[int] = set()

    def throttle_group_one_once(name, event):
        if name == "copy_parts" and event["group"] == 1 and 1 not in failed_once:
            failed_once.add(1)
            raise Throttled("SlowDown (injected)")

    runtime.before_invoke = throttle_group_one_once
    result = run_task(runtime, "master.mov")
    assert result["resultCode"] == "Succeeded", result
    assert runtime.invocations["copy_parts"] == 4
    assert s3.head_object(Bucket="dst", Key="master.mov")["ETag"] == etag


def test_source_overwritten_mid_copy_aborts_upload_and_reports_source_changed(runtime, buckets):
    s3 = buckets
    put_multipart(s3, "src", "master.mov", 17 * MiB, 8 * MiB)

    def overwrite_source(name, event):
        if name == "copy_parts" and event["group"] == 1:
            s3.put_object(Bucket="src", Key="master.mov", Body=b"new")
            # moto accepts a stale CopySourceIfMatch; SeaweedFS and AWS answer 412,
            # which the copy turns into this error.
            raise SourceChanged("injected 412 PreconditionFailed")

    runtime.before_invoke = overwrite_source
    result = run_task(runtime, "master.mov")
    assert result["resultCode"] == "PermanentFailure"
    assert result["resultString"].startswith("SourceChanged:"), result
    assert runtime.invocations["abort_upload"] >= 1
    assert open_uploads(s3) == []
    assert "Contents" not in s3.list_objects_v2(Bucket="dst")


def test_missing_source_is_a_permanent_failure_with_its_code(runtime, buckets):
    result = run_task(runtime, "nothing-here.mov")
    assert result["resultCode"] == "PermanentFailure"
    assert result["resultString"].startswith("SourceMissing:")


def test_schema_1_0_event_uses_the_configured_destination(runtime, buckets, monkeypatch):
    s3 = buckets
    s3.put_object(Bucket="src", Key="a b+c.txt", Body=b"hello")
    monkeypatch.setenv("MEDIASYNC_DESTINATION_BUCKET", "dst")
    from mediasync.core.settings import reset_settings
    reset_settings()
    result = run_task(runtime, "a+b%2Bc.txt", schema="1.0", args=None)
    assert result["resultCode"] == "Succeeded", result
    assert s3.get_object(Bucket="dst", Key="a b+c.txt")["Body"].read() == b"hello"


def test_batch_retry_reattaches_to_running_execution(runtime, buckets, monkeypatch):
    s3 = buckets
    etag = put_multipart(s3, "src", "master.mov", 17 * MiB, 8 * MiB)
    # batch_invoke gives up waiting at once: it must answer TemporaryFailure, and the
    # retry must attach to the same execution rather than start a second copy.
    monkeypatch.setenv("MEDIASYNC_INVOKE_TIME_MARGIN", "100000")
    from mediasync.core.settings import reset_settings
    reset_settings()
    first = run_task(runtime, "master.mov")
    assert first["resultCode"] == "TemporaryFailure" and first["resultString"].startswith("InProgress:")
    monkeypatch.setenv("MEDIASYNC_INVOKE_TIME_MARGIN", "0")
    reset_settings()
    second = run_task(runtime, "master.mov")
    assert second["resultCode"] == "Succeeded", second
    import boto3
    sfn = boto3.client("stepfunctions", region_name=runtime.region)
    executions = sfn.list_executions(stateMachineArn=runtime.state_machine_arns["copy_large"])["executions"]
    assert len(executions) == 1
    assert s3.head_object(Bucket="dst", Key="master.mov")["ETag"] == etag
