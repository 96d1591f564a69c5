"""Run the real state machines and handlers on this machine, without AWS or Docker.

moto's Step Functions interpreter executes the same ``statemachine/*.asl.json``
files with the same substitution keys as ``template.yaml``. Lambda tasks call our
handlers in-process, from the state machines' Lambda integration and from the Lambda
API (moto's no-Docker ``invoke`` is hooked); the Batch task reaches moto's Batch
backend, hooked to run the worker in-process; StartSyncExecution, which moto lacks,
is supplied on the client the handlers already use. S3 is moto's in-process S3 or
any endpoint by URL. Where moto's machinery cost more than the copy itself (parsing,
API round trips inside one process, scans over every execution) the runtime takes
a shorter way to the same state: see docs/benchmarks.md.

This module is over 400 lines on purpose: it is one class, the life cycle of one
emulated deployment (deploy into moto, dispatch invocations, run Batch jobs,
answer StartSyncExecution), whose parts share its state and locks. What it changes
inside moto is in moto_patches.py.
"""

from __future__ import annotations

import datetime
import importlib.util
import io
import json
import logging
import os
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable
from unittest import mock

import boto3

from mediasync.core import clients, polling, s3batch_task
from mediasync.core.awsbatch_worker import RETRY_STRATEGY, batch_retries, run_group
from mediasync.core.observability import logger, metrics
from mediasync.core.settings import reset_settings
from mediasync.local.moto_patches import moto_patches

ACCOUNT_ID = "123456789012"

# Substitution key in the ASL files -> handler directory under functions/.
# template.yaml's DefinitionSubstitutions use the same keys (a test checks).
FUNCTION_SUBSTITUTIONS = {
    "InspectSourceFunctionArn": "inspect_source",
    "CopyObjectFunctionArn": "copy_object",
    "CreateUploadFunctionArn": "create_upload",
    "CopyPartsFunctionArn": "copy_parts",
    # The EXPRESS machine's copy_parts: the same handler under a shorter Timeout.
    "CopyPartsExpressFunctionArn": "copy_parts",
    "CompleteUploadFunctionArn": "complete_upload",
    "VerifyCopyFunctionArn": "verify_copy",
    "AbortUploadFunctionArn": "abort_upload",
}
BATCH_SUBSTITUTIONS = ("WorkerJobQueueArn", "WorkerJobDefinitionName")
# The ARN partition of the service integrations (arn:${Partition}:states:::lambda:invoke).
PARTITION_SUBSTITUTION = "Partition"
LOCAL_PARTITION = "aws"
STATE_MACHINES = {
    # name: (file, type, settings variable naming its ARN)
    "copy_small": ("copy_small.asl.json", "EXPRESS", "MEDIASYNC_EXPRESS_STATE_MACHINE_ARN"),
    "copy_large": ("copy_large.asl.json", "STANDARD", "MEDIASYNC_STANDARD_STATE_MACHINE_ARN"),
}
BATCH_INVOKE_FUNCTION = "batch_invoke"
# batch_invoke's longest pause between DescribeExecution calls while a STANDARD
# execution runs. AWS's 5 s protects an API quota that an in-process moto does not
# have, and cost up to 5 s per large object here after its copy had finished.
LOCAL_MAX_POLL_DELAY = 0.2
# ...and its first pause is the copy time the model expects on AWS, which says
# nothing about a local server: here the polls start at once.
LOCAL_EXPECTED_SECONDS = 0.0
FUNCTION_PREFIX = "mediasync-"
# An EXPRESS execution ends after 5 minutes whatever its states are doing, and no Catch
# runs (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-standard-vs-express.html).
# LocalRuntime(express_ceiling_seconds=...) scales it down for tests.
EXPRESS_CEILING_SECONDS = 300.0


def project_root() -> Path:
    """The directory holding statemachine/ and functions/ (the repository)."""
    candidates = [os.environ.get("MEDIASYNC_PROJECT_ROOT"), *Path(__file__).resolve().parents, Path.cwd()]
    for candidate in candidates:
        if candidate and (Path(candidate) / "statemachine").is_dir() and (Path(candidate) / "functions").is_dir():
            return Path(candidate)
    raise RuntimeError(
        "cannot find statemachine/ and functions/: run from the MediaSync repository "
        "or set MEDIASYNC_PROJECT_ROOT to it"
    )


def load_handler(root: Path, name: str) -> Callable[[Any, Any], Any]:
    path = root / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"mediasync_function_{name}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load handler {path}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


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
    """Context manager: a private AWS (moto) with MediaSync deployed into it."""

    def __init__(
        self,
        *,
        s3_endpoint_url: str | None = None,
        s3_credentials: dict[str, str] | None = None,
        region: str = "us-east-1",
        lambda_timeout: float = 900.0,
        log_level: str = "ERROR",
        speed_patches: bool | None = None,
        express_ceiling_seconds: float = EXPRESS_CEILING_SECONDS,
    ) -> None:
        self.s3_endpoint_url = s3_endpoint_url
        self.s3_credentials = s3_credentials
        self.region = region
        self.lambda_timeout = lambda_timeout
        self.log_level = log_level
        # None: MEDIASYNC_LOCAL_SPEED_PATCHES decides (local/moto_patches.py).
        self.speed_patches = speed_patches
        # Read at each StartSyncExecution: a test may change it on a running runtime.
        self.express_ceiling_seconds = express_ceiling_seconds
        self.root = project_root()
        self.handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self.state_machine_arns: dict[str, str] = {}
        self.invocations: dict[str, int] = {}
        # Tests inject faults here: called with (function name, event) before the handler.
        self.before_invoke: Callable[[str, dict], None] | None = None
        self._count_lock = threading.Lock()
        self._patches: list[Any] = []
        self._batch_lock = threading.Lock()
        self._batch_patch: Any = None
        # Execution ARN -> told when moto's interpreter ends it (StartSyncExecution waits on it).
        self._finished: dict[str, _Termination] = {}
        self._finished_lock = threading.Lock()
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
        from moto import mock_aws

        self._mock = mock_aws(
            config={
                "stepfunctions": {"execute_state_machine": True},
                "lambda": {"use_docker": False},
                "batch": {"use_docker": False},
            }
        )
        self._mock.start()
        try:
            self._patches = [
                *moto_patches(self, speed=self.speed_patches),
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
                }
            )
            logger.setLevel(self.log_level)
            # moto logs every failed state at ERROR; failures reach the report instead.
            logging.getLogger("moto").setLevel(logging.CRITICAL)
            self._deploy()
            reset_settings()
            clients.CLIENTS.configure_s3(self.s3_endpoint_url, self.s3_credentials)
            self._install_sync_execution(clients.sync_stepfunctions())
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        for patch in reversed(self._patches):
            patch.stop()
        self._patches = []
        if self._batch_patch is not None:
            self._batch_patch.stop()
            self._batch_patch = None
        self._restore_env()
        reset_settings()
        clients.CLIENTS.reset()
        self._mock.stop()

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

    # -- deployment into moto -------------------------------------------------
    def _deploy(self) -> None:
        iam = boto3.client("iam", region_name=self.region)
        role = iam.create_role(
            RoleName="mediasync-local",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        substitutions: dict[str, str] = {PARTITION_SUBSTITUTION: LOCAL_PARTITION}
        lambda_client = boto3.client("lambda", region_name=self.region)
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as bundle:
            bundle.writestr("app.py", "# runs in-process in the local runtime\n")
        for name in dict.fromkeys([*FUNCTION_SUBSTITUTIONS.values(), BATCH_INVOKE_FUNCTION]):
            self.handlers[name] = load_handler(self.root, name)
            arn = lambda_client.create_function(
                FunctionName=FUNCTION_PREFIX + name.replace("_", "-"),
                Runtime="python3.12",
                Role=role,
                Handler="app.lambda_handler",
                Code={"ZipFile": archive.getvalue()},
                Timeout=int(self.lambda_timeout),
            )["FunctionArn"]
            for key, function in FUNCTION_SUBSTITUTIONS.items():
                if function == name:
                    substitutions[key] = arn
        self._role = role
        substitutions.update(self._batch_arns())
        self.substitutions = substitutions
        sfn = boto3.client("stepfunctions", region_name=self.region)
        env: dict[str, str] = {}
        for name, (filename, machine_type, variable) in STATE_MACHINES.items():
            definition = substitute(self.root / "statemachine" / filename, substitutions)
            arn = sfn.create_state_machine(
                name=f"mediasync-{name.replace('_', '-')}", definition=definition, roleArn=role, type=machine_type
            )["stateMachineArn"]
            self.state_machine_arns[name] = arn
            env[variable] = arn
        self._set_env(env)

    def _batch_arns(self) -> dict[str, str]:
        """The worker queue's ARN (as moto gives it) and job definition's name, known before they exist."""
        prefix = f"arn:aws:batch:{self.region}:{ACCOUNT_ID}"
        return {
            "WorkerJobQueueArn": f"{prefix}:job-queue/mediasync-workers",
            "WorkerJobDefinitionName": "mediasync-worker",
        }

    def ensure_batch(self) -> None:
        """Deploy the AWS Batch side on the first SubmitJob.

        Deployed lazily because most jobs never use Batch, and moto's Batch backend
        brings its EC2 backend with it: a large share of every run's start-up
        (docs/benchmarks.md) for nothing.
        """
        with self._batch_lock:
            if self._batch_patch is not None:
                return
            from moto.batch_simple.models import BatchSimpleBackend

            runtime = self

            def finish_job(backend: Any, include_start_attempt: bool, job: Any) -> None:
                runtime._run_batch_job(backend, include_start_attempt, job)

            self._batch_patch = mock.patch.object(BatchSimpleBackend, "_mark_job_as_finished", finish_job)
            self._batch_patch.start()
            deployed = self._deploy_batch(self._role)
            if deployed != self._batch_arns():
                raise RuntimeError(f"moto named the Batch resources {deployed}, not {self._batch_arns()}")

    def _deploy_batch(self, role: str) -> dict[str, str]:
        ec2 = boto3.client("ec2", region_name=self.region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="mediasync-worker", Description="worker", VpcId=vpc)["GroupId"]
        awsbatch = boto3.client("batch", region_name=self.region)
        environment = awsbatch.create_compute_environment(
            computeEnvironmentName="mediasync-spot",
            type="MANAGED",
            state="ENABLED",
            computeResources={"type": "FARGATE_SPOT", "maxvCpus": 256, "subnets": [subnet], "securityGroupIds": [group]},
            serviceRole=role,
        )["computeEnvironmentArn"]
        queue = awsbatch.create_job_queue(
            jobQueueName="mediasync-workers",
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
        )["jobQueueArn"]
        definition = awsbatch.register_job_definition(
            jobDefinitionName="mediasync-worker",
            type="container",
            platformCapabilities=["FARGATE"],
            retryStrategy=RETRY_STRATEGY,
            containerProperties={
                "image": "mediasync-worker:local",
                "command": ["python", "-m", "mediasync.core.awsbatch_worker"],
                "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}],
                "executionRoleArn": role,
            },
        )["jobDefinitionName"]
        return {"WorkerJobQueueArn": queue, "WorkerJobDefinitionName": definition}

    # -- dispatch -------------------------------------------------------------
    def function_name(self, function: str) -> str:
        """Handler directory for a moto function name or ARN."""
        name = function.split(":function:")[-1].split(":")[0]
        return name.removeprefix(FUNCTION_PREFIX).replace("-", "_")

    def _invoke(self, function: str, body: Any, response_headers: dict) -> bytes:
        name = self.function_name(function)
        event = json.loads(body or b"{}")
        with self._count_lock:
            self.invocations[name] = self.invocations.get(name, 0) + 1
        try:
            if self.before_invoke:
                self.before_invoke(name, event)
            result = self.handlers[name](event, LocalLambdaContext(name, self.lambda_timeout))
        except Exception as error:  # what the Lambda service reports for an unhandled error
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}).encode()
        return json.dumps(result).encode()

    def invoke(self, name: str, event: dict) -> dict:
        """Invoke a function as S3 Batch Operations does: JSON event in, JSON result out.

        Dispatched in-process like every other invocation here; going through
        botocore and moto's Lambda API first only added request signing, routing and
        response serialisation to each object.
        """
        headers: dict[str, str] = {}
        payload = json.loads(self._invoke(name, json.dumps(event).encode(), headers))
        if headers.get("x-amz-function-error"):
            raise RuntimeError(f"{name} failed: {payload.get('errorType')}: {payload.get('errorMessage')}")
        return payload

    def _run_batch_job(self, backend: Any, include_start_attempt: bool, job: Any) -> None:
        backend.backend._jobs[job.job_id] = job
        job.job_started_at = datetime.datetime.now()
        job.log_stream_name = job._stream_name
        if include_start_attempt:
            job._start_attempt()
        environment = {
            item["name"]: item["value"] for item in (job.container_overrides or {}).get("environment", [])
        }
        with self._count_lock:
            self.invocations["worker"] = self.invocations.get("worker", 0) + 1
        exit_code = run_group(environment)
        attempt = 1
        # AWS Batch runs the job again as its retry strategy says (a Spot reclaim).
        while batch_retries(job.job_definition.retry_strategy, attempt, exit_code):
            attempt += 1
            exit_code = run_group(environment)
        job._mark_stopped(success=exit_code == 0)

    # -- StartSyncExecution ----------------------------------------------------
    def _install_sync_execution(self, client: Any) -> None:
        """Answer StartSyncExecution (absent from moto) by starting and waiting.

        Registered on the client the handlers use, so their code is unchanged.
        """
        self._sfn = boto3.client("stepfunctions", region_name=self.region)

        def start_sync_execution(params: dict, **_: Any) -> tuple[Any, dict]:
            request = json.loads(params["body"] or b"{}")
            start = {"stateMachineArn": request["stateMachineArn"], "input": request.get("input", "{}")}
            # Express names need not be unique; moto's executions must be.
            start["name"] = f"{request.get('name', 'sync')[:40]}-{uuid.uuid4().hex[:16]}"
            # Woken by moto's interpreter when the execution ends (moto_patches), rather
            # than polling DescribeExecution, which would add a poll interval of latency
            # to every object. Registered before the start, so a quick end is not missed.
            expected = start["stateMachineArn"].replace(":stateMachine:", ":execution:") + f":{start['name']}"
            self._termination_event(expected)
            try:
                arn = self._start_execution(**start)
            except BaseException:
                self._forget_termination(expected)
                raise
            return _OkResponse(), self._wait_for_termination(arn)

        client.meta.events.register("before-call.sfn.StartSyncExecution", start_sync_execution)

    def _start_execution(self, stateMachineArn: str, name: str, input: str) -> str:
        """StartExecution on moto's backend, refusals raised as the API client would.

        Called on the backend, not through moto's API route, for the same reason as the
        Lambda integration: the serialisation round trip is pure overhead in one process.
        """
        from botocore.exceptions import ClientError
        from moto.core.exceptions import JsonRESTError
        from moto.stepfunctions.responses import get_backend

        try:
            return get_backend(ACCOUNT_ID, self.region).start_execution(stateMachineArn, name, input).exec_arn
        except JsonRESTError as err:
            error = {"Error": {"Code": err.error_type, "Message": err.message},
                     "ResponseMetadata": {"HTTPStatusCode": err.code}}
            raise ClientError(error, "StartSyncExecution") from err

    def _termination_event(self, arn: str) -> "_Termination":
        with self._finished_lock:
            return self._finished.setdefault(arn, _Termination())

    def _forget_termination(self, arn: str) -> None:
        with self._finished_lock:
            self._finished.pop(arn, None)

    def _wait_for_termination(self, arn: str) -> dict[str, Any]:
        """The DescribeExecution answer for ``arn`` once it has ended, or a TIMED_OUT one
        at the EXPRESS ceiling (:meth:`_end_at_ceiling`)."""
        termination = self._termination_event(arn)
        deadline = time.monotonic() + self.express_ceiling_seconds
        # The 5 s only guards against a termination moto does not report.
        while not termination.ended.wait(min(5.0, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                self._forget_termination(arn)
                return self._end_at_ceiling(arn)
            if self._sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
                break
        self._forget_termination(arn)
        execution = termination.execution
        if execution is None:
            description = self._sfn.describe_execution(executionArn=arn)
            description.pop("ResponseMetadata", None)
            return description
        # EXPRESS executions cannot be described on AWS; moto keeps them all in one
        # list that every DescribeExecution and StartExecution scans: quadratic in
        # the job's object count. The answer is read from the execution itself and
        # the finished execution dropped.
        self._drop_execution(execution)
        return _describe(execution)

    def _end_at_ceiling(self, arn: str) -> dict[str, Any]:
        """End an EXPRESS execution at its ceiling as AWS does: no further state runs, no
        Catch either; a Lambda already invoked runs on to its own end.

        Through the Step Functions API (StopExecution stops the next state from
        starting on any engine), so it holds whichever engine runs the ASL.
        """
        self._sfn.stop_execution(executionArn=arn, error="States.Timeout",
                                 cause=f"the EXPRESS execution reached its {self.express_ceiling_seconds:g} s ceiling")
        description = self._sfn.describe_execution(executionArn=arn)
        description.pop("ResponseMetadata", None)
        return {**{name: description[name] for name in ("executionArn", "stateMachineArn", "name", "startDate",
                                                       "input") if name in description},
                "status": "TIMED_OUT", "stopDate": description.get("stopDate")}

    def _drop_execution(self, execution: Any) -> None:
        from moto.stepfunctions.responses import get_backend

        backend = get_backend(ACCOUNT_ID, self.region)
        machine = backend.describe_state_machine(execution.state_machine.arn)
        try:
            machine.executions.remove(execution)
        except ValueError:
            pass


def _discard(*args: Any, **kwargs: Any) -> None:
    return None


@dataclass
class _Termination:
    ended: threading.Event = field(default_factory=threading.Event)
    execution: Any = None


def _describe(execution: Any) -> dict[str, Any]:
    """What DescribeExecution answers for an ended moto execution (as moto's own response does)."""
    description: dict[str, Any] = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine.arn,
        "name": execution.name,
        "status": execution.status,
        "startDate": execution.start_date,
        "stopDate": execution.stop_date,
        "input": execution.input_data if isinstance(execution.input_data, str) else json.dumps(execution.input_data),
    }
    if description["status"] == "SUCCEEDED":
        output = execution.output
        description["output"] = output if isinstance(output, str) else json.dumps(output)
    if execution.error is not None:
        description["error"] = execution.error
    if execution.cause is not None:
        description["cause"] = execution.cause
    return description


class _OkResponse:
    status_code = 200
    headers: dict = {}
    content = b""


def substitute(path: Path, substitutions: dict[str, str]) -> str:
    """Fill ``${Name}`` placeholders as CloudFormation's DefinitionSubstitutions does."""
    text = path.read_text()
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", value)
    if "${" in text:
        missing = sorted({part.split("}")[0] for part in text.split("${")[1:]})
        raise RuntimeError(f"{path.name}: no substitution for {', '.join(missing)}")
    return text
