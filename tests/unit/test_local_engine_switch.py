"""The local runtime's choice of engine and its settings, read in one place (local/runtime.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import boto3
import pytest

from mediasync.local.runtime import (
    ENGINE_VARIABLE,
    LocalRuntime,
    local_engine,
)


def test_the_strict_engine_is_the_default_and_moto_a_switch(monkeypatch):
    monkeypatch.delenv(ENGINE_VARIABLE, raising=False)
    assert local_engine() == "mediasync"
    monkeypatch.setenv(ENGINE_VARIABLE, "moto")
    assert local_engine() == "moto"
    assert local_engine("mediasync") == "mediasync"
    monkeypatch.setenv(ENGINE_VARIABLE, "stepfunctions-local")
    with pytest.raises(ValueError, match="use mediasync .* or moto"):
        local_engine()


STARTS_WITH_AN_ENDPOINT = """
import sys
from mediasync.local.runtime import LocalRuntime
with LocalRuntime(s3_endpoint_url="http://127.0.0.1:9", s3_credentials={"aws_access_key_id": "a",
                                                                        "aws_secret_access_key": "b"}):
    print(sorted(name for name in sys.modules if name == "moto" or name.startswith("moto.")))
"""


def test_with_an_s3_endpoint_the_strict_engine_does_not_start_moto():
    root = Path(__file__).resolve().parents[2]
    env = {key: value for key, value in os.environ.items() if key != ENGINE_VARIABLE}
    result = subprocess.run([sys.executable, "-c", STARTS_WITH_AN_ENDPOINT], cwd=root, capture_output=True,
                            text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[-2] == "[]"


def test_executions_still_running_are_stopped_when_the_runtime_ends():
    release = threading.Event()
    with LocalRuntime(engine="mediasync") as runtime:
        def blocked(event, context):
            release.wait(10)
            return {}

        runtime.handlers["probe_blocked"] = blocked
        sfn = boto3.client("stepfunctions", region_name=runtime.region)
        definition = {"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
            "Parameters": {"FunctionName": runtime.function_arn("probe_blocked"), "Payload": {}}}}}
        machine = sfn.create_state_machine(name="blocked", definition=json.dumps(definition),
                                           roleArn=runtime._role)["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=machine, name="left-running")["executionArn"]
        service = runtime._steps.service
    execution = service._find_execution(arn)
    release.set()
    assert execution.done.wait(10)
    assert (execution.status, execution.cause) == ("ABORTED", "the local runtime ended")
