"""The strict engine (mediasync.local.asl) on fake Lambda functions and a virtual clock.

A fake function is a Python callable taking the event; it answers by returning a
value, raising (an error named after the exception's class, as the Lambda service
reports it), or ``clock.advance``-ing to take time.
"""

from __future__ import annotations

import json
import random
import threading
from typing import Any, Callable

from mediasync.local.asl.clock import Clock, VirtualClock
from mediasync.local.asl.errors import StatesError
from mediasync.local.asl.interpreter import Engine
from mediasync.local.asl.service import ApiError, StepFunctionsService

ACCOUNT = "123456789012"
REGION = "us-east-1"
FUNCTION_TIMEOUT = 900.0


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def error_named(name: str, message: str = "failed") -> Exception:
    """An exception whose class name is ``name`` (Lambda reports errorType by class name)."""
    return type(name, (Exception,), {})(message)


class Functions:
    """The engine's Integrations, with fake Lambda functions by name."""

    def __init__(self, **functions: Callable[[Any], Any]) -> None:
        self.functions = dict(functions)
        self.calls: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    def count(self, name: str) -> int:
        return sum(1 for called, _ in self.calls if called == name)

    def lambda_function(self, name: str) -> tuple[Callable[[bytes], tuple[bytes, str | None]], float]:
        short = name.split(":function:")[-1].split(":")[0]
        if short not in self.functions:
            raise StatesError("Lambda.ResourceNotFoundException", f"Function not found: {name}")
        function = self.functions[short]

        def invoke(payload: bytes) -> tuple[bytes, str | None]:
            event = json.loads(payload)
            with self._lock:
                self.calls.append((short, event))
            try:
                return json.dumps(function(event)).encode(), None
            except Exception as error:
                return json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}).encode(), "Unhandled"

        return invoke, FUNCTION_TIMEOUT

    def batch_job(self, parameters: dict[str, Any]) -> Any:
        raise StatesError("Batch.ClientException", "no Batch here")


class Harness:
    def __init__(self, functions: Functions | None = None, *, clock: Clock | None = None,
                 rng: random.Random | None = None, express_ceiling_seconds: float = 300.0,
                 payload_limit: int | None = None, history: bool = False) -> None:
        self.functions = functions or Functions()
        self.clock = clock if clock is not None else VirtualClock()
        options = {} if payload_limit is None else {"payload_limit": payload_limit}
        self.engine = Engine(self.functions, clock=self.clock, rng=rng or random.Random(7), region=REGION,
                             account=ACCOUNT, history=history, **options)
        self.service = StepFunctionsService(self.engine, region=REGION, account=ACCOUNT,
                                            express_ceiling=lambda: express_ceiling_seconds)
        self._machines = 0

    def deploy(self, definition: dict[str, Any] | str, machine_type: str = "STANDARD") -> str:
        self._machines += 1
        text = definition if isinstance(definition, str) else json.dumps(definition)
        return self.service.create_state_machine(f"m{self._machines}", text, "arn:aws:iam::1:role/r",
                                                 machine_type)["stateMachineArn"]

    def run(self, definition: dict[str, Any], state_input: Any = None, machine_type: str = "EXPRESS") -> dict[str, Any]:
        """Run to the end in this thread; the execution's description (output parsed)."""
        machine = self.deploy(definition, machine_type)
        text = json.dumps({} if state_input is None else state_input)
        if machine_type == "EXPRESS":
            answer = self.service.start_sync_execution(machine, "run", text)
        else:
            arn = self.service.start_execution(machine, None, text)["executionArn"]
            execution = self.service._find_execution(arn)
            assert execution.done.wait(30), "the execution did not end"
            answer = self.service.describe_execution(arn)
        if "output" in answer:
            answer["output"] = json.loads(answer["output"])
        return answer

    @property
    def sleeps(self) -> list[float]:
        assert isinstance(self.clock, VirtualClock)
        return self.clock.sleeps


def task(function: str, **fields: Any) -> dict[str, Any]:
    """A lambda:invoke Task state calling ``function`` with the state's input."""
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": function_arn(function), "Payload.$": "$"}, **fields}


def machine(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A definition of these (name, state) pairs, starting at the first."""
    return {"StartAt": states[0][0], "States": dict(states)}


__all__ = ["ApiError", "Functions", "Harness", "error_named", "function_arn", "machine", "task"]
