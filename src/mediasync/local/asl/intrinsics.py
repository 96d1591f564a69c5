"""Intrinsic functions (``States.Format(...)`` and the rest), parsed once per definition.

Arguments are string literals in single quotes (``\\'``, ``\\{``, ``\\}`` and ``\\\\``
escape), numbers, ``true``/``false``/``null``, paths (``$.a``, ``$$.b``) and nested
calls. A call that fails at run time (a path that selects nothing, an argument of the
wrong type) fails the state with States.Runtime.
https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from mediasync.local.asl.errors import DefinitionError, runtime_error
from mediasync.local.asl.paths import Path


@dataclass(frozen=True)
class _Literal:
    value: Any
    # For strings: the text as written between the quotes (States.Format reads its
    # escaped braces from it).
    raw: str | None = None


class Intrinsic:
    """A compiled call: ``evaluate(state_input, context)``."""

    def __init__(self, text: str, where: str = "") -> None:
        self.text = text
        self.where = where
        call, end = _Parser(text, where).call(0)
        if text[end:].strip():
            raise DefinitionError(where, f"{text!r}: unexpected text after the call: {text[end:]!r}")
        self._call = call

    def __repr__(self) -> str:
        return f"Intrinsic({self.text!r})"

    def evaluate(self, state_input: Any, context: Any) -> Any:
        return self._call.evaluate(state_input, context, self.text)


def is_intrinsic(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("States.")


class _Call:
    def __init__(self, name: str, arguments: list[Any], where: str, text: str) -> None:
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise DefinitionError(where, f"{text!r}: {name} is not an intrinsic function")
        low, high, function = spec
        if not low <= len(arguments) <= high:
            expected = str(low) if low == high else f"{low} to {high}"
            raise DefinitionError(where, f"{text!r}: {name} takes {expected} arguments, not {len(arguments)}")
        if name == "States.Format":
            template = arguments[0]
            if not (isinstance(template, _Literal) and isinstance(template.value, str)):
                raise DefinitionError(where, f"{text!r}: the first argument of States.Format must be a string literal")
            holes = _format_holes(template.raw or "")
            if holes != len(arguments) - 1:
                raise DefinitionError(where, f"{text!r}: the template has {holes} {{}} but "
                                             f"{len(arguments) - 1} values follow it")
        self.name = name
        self.arguments = arguments
        self.function = function

    def evaluate(self, state_input: Any, context: Any, text: str) -> Any:
        values = []
        for argument in self.arguments:
            if isinstance(argument, _Literal):
                values.append(argument if self.name == "States.Format" and not values else argument.value)
            elif isinstance(argument, Path):
                values.append(argument.require(state_input, context, f"The JsonPath argument {argument.text!r} could "
                                                                     f"not be found in the input while evaluating {text!r}"))
            else:
                values.append(argument.evaluate(state_input, context, text))
        try:
            return self.function(*values)
        except _Failure as failure:
            raise runtime_error(f"{text!r}: {failure}") from None


class _Failure(Exception):
    pass


class _Parser:
    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where

    def fail(self, problem: str) -> DefinitionError:
        return DefinitionError(self.where, f"{self.text!r}: {problem}")

    def skip_space(self, position: int) -> int:
        while position < len(self.text) and self.text[position] == " ":
            position += 1
        return position

    def call(self, position: int) -> tuple[_Call, int]:
        position = self.skip_space(position)
        open_at = self.text.find("(", position)
        if open_at < 0:
            raise self.fail("an intrinsic function call needs (...)")
        name = self.text[position:open_at].strip()
        arguments: list[Any] = []
        position = self.skip_space(open_at + 1)
        if self.text.startswith(")", position):
            return _Call(name, arguments, self.where, self.text), position + 1
        while True:
            argument, position = self.argument(position)
            arguments.append(argument)
            position = self.skip_space(position)
            if self.text.startswith(")", position):
                return _Call(name, arguments, self.where, self.text), position + 1
            if not self.text.startswith(",", position):
                raise self.fail(f"expected ',' or ')' at position {position}")
            position += 1

    def argument(self, position: int) -> tuple[Any, int]:
        position = self.skip_space(position)
        if position >= len(self.text):
            raise self.fail("an argument is missing")
        char = self.text[position]
        if char == "'":
            return self.string(position)
        if char == "$":
            end = self.path_end(position)
            return Path(self.text[position:end], self.where), end
        if self.text.startswith("States.", position):
            return self.call(position)
        end = position
        while end < len(self.text) and self.text[end] not in ",) ":
            end += 1
        token = self.text[position:end]
        if token in ("true", "false", "null"):
            return _Literal({"true": True, "false": False, "null": None}[token]), end
        try:
            number = json.loads(token)
        except ValueError:
            raise self.fail(f"{token!r} is not a string, number, path or call") from None
        if not isinstance(number, (int, float)):
            raise self.fail(f"{token!r} is not a string, number, path or call")
        return _Literal(number), end

    def string(self, position: int) -> tuple[_Literal, int]:
        end = position + 1
        value: list[str] = []
        while end < len(self.text):
            char = self.text[end]
            if char == "\\" and end + 1 < len(self.text):
                value.append(self.text[end + 1])
                end += 2
                continue
            if char == "'":
                return _Literal("".join(value), self.text[position + 1:end]), end + 1
            value.append(char)
            end += 1
        raise self.fail("unterminated string literal")

    def path_end(self, position: int) -> int:
        depth = 0
        quote = ""
        end = position
        while end < len(self.text):
            char = self.text[end]
            if quote:
                if char == quote:
                    quote = ""
            elif char in "'\"" and depth:
                quote = char
            elif char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
            elif depth == 0 and char in ", )":
                break
            end += 1
        return end


def _format_holes(raw: str) -> int:
    holes = 0
    position = 0
    while position < len(raw):
        if raw[position] == "\\":
            position += 2
            continue
        if raw.startswith("{}", position):
            holes += 1
            position += 2
            continue
        position += 1
    return holes


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return json.dumps(value)
    raise _Failure(f"States.Format takes strings, numbers, booleans and null, not {json.dumps(value)}")


def _format(template: _Literal, *values: Any) -> str:
    raw = template.raw or ""
    pieces: list[str] = []
    remaining = iter(values)
    position = 0
    while position < len(raw):
        char = raw[position]
        if char == "\\" and position + 1 < len(raw):
            pieces.append(raw[position + 1])
            position += 2
        elif raw.startswith("{}", position):
            pieces.append(_as_text(next(remaining)))
            position += 2
        else:
            pieces.append(char)
            position += 1
    return "".join(pieces)


def _string_to_json(text: Any) -> Any:
    if not isinstance(text, str):
        raise _Failure("States.StringToJson takes a string")
    try:
        return json.loads(text)
    except ValueError as error:
        raise _Failure(f"not JSON: {error}") from None


def _json_to_string(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _array(*values: Any) -> list[Any]:
    return list(values)


def _require_list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Failure(f"{name} takes an array, not {json.dumps(value)}")
    return value


def _require_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise _Failure(f"{name} takes an integer, not {json.dumps(value)}")
    return int(value)


def _array_partition(array: Any, size: Any) -> list[list[Any]]:
    items = _require_list(array, "States.ArrayPartition")
    chunk = _require_int(size, "States.ArrayPartition")
    if chunk < 1:
        raise _Failure("the chunk size must be a positive integer")
    return [items[start:start + chunk] for start in range(0, len(items), chunk)]


def _array_contains(array: Any, value: Any) -> bool:
    return value in _require_list(array, "States.ArrayContains")


def _array_range(start: Any, end: Any, step: Any) -> list[int]:
    first, last, by = (_require_int(value, "States.ArrayRange") for value in (start, end, step))
    if by == 0:
        raise _Failure("the step must not be 0")
    values = list(range(first, last + (1 if by > 0 else -1), by))
    if len(values) > 1000:
        raise _Failure("an array of at most 1000 items can be generated")
    return values


def _array_get_item(array: Any, index: Any) -> Any:
    items = _require_list(array, "States.ArrayGetItem")
    position = _require_int(index, "States.ArrayGetItem")
    if not 0 <= position < len(items):
        raise _Failure(f"index {position} is outside the array of {len(items)}")
    return items[position]


def _array_length(array: Any) -> int:
    return len(_require_list(array, "States.ArrayLength"))


def _array_unique(array: Any) -> list[Any]:
    unique: list[Any] = []
    seen: set[str] = set()
    for item in _require_list(array, "States.ArrayUnique"):
        key = json.dumps(item, sort_keys=True)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _base64_encode(text: Any) -> str:
    if not isinstance(text, str):
        raise _Failure("States.Base64Encode takes a string")
    if len(text) > 10000:
        raise _Failure("the input is over 10,000 characters")
    return base64.b64encode(text.encode()).decode()


def _base64_decode(text: Any) -> str:
    if not isinstance(text, str):
        raise _Failure("States.Base64Decode takes a string")
    if len(text) > 10000:
        raise _Failure("the input is over 10,000 characters")
    try:
        return base64.b64decode(text, validate=True).decode()
    except ValueError as error:
        raise _Failure(f"not base64: {error}") from None


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash(data: Any, algorithm: Any) -> str:
    if algorithm not in _HASHES:
        raise _Failure(f"the algorithm must be one of {', '.join(_HASHES)}, not {json.dumps(algorithm)}")
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    if len(text) > 10000:
        raise _Failure("the input is over 10,000 characters")
    return hashlib.new(_HASHES[algorithm], text.encode()).hexdigest()


def _json_merge(first: Any, second: Any, deep: Any) -> dict[str, Any]:
    if not isinstance(first, dict) or not isinstance(second, dict):
        raise _Failure("States.JsonMerge merges two objects")
    if deep is not False:
        raise _Failure("only a shallow merge (false) is supported, as on AWS")
    return {**first, **second}


def _math_random(start: Any, end: Any, seed: Any = None) -> int:
    low, high = _require_int(start, "States.MathRandom"), _require_int(end, "States.MathRandom")
    generator = random.Random(_require_int(seed, "States.MathRandom")) if seed is not None else random
    return generator.randint(low, high - 1) if high > low else low


def _math_add(first: Any, second: Any) -> int:
    return _require_int(first, "States.MathAdd") + _require_int(second, "States.MathAdd")


def _string_split(text: Any, delimiters: Any) -> list[str]:
    if not isinstance(text, str) or not isinstance(delimiters, str):
        raise _Failure("States.StringSplit takes two strings")
    parts = [text]
    for delimiter in delimiters:
        parts = [piece for part in parts for piece in part.split(delimiter)]
    return [part for part in parts if part]


def _uuid() -> str:
    return str(uuid.uuid4())


# name: (fewest arguments, most arguments, function)
FUNCTIONS: dict[str, tuple[int, int, Callable[..., Any]]] = {
    "States.Format": (1, 1000, _format),
    "States.StringToJson": (1, 1, _string_to_json),
    "States.JsonToString": (1, 1, _json_to_string),
    "States.Array": (0, 1000, _array),
    "States.ArrayPartition": (2, 2, _array_partition),
    "States.ArrayContains": (2, 2, _array_contains),
    "States.ArrayRange": (3, 3, _array_range),
    "States.ArrayGetItem": (2, 2, _array_get_item),
    "States.ArrayLength": (1, 1, _array_length),
    "States.ArrayUnique": (1, 1, _array_unique),
    "States.Base64Encode": (1, 1, _base64_encode),
    "States.Base64Decode": (1, 1, _base64_decode),
    "States.Hash": (2, 2, _hash),
    "States.JsonMerge": (3, 3, _json_merge),
    "States.MathRandom": (2, 3, _math_random),
    "States.MathAdd": (2, 2, _math_add),
    "States.StringSplit": (2, 2, _string_split),
    "States.UUID": (0, 0, _uuid),
}
