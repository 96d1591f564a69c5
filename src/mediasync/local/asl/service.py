"""The Step Functions API, answered in-process by the engine.

While a service is installed, every boto3 Step Functions client in the process is
answered here, before anything is sent (a botocore ``before-call`` handler, as moto
answers at ``before-send``): handler code, ``mediasync status`` and tests use their
ordinary clients. The operations are the ones MediaSync and its tests use, with
AWS's answers and refusals:

- StartExecution on a STANDARD machine is idempotent for a name while that
  execution runs with the same input, and answers ExecutionAlreadyExists otherwise
  (a closed execution, another input). EXPRESS names may repeat.
  https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
- StartSyncExecution runs an EXPRESS execution in the calling thread, to its end or
  the EXPRESS ceiling (5 minutes); a STANDARD machine is refused.
- EXPRESS executions cannot be described or listed (their ARNs are ``:express:``).
- DescribeExecution answers dates as datetimes, ``output`` as a string, ``error`` and
  ``cause`` only for an execution that did not succeed.
- ListMapRuns / DescribeMapRun / ListExecutions(mapRunArn) show Distributed Map Runs.
"""

from __future__ import annotations

import datetime
import json
import re
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable
from unittest import mock

from botocore.handlers import BUILTIN_HANDLERS

from mediasync.local.asl.definition import load
from mediasync.local.asl.errors import DefinitionError
from mediasync.local.asl.interpreter import PAYLOAD_LIMIT, Engine, Execution, MachineInfo, MapRun

# "Express Workflows ... Maximum duration: 5 minutes".
# https://docs.aws.amazon.com/step-functions/latest/dg/concepts-standard-vs-express.html
EXPRESS_CEILING_SECONDS = 300.0
_NAME = re.compile(r"^[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]{1,80}$")


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass
class StateMachine:
    info: MachineInfo
    created: float
    definition_text: str


class StepFunctionsService:
    """State machines and their executions, run by one ``Engine``."""

    def __init__(self, engine: Engine, *, region: str, account: str,
                 express_ceiling: Callable[[], float] = lambda: EXPRESS_CEILING_SECONDS) -> None:
        self.engine = engine
        self.region = region
        self.account = account
        # Read at each start: a test may shorten the ceiling of a running deployment.
        self.express_ceiling = express_ceiling
        self._machines: dict[str, StateMachine] = {}
        self._executions: dict[str, Execution] = {}
        self._by_machine: dict[str, list[Execution]] = {}
        self._map_runs: dict[str, MapRun] = {}
        self._lock = threading.Lock()
        engine.registry = self

    # -- the engine's registry -------------------------------------------------------
    def add_map_run(self, map_run: MapRun) -> None:
        with self._lock:
            self._map_runs[map_run.arn] = map_run

    def add_child(self, execution: Execution) -> None:
        with self._lock:
            self._executions[execution.arn] = execution

    # -- operations -------------------------------------------------------------------
    def create_state_machine(self, name: str, definition: str, roleArn: str = "", type: str = "STANDARD",
                             **_: Any) -> dict[str, Any]:
        _check_name(name)
        if type not in ("STANDARD", "EXPRESS"):
            raise ApiError("ValidationException", f"type must be STANDARD or EXPRESS, not {type!r}")
        try:
            compiled = load(definition)
        except DefinitionError as error:
            raise ApiError("InvalidDefinition", f"Invalid State Machine Definition: '{error}'") from None
        if type == "EXPRESS" and compiled.distributed_maps:
            raise ApiError("InvalidDefinition", "Invalid State Machine Definition: 'a DISTRIBUTED Map state runs "
                                                "only in a STANDARD state machine'")
        arn = f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"
        with self._lock:
            if arn in self._machines:
                existing = self._machines[arn]
                if existing.definition_text != definition or existing.info.type != type:
                    raise ApiError("StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'")
                return {"stateMachineArn": arn, "creationDate": _date(existing.created)}
            machine = StateMachine(MachineInfo(arn, name, type, compiled, roleArn), self.engine.clock.time(),
                                   definition)
            self._machines[arn] = machine
            self._by_machine[arn] = []
        return {"stateMachineArn": arn, "creationDate": _date(machine.created)}

    def describe_state_machine(self, stateMachineArn: str, **_: Any) -> dict[str, Any]:
        machine = self._machine(stateMachineArn)
        return {"stateMachineArn": machine.info.arn, "name": machine.info.name, "status": "ACTIVE",
                "definition": machine.definition_text, "roleArn": machine.info.role_arn, "type": machine.info.type,
                "creationDate": _date(machine.created)}

    def list_state_machines(self, **_: Any) -> dict[str, Any]:
        with self._lock:
            machines = list(self._machines.values())
        return {"stateMachines": [{"stateMachineArn": machine.info.arn, "name": machine.info.name,
                                   "type": machine.info.type, "creationDate": _date(machine.created)}
                                  for machine in machines]}

    def delete_state_machine(self, stateMachineArn: str, **_: Any) -> dict[str, Any]:
        with self._lock:
            self._machines.pop(stateMachineArn, None)
        return {}

    def start_execution(self, stateMachineArn: str, name: str | None = None, input: str | None = None,
                        **_: Any) -> dict[str, Any]:
        machine = self._machine(stateMachineArn)
        text, value = self._input(input)
        name = name or str(uuid.uuid4())
        _check_name(name)
        if machine.info.type == "EXPRESS":
            execution = self._execution(machine, name, text, value, express=True)
            self.engine.workers.submit(self.engine.run, execution)
            return {"executionArn": execution.arn, "startDate": _date(execution.start)}
        arn = f"arn:aws:states:{self.region}:{self.account}:execution:{machine.info.name}:{name}"
        with self._lock:
            existing = self._executions.get(arn)
            if existing is None:
                execution = self._execution(machine, name, text, value, express=False)
                self._executions[arn] = execution
                self._by_machine[machine.info.arn].append(execution)
        if existing is not None:
            if existing.status == "RUNNING" and existing.input_text == text:
                return {"executionArn": existing.arn, "startDate": _date(existing.start)}
            raise ApiError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'")
        self.engine.workers.submit(self.engine.run, execution)
        return {"executionArn": execution.arn, "startDate": _date(execution.start)}

    def start_sync_execution(self, stateMachineArn: str, name: str | None = None, input: str | None = None,
                             **_: Any) -> dict[str, Any]:
        machine = self._machine(stateMachineArn)
        if machine.info.type != "EXPRESS":
            raise ApiError("StateMachineTypeNotSupported", "This operation is supported by EXPRESS state machines only")
        text, value = self._input(input)
        name = name or str(uuid.uuid4())
        _check_name(name)
        execution = self._execution(machine, name, text, value, express=True)
        self.engine.run(execution)
        answer = _description(execution)
        answer.pop("mapRunArn", None)
        answer["billingDetails"] = {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100}
        return answer

    def describe_execution(self, executionArn: str, **_: Any) -> dict[str, Any]:
        return _description(self._find_execution(executionArn))

    def stop_execution(self, executionArn: str, error: str | None = None, cause: str | None = None,
                       **_: Any) -> dict[str, Any]:
        execution = self._find_execution(executionArn)
        if execution.status == "RUNNING":
            self.engine.stop(execution, error, cause)
            execution.done.wait(10.0)
        return {"stopDate": _date(execution.stop or self.engine.clock.time())}

    def list_executions(self, stateMachineArn: str | None = None, mapRunArn: str | None = None,
                        statusFilter: str | None = None, **_: Any) -> dict[str, Any]:
        if mapRunArn is not None:
            map_run = self._map_run(mapRunArn)
            executions = list(map_run.children)
            machine_arn = map_run.state_machine_arn
        else:
            if stateMachineArn is None:
                raise ApiError("ValidationException", "stateMachineArn or mapRunArn is required")
            machine = self._machine(stateMachineArn)
            if machine.info.type == "EXPRESS":
                raise ApiError("StateMachineTypeNotSupported", "This operation is not supported by EXPRESS "
                                                               "state machines")
            with self._lock:
                executions = list(self._by_machine[machine.info.arn])
            machine_arn = machine.info.arn
        listed = []
        for execution in reversed(executions):
            if statusFilter and execution.status != statusFilter:
                continue
            entry = {"executionArn": execution.arn, "stateMachineArn": machine_arn, "name": execution.name,
                     "status": execution.status, "startDate": _date(execution.start)}
            if execution.stop is not None:
                entry["stopDate"] = _date(execution.stop)
            if execution.map_run_arn:
                entry["mapRunArn"] = execution.map_run_arn
            listed.append(entry)
        return {"executions": listed}

    def get_execution_history(self, executionArn: str, reverseOrder: bool = False, **_: Any) -> dict[str, Any]:
        execution = self._find_execution(executionArn)
        if execution.history is None:
            raise ApiError("UnknownOperationException", "the local engine records no execution history unless "
                                                        "asked: LocalRuntime(history=True)")
        with execution._lock:
            events = list(execution.history)
        return {"events": events[::-1] if reverseOrder else events}

    def list_map_runs(self, executionArn: str, **_: Any) -> dict[str, Any]:
        execution = self._find_execution(executionArn)
        return {"mapRuns": [{"executionArn": execution.arn, "mapRunArn": run.arn,
                             "stateMachineArn": run.state_machine_arn, "startDate": _date(run.start),
                             **({"stopDate": _date(run.stop)} if run.stop is not None else {})}
                            for run in execution.map_runs]}

    def describe_map_run(self, mapRunArn: str, **_: Any) -> dict[str, Any]:
        run = self._map_run(mapRunArn)
        answer = {"mapRunArn": run.arn, "executionArn": run.execution_arn, "status": run.status,
                  "startDate": _date(run.start), "maxConcurrency": run.max_concurrency,
                  "toleratedFailurePercentage": run.tolerated_percentage or 0.0,
                  "toleratedFailureCount": run.tolerated_count or 0, "itemCounts": run.counts(),
                  "executionCounts": run.counts(), "redriveCount": 0}
        if run.stop is not None:
            answer["stopDate"] = _date(run.stop)
        return answer

    def stop_all(self, cause: str) -> None:
        """Abort every execution still running (the deployment is going away)."""
        with self._lock:
            running = [execution for execution in self._executions.values() if execution.status == "RUNNING"]
        for execution in running:
            self.engine.stop(execution, "States.Aborted", cause)

    # -- helpers ----------------------------------------------------------------------------
    def _machine(self, arn: str) -> StateMachine:
        with self._lock:
            machine = self._machines.get(arn)
        if machine is None:
            if not arn.startswith("arn:aws") or ":stateMachine:" not in arn:
                raise ApiError("InvalidArn", f"Invalid Arn: '{arn}'")
            raise ApiError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{arn}'")
        return machine

    def _find_execution(self, arn: str) -> Execution:
        if ":express:" in arn:
            raise ApiError("InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: express' ({arn})")
        with self._lock:
            execution = self._executions.get(arn)
        if execution is None:
            raise ApiError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")
        return execution

    def _map_run(self, arn: str) -> MapRun:
        with self._lock:
            run = self._map_runs.get(arn)
        if run is None:
            raise ApiError("ResourceNotFound", f"Resource not found: '{arn}'")
        return run

    def _input(self, text: str | None) -> tuple[str, Any]:
        text = "{}" if text is None else text
        if len(text.encode()) > PAYLOAD_LIMIT:
            raise ApiError("ValidationException", "1 validation error detected: Value at 'input' failed to satisfy "
                                                  f"constraint: Member must have length less than or equal to {PAYLOAD_LIMIT}")
        try:
            return text, json.loads(text)
        except ValueError as error:
            raise ApiError("InvalidExecutionInput", f"Invalid execution input: {error}") from None

    def _execution(self, machine: StateMachine, name: str, text: str, value: Any, *, express: bool) -> Execution:
        info = machine.info
        if express:
            arn = f"arn:aws:states:{self.region}:{self.account}:express:{info.name}:{name}:{uuid.uuid4()}"
        else:
            arn = f"arn:aws:states:{self.region}:{self.account}:execution:{info.name}:{name}"
        limit: float | None = info.definition.timeout_seconds
        if express:
            ceiling = self.express_ceiling()
            limit = ceiling if limit is None else min(limit, ceiling)
        return Execution(arn, name, info, info.definition.group, text, value, self.engine.clock.time(), limit)

    # -- the botocore side -----------------------------------------------------------------
    def answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        method = getattr(self, _snake(operation), None)
        if method is None or operation not in _OPERATIONS:
            raise ApiError("UnknownOperationException",
                           f"{operation} is not answered by the local Step Functions engine "
                           f"(it answers {', '.join(sorted(_OPERATIONS))})")
        try:
            return method(**request)
        except TypeError as error:
            raise ApiError("ValidationException", f"{operation}: {error}") from None


_OPERATIONS = frozenset({"CreateStateMachine", "DescribeStateMachine", "ListStateMachines", "DeleteStateMachine",
                         "StartExecution", "StartSyncExecution", "DescribeExecution", "StopExecution",
                         "ListExecutions", "ListMapRuns", "DescribeMapRun", "GetExecutionHistory"})


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ApiError("InvalidName", f"Invalid Name: '{name}'")


def _date(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)


def _description(execution: Execution) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "executionArn": execution.arn,
        "stateMachineArn": execution.machine.arn,
        "name": execution.name,
        "status": execution.status,
        "startDate": _date(execution.start),
        "input": execution.input_text,
        "inputDetails": {"included": True},
    }
    if execution.stop is not None:
        answer["stopDate"] = _date(execution.stop)
    if execution.status == "SUCCEEDED":
        answer["output"] = execution.output
        answer["outputDetails"] = {"included": True}
    elif execution.status != "RUNNING":
        if execution.error:
            answer["error"] = execution.error
        if execution.cause is not None:
            answer["cause"] = execution.cause
    if execution.map_run_arn:
        answer["mapRunArn"] = execution.map_run_arn
    return answer


# -- installing it on boto3 -----------------------------------------------------------------
_installed: list[StepFunctionsService] = []
_installed_lock = threading.Lock()


class _Response:
    headers: dict[str, str] = {}
    content = b""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def _before_call(model: Any, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
    """botocore's ``before-call.sfn``: answer the call here while a service is installed."""
    service = _installed[-1] if _installed else None
    if service is None:
        return None
    body = params.get("body") or b"{}"
    request = json.loads(body) if body else {}
    try:
        return _Response(200), {**service.answer(model.name, request),
                                "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": str(uuid.uuid4())}}
    except ApiError as error:
        return _Response(error.status), {"Error": {"Code": error.code, "Message": error.message},
                                         "ResponseMetadata": {"HTTPStatusCode": error.status}}


BUILTIN_HANDLERS.append(("before-call.sfn", _before_call))


class Installed:
    """Context manager: the service answers every Step Functions client in the process.

    boto3's default session is put aside meanwhile (as moto does), so a client made
    from it is made afresh, with the handler."""

    def __init__(self, service: StepFunctionsService) -> None:
        self.service = service
        self._session_patch: Callable[[], Any] | None = None

    def __enter__(self) -> StepFunctionsService:
        with _installed_lock:
            _installed.append(self.service)
        patch = mock.patch("boto3.DEFAULT_SESSION", None)
        patch.start()
        self._session_patch = patch.stop
        return self.service

    def __exit__(self, *exc: Any) -> None:
        if self._session_patch is not None:
            self._session_patch()
            self._session_patch = None
        with _installed_lock:
            if self.service in _installed:
                _installed.remove(self.service)
