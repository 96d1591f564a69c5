"""Every change moto's engine (``MEDIASYNC_LOCAL_ENGINE=moto``, local/moto_engine.py)
makes to moto's internals, in two labelled lists; and ``S3_FIDELITY``, the one change to
moto's in-process S3 the runtime makes under either engine (the default engine, local/asl,
patches nothing else in moto).

``FIDELITY`` makes moto behave as AWS does where MediaSync depends on it (or runs
our code where AWS would): Lambda invocations reach our handlers, an ended
execution wakes StartSyncExecution (which moto lacks), a Map Run fails past its
tolerated failures, the Batch integration's PascalCase fields reach moto's Batch
API, and a Batch job runs the worker in-process. Turning these off breaks the
runtime.

``SPEED`` only removes work that cost more than the copy itself (re-parsing the
ASL and JSONPaths for every state, a lock and a scan over every backend on every
request, an in-process Lambda call serialised through moto's API). The state
reached is the same: ``MEDIASYNC_LOCAL_SPEED_PATCHES=0`` (or
``LocalRuntime(speed_patches=False)``) runs without them, to tell a moto
difference from a shortcut of ours. docs/benchmarks.md has the measurements.

All of it reaches into private moto attributes, which is why pyproject pins
``moto<5.3``; tests/unit/test_moto_patches.py checks that every attribute named
in ``MotoPatch.targets`` and ``INTERNALS_USED`` still exists.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import os
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable
from unittest import mock

if TYPE_CHECKING:
    from mediasync.local.moto_engine import MotoEngine as LocalRuntime

SPEED_PATCHES_VARIABLE = "MEDIASYNC_LOCAL_SPEED_PATCHES"


@dataclass(frozen=True)
class MotoPatch:
    name: str
    # "module:Attribute.path" of every moto attribute the patch replaces or reads.
    targets: tuple[str, ...]
    # The patches for one runtime, not yet started.
    make: Callable[[LocalRuntime], list[Any]]


def lambda_invoke_in_process(runtime: LocalRuntime) -> list[Any]:
    """moto's Lambda without Docker has nothing to run: its invoke runs our handler."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(backend: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any) -> bytes:
        return runtime._invoke(function_name, body, response_headers)

    return [mock.patch.object(LambdaSimpleBackend, "invoke", invoke)]


def notify_on_termination(runtime: LocalRuntime) -> list[Any]:
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

    return [mock.patch.object(BaseExecutionWorkerCommunication, "terminated", terminated)]


def lambda_integration_in_process(runtime: LocalRuntime) -> list[Any]:
    """Step Functions' Lambda integration calls our handlers directly.

    moto's integration builds a Lambda client request (serialise, sign), routes it
    through its Lambda API (parse, dispatch, serialise) to the invoke hook, and
    parses the answer, for a call that ends in-process anyway; for small objects that
    round trip costs more than the copy (docs/benchmarks.md). The Task state keeps moto's Retry, Catch, TimeoutSeconds and
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


def map_run_with_tolerated_failures(runtime: LocalRuntime) -> list[Any]:
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

    return [mock.patch.object(DistributedIterationComponent, "_map_run", map_run)]


def batch_task_with_api_names(runtime: LocalRuntime) -> list[Any]:
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

    return [mock.patch.object(StateTaskServiceBatch, "_eval_service_task", eval_service_task)]


_LOCK_HEADERS = ("x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold")


def multipart_uploads_keep_object_lock(runtime: LocalRuntime) -> list[Any]:
    """CreateMultipartUpload takes ObjectLockMode, ObjectLockRetainUntilDate and
    ObjectLockLegalHoldStatus for the object it completes into, as CopyObject does
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html);
    moto's ignores them, and the completed object has no lock. Here the upload keeps them
    and its completed object carries them."""
    import re

    from moto.s3.models import S3Backend
    from moto.s3.responses import S3Response

    post = S3Response._key_response_post
    complete = S3Backend.complete_multipart_upload

    def key_response_post(response: Any, request: Any, body: bytes, bucket_name: str, query: dict, key_name: str) -> Any:
        answer = post(response, request, body, bucket_name, query, key_name)
        lock = {header: request.headers.get(header) for header in _LOCK_HEADERS if request.headers.get(header)}
        if body == b"" and "uploads" in query and lock:
            text = answer[2].decode() if isinstance(answer[2], bytes) else str(answer[2])
            upload_id = re.search(r"<UploadId>([^<]+)</UploadId>", text)
            if upload_id:
                response.backend.get_bucket(bucket_name).multiparts[upload_id.group(1)].object_lock = lock
        return answer

    def complete_multipart_upload(backend: Any, bucket_name: str, multipart_id: str, body: Any) -> Any:
        multipart = backend.get_bucket(bucket_name).multiparts.get(multipart_id)
        lock = getattr(multipart, "object_lock", {})
        key = complete(backend, bucket_name, multipart_id, body)
        if key is not None and lock:
            key.lock_mode = lock.get("x-amz-object-lock-mode")
            key.lock_until = lock.get("x-amz-object-lock-retain-until-date")
            key.lock_legal_status = lock.get("x-amz-object-lock-legal-hold")
        return key

    return [mock.patch.object(S3Response, "_key_response_post", key_response_post),
            mock.patch.object(S3Backend, "complete_multipart_upload", complete_multipart_upload)]


def interpreter_caches(runtime: LocalRuntime) -> list[Any]:
    """moto re-parses the whole ASL definition (ANTLR) for every execution and every
    JSONPath (a fresh yacc parser) for every evaluation, though both are fixed for a
    deployment. Parse each once. The parsed program is immutable, as moto's
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


def backend_lookup_fast_path(runtime: LocalRuntime) -> list[Any]:
    """moto runs this on every request: a global lock plus a linear scan of all
    backends, though an account's backend, once made, never goes away: skip both
    then."""
    from moto.core.base_backend import BackendDict

    original = BackendDict._create_account_specific_backend
    ready: set[tuple[int, str]] = set()

    def create(backends: Any, account_id: str) -> None:
        if (id(backends), account_id) in ready and dict.__contains__(backends, account_id):
            return
        original(backends, account_id)
        ready.add((id(backends), account_id))

    return [mock.patch.object(BackendDict, "_create_account_specific_backend", create)]


_PARSER = "moto.stepfunctions.parser"
_MAP = f"{_PARSER}.asl.component.state.exec.state_map.iteration.distributed_iteration_component"
_BATCH_TASK = f"{_PARSER}.asl.component.state.exec.state_task.service.state_task_service_batch"

FIDELITY: tuple[MotoPatch, ...] = (
    MotoPatch("Lambda invoke runs our handler",
              ("moto.awslambda_simple.models:LambdaSimpleBackend.invoke",), lambda_invoke_in_process),
    MotoPatch("an ended execution wakes StartSyncExecution",
              (f"{_PARSER}.backend.execution:BaseExecutionWorkerCommunication.terminated",
               f"{_PARSER}.utils:TMP_THREADS"), notify_on_termination),
    MotoPatch("Map Run fails past ToleratedFailure",
              (f"{_MAP}:DistributedIterationComponent._map_run",), map_run_with_tolerated_failures),
    MotoPatch("Batch integration fields in the Batch API's casing",
              (f"{_BATCH_TASK}:StateTaskServiceBatch._eval_service_task",), batch_task_with_api_names),
)

# moto's in-process S3, under either engine: where it differs from AWS in what a copy keeps.
S3_FIDELITY: tuple[MotoPatch, ...] = (
    MotoPatch("a multipart upload's Object Lock reaches the completed object",
              ("moto.s3.responses:S3Response._key_response_post",
               "moto.s3.models:S3Backend.complete_multipart_upload"), multipart_uploads_keep_object_lock),
)

SPEED: tuple[MotoPatch, ...] = (
    MotoPatch("Lambda integration calls the handler directly",
              (f"{_PARSER}.asl.component.state.exec.state_task.lambda_eval_utils:_invoke_lambda_function",
               f"{_PARSER}.asl.component.state.exec.state_task.lambda_eval_utils:to_payload_type",
               f"{_PARSER}.asl.component.state.exec.state_task.lambda_eval_utils:_from_payload"),
              lambda_integration_in_process),
    MotoPatch("ASL, JSONPaths and service clients made once",
              (f"{_PARSER}.asl.parse.asl_parser:AmazonStateLanguageParser.parse",
               f"{_PARSER}.backend.execution_worker:ExecutionWorker._get_evaluation_entrypoint",
               f"{_PARSER}.asl.utils.json_path:parse",
               f"{_PARSER}.asl.component.common.path.result_path:parse",
               f"{_PARSER}.asl.utils.boto_client:boto_client_for"), interpreter_caches),
    MotoPatch("a backend, once made, found without the global lock",
              ("moto.core.base_backend:BackendDict._create_account_specific_backend",), backend_lookup_fast_path),
)

# Private moto attributes the runtime uses without patching them: the Batch job's
# life cycle (run by the worker in-process, patched on first use) and the Step
# Functions backend that StartSyncExecution starts and drops executions on.
INTERNALS_USED: tuple[str, ...] = (
    "moto.batch_simple.models:BatchSimpleBackend._mark_job_as_finished",
    "moto.batch.models:Job._start_attempt",
    "moto.batch.models:Job._mark_stopped",
    "moto.stepfunctions.responses:get_backend",
    "moto.core.exceptions:JsonRESTError",
)


def defer_moto_batch_models() -> None:
    """Import ``moto.batch``'s models (and through them moto's whole EC2 backend, about
    1 s) only when something uses AWS Batch, not whenever the Step Functions parser loads.

    The parser's Batch integration imports ``moto.batch.utils`` for one enum, and
    ``moto/batch/__init__.py`` imports the models. Here the package is registered
    without running that ``__init__``: its submodules import as usual, and the first
    attribute read from the package itself (moto's backend lookup asks for
    ``batch_backends``) imports the models then. Nothing changes once loaded.
    """
    if "moto.batch" in sys.modules:
        return
    spec = importlib.util.find_spec("moto.batch")
    if spec is None or spec.loader is None:
        return
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def load_models(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        delattr(package, "__getattr__")  # from here on, a plain module
        loader.exec_module(package)
        return getattr(package, name)

    setattr(package, "__getattr__", load_models)
    sys.modules["moto.batch"] = package


def speed_patches_enabled(requested: bool | None = None) -> bool:
    """``requested`` if given, else the environment (on unless set to 0/false/no)."""
    if requested is not None:
        return requested
    return os.environ.get(SPEED_PATCHES_VARIABLE, "1").strip().lower() not in ("0", "false", "no")


def moto_patches(runtime: LocalRuntime, *, speed: bool | None = None) -> list[Any]:
    """The fidelity patches, and the speed patches unless switched off; none started."""
    if speed_patches_enabled(speed):
        defer_moto_batch_models()
    chosen = FIDELITY + (SPEED if speed_patches_enabled(speed) else ())
    return [patch for item in chosen for patch in item.make(runtime)]


def moto_s3_patches(runtime: LocalRuntime) -> list[Any]:
    """The S3 fidelity patches, for a runtime on moto's in-process S3; none started."""
    return [patch for item in S3_FIDELITY for patch in item.make(runtime)]
