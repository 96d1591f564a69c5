"""The strict engine (local/asl) as the local runtime's Step Functions, the default.

Its Lambda tasks call the runtime's handlers (through JSON, as the Lambda service
does), its ``batch:submitJob(.sync)`` tasks run the Batch worker in-process under
the job definition's retry strategy, and every Step Functions client in the process
is answered by it. See docs/local-engine.md.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable

from mediasync.core.awsbatch_worker import RETRY_STRATEGY
from mediasync.local.asl.errors import TASK_FAILED, StatesError
from mediasync.local.asl.interpreter import Engine
from mediasync.local.asl.service import Installed, StepFunctionsService
from mediasync.local.deployment import ACCOUNT_ID, STATE_MACHINES, substitute

if TYPE_CHECKING:
    from mediasync.local.runtime import LocalRuntime

# "The total length of container overrides ... 8,192 characters" (SubmitJob, containerOverrides).
# https://docs.aws.amazon.com/batch/latest/APIReference/API_SubmitJob.html
CONTAINER_OVERRIDES_LIMIT = 8192


class NativeEngine:
    """Implements the engine's Integrations for one runtime."""

    def __init__(self, runtime: "LocalRuntime", *, history: bool = False) -> None:

        self.runtime = runtime
        self.engine = Engine(self, region=runtime.region, account=ACCOUNT_ID, history=history)
        self.service = StepFunctionsService(self.engine, region=runtime.region, account=ACCOUNT_ID,
                                            express_ceiling=lambda: runtime.express_ceiling_seconds)
        self._installed = Installed(self.service)

    def start(self) -> None:

        self._installed.__enter__()
        runtime = self.runtime
        for name, (filename, machine_type, _) in STATE_MACHINES.items():
            definition = substitute(runtime.root / "statemachine" / filename, runtime.substitutions)
            arn = self.service.create_state_machine(f"mediasync-{name.replace('_', '-')}", definition,
                                                    runtime._role, machine_type)["stateMachineArn"]
            assert arn == runtime.state_machine_arns[name], arn

    def stop(self) -> None:
        # Nothing of this deployment may go on calling handlers once the runtime is gone.
        self.service.stop_all("the local runtime ended")
        self._installed.__exit__(None, None, None)

    # -- Integrations -------------------------------------------------------------------
    def lambda_function(self, name: str) -> tuple[Callable[[bytes], tuple[bytes, str | None]], float]:
        runtime = self.runtime
        handler = runtime.function_name(name)
        if handler not in runtime.handlers:
            raise StatesError("Lambda.ResourceNotFoundException",
                              f"Function not found: {name} (Service: Lambda, Status Code: 404)")
        return (lambda payload: runtime.call_function(handler, payload)), runtime.lambda_timeout

    def batch_job(self, parameters: dict[str, Any]) -> tuple[dict[str, Any], Callable[[], dict[str, Any]]]:
        runtime = self.runtime
        deployed = runtime.batch_arns()
        queue, definition, name = (parameters.get(field) for field in ("JobQueue", "JobDefinition", "JobName"))
        queue_name = deployed["WorkerJobQueueArn"].rsplit("/", 1)[-1]
        if queue not in (deployed["WorkerJobQueueArn"], queue_name):
            raise StatesError("Batch.ClientException", f"JobQueue {queue} not found. (Service: AWSBatch, "
                                                       "Status Code: 400)")
        definition_name = deployed["WorkerJobDefinitionName"]
        if not isinstance(definition, str) or definition.rsplit("/", 1)[-1].split(":")[0] != definition_name:
            raise StatesError("Batch.ClientException", f"Job definition {definition} not found. (Service: AWSBatch, "
                                                       "Status Code: 400)")
        if not isinstance(name, str) or not name:
            raise StatesError("Batch.ClientException", "JobName is required. (Service: AWSBatch, Status Code: 400)")
        overrides = parameters.get("ContainerOverrides") or {}
        if len(json.dumps(overrides, separators=(",", ":"))) > CONTAINER_OVERRIDES_LIMIT:
            raise StatesError("Batch.ClientException", "Container Overrides length must be at most "
                                                       f"{CONTAINER_OVERRIDES_LIMIT} (Service: AWSBatch, "
                                                       "Status Code: 400)")
        environment = {item["Name"]: item["Value"] for item in overrides.get("Environment", [])}
        job_id = str(uuid.uuid4())
        submitted = {"JobArn": f"arn:aws:batch:{runtime.region}:{runtime.account}:job/{job_id}", "JobId": job_id,
                     "JobName": name}

        def run() -> dict[str, Any]:
            started = int(time.time() * 1000)
            exit_code = runtime.run_worker(environment, RETRY_STRATEGY)
            status = "SUCCEEDED" if exit_code == 0 else "FAILED"
            description = {**submitted, "JobQueue": deployed["WorkerJobQueueArn"],
                           "JobDefinition": f"{definition_name}:1", "Status": status,
                           "StatusReason": "Essential container in task exited", "CreatedAt": started,
                           "StartedAt": started, "StoppedAt": int(time.time() * 1000),
                           "Container": {"ExitCode": exit_code, "Environment": overrides.get("Environment", [])}}
            if exit_code != 0:
                raise StatesError(TASK_FAILED, json.dumps(description))
            return description

        return submitted, run
