from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mediasync.local.runtime import LocalRuntime


import functools
import io
import sys
import threading
from typing import Any, Callable
from unittest import mock


def notify_on_termination(runtime: LocalRuntime) -> Callable[[Any], None]:
    """Tell StartSyncExecution waiters the moment an execution ends.

    Also forget finished interpreter threads: moto appends every thread it starts
    (one per execution, per Task state, per Map iteration) to a module-level list
    that nothing reads or empties, so a local job's memory grew with every object.
    """
    from moto.stepfunctions.parser import utils as parser_utils
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    original = BaseExecutionWorkerCommunication.terminated

    def terminated(communication: Any) -> None:
        original(communication)
        parser_utils.TMP_THREADS[:] = [thread for thread in parser_utils.TMP_THREADS if thread.is_alive()]
        arn = communication.execution.exec_arn
        with runtime._finished_lock:
            waiter = runtime._finished.get(arn)
        if waiter is not None:
            waiter.execution = communication.execution
            waiter.ended.set()

    return terminated


def lambda_integration_in_process(runtime: LocalRuntime) -> list[Any]:
    """Step Functions' Lambda integration calls our handlers directly.

    moto's integration builds a Lambda client request (serialise, sign), routes it
    through its Lambda API (parse, dispatch, serialise) to the invoke hook, and
    parses the answer: about a third of a small object's CPU, for a call that ends
    in-process anyway. The Task state keeps moto's Retry, Catch, TimeoutSeconds and
    error mapping: only the transport is shorter. Anything but a plain synchronous
    invoke of one of our functions still takes moto's way.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    original = lambda_eval_utils._invoke_lambda_function

    def invoke(parameters: dict, region: str, state_credentials: Any) -> dict:
        name = runtime.function_name(str(parameters.get("FunctionName", "")))
        if name not in runtime.handlers or set(parameters) - {"FunctionName", "Payload"}:
            return original(parameters=parameters, region=region, state_credentials=state_credentials)
        headers: dict[str, str] = {}
        body = runtime._invoke(name, lambda_eval_utils.to_payload_type(parameters.get("Payload")), headers)
        response: dict[str, Any] = {
            "StatusCode": 200,
            "ExecutedVersion": "$LATEST",
            "Payload": lambda_eval_utils._from_payload(io.BytesIO(body)),
        }
        if headers.get("x-amz-function-error"):
            response["FunctionError"] = headers["x-amz-function-error"]
        return response

    return [mock.patch.object(lambda_eval_utils, "_invoke_lambda_function", invoke)]


def map_run_with_tolerated_failures() -> Callable[..., None]:
    """moto records a failed Distributed Map item and carries on with a null result;
    AWS fails the Map Run once failures exceed the tolerated threshold (0 by default).
    Give the local Map the AWS behaviour, or a failed part group would go unnoticed
    until CompleteUpload."""
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
        DistributedIterationComponent,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    original = DistributedIterationComponent._map_run

    def map_run(component: Any, env: Any, eval_input: Any) -> None:
        original(component, env, eval_input)
        record = eval_input.map_run_record
        counts = record.item_counter
        failed = counts.failed.get() + counts.timed_out.get() + counts.aborted.get()
        total = max(counts.total.get(), 1)
        tolerated_count = record.tolerated_failure_count or 0
        tolerated_percentage = record.tolerated_failure_percentage or 0.0
        if failed > tolerated_count and failed * 100.0 / total > tolerated_percentage:
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                    event_type=HistoryEventType.MapRunFailed,
                    event_details=EventDetails(
                        mapRunFailedEventDetails={
                            "error": StatesErrorNameType.StatesExceedToleratedFailureThreshold.to_name(),
                            "cause": f"{failed} of {total} items failed; the Map Run tolerates none",
                        }
                    ),
                )
            )

    return map_run


def batch_task_with_api_names(runtime: LocalRuntime) -> Callable[..., None]:
    """Step Functions' Batch integration takes PascalCase fields (JobName,
    ContainerOverrides.Environment[].Name) as on AWS; moto hands them to its Batch
    API unchanged, which wants jobName/containerOverrides/environment/name.
    The Batch side is deployed on its first use."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_batch import (
        StateTaskServiceBatch,
    )

    original = StateTaskServiceBatch._eval_service_task

    def recase(value: Any, first: Callable[[str], str]) -> Any:
        if isinstance(value, dict):
            return {first(key[:1]) + key[1:]: recase(item, first) for key, item in value.items()}
        if isinstance(value, list):
            return [recase(item, first) for item in value]
        return value

    def eval_service_task(task: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any) -> None:
        runtime.ensure_batch()
        original(task, env, resource_runtime_part, recase(normalised_parameters, str.lower), state_credentials)
        # ...and the SubmitJob answer back in the integration's PascalCase (JobId).
        env.stack.append(recase(env.stack.pop(), str.upper))

    return eval_service_task


def interpreter_caches() -> list[Any]:
    """moto re-parses the whole ASL definition (ANTLR) for every execution and every
    JSONPath (a fresh yacc parser) for every evaluation: over a third of the CPU of a
    small-object copy. Parse each once. The parsed program is immutable, as moto's
    own Map already shares one program across concurrent iterations."""
    import jsonpath_ng
    import jsonpath_ng.ext
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    # One parse per definition, shared by CreateStateMachine's validation and every execution.
    parse = functools.lru_cache(maxsize=64)(AmazonStateLanguageParser.parse)

    def entrypoint(worker: Any) -> Any:
        return parse(worker._evaluation_details.state_machine_details.definition)[0]

    # Service integrations also build a new boto3 client for every task they run.
    from moto.stepfunctions.parser.asl.utils import boto_client

    clients_by_service: dict[tuple[str, str], Any] = {}
    clients_lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        with clients_lock:
            client = clients_by_service.get((region, service))
            if client is None:
                client = clients_by_service[(region, service)] = boto_client.boto_client_for(region, service)
            return client

    users = [
        module
        for name, module in list(sys.modules.items())
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is boto_client.boto_client_for
    ]
    return [
        mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(parse)),
        mock.patch.object(ExecutionWorker, "_get_evaluation_entrypoint", entrypoint),
        mock.patch.object(json_path, "parse", functools.lru_cache(maxsize=4096)(jsonpath_ng.ext.parse)),
        # ResultPath parses its path with plain jsonpath_ng on every state.
        mock.patch.object(result_path, "parse", functools.lru_cache(maxsize=4096)(jsonpath_ng.parse)),
        *[mock.patch.object(module, "boto_client_for", boto_client_for) for module in users if module is not boto_client],
    ]


def backend_lookup_fast_path() -> Callable[..., None]:
    """moto runs this on every request: a global lock plus a linear scan of all
    backends. Once an account's backend exists, skip both (a profile of small-object
    copies showed it as the largest single cost)."""
    from moto.core.base_backend import BackendDict

    original = BackendDict._create_account_specific_backend
    ready: set[tuple[int, str]] = set()

    def create(backends: Any, account_id: str) -> None:
        if (id(backends), account_id) in ready and dict.__contains__(backends, account_id):
            return
        original(backends, account_id)
        ready.add((id(backends), account_id))

    return create


