"""StartSyncExecution against a slow Step Functions endpoint on 127.0.0.1.

A synchronous Express execution is at-most-once and may run for 5 minutes
(https://docs.aws.amazon.com/step-functions/latest/dg/express-at-least-once-execution.html,
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-express-synchronous.html):
every SDK retry after a read timeout starts another copy. batch_invoke sends the
call once and, when no answer comes, leaves the decision to the next S3 Batch
attempt, which checks the destination first.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from moto import mock_aws

from mediasync.core import clients
from mediasync.core.s3batch_task import SUCCEEDED, TEMPORARY_FAILURE, BatchTask, TaskRunner
from mediasync.core.settings import Settings, get_settings, reset_settings

MACHINE = "arn:aws:states:us-east-1:111122223333:stateMachine:mediasync-copy-small"
ANSWER_AFTER = 1.5  # seconds the fake takes to answer StartSyncExecution
READ_TIMEOUT = 0.3  # seconds batch_invoke waits for it in these tests


class SlowStepFunctions(ThreadingHTTPServer):
    """Answers StartSyncExecution only after ANSWER_AFTER seconds; counts requests."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: SlowStepFunctions

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append({"target": self.headers.get("X-Amz-Target", ""),
                                     "host": self.headers.get("Host", ""), "name": json.loads(body).get("name", "")})
        time.sleep(ANSWER_AFTER)
        answer = json.dumps({"executionArn": MACHINE.replace(":stateMachine:", ":express:") + ":x",
                             "startDate": time.time(), "stopDate": time.time(), "status": "SUCCEEDED",
                             "output": "{}"}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except OSError:
            pass  # the client gave up long ago

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def slow_sfn(monkeypatch) -> Iterator[SlowStepFunctions]:
    server = SlowStepFunctions()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("MEDIASYNC_STEPFUNCTIONS_ENDPOINT_URL", server.url)
    monkeypatch.setenv("MEDIASYNC_SYNC_EXECUTION_READ_TIMEOUT", str(READ_TIMEOUT))
    monkeypatch.setenv("MEDIASYNC_EXPRESS_STATE_MACHINE_ARN", MACHINE)
    reset_settings()
    clients.CLIENTS.reset()
    yield server
    server.shutdown()
    server.server_close()
    clients.CLIENTS.reset()
    reset_settings()


@pytest.fixture
def buckets() -> Iterator[Any]:
    """Source and destination in moto's S3; requests to 127.0.0.1 pass moto by."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in ("src", "dst"):
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket="src", Key="clip.mov", Body=b"x" * 1024)
        yield s3


def run_task(task_id: str = "task-1") -> Any:
    task = BatchTask("job-1", task_id, "src", "clip.mov", user_arguments={"destinationBucket": "dst"})
    return TaskRunner(get_settings()).run(task, remaining_ms=lambda: 900_000)


def test_express_copy_is_started_once_when_its_answer_is_late(slow_sfn, buckets):
    outcome = run_task()

    assert [request["target"] for request in slow_sfn.requests] == ["AWSStepFunctions.StartSyncExecution"]
    assert (outcome.result_code, outcome.code) == (TEMPORARY_FAILURE, "CopyOutcomeUnknown"), outcome
    assert "outcome is unknown" in outcome.message and "s3://dst/clip.mov" in outcome.message
    assert "checks the destination" in outcome.message


def test_after_an_unknown_outcome_the_destination_decides(slow_sfn, buckets):
    run_task()
    # The lost answer's copy did finish: the next attempt finds it and starts nothing.
    buckets.copy_object(Bucket="dst", Key="clip.mov", CopySource={"Bucket": "src", "Key": "clip.mov"})

    again = run_task()

    assert (again.result_code, again.code) == (SUCCEEDED, "AlreadyCopied"), again
    assert len(slow_sfn.requests) == 1


def test_other_step_functions_calls_keep_the_normal_client(slow_sfn):
    sync, normal = clients.sync_stepfunctions().meta.config, clients.stepfunctions().meta.config
    assert (sync.read_timeout, sync.retries["total_max_attempts"]) == (READ_TIMEOUT, 1)
    assert normal.read_timeout == Settings().states_read_timeout and normal.retries["total_max_attempts"] > 1


def test_deployed_default_waits_past_the_express_maximum(monkeypatch):
    monkeypatch.delenv("MEDIASYNC_SYNC_EXECUTION_READ_TIMEOUT", raising=False)
    reset_settings()
    try:
        assert get_settings().sync_execution_read_timeout > 300
    finally:
        reset_settings()


def test_botocore_puts_the_sync_host_prefix_before_a_custom_endpoint():
    """Why the custom endpoint client turns hostPrefix off: botocore 1.x joins the
    operation's hostPrefix ("sync-") to any endpoint's host, an IP address included
    (botocore.awsrequest._urljoin), unless Config(inject_host_prefix=False)
    (https://docs.aws.amazon.com/sdkref/latest/guide/feature-host-prefix.html)."""
    sent: list[str] = []

    def capture(request: Any, **_: Any) -> AWSResponse:
        sent.append(request.url)
        return AWSResponse(request.url, 400, {}, None)

    for inject in (True, False):
        client = boto3.client("stepfunctions", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                              aws_access_key_id="x", aws_secret_access_key="x",
                              config=Config(inject_host_prefix=inject, retries={"total_max_attempts": 1}))
        client.meta.events.register("before-send", capture)
        with pytest.raises(Exception):
            client.start_sync_execution(stateMachineArn=MACHINE, input="{}")
    assert sent == ["http://sync-127.0.0.1:9/", "http://127.0.0.1:9/"]
