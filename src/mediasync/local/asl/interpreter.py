"""Runs executions of compiled definitions: states, Retry and Catch, Map and Parallel,
timeouts, payload limits.

The order of a state's input and output processing is InputPath, Parameters (or
ItemSelector), the task, ResultSelector, ResultPath, OutputPath; a catcher's
ResultPath places the error output in the state's *raw* input, and neither
ResultSelector nor OutputPath applies on that path. Retriers count their own retries
(MaxAttempts counts retries, not attempts) from the state's entry; the first retrier
whose ErrorEquals matches decides, and once it is used up the error goes to Catch.
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-input-output-filtering.html
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html

Nothing is copied to be safe: values are never changed in place (ResultPath copies
only the objects along its path), and a value reaches a Task's code only as JSON.
"""

from __future__ import annotations

import datetime
import json
import random
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from mediasync.local.asl import errors
from mediasync.local.asl.choice import parse_timestamp
from mediasync.local.asl.clock import Clock, RealClock
from mediasync.local.asl.definition import (
    BATCH_SUBMIT_JOB,
    BATCH_SUBMIT_JOB_SYNC,
    LAMBDA_FUNCTION,
    LAMBDA_INVOKE,
    ChoiceState,
    Definition,
    FailState,
    MapState,
    ParallelState,
    PassState,
    State,
    StateGroup,
    TaskState,
    WaitState,
)
from mediasync.local.asl.errors import StatesError, runtime_error
from mediasync.local.asl.paths import MISSING
from mediasync.local.asl.workers import RelayEvent, Workers

# "The maximum input or output size for a task, state, or execution is 256 KiB of data
# as a UTF-8 encoded string."
# https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
PAYLOAD_LIMIT = 256 * 1024
# "In this mode, the Map state supports up to 40 concurrent iterations", whatever
# MaxConcurrency says.
# https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html
INLINE_MAP_CONCURRENCY = 40
# How many child executions of one Distributed Map run here at once when MaxConcurrency
# allows more (AWS runs up to 10,000): each is a thread in this process.
LOCAL_CHILD_CONCURRENCY = 64


class Halted(Exception):
    """The run of some states ended from outside: no Retry or Catch applies."""


class TimedOut(Halted):
    pass


class Aborted(Halted):
    pass


class Cancelled(Halted):
    """A Map iteration or Parallel branch stopped because another one failed."""


class Integrations(Protocol):
    """What the Task states call, supplied by the runtime."""

    def lambda_function(self, name: str) -> tuple[Callable[[bytes], tuple[bytes, str | None]], float]:
        """(invoke, the function's timeout) for a FunctionName or ARN; StatesError if there is none.
        ``invoke(payload)`` answers (response payload, FunctionError or None)."""

    def batch_job(self, parameters: dict[str, Any]) -> tuple[dict[str, Any], Callable[[], dict[str, Any]]]:
        """SubmitJob: its answer (JobArn, JobId, JobName) and a call that runs the job to its
        end, answering its description (PascalCase) or raising States.TaskFailed with it.
        StatesError (Batch.*) if the job cannot be submitted."""


class Registry(Protocol):
    def add_map_run(self, map_run: "MapRun") -> None: ...

    def add_child(self, execution: "Execution") -> None: ...


@dataclass
class MachineInfo:
    arn: str
    name: str
    type: str  # STANDARD or EXPRESS
    definition: Definition
    role_arn: str = ""


@dataclass
class Execution:
    arn: str
    name: str
    machine: MachineInfo
    group: StateGroup
    input_text: str
    input: Any
    start: float
    # Seconds the execution may run (the EXPRESS ceiling, the definition's TimeoutSeconds).
    time_limit: float | None
    map_run_arn: str | None = None
    deadline: float | None = None
    status: str = "RUNNING"
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    stop: float | None = None
    map_runs: list["MapRun"] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    root: "Frame | None" = None
    # A stop asked for before the execution's thread started it.
    stopped_early: "Aborted | None" = None
    # GetExecutionHistory's events, when the engine records them (None: it does not).
    history: list[dict[str, Any]] | None = None
    _wakers: set[threading.Event] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_waker(self, waker: threading.Event) -> None:
        with self._lock:
            self._wakers.add(waker)

    def remove_waker(self, waker: threading.Event) -> None:
        with self._lock:
            self._wakers.discard(waker)

    def wake_all(self) -> None:
        with self._lock:
            wakers = list(self._wakers)
        for waker in wakers:
            waker.set()


@dataclass
class MapRun:
    arn: str
    execution_arn: str
    state_machine_arn: str
    start: float
    max_concurrency: int
    # None when the definition sets no such threshold.
    tolerated_count: int | None
    tolerated_percentage: float | None
    total: int
    status: str = "RUNNING"
    stop: float | None = None
    pending: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    timed_out: int = 0
    aborted: int = 0
    children: list[Execution] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"pending": self.pending, "running": self.running, "succeeded": self.succeeded,
                "failed": self.failed, "timedOut": self.timed_out, "aborted": self.aborted, "total": self.total,
                "resultsWritten": 0, "failuresNotRedrivable": 0, "pendingRedrive": 0}

    def exceeded(self) -> bool:
        """Whether the failed items are more than the Map Run tolerates: none when it sets no
        threshold; "If you specify both, the workflow fails when it exceeds either value";
        percentages count failed and timed-out items against all items.
        https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html"""
        failures = self.failed + self.timed_out + self.aborted
        if self.tolerated_count is None and self.tolerated_percentage is None:
            return failures > 0
        over_count = self.tolerated_count is not None and failures > self.tolerated_count
        over_percentage = self.tolerated_percentage is not None and \
            failures * 100.0 / max(self.total, 1) > self.tolerated_percentage
        return over_count or over_percentage


class Frame:
    """One thread's way through a group of states (an execution, a branch, an item):
    the context object's State and Map fields, and the means to stop it."""

    __slots__ = ("engine", "execution", "parent", "halted", "state_name", "entered", "retries", "item")

    def __init__(self, engine: "Engine", execution: Execution, parent: "Frame | None" = None,
                 item: tuple[int, Any] | None = None) -> None:
        self.engine = engine
        self.execution = execution
        self.parent = parent
        self.halted: Halted | None = None
        self.state_name = ""
        self.entered = 0.0
        self.retries = 0
        self.item = item

    def document(self) -> dict[str, Any]:
        """The context object (``$$``)."""
        execution = self.execution
        document: dict[str, Any] = {
            "Execution": {"Id": execution.arn, "Input": execution.input, "Name": execution.name,
                          "RoleArn": execution.machine.role_arn, "StartTime": _iso(execution.start),
                          "RedriveCount": 0},
            "State": {"EnteredTime": _iso(self.entered), "Name": self.state_name, "RetryCount": self.retries},
            "StateMachine": {"Id": execution.machine.arn, "Name": execution.machine.name},
        }
        if self.item is not None:
            document["Map"] = {"Item": {"Index": self.item[0], "Value": self.item[1]}}
        return document

    def with_item(self, index: int, value: Any) -> "Frame":
        frame = Frame(self.engine, self.execution, self, (index, value))
        frame.state_name, frame.entered, frame.retries = self.state_name, self.entered, self.retries
        return frame

    def halt(self, reason: Halted) -> None:
        if self.halted is None:
            self.halted = reason
        self.execution.wake_all()

    def check(self) -> None:
        frame: Frame | None = self
        while frame is not None:
            if frame.halted is not None:
                raise frame.halted
            frame = frame.parent
        execution = self.execution
        if execution.deadline is not None and self.engine.clock.monotonic() >= execution.deadline:
            assert execution.root is not None
            execution.root.halt(TimedOut())
            raise execution.root.halted  # type: ignore[misc]

    def wait(self, event: RelayEvent | None, timeout: float) -> bool:
        """Wait for ``event`` (the end of a call; None: just sleep) up to ``timeout`` seconds;
        whether it came in time. Raises Halted the moment this frame, an enclosing one or
        the execution ends."""
        clock = self.engine.clock
        execution = self.execution
        waker = threading.Event()
        if event is not None:
            event.relay(waker)
        execution.add_waker(waker)
        try:
            started = clock.monotonic()
            while True:
                self.check()
                left = timeout - (clock.monotonic() - started)
                if left <= 0:
                    return False
                if execution.deadline is not None:
                    left = min(left, max(execution.deadline - clock.monotonic(), 0.0))
                clock.wait(waker, left, work=event)
                waker.clear()
                if event is not None and event.is_set():
                    # The execution's end (or a stop) may have come first.
                    self.check()
                    return clock.monotonic() - started < timeout
        finally:
            execution.remove_waker(waker)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.wait(None, seconds)
        else:
            self.check()


def _iso(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


_RETRY = object()


class Engine:
    """Runs executions. One per deployment; thread-safe."""

    def __init__(self, integrations: Integrations, *, clock: Clock | None = None, rng: random.Random | None = None,
                 workers: Workers | None = None, registry: Registry | None = None,
                 payload_limit: int = PAYLOAD_LIMIT, region: str = "us-east-1",
                 account: str = "123456789012", history: bool = False) -> None:
        self.integrations = integrations
        self.clock = clock or RealClock()
        self.rng = rng or random.Random()
        self.workers = workers or Workers()
        self.registry = registry
        self.payload_limit = payload_limit
        self.region = region
        self.account = account
        # An event history costs a JSON text of every state's input and output: only on request.
        self.history = history
        self._runners: dict[type, Callable[[Any, Any, Frame], tuple[Any, str | None]]] = {
            TaskState: self._task,
            PassState: self._pass,
            ChoiceState: self._choice,
            WaitState: self._wait,
            State: self._succeed,
            FailState: self._fail,
            ParallelState: self._parallel,
            MapState: self._map,
        }

    # -- executions ------------------------------------------------------------
    def run(self, execution: Execution) -> None:
        """Run ``execution`` in this thread to its end; its record says how it ended."""
        frame = Frame(self, execution)
        with execution._lock:
            execution.root = frame
            if execution.stopped_early is not None:
                frame.halted = execution.stopped_early
        if execution.time_limit is not None:
            execution.deadline = self.clock.monotonic() + execution.time_limit
        if self.history:
            execution.history = []
            self._record(execution, "ExecutionStarted", "executionStartedEventDetails",
                         {"input": execution.input_text, "roleArn": execution.machine.role_arn})
        try:
            output = self.run_group(execution.group, execution.input, frame)
            text = json.dumps(output, separators=(",", ":"), ensure_ascii=False)
            if len(text.encode()) > self.payload_limit:
                raise StatesError(errors.DATA_LIMIT_EXCEEDED, "The state/task returned a result with a size "
                                                              "exceeding the maximum number of bytes service limit.")
            self._finish(execution, "SUCCEEDED", output=text)
        except StatesError as error:
            self._finish(execution, "FAILED", error=error.error or None, cause=error.cause)
        except TimedOut:
            self._finish(execution, "TIMED_OUT", error=errors.TIMEOUT,
                         cause=f"The execution reached its maximum duration of {execution.time_limit:g} seconds")
        except Aborted as stop:
            self._finish(execution, "ABORTED", error=stop.args[0] if stop.args else None,
                         cause=stop.args[1] if len(stop.args) > 1 else None)
        except Exception as error:  # a defect here or in an integration: an ended execution, never a hung one
            self._finish(execution, "FAILED", error=errors.RUNTIME, cause=_internal(error))

    def _finish(self, execution: Execution, status: str, *, output: str | None = None, error: str | None = None,
                cause: str | None = None) -> None:
        if execution.history is not None:
            kind = {"SUCCEEDED": "Succeeded", "FAILED": "Failed", "TIMED_OUT": "TimedOut", "ABORTED": "Aborted"}[status]
            details = {"output": output} if output is not None else \
                {key: value for key, value in (("error", error), ("cause", cause)) if value is not None}
            self._record(execution, f"Execution{kind}", f"execution{kind}EventDetails", details)
        execution.output, execution.error, execution.cause = output, error, cause
        execution.stop = self.clock.time()
        execution.status = status
        execution.done.set()

    def stop(self, execution: Execution, error: str | None, cause: str | None) -> None:
        """StopExecution: the execution ends ABORTED; calls in flight run on."""
        with execution._lock:
            if execution.root is None:
                execution.stopped_early = Aborted(error, cause)
                return
        execution.root.halt(Aborted(error, cause))

    def run_group(self, group: StateGroup, value: Any, frame: Frame) -> Any:
        name: str | None = group.start_at
        states = group.states
        runners = self._runners
        clock = self.clock
        while name is not None:
            state = states[name]
            frame.check()
            frame.state_name = name
            frame.entered = clock.time()
            frame.retries = 0
            if frame.execution.history is None:
                value, name = runners[type(state)](state, value, frame)
                continue
            self._record(frame.execution, f"{state.type}StateEntered", "stateEnteredEventDetails",
                         {"name": state.name, "input": json.dumps(value)})
            value, name = runners[type(state)](state, value, frame)
            self._record(frame.execution, f"{state.type}StateExited", "stateExitedEventDetails",
                         {"name": state.name, "output": json.dumps(value)})
        return value

    def _record(self, execution: Execution, kind: str, details_name: str, details: dict[str, Any]) -> None:
        history = execution.history
        assert history is not None
        with execution._lock:
            number = len(history) + 1
            history.append({"timestamp": datetime.datetime.fromtimestamp(self.clock.time(), datetime.timezone.utc),
                            "type": kind, "id": number, "previousEventId": number - 1, details_name: details})

    # -- states --------------------------------------------------------------------
    def _pass(self, state: PassState, raw: Any, frame: Frame) -> tuple[Any, str | None]:
        effective = state.input_path(raw, frame)
        if state.result is not MISSING:
            result = state.result
        elif state.parameters is not None:
            result = state.parameters.evaluate(effective, frame)
        else:
            result = effective
        return self._output(state, raw, result, frame), state.next

    def _choice(self, state: ChoiceState, raw: Any, frame: Frame) -> tuple[Any, str | None]:
        effective = state.input_path(raw, frame)
        target = state.default
        for test, next_state in state.choices:
            if test(effective, frame):
                target = next_state
                break
        else:
            if target is None:
                raise StatesError(errors.NO_CHOICE_MATCHED,
                                  f"No Matches! in the Choice state {state.name!r}")
        output = state.output_path(effective, frame)
        if output is not raw:
            self.check_size(output, state.name)
        return output, target

    def _wait(self, state: WaitState, raw: Any, frame: Frame) -> tuple[Any, str | None]:
        effective = state.input_path(raw, frame)
        value = state.seconds(effective, frame)
        if state.timestamp:
            moment = parse_timestamp(value)
            if moment is None:
                raise runtime_error(f"The Wait state {state.name!r} was given {json.dumps(value)}, not a timestamp")
            seconds = moment.timestamp() - self.clock.time()
        else:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise runtime_error(f"The Wait state {state.name!r} was given {json.dumps(value)}, "
                                    "not a number of seconds")
            seconds = value
        frame.sleep(seconds)
        output = state.output_path(effective, frame)
        if output is not raw:
            self.check_size(output, state.name)
        return output, state.next

    def _succeed(self, state: State, raw: Any, frame: Frame) -> tuple[Any, str | None]:
        output = state.output_path(state.input_path(raw, frame), frame)
        if output is not raw:
            self.check_size(output, state.name)
        return output, None

    def _fail(self, state: FailState, raw: Any, frame: Frame) -> tuple[Any, str | None]:
        raise StatesError(state.error(raw, frame) or "", state.cause(raw, frame))

    def _task(self, state: TaskState, raw: Any, frame: Frame) -> tuple[Any, str | None]:
        return self._with_handling(state, raw, frame, self._call_task)

    def _call_task(self, state: TaskState, effective: Any, frame: Frame) -> Any:
        parameters = state.parameters.evaluate(effective, frame) if state.parameters is not None else effective
        timeout = state.timeout(effective, frame)
        if state.integration in (LAMBDA_INVOKE, LAMBDA_FUNCTION):
            return self._lambda(state, parameters, timeout, frame)
        return self._batch(state, parameters, timeout, frame)

    def _parallel(self, state: ParallelState, raw: Any, frame: Frame) -> tuple[Any, str | None]:
        def branches(state: ParallelState, effective: Any, frame: Frame) -> Any:
            value = state.parameters.evaluate(effective, frame) if state.parameters is not None else effective
            self.check_size(value, state.name)
            runs = [(group, value) for group in state.branches]
            return self._fan_out(runs, frame, concurrency=len(runs))

        return self._with_handling(state, raw, frame, branches)

    def _map(self, state: MapState, raw: Any, frame: Frame) -> tuple[Any, str | None]:
        return self._with_handling(state, raw, frame, self._map_items)

    # -- input, output, Retry and Catch --------------------------------------------
    def _with_handling(self, state: State, raw: Any, frame: Frame,
                       work: Callable[[Any, Any, Frame], Any]) -> tuple[Any, str | None]:
        """Run ``work`` on the effective input under the state's Retry and Catch."""
        effective = state.input_path(raw, frame)
        counts = [0] * len(state.retry)
        while True:
            try:
                result = work(state, effective, frame)
                if state.result_selector is not None:
                    result = state.result_selector.evaluate(result, frame)
                return self._output(state, raw, result, frame), state.next
            except StatesError as error:
                handled = self._handle(state, error, counts, raw, frame)
                if handled is _RETRY:
                    continue
                return handled  # type: ignore[return-value]

    def _output(self, state: State, raw: Any, result: Any, frame: Frame) -> Any:
        output = raw if state.result_path is None else state.result_path.place(raw, result)
        output = state.output_path(output, frame)
        self.check_size(output, state.name)
        return output

    def _handle(self, state: State, error: StatesError, counts: list[int], raw: Any, frame: Frame) -> Any:
        if error.terminal:
            raise error
        for index, retrier in enumerate(state.retry):
            if errors.matches(retrier.errors, error.error):
                if counts[index] < retrier.max_attempts:
                    counts[index] += 1
                    frame.retries += 1
                    frame.sleep(retrier.delay(counts[index], self.rng))
                    return _RETRY
                break
        for catcher in state.catch:
            if errors.matches(catcher.errors, error.error):
                output = raw if catcher.result_path is None else catcher.result_path.place(raw, error.output())
                self.check_size(output, state.name)
                return output, catcher.next
        raise error

    def check_size(self, value: Any, where: str) -> None:
        # Escaped to ASCII, JSON is at least as long as its UTF-8 form: the exact size is
        # needed only near the limit.
        text = json.dumps(value, separators=(",", ":"))
        if len(text) <= self.payload_limit:
            return
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
        if size > self.payload_limit:
            raise StatesError(errors.DATA_LIMIT_EXCEEDED,
                              f"The state/task {where!r} returned a result with a size ({size} bytes) exceeding the "
                              f"maximum number of bytes service limit ({self.payload_limit}).")

    # -- integrations ---------------------------------------------------------------
    def _lambda(self, state: TaskState, parameters: Any, timeout: float, frame: Frame) -> Any:
        if state.integration == LAMBDA_INVOKE:
            if not isinstance(parameters, dict) or not isinstance(parameters.get("FunctionName"), str):
                raise runtime_error(f"The Task {state.name!r} calls lambda:invoke without a FunctionName")
            unknown = set(parameters) - {"FunctionName", "Payload", "Qualifier", "ClientContext", "InvocationType",
                                         "LogType"}
            if unknown:
                raise runtime_error(f"The Task {state.name!r} passes lambda:invoke unknown fields: "
                                    f"{', '.join(sorted(unknown))}")
            if parameters.get("InvocationType", "RequestResponse") != "RequestResponse":
                raise runtime_error("the local engine invokes Lambda functions synchronously only")
            function, payload = parameters["FunctionName"], parameters.get("Payload", {})
        else:
            function, payload = state.resource, parameters
        invoke, function_timeout = self.integrations.lambda_function(function)
        body = json.dumps(payload).encode()
        job = self.workers.submit(invoke, body)
        finished = frame.wait(job.done, min(timeout, function_timeout))
        if not finished:
            if timeout <= function_timeout:
                raise StatesError(errors.TIMEOUT)
            raise StatesError("Sandbox.Timedout", json.dumps({
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"Task timed out after {function_timeout:.2f} seconds"}))
        answer, function_error = job.result()
        try:
            response = json.loads(answer) if answer else None
        except ValueError:
            raise StatesError("Lambda.Unknown", "The Lambda function returned a payload that is not JSON") from None
        if function_error:
            name = response.get("errorType") if isinstance(response, dict) else None
            raise StatesError(name or "Lambda.Unknown", answer.decode(errors="replace"))
        if state.integration == LAMBDA_FUNCTION:
            return response
        result = {"ExecutedVersion": "$LATEST", "Payload": response, "SdkHttpMetadata": _HTTP_METADATA,
                  "SdkResponseMetadata": {"RequestId": str(uuid.uuid4())}, "StatusCode": 200}
        self.check_size(result, state.name)
        return result

    def _batch(self, state: TaskState, parameters: Any, timeout: float, frame: Frame) -> Any:
        if not isinstance(parameters, dict):
            raise runtime_error(f"The Task {state.name!r} passes batch:submitJob parameters that are not an object")
        submitted, run_job = self.integrations.batch_job(parameters)
        job = self.workers.submit(run_job)
        if state.integration == BATCH_SUBMIT_JOB:
            # Submitted: the task ends while the job runs on.
            return submitted
        assert state.integration == BATCH_SUBMIT_JOB_SYNC
        if not frame.wait(job.done, timeout):
            raise StatesError(errors.TIMEOUT)
        description = job.result()
        self.check_size(description, state.name)
        return description

    # -- Map and Parallel ------------------------------------------------------------
    def _map_items(self, state: MapState, effective: Any, frame: Frame) -> Any:
        items = state.items_path.resolve(effective, frame)
        if items is MISSING:
            raise runtime_error(f"The ItemsPath {state.items_path.text!r} of the Map {state.name!r} selects nothing")
        if not isinstance(items, list):
            raise runtime_error(f"The ItemsPath {state.items_path.text!r} of the Map {state.name!r} selects "
                                f"{json.dumps(items)[:100]}, not an array")
        concurrency = state.max_concurrency(effective, frame)
        inputs = []
        for index, item in enumerate(items):
            if state.item_selector is None:
                inputs.append(item)
            else:
                inputs.append(state.item_selector.evaluate(effective, frame.with_item(index, item)))
        if state.batcher is not None:
            inputs = self._batches(state, inputs, effective, frame)
        assert state.processor is not None
        if state.distributed:
            results = self._map_run(state, inputs, effective, concurrency, frame)
        else:
            limit = min(concurrency or INLINE_MAP_CONCURRENCY, INLINE_MAP_CONCURRENCY)
            results = self._fan_out([(state.processor, value) for value in inputs], frame, concurrency=limit)
        # The collected results count against the payload limit, whatever ResultPath keeps.
        self.check_size(results, state.name)
        return results

    def _batches(self, state: MapState, inputs: list[Any], effective: Any, frame: Frame) -> list[Any]:
        batcher = state.batcher or {}
        most = batcher.get("MaxItemsPerBatch", len(inputs) or 1)
        byte_limit = batcher.get("MaxInputBytesPerBatch")
        batch_input = batcher.get("BatchInput", {})
        batches: list[list[Any]] = []
        for value in inputs:
            if batches and len(batches[-1]) < most and (
                    byte_limit is None or len(json.dumps(batches[-1] + [value]).encode()) <= byte_limit):
                batches[-1].append(value)
            else:
                batches.append([value])
        return [{"BatchInput": batch_input, "Items": batch} for batch in batches]

    def _fan_out(self, runs: list[tuple[StateGroup, Any]], frame: Frame, *, concurrency: int) -> list[Any]:
        """Run each (group, input) in a frame of its own, ``concurrency`` at a time; results in
        order. The first failure stops the others (they are abandoned, not waited for)."""
        count = len(runs)
        if count == 0:
            return []
        results: list[Any] = [None] * count
        group_frame = Frame(self, frame.execution, frame)
        lock = threading.Lock()
        all_done = RelayEvent()
        state: dict[str, Any] = {"next": 0, "finished": 0, "failure": None}

        def take() -> int | None:
            with lock:
                if state["failure"] is not None or state["next"] >= count:
                    return None
                index = state["next"]
                state["next"] += 1
                return index

        def worker() -> None:
            while (index := take()) is not None:
                group, value = runs[index]
                child = Frame(self, frame.execution, group_frame)
                try:
                    results[index] = self.run_group(group, value, child)
                except Exception as error:
                    if isinstance(error, Halted):
                        return  # the whole run stops: its waiter hears of it too
                    failure = error if isinstance(error, StatesError) else StatesError(errors.RUNTIME,
                                                                                       _internal(error))
                    with lock:
                        if state["failure"] is None:
                            state["failure"] = failure
                    group_frame.halt(Cancelled())
                finally:
                    with lock:
                        state["finished"] += 1
                        if state["finished"] == count or (state["failure"] is not None):
                            all_done.set()

        helpers = min(concurrency, count) - 1
        for _ in range(helpers):
            self.workers.submit(worker)
        try:
            worker()
            while not frame.wait(all_done, 3600.0):
                pass
        except Halted:
            group_frame.halt(Cancelled())
            raise
        if state["failure"] is not None:
            raise state["failure"]
        return results

    def _map_run(self, state: MapState, inputs: list[Any], effective: Any, concurrency: int,
                 frame: Frame) -> list[Any]:
        """A Distributed Map: each item a child execution, counted in a Map Run that fails
        past its tolerated failures (0 by default) with States.ExceedToleratedFailureThreshold."""
        parent = frame.execution
        label = state.label or state.name
        machine_name = f"{parent.machine.name}/{label}"
        run_id = str(uuid.uuid4())
        prefix = f"arn:aws:states:{self.region}:{self.account}"
        count = state.tolerated_count(effective, frame)
        percentage = state.tolerated_percentage(effective, frame)
        map_run = MapRun(f"{prefix}:mapRun:{machine_name}:{run_id}", parent.arn, f"{parent.machine.arn}/{label}",
                         self.clock.time(), concurrency, count, None if percentage is None else float(percentage),
                         len(inputs), pending=len(inputs))
        parent.map_runs.append(map_run)
        if self.registry is not None:
            self.registry.add_map_run(map_run)
        child_machine = MachineInfo(map_run.state_machine_arn, machine_name, state.execution_type,
                                    parent.machine.definition, parent.machine.role_arn)
        assert state.processor is not None
        processor = state.processor
        results: list[Any] = [None] * len(inputs)
        lock = threading.Lock()
        changed = RelayEvent()
        pending = list(range(len(inputs)))
        pending.reverse()
        running: list[Execution] = []
        limit = min(concurrency or LOCAL_CHILD_CONCURRENCY, LOCAL_CHILD_CONCURRENCY)
        child_timeout = 300.0 if state.execution_type == "EXPRESS" else None

        def run_child(index: int, child: Execution) -> None:
            self.run(child)
            with lock:
                running.remove(child)
                map_run.running -= 1
                if child.status == "SUCCEEDED":
                    map_run.succeeded += 1
                    results[index] = json.loads(child.output or "null")
                elif child.status == "FAILED":
                    map_run.failed += 1
                elif child.status == "TIMED_OUT":
                    map_run.timed_out += 1
                else:
                    map_run.aborted += 1
            changed.set()

        def start_children() -> None:
            with lock:
                while pending and len(running) < limit and not map_run.exceeded():
                    index = pending.pop()
                    name = str(uuid.uuid4())
                    child = Execution(f"{prefix}:execution:{machine_name}:{name}", name, child_machine, processor,
                                      json.dumps(inputs[index]), inputs[index], self.clock.time(), child_timeout,
                                      map_run.arn)
                    running.append(child)
                    map_run.pending -= 1
                    map_run.running += 1
                    map_run.children.append(child)
                    if self.registry is not None:
                        self.registry.add_child(child)
                    self.workers.submit(run_child, index, child)

        def finish(status: str) -> None:
            with lock:
                map_run.status = status
                map_run.stop = self.clock.time()
                # What never started counts as aborted once the run has failed.
                map_run.aborted += map_run.pending
                map_run.pending = 0
                for child in list(running):
                    self.stop(child, "States.Aborted", "The Map Run was stopped")

        try:
            while True:
                start_children()
                with lock:
                    failed = map_run.exceeded()
                    finished = not running and (not pending or failed)
                if failed:
                    finish("FAILED")
                    raise StatesError(errors.EXCEED_TOLERATED_FAILURE_THRESHOLD,
                                      "The specified tolerated failure threshold was exceeded")
                if finished:
                    map_run.status = "SUCCEEDED"
                    map_run.stop = self.clock.time()
                    return results
                frame.wait(changed, 3600.0)
                changed.clear()
        except Halted:
            finish("ABORTED")
            raise


def _internal(error: Exception) -> str:
    return f"the local engine failed: {type(error).__name__}: {error}"


_HTTP_METADATA = {"AllHttpHeaders": {"Content-Type": ["application/json"], "X-Amz-Executed-Version": ["$LATEST"]},
                  "HttpHeaders": {"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST"},
                  "HttpStatusCode": 200}
