"""LocalStack's Step Functions engine, a second interpreter for the ASL files.

The engine runs in its own Python 3.13 virtualenv (``.venv-localstack``, made by
``make setup`` where python3.13 exists): ``mediasync.testing.localstack_engine`` serves
the Step Functions API on 127.0.0.1 and runs our handlers for its Lambda tasks. These
tests run in the main virtualenv: they deploy the state machines into the engine,
call ``batch_invoke`` in-process as S3 Batch would (its Step Functions client pointed at
the engine), and read and write S3 on a moto server that both processes use.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from mediasync.core import clients, polling
from mediasync.core import s3batch_task as batch
from mediasync.core.settings import reset_settings
from mediasync.local.runtime import (
    FUNCTION_PREFIX,
    FUNCTION_SUBSTITUTIONS,
    STATE_MACHINES,
    LocalLambdaContext,
    load_handler,
    project_root,
    substitute,
)
from mediasync.testing.servers import S3Server, free_port, run_moto_server

ROOT = project_root()
# make upgrade-check points this at a throwaway virtualenv of newer versions.
ENGINE_PYTHON = Path(os.environ.get("MEDIASYNC_LOCALSTACK_PYTHON") or ROOT / ".venv-localstack" / "bin" / "python")
# LocalStack's account for credentials that are not an account id ("testing").
ACCOUNT = "000000000000"
REGION = "us-east-1"
READY_TIMEOUT = 60.0
_bucket_numbers = itertools.count(1)


def engine_missing() -> str | None:
    if ENGINE_PYTHON.exists():
        return None
    return (f"{ENGINE_PYTHON} is absent: `make setup` creates it with localstack-core "
            "when python3.13 is found (pyenv install 3.13, then make setup)")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@dataclass
class Engine:
    endpoint_url: str
    s3_server: S3Server
    state_machine_arns: dict[str, str]
    log_path: Path

    def sfn(self) -> Any:
        return boto3.client("stepfunctions", endpoint_url=self.endpoint_url, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def control(self, command: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.endpoint_url}/_mediasync/{command}", data=data,
                                         method="POST" if data is not None else "GET")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def inject(self, *faults: dict[str, Any], denied_buckets: tuple[str, ...] = ()) -> None:
        """Faults the engine applies before its handlers run (see ``localstack_engine.Fault``)."""
        self.control("faults", {"faults": list(faults), "denied_buckets": list(denied_buckets)})

    def invocations(self) -> dict[str, int]:
        return self.control("invocations")["invocations"]


def _start_engine(s3_server: S3Server, log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": s3_server.access_key,
        "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
        "AWS_DEFAULT_REGION": REGION,
        "MEDIASYNC_S3_ENDPOINT_URL": s3_server.endpoint_url,
        "MEDIASYNC_PROJECT_ROOT": str(ROOT),
    })
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(ENGINE_PYTHON), "-m", "mediasync.testing.localstack_engine", "--port", str(port)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the LocalStack engine exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{endpoint}/_mediasync/invocations", timeout=2):
                return process, endpoint
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the LocalStack engine did not answer within {READY_TIMEOUT:.0f} s:\n{log_path.read_text()[-3000:]}")


def _deploy(engine_endpoint: str) -> dict[str, str]:
    """Both machines from their files, with template.yaml's substitution keys."""
    substitutions = {
        key: f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION_PREFIX}{name.replace('_', '-')}"
        for key, name in FUNCTION_SUBSTITUTIONS.items()
    }
    # The Batch worker path is not run on this engine (LocalStack's Batch needs Docker).
    substitutions["WorkerJobQueueArn"] = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/mediasync-workers"
    substitutions["WorkerJobDefinitionName"] = "mediasync-worker"
    substitutions["Partition"] = "aws"
    sfn = boto3.client("stepfunctions", endpoint_url=engine_endpoint, region_name=REGION,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    arns = {}
    for name, (filename, machine_type, _) in STATE_MACHINES.items():
        definition = substitute(ROOT / "statemachine" / filename, substitutions)
        arns[name] = sfn.create_state_machine(
            name=f"mediasync-{name.replace('_', '-')}", definition=definition,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/mediasync", type=machine_type,
        )["stateMachineArn"]
    return arns


@pytest.fixture(scope="session")
def localstack_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    problem = engine_missing()
    if problem is not None:
        if in_ci():
            pytest.fail(f"CI must run the LocalStack scenarios: {problem}", pytrace=False)
        pytest.skip(f"LocalStack scenarios skipped: {problem}")
    log_path = tmp_path_factory.mktemp("localstack") / "engine.log"
    with run_moto_server() as s3_server:
        process, endpoint = _start_engine(s3_server, log_path)
        try:
            yield Engine(endpoint, s3_server, _deploy(endpoint), log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def engine(localstack_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The engine with no faults, and this process set up as batch_invoke's Lambda."""
    localstack_engine.control("reset", {})
    server = localstack_engine.s3_server
    for name, value in {
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "MEDIASYNC_S3_ENDPOINT_URL": server.endpoint_url,
        "AWS_ENDPOINT_URL_SFN": localstack_engine.endpoint_url,
        # StartSyncExecution's `sync-` host prefix cannot resolve on 127.0.0.1.
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        "MEDIASYNC_EXPRESS_STATE_MACHINE_ARN": localstack_engine.state_machine_arns["copy_small"],
        "MEDIASYNC_STANDARD_STATE_MACHINE_ARN": localstack_engine.state_machine_arns["copy_large"],
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # As the moto runtime does: polls start at once and stay short on a local engine.
    monkeypatch.setattr(polling, "MAX_POLL_DELAY", 0.2)
    monkeypatch.setattr(batch, "expected_execution_seconds", lambda *_: 0.0)
    reset_settings()
    clients.CLIENTS.reset()
    yield localstack_engine
    localstack_engine.control("reset", {})
    clients.CLIENTS.reset()
    monkeypatch.undo()
    reset_settings()


@pytest.fixture
def s3(engine: Engine) -> Any:
    return engine.s3_server.client()


@pytest.fixture
def buckets(s3: Any) -> tuple[str, str]:
    """A fresh source and destination bucket for each test (the server lives all session)."""
    number = next(_bucket_numbers)
    source, destination = f"src-{number}", f"dst-{number}"
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=destination)
    return source, destination


@pytest.fixture(scope="session")
def batch_invoke_handler() -> Any:
    return load_handler(ROOT, "batch_invoke")


@pytest.fixture
def invoke_batch(engine: Engine, batch_invoke_handler: Any) -> Any:
    """Call batch_invoke as S3 Batch Operations does; returns the task's result."""

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return batch_invoke_handler(event, LocalLambdaContext("batch_invoke", 900.0))["results"][0]

    return invoke
