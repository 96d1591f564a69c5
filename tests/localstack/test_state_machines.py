"""The real ASL files on LocalStack's Step Functions engine, with the real handlers.

The scenarios of tests/asl (moto's interpreter) on a second, independent interpreter:
success on both machines, the Distributed Map, Retry, and per-object failures that
end in Catch, AbortUpload and a named error. Here StartSyncExecution is the engine's
own, not the moto runtime's stand-in.
"""

from __future__ import annotations

import json

from mediasync.core.settings import MiB, reset_settings
from mediasync.manifests.s3batch_csv import parse_lines
from tests.conftest import batch_event, md5_of, put_multipart
from tests.invariants import assert_invariants, report_row_of

ARGS = {"multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB), "partsPerGroup": "1", "maxConcurrency": "4"}


# S3 Batch redrives a TemporaryFailure a limited number of times (as local/s3batch.py does).
REDRIVES = 3


def run_task(invoke_batch, s3, buckets, key, *, args=None, task="t1", job=None):
    """One S3 Batch task through batch_invoke, redriven as S3 Batch redrives it; then the
    report invariants hold for it."""
    source, destination = buckets
    # The engine lives all session: a job id per test, or execution names would repeat.
    job = job or f"job-{source}"
    event = batch_event(job, task, source, key, user_arguments={"destinationBucket": destination, **ARGS, **(args or {})})
    result = invoke_batch(event)
    for _ in range(REDRIVES):
        if result["resultCode"] != "TemporaryFailure":
            break
        result = invoke_batch(event)
    assert_invariants(s3, parse_lines([f"{source},{key}"]), [report_row_of(source, key, result)], destination)
    return result


def code_of(result):
    return result["resultString"].split(":", 1)[0]


def open_uploads(s3, bucket):
    return s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def test_small_object_through_express_start_sync_execution(engine, s3, buckets, invoke_batch):
    source, destination = buckets
    s3.put_object(Bucket=source, Key="clip.mp4", Body=b"x" * 1000, ContentType="video/mp4",
                  Metadata={"shot": "12"}, Tagging="kind=proxy")
    result = run_task(invoke_batch, s3, buckets, "clip.mp4")
    assert result["resultCode"] == "Succeeded", result
    head = s3.head_object(Bucket=destination, Key="clip.mp4")
    assert head["ETag"] == s3.head_object(Bucket=source, Key="clip.mp4")["ETag"]
    assert (head["ContentType"], head["Metadata"]) == ("video/mp4", {"shot": "12"})
    assert s3.get_object_tagging(Bucket=destination, Key="clip.mp4")["TagSet"] == [{"Key": "kind", "Value": "proxy"}]
    assert engine.invocations() == {"copy_object": 1, "verify_copy": 1}


def test_multipart_source_below_threshold_copies_on_express_inline_map(engine, s3, buckets, invoke_batch):
    source, destination = buckets
    etag = put_multipart(s3, source, "mezz.mov", 11 * MiB, 6 * MiB, ContentType="video/quicktime")
    result = run_task(invoke_batch, s3, buckets, "mezz.mov")
    assert result["resultCode"] == "Succeeded", result
    assert s3.head_object(Bucket=destination, Key="mezz.mov")["ETag"] == etag
    assert engine.invocations()["copy_parts"] == 2  # the source's own two parts, one group each
    assert open_uploads(s3, destination) == []


def test_large_object_on_distributed_map_keeps_layout_and_etag(engine, s3, buckets, invoke_batch):
    source, destination = buckets
    etag = put_multipart(s3, source, "master.mov", 19 * MiB + 3, 7 * MiB, Metadata={"t": "1"})
    result = run_task(invoke_batch, s3, buckets, "master.mov")
    assert result["resultCode"] == "Succeeded", result
    assert s3.head_object(Bucket=destination, Key="master.mov")["ETag"] == etag
    assert md5_of(s3, destination, "master.mov") == md5_of(s3, source, "master.mov")
    calls = engine.invocations()
    assert calls["copy_parts"] == 3 and calls["create_upload"] == calls["complete_upload"] == 1
    assert "abort_upload" not in calls
    assert open_uploads(s3, destination) == []


def test_throttled_part_group_is_retried_by_the_task_state(engine, s3, buckets, invoke_batch):
    source, destination = buckets
    etag = put_multipart(s3, source, "master.mov", 17 * MiB, 8 * MiB)
    engine.inject({"function": "copy_parts", "match": {"group": 1}, "error": "Throttled",
                   "message": "SlowDown (injected)", "times": 1})
    result = run_task(invoke_batch, s3, buckets, "master.mov")
    assert result["resultCode"] == "Succeeded", result
    assert engine.invocations()["copy_parts"] == 4
    assert s3.head_object(Bucket=destination, Key="master.mov")["ETag"] == etag


def test_source_overwritten_mid_copy_aborts_upload_and_reports_source_changed(engine, s3, buckets, invoke_batch):
    source, destination = buckets
    put_multipart(s3, source, "master.mov", 17 * MiB, 8 * MiB)
    # moto accepts a stale CopySourceIfMatch; AWS answers 412, which the copy turns into this error.
    engine.inject({"function": "copy_parts", "match": {"group": 1}, "error": "SourceChanged",
                   "message": "injected 412 PreconditionFailed", "action": "overwrite_source"})
    result = run_task(invoke_batch, s3, buckets, "master.mov")
    # LocalStack does not fail the Map Run on the failed group (test_engine_differences.py):
    # CompleteUpload finds its part missing (PartsMissing, retryable, the upload aborted),
    # and S3 Batch's redrive inspects the source anew and copies it as it is now. On AWS
    # the Map Run fails and AbortUpload's diagnosis names SourceChanged at once.
    assert result["resultCode"] == "Succeeded", result
    assert engine.invocations()["abort_upload"] >= 1
    assert open_uploads(s3, destination) == []
    assert md5_of(s3, destination, "master.mov") == md5_of(s3, source, "master.mov")


def test_source_deleted_after_inspection_fails_the_copy_with_source_missing(engine, s3, buckets, invoke_batch):
    source, _ = buckets
    s3.put_object(Bucket=source, Key="gone.mov", Body=b"1")
    engine.inject({"function": "copy_object", "action": "delete_source"})
    result = run_task(invoke_batch, s3, buckets, "gone.mov")
    assert (result["resultCode"], code_of(result)) == ("PermanentFailure", "SourceMissing"), result
    assert engine.invocations()["copy_object"] >= 1


def test_large_source_deleted_mid_copy_aborts_upload_with_source_missing(engine, s3, buckets, invoke_batch):
    source, destination = buckets
    put_multipart(s3, source, "master.mov", 17 * MiB, 8 * MiB)
    engine.inject({"function": "copy_parts", "match": {"group": 2}, "action": "delete_source"})
    result = run_task(invoke_batch, s3, buckets, "master.mov")
    assert (result["resultCode"], code_of(result)) == ("PermanentFailure", "SourceMissing"), result
    assert engine.invocations()["abort_upload"] >= 1
    assert open_uploads(s3, destination) == []


def test_missing_source_inspected_by_the_machine_fails_it_with_source_missing(engine, buckets):
    source, destination = buckets
    # No plan in the input: the machine's own Inspect state runs (batch_invoke usually did).
    state = {"source": {"bucket": source, "key": "nothing-here.mov"},
             "destination": {"bucket": destination, "key": "nothing-here.mov"}, "options": {}}
    answer = engine.sfn().start_sync_execution(stateMachineArn=engine.state_machine_arns["copy_small"],
                                               input=json.dumps(state))
    assert (answer["status"], answer["error"]) == ("FAILED", "SourceMissing"), answer
    assert "nothing-here.mov" in answer["cause"]
    assert engine.invocations() == {"inspect_source": 1}


def test_destination_access_denied_is_reported_naming_the_destination(engine, s3, buckets, invoke_batch):
    source, destination = buckets
    s3.put_object(Bucket=source, Key="a.mov", Body=b"1")
    engine.inject(denied_buckets=(destination,))
    result = run_task(invoke_batch, s3, buckets, "a.mov")
    assert (result["resultCode"], code_of(result)) == ("PermanentFailure", "AccessDenied"), result
    assert "destination" in result["resultString"]


def test_large_destination_access_denied_leaves_no_upload(engine, s3, buckets, invoke_batch):
    source, destination = buckets
    put_multipart(s3, source, "master.mov", 17 * MiB, 8 * MiB)
    engine.inject(denied_buckets=(destination,))
    result = run_task(invoke_batch, s3, buckets, "master.mov")
    assert (result["resultCode"], code_of(result)) == ("PermanentFailure", "AccessDenied"), result
    assert "copy_parts" not in engine.invocations()
    assert open_uploads(s3, destination) == []


def test_batch_retry_reattaches_to_the_running_standard_execution(engine, s3, buckets, invoke_batch, monkeypatch):
    source, destination = buckets
    etag = put_multipart(s3, source, "master.mov", 17 * MiB, 8 * MiB)
    # batch_invoke gives up waiting at once: it must answer TemporaryFailure, and the
    # retry must attach to the same execution rather than start a second copy.
    monkeypatch.setenv("MEDIASYNC_INVOKE_TIME_MARGIN", "100000")
    reset_settings()
    event = batch_event(f"job-retry-{source}", "t1", source, "master.mov",
                        user_arguments={"destinationBucket": destination, **ARGS})
    first = invoke_batch(event)
    assert first["resultCode"] == "TemporaryFailure" and first["resultString"].startswith("InProgress:"), first
    monkeypatch.setenv("MEDIASYNC_INVOKE_TIME_MARGIN", "0")
    reset_settings()
    second = run_task(invoke_batch, s3, buckets, "master.mov", job=f"job-retry-{source}")
    assert second["resultCode"] == "Succeeded", second
    executions = engine.sfn().list_executions(stateMachineArn=engine.state_machine_arns["copy_large"])["executions"]
    assert len([e for e in executions if e["name"].startswith(f"job-retry-{source}-")]) == 1
    assert s3.head_object(Bucket=destination, Key="master.mov")["ETag"] == etag
    assert engine.invocations()["create_upload"] == 1
