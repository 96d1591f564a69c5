"""A state machine definition, loaded strictly and compiled once.

Every field is checked against the States Language (JSONPath mode) as Step Functions
validates it: an unknown field or state type, a transition to a state that does not
exist, an unreachable state, a misplaced States.ALL, fields that exclude each other.
AWS answers such a definition with InvalidDefinition, so an edit that AWS would
refuse fails here too, instead of being ignored. Fields AWS accepts but this engine
cannot run (JSONata, variables, ItemReader, ResultWriter, callback and activity
tasks, other service integrations) are refused as well, saying so.
https://states-language.net/spec.html
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-amazon-states-language.html
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from mediasync.local.asl import errors
from mediasync.local.asl.choice import compile_rule, parse_timestamp
from mediasync.local.asl.errors import DefinitionError, runtime_error
from mediasync.local.asl.intrinsics import Intrinsic, is_intrinsic
from mediasync.local.asl.paths import MISSING, Path, ReferencePath
from mediasync.local.asl.templates import Template

STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
_COMMON = {"Type", "Comment", "QueryLanguage"}
_TRANSITION = {"Next", "End"}
_IO = {"InputPath", "OutputPath"}
_RESULT = {"ResultPath", "Parameters", "ResultSelector"}
_HANDLING = {"Retry", "Catch"}
FIELDS: dict[str, set[str]] = {
    "Pass": _COMMON | _TRANSITION | _IO | {"ResultPath", "Parameters", "Result"},
    "Task": _COMMON | _TRANSITION | _IO | _RESULT | _HANDLING
    | {"Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"},
    "Choice": _COMMON | _IO | {"Choices", "Default"},
    "Wait": _COMMON | _TRANSITION | _IO | {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"},
    "Succeed": _COMMON | _IO,
    "Fail": _COMMON | {"Error", "ErrorPath", "Cause", "CausePath"},
    "Parallel": _COMMON | _TRANSITION | _IO | _RESULT | _HANDLING | {"Branches"},
    "Map": _COMMON | _TRANSITION | _IO | _RESULT | _HANDLING
    | {"ItemProcessor", "Iterator", "ItemsPath", "ItemSelector", "MaxConcurrency", "MaxConcurrencyPath", "Label",
       "ItemBatcher", "ToleratedFailureCount", "ToleratedFailureCountPath", "ToleratedFailurePercentage",
       "ToleratedFailurePercentagePath"},
}
# Fields that AWS accepts but this engine does not run: refused by name.
UNSUPPORTED = {
    "Assign": "variables (Assign)",
    "Arguments": "JSONata (Arguments)",
    "Output": "JSONata (Output)",
    "Items": "JSONata (Items)",
    "Credentials": "cross-account Task Credentials",
    "ItemReader": "Map ItemReader (items read from S3)",
    "ResultWriter": "Map ResultWriter (results written to S3)",
}
_TOP_LEVEL = {"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"}
_MAX_NAME = 80
_LABEL = re.compile(r"^[^\s?*<>{}\[\]:;,\\|^~$#%&`\"]{1,40}$")
# TimeoutSeconds, HeartbeatSeconds, IntervalSeconds...: positive integers up to this.
_MAX_SECONDS = 99999999
# "If not provided, the default value is 99999999" (Task TimeoutSeconds).
DEFAULT_TASK_TIMEOUT = 99999999

# Resources the engine runs: (service, action) from arn:<partition>:states:::<service>:<action>.
LAMBDA_INVOKE = "lambda:invoke"
BATCH_SUBMIT_JOB = "batch:submitJob"
BATCH_SUBMIT_JOB_SYNC = "batch:submitJob.sync"
LAMBDA_FUNCTION = "lambda:function"  # a function's own ARN as the Resource
_INTEGRATION = re.compile(r"^arn:(aws[\w-]*):states:::(?P<action>[\w.-]+:[\w.-]+)$")
_FUNCTION = re.compile(r"^arn:(aws[\w-]*):lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$")


@dataclass(frozen=True)
class Retrier:
    errors: tuple[str, ...]
    interval: int = 1
    max_attempts: int = 3
    backoff: float = 2.0
    max_delay: int | None = None
    jitter: bool = False

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds before retry number ``retry`` (1 for the first): the interval grown by
        the backoff rate, capped by MaxDelaySeconds, then FULL jitter drawn below the cap."""
        seconds = self.interval * self.backoff ** (retry - 1)
        if self.max_delay is not None:
            seconds = min(seconds, self.max_delay)
        return rng.uniform(0, seconds) if self.jitter else seconds


@dataclass(frozen=True)
class Catcher:
    errors: tuple[str, ...]
    next: str
    result_path: ReferencePath | None


def _absent(value: Any, context: Any) -> Any:
    return value


def _empty(value: Any, context: Any) -> Any:
    return {}


@dataclass
class State:
    name: str
    type: str
    next: str | None = None
    # InputPath and OutputPath as callables (state input, context) -> value.
    input_path: Callable[[Any, Any], Any] = _absent
    output_path: Callable[[Any, Any], Any] = _absent
    input_path_text: str | None = "$"
    parameters: Template | None = None
    result_selector: Template | None = None
    # ReferencePath, or None for "ResultPath": null (the output is the state's input).
    result_path: ReferencePath | None = field(default_factory=lambda: ReferencePath("$"))
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()
    spec: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskState(State):
    resource: str = ""
    integration: str = ""
    timeout: Callable[[Any, Any], float] = lambda value, context: DEFAULT_TASK_TIMEOUT


@dataclass
class PassState(State):
    result: Any = MISSING


@dataclass
class ChoiceState(State):
    choices: tuple[tuple[Callable[[Any, Any], bool], str], ...] = ()
    default: str | None = None


@dataclass
class WaitState(State):
    seconds: Callable[[Any, Any], Any] = lambda value, context: 0
    timestamp: bool = False


@dataclass
class FailState(State):
    error: Callable[[Any, Any], str | None] = lambda value, context: None
    cause: Callable[[Any, Any], str | None] = lambda value, context: None


@dataclass
class ParallelState(State):
    branches: tuple["StateGroup", ...] = ()


@dataclass
class MapState(State):
    processor: "StateGroup | None" = None
    distributed: bool = False
    execution_type: str = "STANDARD"
    items_path: Path = field(default_factory=lambda: Path("$"))
    item_selector: Template | None = None
    max_concurrency: Callable[[Any, Any], int] = lambda value, context: 0
    tolerated_count: Callable[[Any, Any], int | None] = lambda value, context: None
    tolerated_percentage: Callable[[Any, Any], float | None] = lambda value, context: None
    label: str | None = None
    batcher: dict[str, Any] | None = None


@dataclass
class StateGroup:
    """The states of a machine, a Parallel branch or a Map's item processor."""

    start_at: str
    states: dict[str, State]
    where: str


@dataclass
class Definition:
    group: StateGroup
    timeout_seconds: int | None
    text: str
    distributed_maps: list[MapState]


def load(text: str) -> Definition:
    """Parse and check a definition; DefinitionError says what AWS would refuse and where."""
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicates)
    except ValueError as error:
        raise DefinitionError("", f"the definition is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise DefinitionError("", "the definition must be a JSON object")
    loader = _Loader()
    _check_fields(document, _TOP_LEVEL, "/")
    if document.get("QueryLanguage", "JSONPath") != "JSONPath":
        raise DefinitionError("/QueryLanguage", "JSONata is not supported by the local engine (JSONPath only)")
    version = document.get("Version", "1.0")
    if version != "1.0":
        raise DefinitionError("/Version", f"{version!r}: only version 1.0 exists")
    timeout = document.get("TimeoutSeconds")
    if timeout is not None:
        _positive_int(timeout, "/TimeoutSeconds")
    group = loader.group(document, "")
    return Definition(group, timeout, text, loader.distributed_maps)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate field {key!r}")
        result[key] = value
    return result


def _check_fields(node: dict[str, Any], allowed: set[str], where: str) -> None:
    for name in node:
        if name in allowed:
            continue
        if name in UNSUPPORTED:
            raise DefinitionError(f"{where}/{name}", f"{UNSUPPORTED[name]} is not supported by the local engine")
        raise DefinitionError(f"{where}/{name}", f"unknown field {name!r}")


def _positive_int(value: Any, where: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= _MAX_SECONDS:
        raise DefinitionError(where, f"{value!r} must be an integer from {minimum} to {_MAX_SECONDS}")
    return value


def _path_or_null(value: Any, where: str, null: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """InputPath / OutputPath: a path (the node it selects, States.Runtime if none) or null ({})."""
    if value is None:
        return null
    path = Path(value, where)
    if path.text == "$":
        return _absent
    missing = f"Invalid path {path.text!r}: the {where.rsplit('/', 1)[-1]} selects nothing in the input"
    return lambda state_input, context: path.require(state_input, context, missing)


def _text_source(state: dict[str, Any], plain: str, path_field: str, where: str) -> Callable[[Any, Any], Any]:
    """A Fail state's Error or Cause: the literal, or its path / intrinsic."""
    if plain in state and path_field in state:
        raise DefinitionError(f"{where}/{path_field}", f"{plain} and {path_field} exclude each other")
    if plain in state:
        literal = state[plain]
        if not isinstance(literal, str):
            raise DefinitionError(f"{where}/{plain}", "must be a string")
        return lambda value, context: literal
    if path_field not in state:
        return lambda value, context: None
    source = state[path_field]
    compiled: Any = Intrinsic(source, f"{where}/{path_field}") if is_intrinsic(source) \
        else Path(source, f"{where}/{path_field}")

    def resolve(value: Any, context: Any) -> str:
        found = compiled.evaluate(value, context) if isinstance(compiled, Intrinsic) else compiled.resolve(value, context)
        if found is MISSING or not isinstance(found, str):
            raise runtime_error(f"The {path_field} {source!r} of the Fail state resolved to "
                                f"{'nothing' if found is MISSING else json.dumps(found)}, not a string")
        return found

    return resolve


def _number_source(state: dict[str, Any], plain: str, where: str, *, integer: bool, lowest: float,
                   highest: float) -> Callable[[Any, Any], Any] | None:
    """A number given as such or by a ``...Path`` field read from the state's input."""
    path_field = f"{plain}Path"
    if plain in state and path_field in state:
        raise DefinitionError(f"{where}/{path_field}", f"{plain} and {path_field} exclude each other")

    def check(value: Any, at: str) -> Any:
        wrong_type = isinstance(value, bool) or not isinstance(value, int if integer else (int, float))
        if wrong_type or not lowest <= value <= highest:
            kind = "an integer" if integer else "a number"
            raise DefinitionError(at, f"{value!r} must be {kind} from {lowest:g} to {highest:g}")
        return value

    if plain in state:
        constant = check(state[plain], f"{where}/{plain}")
        return lambda value, context: constant
    if path_field not in state:
        return None
    path = Path(state[path_field], f"{where}/{path_field}")

    def read(value: Any, context: Any) -> Any:
        found = path.resolve(value, context)
        try:
            return check(found, "")
        except DefinitionError as error:
            raise runtime_error(f"{path_field} {path.text!r}: {error.problem}") from None

    return read


class _Loader:
    def __init__(self) -> None:
        self.distributed_maps: list[MapState] = []

    def group(self, node: dict[str, Any], where: str) -> StateGroup:
        start_at = node.get("StartAt")
        states = node.get("States")
        if not isinstance(start_at, str):
            raise DefinitionError(f"{where}/StartAt", "StartAt (a state name) is required")
        if not isinstance(states, dict) or not states:
            raise DefinitionError(f"{where}/States", "States (a non-empty object) is required")
        compiled = {name: self.state(name, spec, f"{where}/States/{name}") for name, spec in states.items()}
        if start_at not in compiled:
            raise DefinitionError(f"{where}/StartAt", f"MISSING_TRANSITION_TARGET: no state named {start_at!r}")
        for name, state in compiled.items():
            for target in _targets(state):
                if target not in compiled:
                    raise DefinitionError(f"{where}/States/{name}",
                                          f"MISSING_TRANSITION_TARGET: no state named {target!r}")
        reached = {start_at}
        pending = [start_at]
        while pending:
            for target in _targets(compiled[pending.pop()]):
                if target not in reached:
                    reached.add(target)
                    pending.append(target)
        for name in compiled:
            if name not in reached:
                raise DefinitionError(f"{where}/States/{name}", f"UNREACHABLE_STATE: state {name!r} is not reachable")
        return StateGroup(start_at, compiled, where or "/")

    def state(self, name: str, spec: Any, where: str) -> State:
        if len(name) > _MAX_NAME or not name:
            raise DefinitionError(where, f"state names have 1 to {_MAX_NAME} characters")
        if not isinstance(spec, dict):
            raise DefinitionError(where, "a state must be an object")
        kind = spec.get("Type")
        if kind not in FIELDS:
            raise DefinitionError(f"{where}/Type", f"{kind!r} is not a state type ({', '.join(STATE_TYPES)})")
        _check_fields(spec, FIELDS[kind], where)
        if spec.get("QueryLanguage", "JSONPath") != "JSONPath":
            raise DefinitionError(f"{where}/QueryLanguage", "JSONata is not supported by the local engine")
        common = self.common(name, kind, spec, where)
        return getattr(self, kind.lower())(spec, where, common)

    def common(self, name: str, kind: str, spec: dict[str, Any], where: str) -> dict[str, Any]:
        common: dict[str, Any] = {"name": name, "type": kind, "spec": spec}
        if "Next" in FIELDS[kind]:
            has_next, end = "Next" in spec, spec.get("End", False)
            if "End" in spec and spec["End"] is not True:
                raise DefinitionError(f"{where}/End", "End must be true when present")
            if has_next == bool(end):
                raise DefinitionError(where, "a state needs exactly one of Next and End")
            if has_next and not isinstance(spec["Next"], str):
                raise DefinitionError(f"{where}/Next", "must be a state name")
            common["next"] = spec.get("Next")
        if "InputPath" in FIELDS[kind]:
            common["input_path"] = _path_or_null(spec.get("InputPath", "$"), f"{where}/InputPath", _empty)
            common["input_path_text"] = spec.get("InputPath", "$")
        if "OutputPath" in FIELDS[kind]:
            common["output_path"] = _path_or_null(spec.get("OutputPath", "$"), f"{where}/OutputPath", _empty)
        if "ResultPath" in FIELDS[kind]:
            value = spec.get("ResultPath", "$")
            common["result_path"] = None if value is None else ReferencePath(value, f"{where}/ResultPath")
        if "Parameters" in spec and kind != "Map":
            common["parameters"] = Template(spec["Parameters"], f"{where}/Parameters")
        if "ResultSelector" in spec:
            common["result_selector"] = Template(spec["ResultSelector"], f"{where}/ResultSelector")
        if "Retry" in spec:
            common["retry"] = self.retriers(spec["Retry"], f"{where}/Retry")
        if "Catch" in spec:
            common["catch"] = self.catchers(spec["Catch"], f"{where}/Catch")
        return common

    def retriers(self, value: Any, where: str) -> tuple[Retrier, ...]:
        if not isinstance(value, list):
            raise DefinitionError(where, "Retry must be an array of retriers")
        retriers = []
        for index, spec in enumerate(value):
            at = f"{where}[{index}]"
            if not isinstance(spec, dict):
                raise DefinitionError(at, "a retrier must be an object")
            _check_fields(spec, {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds",
                                 "JitterStrategy", "Comment"}, at)
            names = _error_equals(spec, at, last=index == len(value) - 1)
            backoff = spec.get("BackoffRate", 2.0)
            if isinstance(backoff, bool) or not isinstance(backoff, (int, float)) or backoff < 1.0:
                raise DefinitionError(f"{at}/BackoffRate", f"{backoff!r} must be a number of at least 1.0")
            jitter = spec.get("JitterStrategy", "NONE")
            if jitter not in ("FULL", "NONE"):
                raise DefinitionError(f"{at}/JitterStrategy", f"{jitter!r} must be FULL or NONE")
            max_delay = spec.get("MaxDelaySeconds")
            retriers.append(Retrier(
                names,
                _positive_int(spec.get("IntervalSeconds", 1), f"{at}/IntervalSeconds"),
                _positive_int(spec.get("MaxAttempts", 3), f"{at}/MaxAttempts", minimum=0),
                float(backoff),
                None if max_delay is None else _positive_int(max_delay, f"{at}/MaxDelaySeconds"),
                jitter == "FULL",
            ))
        return tuple(retriers)

    def catchers(self, value: Any, where: str) -> tuple[Catcher, ...]:
        if not isinstance(value, list):
            raise DefinitionError(where, "Catch must be an array of catchers")
        catchers = []
        for index, spec in enumerate(value):
            at = f"{where}[{index}]"
            if not isinstance(spec, dict):
                raise DefinitionError(at, "a catcher must be an object")
            _check_fields(spec, {"ErrorEquals", "Next", "ResultPath", "Comment"}, at)
            if not isinstance(spec.get("Next"), str):
                raise DefinitionError(f"{at}/Next", "a catcher needs Next")
            path = spec.get("ResultPath", "$")
            catchers.append(Catcher(_error_equals(spec, at, last=index == len(value) - 1), spec["Next"],
                                    None if path is None else ReferencePath(path, f"{at}/ResultPath")))
        return tuple(catchers)

    def task(self, spec: dict[str, Any], where: str, common: dict[str, Any]) -> TaskState:
        resource = spec.get("Resource")
        if not isinstance(resource, str):
            raise DefinitionError(f"{where}/Resource", "a Task needs a Resource (an ARN)")
        integration = _integration(resource, f"{where}/Resource")
        timeout = _number_source(spec, "TimeoutSeconds", where, integer=True, lowest=1, highest=_MAX_SECONDS)
        heartbeat = _number_source(spec, "HeartbeatSeconds", where, integer=True, lowest=1, highest=_MAX_SECONDS)
        if isinstance(spec.get("TimeoutSeconds"), int) and isinstance(spec.get("HeartbeatSeconds"), int) \
                and spec["HeartbeatSeconds"] >= spec["TimeoutSeconds"]:
            raise DefinitionError(f"{where}/HeartbeatSeconds", "must be smaller than TimeoutSeconds")
        del heartbeat  # no integration run here sends heartbeats: only the field's form is checked
        state = TaskState(**common, resource=resource, integration=integration)
        if timeout is not None:
            state.timeout = timeout
        return state

    def pass_(self, spec: dict[str, Any], where: str, common: dict[str, Any]) -> PassState:
        return PassState(**common, result=spec.get("Result", MISSING))

    def choice(self, spec: dict[str, Any], where: str, common: dict[str, Any]) -> ChoiceState:
        rules = spec.get("Choices")
        if not isinstance(rules, list) or not rules:
            raise DefinitionError(f"{where}/Choices", "Choices must be a non-empty array")
        compiled = tuple(compile_rule(rule, f"{where}/Choices[{index}]", top_level=True)
                         for index, rule in enumerate(rules))
        default = spec.get("Default")
        if default is not None and not isinstance(default, str):
            raise DefinitionError(f"{where}/Default", "must be a state name")
        return ChoiceState(**common, choices=compiled, default=default)  # type: ignore[arg-type]

    def wait(self, spec: dict[str, Any], where: str, common: dict[str, Any]) -> WaitState:
        given = [name for name in ("Seconds", "Timestamp", "SecondsPath", "TimestampPath") if name in spec]
        if len(given) != 1:
            raise DefinitionError(where, "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, "
                                         "TimestampPath")
        (kind,) = given
        value = spec[kind]
        if kind == "Seconds":
            seconds = _positive_int(value, f"{where}/Seconds", minimum=0)
            return WaitState(**common, seconds=lambda state_input, context: seconds)
        if kind == "Timestamp":
            if parse_timestamp(value) is None:
                raise DefinitionError(f"{where}/Timestamp", f"{value!r} is not an RFC 3339 timestamp")
            return WaitState(**common, seconds=lambda state_input, context: value, timestamp=True)
        path = Path(value, f"{where}/{kind}")
        missing = f"{kind} {path.text!r} selects nothing in the input"
        return WaitState(**common, seconds=lambda state_input, context: path.require(state_input, context, missing),
                         timestamp=kind == "TimestampPath")

    def succeed(self, spec: dict[str, Any], where: str, common: dict[str, Any]) -> State:
        return State(**common)

    def fail(self, spec: dict[str, Any], where: str, common: dict[str, Any]) -> FailState:
        return FailState(**common, error=_text_source(spec, "Error", "ErrorPath", where),
                         cause=_text_source(spec, "Cause", "CausePath", where))

    def parallel(self, spec: dict[str, Any], where: str, common: dict[str, Any]) -> ParallelState:
        branches = spec.get("Branches")
        if not isinstance(branches, list) or not branches:
            raise DefinitionError(f"{where}/Branches", "Branches must be a non-empty array")
        groups = []
        for index, branch in enumerate(branches):
            at = f"{where}/Branches[{index}]"
            if not isinstance(branch, dict):
                raise DefinitionError(at, "a branch must be an object")
            _check_fields(branch, {"StartAt", "States", "Comment"}, at)
            groups.append(self.group(branch, at))
        return ParallelState(**common, branches=tuple(groups))

    def map(self, spec: dict[str, Any], where: str, common: dict[str, Any]) -> MapState:
        if "ItemProcessor" in spec and "Iterator" in spec:
            raise DefinitionError(f"{where}/Iterator", "ItemProcessor and Iterator exclude each other")
        if "ItemSelector" in spec and "Parameters" in spec:
            raise DefinitionError(f"{where}/Parameters", "ItemSelector and Parameters exclude each other")
        processor_field = "ItemProcessor" if "ItemProcessor" in spec else "Iterator"
        processor = spec.get(processor_field)
        at = f"{where}/{processor_field}"
        if not isinstance(processor, dict):
            raise DefinitionError(at, "a Map needs an ItemProcessor")
        _check_fields(processor, {"StartAt", "States", "Comment", "ProcessorConfig"}
                      if processor_field == "ItemProcessor" else {"StartAt", "States", "Comment"}, at)
        config = processor.get("ProcessorConfig", {})
        if not isinstance(config, dict):
            raise DefinitionError(f"{at}/ProcessorConfig", "must be an object")
        _check_fields(config, {"Mode", "ExecutionType"}, f"{at}/ProcessorConfig")
        mode = config.get("Mode", "INLINE")
        if mode not in ("INLINE", "DISTRIBUTED"):
            raise DefinitionError(f"{at}/ProcessorConfig/Mode", f"{mode!r} must be INLINE or DISTRIBUTED")
        distributed = mode == "DISTRIBUTED"
        execution_type = config.get("ExecutionType")
        if distributed and execution_type not in ("STANDARD", "EXPRESS"):
            raise DefinitionError(f"{at}/ProcessorConfig/ExecutionType", "a DISTRIBUTED Map needs ExecutionType "
                                                                        "STANDARD or EXPRESS")
        if not distributed and execution_type is not None:
            raise DefinitionError(f"{at}/ProcessorConfig/ExecutionType", "only a DISTRIBUTED Map takes ExecutionType")
        distributed_only = ("Label", "ItemBatcher", "ToleratedFailureCount", "ToleratedFailureCountPath",
                            "ToleratedFailurePercentage", "ToleratedFailurePercentagePath")
        for name in distributed_only:
            if name in spec and not distributed:
                raise DefinitionError(f"{where}/{name}", f"{name} is for a DISTRIBUTED Map only")
        label = spec.get("Label")
        if label is not None and (not isinstance(label, str) or not _LABEL.match(label)):
            raise DefinitionError(f"{where}/Label", f"{label!r}: up to 40 characters, no spaces or special characters")
        selector = spec.get("ItemSelector", spec.get("Parameters"))
        state = MapState(
            **common,
            processor=self.group(processor, at),
            distributed=distributed,
            execution_type=execution_type or "STANDARD",
            items_path=Path(spec.get("ItemsPath", "$"), f"{where}/ItemsPath"),
            item_selector=None if selector is None else Template(selector, f"{where}/ItemSelector"),
            label=label,
            batcher=self.batcher(spec.get("ItemBatcher"), f"{where}/ItemBatcher"),
        )
        concurrency = _number_source(spec, "MaxConcurrency", where, integer=True, lowest=0, highest=_MAX_SECONDS)
        if concurrency is not None:
            state.max_concurrency = concurrency
        count = _number_source(spec, "ToleratedFailureCount", where, integer=True, lowest=0, highest=_MAX_SECONDS)
        if count is not None:
            state.tolerated_count = count
        percentage = _number_source(spec, "ToleratedFailurePercentage", where, integer=False, lowest=0, highest=100)
        if percentage is not None:
            state.tolerated_percentage = percentage
        if distributed:
            self.distributed_maps.append(state)
        return state

    def batcher(self, spec: Any, where: str) -> dict[str, Any] | None:
        if spec is None:
            return None
        if not isinstance(spec, dict):
            raise DefinitionError(where, "must be an object")
        _check_fields(spec, {"MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch",
                             "MaxInputBytesPerBatchPath", "BatchInput"}, where)
        for name in ("MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"):
            if name in spec:
                raise DefinitionError(f"{where}/{name}", f"{name} is not supported by the local engine")
        if "MaxItemsPerBatch" not in spec and "MaxInputBytesPerBatch" not in spec:
            raise DefinitionError(where, "needs MaxItemsPerBatch or MaxInputBytesPerBatch")
        if "MaxItemsPerBatch" in spec:
            _positive_int(spec["MaxItemsPerBatch"], f"{where}/MaxItemsPerBatch")
        if "MaxInputBytesPerBatch" in spec:
            _positive_int(spec["MaxInputBytesPerBatch"], f"{where}/MaxInputBytesPerBatch")
        if "BatchInput" in spec and not isinstance(spec["BatchInput"], dict):
            raise DefinitionError(f"{where}/BatchInput", "must be an object")
        return spec


# "pass" is a keyword: the loader's method for Pass states is pass_.
setattr(_Loader, "pass", _Loader.pass_)


def _targets(state: State) -> list[str]:
    targets = [state.next] if state.next else []
    targets += [catcher.next for catcher in state.catch]
    if isinstance(state, ChoiceState):
        targets += [target for _, target in state.choices]
        if state.default:
            targets.append(state.default)
    return targets


def _error_equals(spec: dict[str, Any], where: str, last: bool) -> tuple[str, ...]:
    names = spec.get("ErrorEquals")
    if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
        raise DefinitionError(f"{where}/ErrorEquals", "ErrorEquals must be a non-empty array of error names")
    for name in names:
        if name.startswith("States.") and name not in errors.KNOWN:
            raise DefinitionError(f"{where}/ErrorEquals", f"{name!r} is not a States error name")
    if errors.ALL in names and (len(names) != 1 or not last):
        raise DefinitionError(f"{where}/ErrorEquals", "States.ALL must appear alone, in the last retrier or catcher")
    return tuple(names)


def _integration(resource: str, where: str) -> str:
    if _FUNCTION.match(resource):
        return LAMBDA_FUNCTION
    match = _INTEGRATION.match(resource)
    if match and match.group("action") in (LAMBDA_INVOKE, BATCH_SUBMIT_JOB, BATCH_SUBMIT_JOB_SYNC):
        return match.group("action")
    raise DefinitionError(where, f"{resource!r}: the local engine runs Lambda (lambda:invoke, a function ARN) "
                                 "and AWS Batch (batch:submitJob, batch:submitJob.sync) tasks only")
