"""The EXPRESS machine on AWS's own Step Functions Local, service integrations mocked.

A second interpreter for the same ASL file: the AWS-published
amazon/aws-stepfunctions-local container, with a mock config answering the
Lambda tasks. It needs a Docker engine; without one the suite is skipped and
the ASL files are still executed by moto (tests/asl) and validated (asl-validator).
(Step Functions Local has no Distributed Map, so copy_large stays on moto.)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config

from mediasync.core.plan import plan_copy
from mediasync.core.settings import CopyOptions, MiB
from mediasync.local.runtime import FUNCTION_SUBSTITUTIONS, PARTITION_SUBSTITUTION, substitute
from tests.deploy.conftest import STATE_MACHINE_DIR

IMAGE = "amazon/aws-stepfunctions-local:latest"
ACCOUNT = "123456789012"
MOCK_CONFIG_IN_CONTAINER = "/home/StepFunctionsLocal/MockConfigFile.json"


def docker_engine_problem() -> str | None:
    if shutil.which("docker") is None:
        return "no docker command"
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"docker info did not answer ({err})"
    if result.returncode != 0:
        return "no Docker engine reachable (`docker info` failed: " + (result.stderr.strip().splitlines() or ["?"])[-1] + ")"
    return None


_problem = docker_engine_problem()
pytestmark = pytest.mark.skipif(
    _problem is not None,
    reason=f"Step Functions Local runs as the {IMAGE} container: {_problem}",
)


def lambda_ok(payload: dict[str, Any]) -> dict[str, Any]:
    return {"0": {"Return": {"StatusCode": 200, "Payload": payload}}}


SOURCE = {"bucket": "src", "key": "clip.mov", "size": 20 * MiB, "etag": '"5d41402abc4b2a76b9719d911017c592-4"'}
MOCK_CONFIG = {
    "StateMachines": {
        "CopySmall": {
            "TestCases": {
                "SingleCopy": {"CopyObject": "Copied", "Verify": "Verified"},
                "GroupFails": {"CreateUpload": "UploadCreated", "CopyPartsOnLambda": "SourceChanged", "AbortUpload": "Aborted"},
            }
        }
    },
    "MockedResponses": {
        "Copied": lambda_ok({"etag": SOURCE["etag"], "version_id": None, "expected_etag": None}),
        "Verified": lambda_ok({"method": "etag", "message": "ETag equals the source's"}),
        "UploadCreated": lambda_ok({"upload_id": "upload-1"}),
        "SourceChanged": {"0": {"Throw": {"Error": "SourceChanged", "Cause": "source s3://src/clip.mov changed"}}},
        "Aborted": lambda_ok({"aborted": True}),
    },
}


@pytest.fixture(scope="module")
def stepfunctions_local(tmp_path_factory) -> Iterator[Any]:
    config = tmp_path_factory.mktemp("sfn") / "MockConfigFile.json"
    config.write_text(json.dumps(MOCK_CONFIG))
    name = f"mediasync-sfn-local-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["docker", "run", "--rm", "-d", "--name", name, "-p", "127.0.0.1::8083",
         "-v", f"{config}:{MOCK_CONFIG_IN_CONTAINER}:ro", "-e", f"SFN_MOCK_CONFIG={MOCK_CONFIG_IN_CONTAINER}", IMAGE],
        check=True, capture_output=True, timeout=600,
    )
    try:
        port = subprocess.run(["docker", "port", name, "8083"], check=True, capture_output=True, text=True).stdout
        client = boto3.client(
            "stepfunctions", region_name="us-east-1", endpoint_url=f"http://{port.split()[0]}",
            aws_access_key_id="local", aws_secret_access_key="local", config=Config(retries={"max_attempts": 0}),
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                client.list_state_machines()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield client
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)


def fake_substitutions() -> dict[str, str]:
    functions = {key: f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}" for key, name in FUNCTION_SUBSTITUTIONS.items()}
    return {**functions, PARTITION_SUBSTITUTION: "aws"}


@pytest.fixture(scope="module")
def copy_small(stepfunctions_local) -> str:
    # STANDARD here only to read the history back; the definition is the EXPRESS machine's file.
    definition = substitute(Path(STATE_MACHINE_DIR / "copy_small.asl.json"), fake_substitutions())
    return stepfunctions_local.create_state_machine(
        name="CopySmall", definition=definition, roleArn=f"arn:aws:iam::{ACCOUNT}:role/local", type="STANDARD"
    )["stateMachineArn"]


def run(client: Any, machine: str, test_case: str, state: dict[str, Any]) -> dict[str, Any]:
    arn = client.start_execution(stateMachineArn=f"{machine}#{test_case}", input=json.dumps(state))["executionArn"]
    deadline = time.monotonic() + 120
    while (description := client.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution did not finish"
        time.sleep(0.2)
    return description


def task_state(single: bool) -> dict[str, Any]:
    options = CopyOptions(destination_bucket="dst", multipart_threshold=64 * MiB, part_size=5 * MiB)
    plan = plan_copy(SOURCE["size"], options, source_part_size=None if single else 5 * MiB, source_part_count=None if single else 4)
    return {"source": SOURCE, "destination": {"bucket": "dst", "key": "clip.mov"}, "options": options.to_event(), "plan": plan.to_state()}


def test_single_copy_is_verified_before_it_succeeds(stepfunctions_local, copy_small):
    state = task_state(single=True)
    assert state["plan"]["route"] == "single"
    description = run(stepfunctions_local, copy_small, "SingleCopy", state)
    assert description["status"] == "SUCCEEDED", description
    assert json.loads(description["output"])["verification"]["method"] == "etag"


def test_failed_part_group_aborts_the_upload(stepfunctions_local, copy_small):
    state = task_state(single=False)
    assert state["plan"]["route"] == "multipart"
    description = run(stepfunctions_local, copy_small, "GroupFails", state)
    assert description["status"] == "FAILED"
    history = stepfunctions_local.get_execution_history(executionArn=description["executionArn"])["events"]
    entered = [event["stateEnteredEventDetails"]["name"] for event in history if "stateEnteredEventDetails" in event]
    assert "AbortUpload" in entered and "CompleteUpload" not in entered
