"""What `mediasync status` reads from Step Functions, answered by the local engines as AWS
answers it: a job's running large copies (ListExecutions with a status filter,
DescribeExecution's input, ListMapRuns and DescribeMapRun's item counts) and, once
S3 Batch gave up on a task, how its execution ended (DescribeExecution)."""

from __future__ import annotations

import threading

import boto3

from mediasync.core.settings import MiB, reset_settings
from mediasync.reports.rows import parse_report_row
from mediasync.stack.status import reconcile, running_copies
from tests.conftest import batch_event, put_multipart

ARGS = {"destinationBucket": "dst", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB),
        "partsPerGroup": "1", "maxConcurrency": "1"}


def test_status_follows_a_running_large_copy_and_reconciles_it_once_done(runtime, buckets, monkeypatch):
    put_multipart(buckets, "src", "master.mov", 17 * MiB, 8 * MiB)
    release, holding = threading.Event(), threading.Event()

    def hold_the_second_group(name, event):
        if name == "copy_parts" and event["group"] == 1:
            holding.set()
            release.wait(30)

    runtime.before_invoke = hold_the_second_group
    # batch_invoke gives up waiting at once: S3 Batch would be told InProgress.
    monkeypatch.setenv("MEDIASYNC_INVOKE_TIME_MARGIN", "100000")
    reset_settings()
    first = runtime.invoke("batch_invoke", batch_event("job-7", "t1", "src", "master.mov", user_arguments=ARGS))
    result = first["results"][0]
    assert result["resultCode"] == "TemporaryFailure", result
    assert holding.wait(30)

    sfn = boto3.client("stepfunctions", region_name=runtime.region)
    copies, running = running_copies(sfn, runtime.state_machine_arns["copy_large"], "job-7")
    assert running == 1
    (copy,) = copies
    assert (copy.key, copy.size, copy.groups_total) == ("master.mov", 17 * MiB, 3)
    # (groups_total comes from the plan: moto counts only the items started so far as "total".)
    assert (copy.groups["succeeded"], copy.groups["running"]) == (1, 1)
    assert running_copies(sfn, runtime.state_machine_arns["copy_large"], "another-job") == ([], 0)

    release.set()
    # The row S3 Batch's completion report keeps after its last redrive of the task.
    row = parse_report_row(["src", "master.mov", "", "failed", "202", "TemporaryFailure", result["resultString"]])
    for _ in range(600):
        (reconciled,) = reconcile(sfn, [row]).rows
        if reconciled.status != "RUNNING":
            break
        threading.Event().wait(0.05)
    assert (reconciled.status, reconciled.outcome, reconciled.copied) == ("SUCCEEDED", "Copied", True)
