"""The AWS Batch worker: same copy code as the Lambda, stops cleanly when told to."""

from __future__ import annotations

import json
import threading

import pytest

from mediasync.core import steps
from mediasync.core.awsbatch_worker import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, GROUP_STATE_ENV, run_group
from mediasync.core.errors import WorkerInterrupted
from mediasync.core.plan import plan_copy
from mediasync.core.settings import CopyOptions, MiB
from mediasync.core.source import ObjectRef, inspect_source
from tests.conftest import put_multipart


@pytest.fixture
def group_state(runtime, s3):
    s3.create_bucket(Bucket="src")
    s3.create_bucket(Bucket="dst")
    put_multipart(s3, "src", "m.mov", 6 * 5 * MiB, 5 * MiB)
    options = CopyOptions(destination_bucket="dst", multipart_threshold=5 * MiB, part_size=5 * MiB,
                          parts_per_group=6, part_concurrency=1)
    from mediasync.core import clients
    source = inspect_source(clients.s3(), ObjectRef("src", "m.mov"))
    plan = plan_copy(source.size, options, **source.plan_args())
    upload = s3.create_multipart_upload(Bucket="dst", Key="m.mov")["UploadId"]
    return {"group": 0, "source": source.to_state(), "destination": {"bucket": "dst", "key": "m.mov"},
            "options": options.to_event(), "upload_id": upload, "plan": plan.to_state()}


def listed_parts(s3, state):
    return s3.list_parts(Bucket="dst", Key="m.mov", UploadId=state["upload_id"]).get("Parts", [])


def test_worker_copies_its_group(group_state, s3):
    assert run_group({GROUP_STATE_ENV: json.dumps(group_state)}) == EXIT_OK
    assert len(listed_parts(s3, group_state)) == 6


def test_stop_request_stops_taking_parts_and_exits_for_a_retry(group_state, s3):
    stop = threading.Event()
    with pytest.raises(WorkerInterrupted, match="stopped after 2 of 6 parts"):
        steps.copy_parts(group_state, stop=stop, on_part=lambda done, total: done == 2 and stop.set())
    assert len(listed_parts(s3, group_state)) == 2
    stop.set()
    assert run_group({GROUP_STATE_ENV: json.dumps(group_state)}, stop) == EXIT_INTERRUPTED


def test_worker_without_its_state_fails_without_retry():
    assert run_group({}) == EXIT_FAILED
    assert run_group({GROUP_STATE_ENV: "{not json"}) == EXIT_FAILED


# Quotes are escaped twice on the way (the item made a JSON string by States.JsonToString,
# then the overrides' own JSON): four characters each in the overrides.
QUOTED_METADATA = {"note": '"' * 1900}
QUOTED_KEY = "masters/" + '"' * 1000 + ".mov"  # 1,012 bytes: S3 takes keys up to 1,024


@pytest.mark.parametrize("key, metadata, on_batch", [
    ("master.mov", QUOTED_METADATA, True),  # fits once the item carries only what a group reads
    (QUOTED_KEY, {}, False),  # never fits: its part groups run on Lambda
])
def test_a_group_item_past_aws_batch_overrides_limit_never_reaches_batch(runtime, s3, key, metadata, on_batch):
    """AWS Batch (Fargate, so ECS) takes at most 8,192 characters of container overrides
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html), modeled
    by tests/faults/aws_rules.batch_container_overrides_limit."""
    from tests.conftest import batch_event
    from tests.faults.aws_rules import batch_container_overrides_limit

    s3.create_bucket(Bucket="src")
    s3.create_bucket(Bucket="dst")
    put_multipart(s3, "src", key, 12 * MiB, 5 * MiB, Metadata=metadata)
    arguments = {"destinationBucket": "dst", "multipartThreshold": str(8 * MiB), "partSize": str(5 * MiB),
                 "worker": "batch", "batchPartsPerGroup": "3"}

    with batch_container_overrides_limit():
        result = runtime.invoke("batch_invoke", batch_event("job-1", "t1", "src", key, user_arguments=arguments))

    assert result["results"][0]["resultCode"] == "Succeeded", result
    assert runtime.invocations.get("worker", 0) == (1 if on_batch else 0)
    assert runtime.invocations.get("copy_parts", 0) == (0 if on_batch else 1)
