"""S3 Batch calls a task again (a TemporaryFailure, a Lambda timeout): never a second copy."""

from __future__ import annotations

import boto3

from mediasync.core.settings import MiB
from mediasync.manifests.s3batch_csv import parse_lines
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
