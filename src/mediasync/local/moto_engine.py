"""moto's Step Functions interpreter as the local runtime's engine (``MEDIASYNC_LOCAL_ENGINE=moto``).

The reference the strict engine (local/asl) is compared with: the same ASL files are
deployed into moto's Step Functions, Lambda tasks reach our handlers through moto's
Lambda (its no-Docker ``invoke`` is hooked), the Batch task reaches moto's Batch
backend, hooked to run the worker in-process, and StartSyncExecution, which moto
lacks, is supplied on the client the handlers already use. What this changes
inside moto is in moto_patches.py.
"""

from __future__ import annotations

import datetime
import io
import json
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable
from unittest import mock

import boto3

from mediasync.core import clients
from mediasync.core.awsbatch_worker import RETRY_STRATEGY
from mediasync.local.deployment import (
    ACCOUNT_ID,
    BATCH_INVOKE_FUNCTION,
    FUNCTION_PREFIX,
    FUNCTION_SUBSTITUTIONS,
    STATE_MACHINES,
    substitute,
)
from mediasync.local.moto_patches import moto_patches

if TYPE_CHECKING:
    from mediasync.local.runtime import LocalRuntime


class MotoEngine:
    """MediaSync deployed into the runtime's moto (``mock_aws`` is already started)."""

    def __init__(self, runtime: "LocalRuntime", *, speed_patches: bool | None) -> None:
        self.runtime = runtime
        self.speed_patches = speed_patches
        self._patches: list[Any] = []
        self._batch_lock = threading.Lock()
        self._batch_patch: Any = None
        # Execution ARN -> told when moto's interpreter ends it (StartSyncExecution waits on it).
        self._finished: dict[str, _Termination] = {}
        self._finished_lock = threading.Lock()

    # What moto_patches reaches for on "the runtime".
    @property
    def handlers(self) -> dict[str, Callable[[Any, Any], Any]]:
        return self.runtime.handlers

    def function_name(self, function: str) -> str:
        return self.runtime.function_name(function)

    def _invoke(self, function: str, body: Any, response_headers: dict) -> bytes:
        answer, function_error = self.runtime.call_function(self.function_name(function), body)
        if function_error:
            response_headers["x-amz-function-error"] = function_error
        return answer

    def start(self) -> None:
        import logging

        self._patches = moto_patches(self, speed=self.speed_patches)
        for patch in self._patches:
            patch.start()
        # moto logs every failed state at ERROR; failures reach the report instead.
        logging.getLogger("moto").setLevel(logging.CRITICAL)
        self._deploy()

    def stop(self) -> None:
        for patch in reversed(self._patches):
            patch.stop()
        self._patches = []
        if self._batch_patch is not None:
            self._batch_patch.stop()
            self._batch_patch = None

    def install_sync_execution(self) -> None:
        self._install_sync_execution(clients.sync_stepfunctions())

    # -- deployment into moto -------------------------------------------------
    def _deploy(self) -> None:

        runtime = self.runtime
        iam = boto3.client("iam", region_name=runtime.region)
        role = iam.create_role(
            RoleName="mediasync-local",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        if role != runtime._role:
            raise RuntimeError(f"moto named the role {role}, not {runtime._role}")
        lambda_client = boto3.client("lambda", region_name=runtime.region)
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as bundle:
            bundle.writestr("app.py", "# runs in-process in the local runtime\n")
        # Two substitutions may name one handler (copy_parts, on each machine): one function.
        for name in dict.fromkeys([*FUNCTION_SUBSTITUTIONS.values(), BATCH_INVOKE_FUNCTION]):
            arn = lambda_client.create_function(
                FunctionName=FUNCTION_PREFIX + name.replace("_", "-"),
                Runtime="python3.12",
                Role=role,
                Handler="app.lambda_handler",
                Code={"ZipFile": archive.getvalue()},
                Timeout=int(runtime.lambda_timeout),
            )["FunctionArn"]
            if name in FUNCTION_SUBSTITUTIONS.values() and arn != runtime.function_arn(name):
                raise RuntimeError(f"moto named the function {arn}, not {runtime.function_arn(name)}")
        sfn = boto3.client("stepfunctions", region_name=runtime.region)
        for name, (filename, machine_type, _) in STATE_MACHINES.items():
            definition = substitute(runtime.root / "statemachine" / filename, runtime.substitutions)
            arn = sfn.create_state_machine(
                name=f"mediasync-{name.replace('_', '-')}", definition=definition, roleArn=role, type=machine_type
            )["stateMachineArn"]
            if arn != runtime.state_machine_arns[name]:
                raise RuntimeError(f"moto named the state machine {arn}, not {runtime.state_machine_arns[name]}")

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

            engine = self

            def finish_job(backend: Any, include_start_attempt: bool, job: Any) -> None:
                engine._run_batch_job(backend, include_start_attempt, job)

            self._batch_patch = mock.patch.object(BatchSimpleBackend, "_mark_job_as_finished", finish_job)
            self._batch_patch.start()
            deployed = self._deploy_batch(self.runtime._role)
            if deployed != self.runtime.batch_arns():
                raise RuntimeError(f"moto named the Batch resources {deployed}, not {self.runtime.batch_arns()}")

    def _deploy_batch(self, role: str) -> dict[str, str]:
        region = self.runtime.region
        ec2 = boto3.client("ec2", region_name=region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="mediasync-worker", Description="worker", VpcId=vpc)["GroupId"]
        awsbatch = boto3.client("batch", region_name=region)
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

    def _run_batch_job(self, backend: Any, include_start_attempt: bool, job: Any) -> None:
        backend.backend._jobs[job.job_id] = job
        job.job_started_at = datetime.datetime.now()
        job.log_stream_name = job._stream_name
        if include_start_attempt:
            job._start_attempt()
        environment = {
            item["name"]: item["value"] for item in (job.container_overrides or {}).get("environment", [])
        }
        exit_code = self.runtime.run_worker(environment, job.job_definition.retry_strategy)
        job._mark_stopped(success=exit_code == 0)

    # -- StartSyncExecution ----------------------------------------------------
    def _install_sync_execution(self, client: Any) -> None:
        """Answer StartSyncExecution (absent from moto) by starting and waiting.

        Registered on the client the handlers use, so their code is unchanged.
        """
        self._sfn = boto3.client("stepfunctions", region_name=self.runtime.region)

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
            return get_backend(ACCOUNT_ID, self.runtime.region).start_execution(stateMachineArn, name, input).exec_arn
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
        ceiling = self.runtime.express_ceiling_seconds
        deadline = time.monotonic() + ceiling
        # The 5 s only guards against a termination moto does not report.
        while not termination.ended.wait(min(5.0, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                self._forget_termination(arn)
                return self._end_at_ceiling(arn, ceiling)
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

    def _end_at_ceiling(self, arn: str, ceiling: float) -> dict[str, Any]:
        """End an EXPRESS execution at its ceiling as AWS does: no further state runs, no
        Catch either; a Lambda already invoked runs on to its own end (StopExecution stops
        the next state from starting)."""
        self._sfn.stop_execution(executionArn=arn, error="States.Timeout",
                                 cause=f"the EXPRESS execution reached its {ceiling:g} s ceiling")
        description = self._sfn.describe_execution(executionArn=arn)
        description.pop("ResponseMetadata", None)
        return {**{name: description[name] for name in ("executionArn", "stateMachineArn", "name", "startDate",
                                                       "input") if name in description},
                "status": "TIMED_OUT", "stopDate": description.get("stopDate")}

    def _drop_execution(self, execution: Any) -> None:
        from moto.stepfunctions.responses import get_backend


        backend = get_backend(ACCOUNT_ID, self.runtime.region)
        machine = backend.describe_state_machine(execution.state_machine.arn)
        try:
            machine.executions.remove(execution)
        except ValueError:
            pass


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
