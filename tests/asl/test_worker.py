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
