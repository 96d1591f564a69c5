"""S3 Batch calls a task again (a TemporaryFailure, a Lambda timeout): never a second copy."""

from __future__ import annotations

import boto3

from mediasync.core.settings import MiB
from mediasync.manifests.s3batch_csv import parse_lines
from mediasync.reports.rows import REPORT_COLUMNS
from tests.conftest import batch_event, put_multipart
from tests.invariants import assert_invariants, report_row_of

# skipExisting off: the retry must find the execution by its name, not the object by its ETag.
ARGS = {"destinationBucket": "dst", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB),
        "partsPerGroup": "1", "skipExisting": "false"}


def run_task(runtime, key):
    return runtime.invoke("batch_invoke", batch_event("job-1", "task-1", "src", key, user_arguments=ARGS))["results"][0]


def test_retry_of_a_task_whose_execution_already_finished_returns_its_result_without_copying_again(runtime, buckets):
    s3 = buckets
    etag = put_multipart(s3, "src", "master.mov", 17 * MiB, 8 * MiB)
    first = run_task(runtime, "master.mov")
    assert first["resultCode"] == "Succeeded", first
    copies = dict(runtime.invocations)

    again = run_task(runtime, "master.mov")
    assert again == {**first, "taskId": again["taskId"]}
    assert {name: runtime.invocations[name] for name in copies if name != "batch_invoke"} == \
        {name: count for name, count in copies.items() if name != "batch_invoke"}, "nothing ran again"
    sfn = boto3.client("stepfunctions", region_name=runtime.region)
    assert len(sfn.list_executions(stateMachineArn=runtime.state_machine_arns["copy_large"])["executions"]) == 1
    assert s3.head_object(Bucket="dst", Key="master.mov")["ETag"] == etag
    assert_invariants(s3, parse_lines(["src,master.mov\n"]), [report_row_of("src", "master.mov", again)], "dst")


def failing_part_groups(runtime, executions_to_fail):
    """copy_parts fails in the first ``executions_to_fail`` executions (each one's first group),
    as a throttle that outlasts the Map's Retry does; returns the CreateMultipartUpload count
    seen by each batch_invoke invocation."""
    failed_uploads: set[str] = set()
    uploads_per_invocation: list[int] = []

    def faults(name, event):
        if name == "batch_invoke":
            uploads_per_invocation.append(0)
        if name == "create_upload":
            uploads_per_invocation[-1] += 1
        if name == "copy_parts" and (event["upload_id"] in failed_uploads or len(failed_uploads) < executions_to_fail):
            failed_uploads.add(event["upload_id"])
            raise RuntimeError("injected: the part group failed past its Retry")

    runtime.before_invoke = faults
    return uploads_per_invocation


def test_a_failed_execution_is_retried_by_s3_batch_redrive_not_at_once(runtime, buckets):
    """S3 Batch's TemporaryFailure redrive is the tool for a transient failure
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html):
    one new execution (one CreateMultipartUpload, one full copy) per invocation."""
    put_multipart(buckets, "src", "master.mov", 17 * MiB, 8 * MiB)
    uploads = failing_part_groups(runtime, executions_to_fail=1)

    first = run_task(runtime, "master.mov")
    assert first["resultCode"] == "TemporaryFailure", first
    assert "execution 1 of 3" in first["resultString"]
    second = run_task(runtime, "master.mov")

    assert second["resultCode"] == "Succeeded", second
    assert uploads == [1, 1], "one new execution per invocation"
    assert buckets.list_multipart_uploads(Bucket="dst").get("Uploads", []) == []


def test_a_failure_that_persists_ends_permanent_after_the_redrives_s3_batch_allows(runtime, buckets, tmp_path):
    from mediasync.local.s3batch import S3BatchJob

    put_multipart(buckets, "src", "master.mov", 17 * MiB, 8 * MiB)
    uploads = failing_part_groups(runtime, executions_to_fail=99)
    rows = []
    job = S3BatchJob(lambda event: runtime.invoke("batch_invoke", event), user_arguments=ARGS, concurrency=1,
                     max_temporary_retries=3, retry_delay=0.0)

    job.run(parse_lines(["src,master.mov\n"]), rows.append)

    [row] = rows
    assert (row.status, row.code) == ("failed", "StepFunctionsError")
    assert "after 3 executions" in row.message
    assert uploads == [1, 1, 1], "three invocations, one execution each"
    assert_invariants(buckets, parse_lines(["src,master.mov\n"]), [dict(zip(REPORT_COLUMNS, row.as_csv()))], "dst")
