"""Payload templates (Parameters, ItemSelector, ResultSelector), compiled once.

A field whose name ends in ``.$`` takes its value from a path or an intrinsic
function and loses the suffix; every other value is copied as written. Objects
nested in objects and arrays are templates too. A path that selects nothing fails
the state with States.Runtime.
https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html
"""

from __future__ import annotations

from typing import Any, Callable

from mediasync.local.asl.errors import DefinitionError
from mediasync.local.asl.intrinsics import Intrinsic, is_intrinsic
from mediasync.local.asl.paths import Path

# Evaluates a template node: (state input, context) -> value.
Node = Callable[[Any, Any], Any]


class Template:
    """``evaluate(state_input, context)`` builds the payload. Constant parts are shared,
    never copied: nothing here or in the engine changes a value in place."""

    def __init__(self, template: Any, where: str) -> None:
        if not isinstance(template, dict):
            raise DefinitionError(where, "a payload template must be a JSON object")
        self.where = where
        self.uses_context = False
        self._evaluate = self._compile(template, where)

    def evaluate(self, state_input: Any, context: Any) -> Any:
        return self._evaluate(state_input, context)

    def _compile(self, node: Any, where: str) -> Node:
        if isinstance(node, dict):
            return self._compile_object(node, where)
        if isinstance(node, list):
            items = [self._compile(item, f"{where}[{index}]") for index, item in enumerate(node)]
            if all(getattr(item, "constant", False) for item in items):
                return _constant(node)
            return lambda state_input, context: [item(state_input, context) for item in items]
        return _constant(node)

    def _compile_object(self, node: dict[str, Any], where: str) -> Node:
        fields: list[tuple[str, Node]] = []
        dynamic = False
        for key, value in node.items():
            field_where = f"{where}.{key}"
            if key.endswith(".$"):
                name = key[:-2]
                if name in node:
                    raise DefinitionError(field_where, f"both {name!r} and {key!r} are given")
                fields.append((name, self._dynamic(value, field_where)))
                dynamic = True
            else:
                compiled = self._compile(value, field_where)
                dynamic = dynamic or not getattr(compiled, "constant", False)
                fields.append((key, compiled))
        if not dynamic:
            return _constant(node)
        pairs = tuple(fields)
        return lambda state_input, context: {name: value(state_input, context) for name, value in pairs}

    def _dynamic(self, value: Any, where: str) -> Node:
        if not isinstance(value, str):
            raise DefinitionError(where, "a field ending in '.$' must be a path or an intrinsic function")
        if is_intrinsic(value):
            intrinsic = Intrinsic(value, where)
            self.uses_context = self.uses_context or "$$" in value
            return intrinsic.evaluate
        path = Path(value, where)
        self.uses_context = self.uses_context or path.context
        missing = f"The JSONPath {path.text!r} specified for the field {where.rsplit('.', 1)[-1]!r} could not be " \
                  "found in the input"
        return lambda state_input, context: path.require(state_input, context, missing)


def _constant(value: Any) -> Node:
    def constant(state_input: Any, context: Any) -> Any:
        return value

    constant.constant = True  # type: ignore[attr-defined]
    return constant
