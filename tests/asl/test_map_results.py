"""What a part-group Map collects stays under Step Functions' 256 KiB payload limit
for the largest plan the planner makes.

A Map state gathers every child's output into one array, and a Distributed Map does
so even when its ResultPath is null: past 256 KiB the execution fails with
States.DataLimitExceeded, which no Catch sees, and the multipart upload stays open
(https://docs.aws.amazon.com/step-functions/latest/dg/limits-overview.html,
https://github.com/aws/aws-cdk/issues/24799). Each child state is executed here on
moto with the real ASL, its output measured, and the sum taken over the planner's
largest group count.
"""

from __future__ import annotations

import json
import time
import uuid
from unittest import mock

import boto3
import pytest

from mediasync.core.plan import MAX_PARTS, plan_copy
from mediasync.core.settings import CopyOptions, MiB
from mediasync.core.source import SourceObject
from mediasync.local import runtime as runtime_module
from mediasync.local.runtime import project_root, substitute

PAYLOAD_LIMIT = 256 * 1024


def compact(value) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def largest_plan():
    """The most part groups the planner makes: 10,000 parts, one per group (partsPerGroup 1)."""
    options = CopyOptions(destination_bucket="destination-bucket-with-a-long-name", multipart_threshold=5 * MiB,
                          part_size=5 * MiB, parts_per_group=1)
    plan = plan_copy(MAX_PARTS * 5 * MiB, options)
    assert plan.group_count == MAX_PARTS
    return options, plan


def parent_state(options, plan) -> dict:
    """The Map state's input: what CreateUpload leaves in the execution."""
    source = SourceObject("source-bucket-with-a-long-name", "masters/2024/episode-101/master-uhd.mov", None,
                          plan.size, '"0123456789abcdef0123456789abcdef-10000"', MAX_PARTS, 5 * MiB,
                          content_type="video/quicktime", metadata={"project": "x" * 64})
    return {"source": source.to_state(), "destination": {"bucket": options.destination_bucket, "key": source.key},
            "options": options.to_event(), "plan": plan.to_state(),
            "upload": {"result": {"upload_id": "u" * 128}}}


def item(state: dict, group: int, worker: str) -> dict:
    """One Map item as the ItemSelector builds it."""
    plan = {key: value for key, value in state["plan"].items() if key != "group_indices"}
    return {"group": group, "source": state["source"], "destination": state["destination"],
            "options": state["options"], "upload_id": state["upload"]["result"]["upload_id"],
            "plan": {**plan, "worker": worker}}


def child_machine(runtime, filename: str) -> str:
    definition = json.loads(substitute(project_root() / "statemachine" / filename, runtime.substitutions))
    processor = dict(definition["States"]["CopyPartGroups"]["ItemProcessor"])
    processor.pop("ProcessorConfig")
    sfn = boto3.client("stepfunctions", region_name=runtime.region)
    return sfn.create_state_machine(name=f"child-{uuid.uuid4().hex[:12]}", definition=json.dumps(processor),
                                    roleArn=runtime._role, type="STANDARD")["stateMachineArn"]


def run_child(runtime, machine: str, state_input: dict):
    sfn = boto3.client("stepfunctions", region_name=runtime.region)
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(state_input))["executionArn"]
    deadline = time.monotonic() + 60
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])


@pytest.fixture
def copied_groups(runtime):
    """copy_parts and the Batch worker answer as they do after copying a group, without S3."""
    runtime.handlers["copy_parts"] = lambda event, context: {"group": event["group"], "parts": 1, "bytes": 5 * MiB}
    with mock.patch.object(runtime_module, "run_group", lambda environment, stop=None: 0):
        yield runtime


@pytest.mark.parametrize("filename,worker", [
    ("copy_small.asl.json", "lambda"),
    ("copy_large.asl.json", "lambda"),
    ("copy_large.asl.json", "batch"),
])
def test_the_largest_plan_collects_less_than_256_kib(copied_groups, filename, worker):
    runtime = copied_groups
    options, plan = largest_plan()
    state = parent_state(options, plan)
    machine = child_machine(runtime, filename)
    # The widest output a child gives: the last group's (the longest index).
    child_bytes = compact(run_child(runtime, machine, item(state, plan.group_count - 1, worker)))
    collected = plan.group_count * (child_bytes + 1) + 1
    assert collected + compact(state) < PAYLOAD_LIMIT, (
        f"{plan.group_count} children of {child_bytes} bytes collect {collected} bytes beside a {compact(state)}-byte state")


@pytest.mark.parametrize("filename", ["copy_small.asl.json", "copy_large.asl.json"])
def test_the_map_discards_what_it_collected(filename):
    definition = json.loads((project_root() / "statemachine" / filename).read_text())
    assert definition["States"]["CopyPartGroups"]["ResultPath"] is None
