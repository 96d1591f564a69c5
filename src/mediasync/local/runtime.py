"""Run the real state machines and handlers on this machine, without AWS or Docker.

The same ``statemachine/*.asl.json`` files, with the same substitution keys as
``template.yaml``, run on a Step Functions engine in this process, and their Lambda
tasks call our handlers in-process. Two engines can run them (``MEDIASYNC_LOCAL_ENGINE``):

- ``mediasync`` (the default): the strict engine in local/asl, which refuses a
  definition AWS would refuse and enforces AWS's limits (payload sizes, the EXPRESS
  ceiling, Map Run tolerated failures); see docs/local-engine.md;
- ``moto``: moto's interpreter (local/moto_engine.py), kept as the reference.

S3 is moto's in-process S3 or any endpoint by URL; with an endpoint and the strict
engine, moto is not started at all.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from unittest import mock

import boto3

from mediasync.core import clients, polling, s3batch_task
from mediasync.core.awsbatch_worker import batch_retries, run_group
from mediasync.core.observability import logger, metrics
from mediasync.core.settings import reset_settings
from mediasync.local.deployment import (  # noqa: F401 (the runtime's names, as callers import them)
    ACCOUNT_ID,
    BATCH_INVOKE_FUNCTION,
    BATCH_SUBSTITUTIONS,
    FUNCTION_PREFIX,
    FUNCTION_SUBSTITUTIONS,
    LOCAL_PARTITION,
    PARTITION_SUBSTITUTION,
    STATE_MACHINES,
    load_handler,
    project_root,
    substitute,
)
from mediasync.local.moto_patches import moto_s3_patches

# batch_invoke's longest pause between DescribeExecution calls while a STANDARD
# execution runs. AWS's 5 s protects an API quota that an in-process engine does not
# have, and cost up to 5 s per large object here after its copy had finished.
LOCAL_MAX_POLL_DELAY = 0.2
# ...and its first pause is the copy time the model expects on AWS, which says
# nothing about a local server: here the polls start at once.
LOCAL_EXPECTED_SECONDS = 0.0

# Which engine runs the state machines. Read here and nowhere else.
ENGINE_VARIABLE = "MEDIASYNC_LOCAL_ENGINE"
STRICT_ENGINE = "mediasync"
MOTO_ENGINE = "moto"
# An EXPRESS execution ends after 5 minutes whatever its states are doing, and no Catch
# runs (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-standard-vs-express.html).
# LocalRuntime(express_ceiling_seconds=...) scales it down for tests.
EXPRESS_CEILING_SECONDS = 300.0


def local_engine(requested: str | None = None) -> str:
    """``requested``, else MEDIASYNC_LOCAL_ENGINE, else the strict engine."""
    engine = (requested or os.environ.get(ENGINE_VARIABLE) or STRICT_ENGINE).strip().lower()
    if engine not in (STRICT_ENGINE, MOTO_ENGINE):
        raise ValueError(f"{ENGINE_VARIABLE}={engine!r}: use {STRICT_ENGINE} (the default) or {MOTO_ENGINE}")
    return engine


@dataclass
class LocalLambdaContext:
    """What Powertools and our handlers read from a Lambda context."""

    function_name: str
    timeout_seconds: float
    memory_limit_in_mb: int = 1024

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{self.function_name}"
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def resolve_credentials() -> dict[str, str] | None:
    """The user's credentials, read before moto replaces them with fake ones."""
    credentials = boto3.session.Session().get_credentials()
    if credentials is None:
        return None
    frozen = credentials.get_frozen_credentials()
    resolved = {"aws_access_key_id": frozen.access_key, "aws_secret_access_key": frozen.secret_key}
    if frozen.token:
        resolved["aws_session_token"] = frozen.token
    return resolved


class LocalRuntime:
    """Context manager: MediaSync deployed on a local Step Functions engine."""

    def __init__(
        self,
        *,
        s3_endpoint_url: str | None = None,
        s3_credentials: dict[str, str] | None = None,
        region: str = "us-east-1",
        lambda_timeout: float = 900.0,
        log_level: str = "ERROR",
        speed_patches: bool | None = None,
        engine: str | None = None,
        express_ceiling_seconds: float = EXPRESS_CEILING_SECONDS,
        history: bool = False,
    ) -> None:
        self.s3_endpoint_url = s3_endpoint_url
        self.s3_credentials = s3_credentials
        self.region = region
        self.account = ACCOUNT_ID
        self.lambda_timeout = lambda_timeout
        self.log_level = log_level
        # moto's engine only. None: MEDIASYNC_LOCAL_SPEED_PATCHES decides (local/moto_patches.py).
        self.speed_patches = speed_patches
        self.engine = local_engine(engine)
        # Read at each EXPRESS start: a test may change it on a running runtime.
        self.express_ceiling_seconds = express_ceiling_seconds
        # The strict engine records GetExecutionHistory's events only when asked (moto always does).
        self.history = history
        self.root = project_root()
        self.handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._role = f"arn:aws:iam::{ACCOUNT_ID}:role/mediasync-local"
        self.substitutions: dict[str, str] = {
            PARTITION_SUBSTITUTION: LOCAL_PARTITION,
            **{key: self.function_arn(name) for key, name in FUNCTION_SUBSTITUTIONS.items()},
            **self.batch_arns(),
        }
        self.state_machine_arns: dict[str, str] = {
            name: f"arn:aws:states:{region}:{ACCOUNT_ID}:stateMachine:mediasync-{name.replace('_', '-')}"
            for name in STATE_MACHINES
        }
        self.invocations: dict[str, int] = {}
        # Tests inject faults here: called with (function name, event) before the handler.
        self.before_invoke: Callable[[str, dict], None] | None = None
        self._count_lock = threading.Lock()
        self._patches: list[Any] = []
        self._mock: Any = None
        self._steps: Any = None  # the engine: NativeEngine or MotoEngine
        self._saved_env: dict[str, str | None] = {}

    # -- lifecycle -------------------------------------------------------------
    def __enter__(self) -> "LocalRuntime":
        if self.s3_endpoint_url and self.s3_credentials is None:
            self.s3_credentials = resolve_credentials()
            if self.s3_credentials is None:
                raise RuntimeError(
                    f"no AWS credentials found for {self.s3_endpoint_url}: set AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY (or a profile) for that server"
                )
        try:
            if self.engine == MOTO_ENGINE or not self.s3_endpoint_url:
                # moto's S3 (and, for its engine, its Step Functions, Lambda and Batch).
                from moto import mock_aws

                self._mock = mock_aws(
                    config={
                        "stepfunctions": {"execute_state_machine": True},
                        "lambda": {"use_docker": False},
                        "batch": {"use_docker": False},
                    }
                )
                self._mock.start()
            self._patches = [
                # moto's S3 keeps what AWS keeps on a copy (local/moto_patches.py).
                *(moto_s3_patches(self) if self._mock is not None else []),
                # Local timing: no API quota to spare, and the copy is as fast as the disk.
                mock.patch.object(polling, "MAX_POLL_DELAY", LOCAL_MAX_POLL_DELAY),
                mock.patch.object(s3batch_task, "expected_execution_seconds", lambda *_: LOCAL_EXPECTED_SECONDS),
                # No CloudWatch here; and Powertools' metric set is per process, not
                # per concurrent in-process invocation, so it would only pile up.
                mock.patch.object(metrics.provider, "add_metric", _discard),
                mock.patch.object(metrics.provider, "flush_metrics", _discard),
            ]
            for patch in self._patches:
                patch.start()
            self._set_env(
                {
                    "AWS_DEFAULT_REGION": self.region,
                    "AWS_REGION": self.region,
                    "POWERTOOLS_METRICS_DISABLED": "true",
                    "POWERTOOLS_TRACE_DISABLED": "true",
                    **{variable: self.state_machine_arns[name] for name, (_, _, variable) in STATE_MACHINES.items()},
                }
            )
            logger.setLevel(self.log_level)
            for name in [*FUNCTION_SUBSTITUTIONS.values(), BATCH_INVOKE_FUNCTION]:
                self.handlers[name] = load_handler(self.root, name)
            if self.engine == MOTO_ENGINE:
                from mediasync.local.moto_engine import MotoEngine

                self._steps = MotoEngine(self, speed_patches=self.speed_patches)
            else:
                from mediasync.local.native import NativeEngine

                self._steps = NativeEngine(self, history=self.history)
            self._steps.start()
            reset_settings()
            clients.CLIENTS.configure_s3(self.s3_endpoint_url, self.s3_credentials)
            if self.engine == MOTO_ENGINE:
                self._steps.install_sync_execution()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._steps is not None:
            self._steps.stop()
            self._steps = None
        for patch in reversed(self._patches):
            patch.stop()
        self._patches = []
        self._restore_env()
        reset_settings()
        clients.CLIENTS.reset()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None

    def _set_env(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def _restore_env(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}

    # -- names -------------------------------------------------------------------
    def function_arn(self, name: str) -> str:
        """The ARN a handler's function has here (as moto names it)."""
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{FUNCTION_PREFIX}{name.replace('_', '-')}"

    def batch_arns(self) -> dict[str, str]:
        """The worker queue's ARN (as moto gives it) and job definition's name."""
        prefix = f"arn:aws:batch:{self.region}:{ACCOUNT_ID}"
        return {
            "WorkerJobQueueArn": f"{prefix}:job-queue/mediasync-workers",
            "WorkerJobDefinitionName": "mediasync-worker",
        }

    def function_name(self, function: str) -> str:
        """Handler directory for a function name or ARN."""
        name = function.split(":function:")[-1].split(":")[0]
        return name.removeprefix(FUNCTION_PREFIX).replace("-", "_")

    # -- dispatch -------------------------------------------------------------
    def call_function(self, name: str, body: bytes | str | None) -> tuple[bytes, str | None]:
        """Invoke handler ``name`` as the Lambda service does: JSON in, JSON out; an
        unhandled exception answers its type and message with FunctionError "Unhandled"."""
        event = json.loads(body or b"{}")
        with self._count_lock:
            self.invocations[name] = self.invocations.get(name, 0) + 1
        try:
            if self.before_invoke:
                self.before_invoke(name, event)
            result = self.handlers[name](event, LocalLambdaContext(name, self.lambda_timeout))
        except Exception as error:  # what the Lambda service reports for an unhandled error
            return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}).encode(), "Unhandled"
        try:
            return json.dumps(result).encode(), None
        except (TypeError, ValueError) as error:
            return json.dumps({"errorType": "Runtime.MarshalError",
                               "errorMessage": f"Unable to marshal response: {error}"}).encode(), "Unhandled"

    def invoke(self, name: str, event: dict) -> dict:
        """Invoke a function as S3 Batch Operations does: JSON event in, JSON result out.

        Dispatched in-process like every other invocation here; going through
        botocore and a Lambda API first only added request signing, routing and
        response serialisation to each object.
        """
        answer, function_error = self.call_function(name, json.dumps(event).encode())
        payload = json.loads(answer)
        if function_error:
            raise RuntimeError(f"{name} failed: {payload.get('errorType')}: {payload.get('errorMessage')}")
        return payload

    def run_worker(self, environment: Mapping[str, str], retry_strategy: Mapping[str, Any] | None) -> int:
        """One AWS Batch job of the worker, run again as its retry strategy says (a Spot
        reclaim); the last attempt's exit code."""
        with self._count_lock:
            self.invocations["worker"] = self.invocations.get("worker", 0) + 1
        exit_code = run_group(environment)
        attempt = 1
        while batch_retries(retry_strategy, attempt, exit_code):
            attempt += 1
            exit_code = run_group(environment)
        return exit_code


def _discard(*args: Any, **kwargs: Any) -> None:
    return None
