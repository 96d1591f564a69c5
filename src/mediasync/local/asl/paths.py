"""JSONPath, compiled once per definition.

Step Functions reads paths with Jayway JsonPath: ``$`` is the state's input and ``$$``
the context object. Supported here: names (``.name``, ``['name']``), indices
(negative ones count from the end), ``*`` wildcards, slices, and lists of names or
indices. A path with a wildcard, slice or list is *indefinite*: it selects a list.
Filters (``[?(...)]``), deep scans (``..``) and functions (``.length()``) are refused
when the definition is loaded, not misread at run time.
https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html

A *reference path* (ResultPath) names one node, with names and indices only.
"""

from __future__ import annotations

from typing import Any, Callable

from mediasync.local.asl.errors import RESULT_PATH_MATCH_FAILURE, DefinitionError, StatesError, runtime_error


class _Missing:
    """What a path selects when the node it names does not exist."""

    _instance: "_Missing | None" = None

    def __new__(cls) -> "_Missing":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

# Step kinds.
_NAME, _INDEX, _WILDCARD, _SLICE, _NAMES, _INDICES = range(6)


def _parse(text: str, where: str) -> tuple[bool, list[tuple[int, Any]]]:
    """(is a context path, steps) for a JSONPath; DefinitionError if it is not one."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise DefinitionError(where, f"{text!r} is not a JSONPath (it must start with $)")
    context = text.startswith("$$")
    position = 2 if context else 1
    steps: list[tuple[int, Any]] = []
    length = len(text)
    while position < length:
        char = text[position]
        if char == ".":
            if text.startswith("..", position):
                raise DefinitionError(where, f"{text!r}: deep scan (..) is not supported by the local engine")
            position += 1
            if position < length and text[position] == "*":
                steps.append((_WILDCARD, None))
                position += 1
                continue
            end = position
            while end < length and text[end] not in ".[":
                end += 1
            name = text[position:end]
            if not name:
                raise DefinitionError(where, f"{text!r}: a field name is missing after '.'")
            if name.endswith(")"):
                raise DefinitionError(where, f"{text!r}: JSONPath functions such as {name} are not supported "
                                             "by the local engine")
            steps.append((_NAME, name))
            position = end
        elif char == "[":
            end, step = _bracket(text, position + 1, where)
            steps.append(step)
            position = end
        else:
            raise DefinitionError(where, f"{text!r}: unexpected {char!r} at position {position}")
    return context, steps


def _bracket(text: str, position: int, where: str) -> tuple[int, tuple[int, Any]]:
    """Parse what follows '[' up to its ']'."""
    if text.startswith("?", position) or text.startswith("(", position):
        raise DefinitionError(where, f"{text!r}: filter and script expressions are not supported by the local engine")
    if text.startswith("*]", position):
        return position + 2, (_WILDCARD, None)
    if position < len(text) and text[position] in "'\"":
        names = []
        while True:
            quote = text[position]
            end = position + 1
            value = []
            while end < len(text) and text[end] != quote:
                if text[end] == "\\" and end + 1 < len(text):
                    end += 1
                value.append(text[end])
                end += 1
            if end >= len(text):
                raise DefinitionError(where, f"{text!r}: unterminated quoted name")
            names.append("".join(value))
            end += 1
            if text.startswith("]", end):
                position = end + 1
                break
            if not text.startswith(",", end):
                raise DefinitionError(where, f"{text!r}: expected ',' or ']' after a quoted name")
            position = end + 1
            while position < len(text) and text[position] == " ":
                position += 1
            if position >= len(text) or text[position] not in "'\"":
                raise DefinitionError(where, f"{text!r}: names and indices cannot be mixed in one bracket")
        return position, ((_NAME, names[0]) if len(names) == 1 else (_NAMES, tuple(names)))
    end = text.find("]", position)
    if end < 0:
        raise DefinitionError(where, f"{text!r}: '[' without ']'")
    inside = text[position:end].replace(" ", "")
    try:
        if ":" in inside:
            parts = inside.split(":")
            if len(parts) > 3:
                raise ValueError(inside)
            bounds = [int(part) if part else None for part in parts]
            return end + 1, (_SLICE, slice(*bounds))
        if "," in inside:
            return end + 1, (_INDICES, tuple(int(part) for part in inside.split(",")))
        return end + 1, (_INDEX, int(inside))
    except ValueError:
        raise DefinitionError(where, f"{text!r}: [{inside}] is not an index, slice, wildcard or quoted name") from None


class Path:
    """A compiled JSONPath: ``get(document)`` returns the node or MISSING."""

    __slots__ = ("text", "context", "definite", "_steps", "get")

    def __init__(self, text: str, where: str = "") -> None:
        self.text = text
        self.context, self._steps = _parse(text, where)
        self.definite = all(kind in (_NAME, _INDEX) for kind, _ in self._steps)
        self.get: Callable[[Any], Any] = self._compile()

    def __repr__(self) -> str:
        return f"Path({self.text!r})"

    def _compile(self) -> Callable[[Any], Any]:
        steps = self._steps
        if not steps:
            return _identity
        if self.definite:
            if all(kind == _NAME for kind, _ in steps):
                names = tuple(name for _, name in steps)
                if len(names) == 1:
                    (only,) = names
                    return lambda document: document.get(only, MISSING) if type(document) is dict else MISSING
                return lambda document: _get_names(document, names)
            return lambda document: _get_definite(document, steps)
        return lambda document: _get_indefinite(document, steps)

    def resolve(self, state_input: Any, context: Any) -> Any:
        """The node this path names in the state's input, or in the context object for ``$$``."""
        return self.get(context.document() if self.context else state_input)

    def require(self, state_input: Any, context: Any, problem: str) -> Any:
        """The node this path names; where there is none, States.Runtime saying ``problem``:
        a path that selects nothing is an error, not null, wherever a value is needed."""
        found = self.get(context.document() if self.context else state_input)
        if found is MISSING:
            raise runtime_error(problem)
        return found


def _identity(document: Any) -> Any:
    return document


def _get_names(document: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        if type(document) is not dict:
            return MISSING
        document = document.get(name, MISSING)
        if document is MISSING:
            return MISSING
    return document


def _get_definite(document: Any, steps: list[tuple[int, Any]]) -> Any:
    for kind, key in steps:
        if kind == _NAME:
            if type(document) is not dict or key not in document:
                return MISSING
            document = document[key]
        else:
            if type(document) is not list or not -len(document) <= key < len(document):
                return MISSING
            document = document[key]
    return document


def _get_indefinite(document: Any, steps: list[tuple[int, Any]]) -> list[Any]:
    nodes = [document]
    for kind, key in steps:
        selected: list[Any] = []
        for node in nodes:
            if kind == _NAME:
                if type(node) is dict and key in node:
                    selected.append(node[key])
            elif kind == _NAMES:
                if type(node) is dict:
                    selected.extend(node[name] for name in key if name in node)
            elif kind == _INDEX:
                if type(node) is list and -len(node) <= key < len(node):
                    selected.append(node[key])
            elif kind == _INDICES:
                if type(node) is list:
                    selected.extend(node[index] for index in key if -len(node) <= index < len(node))
            elif kind == _SLICE:
                if type(node) is list:
                    selected.extend(node[key])
            elif type(node) is dict:
                selected.extend(node.values())
            elif type(node) is list:
                selected.extend(node)
        nodes = selected
    return nodes


class ReferencePath:
    """A path to one node (ResultPath): where a result is placed in the state's input."""

    __slots__ = ("text", "_steps")

    def __init__(self, text: str, where: str = "") -> None:
        context, steps = _parse(text, where)
        if context or any(kind not in (_NAME, _INDEX) for kind, _ in steps):
            raise DefinitionError(where, f"{text!r} is not a reference path (one node of the input, "
                                         "named by fields and indices)")
        self.text = text
        self._steps = tuple(steps)

    def __repr__(self) -> str:
        return f"ReferencePath({self.text!r})"

    def place(self, document: Any, value: Any) -> Any:
        """``document`` with ``value`` at this path. Nothing is changed in place: the
        objects along the path are copied (shallowly), the rest is shared."""
        if not self._steps:
            return value
        return self._place(document, 0, value)

    def _place(self, node: Any, depth: int, value: Any) -> Any:
        kind, key = self._steps[depth]
        last = depth == len(self._steps) - 1
        if kind == _NAME:
            if type(node) is not dict:
                raise StatesError(RESULT_PATH_MATCH_FAILURE,
                                  f"Unable to apply ResultPath {self.text!r} to input {_abbreviated(node)}: "
                                  "a field can only be added to an object")
            copied = dict(node)
            copied[key] = value if last else self._place(node.get(key, {}), depth + 1, value)
            return copied
        if type(node) is not list or not -len(node) <= key < len(node):
            raise StatesError(RESULT_PATH_MATCH_FAILURE,
                              f"Unable to apply ResultPath {self.text!r} to input {_abbreviated(node)}: "
                              f"no element [{key}]")
        items = list(node)
        items[key] = value if last else self._place(node[key], depth + 1, value)
        return items


def _abbreviated(value: Any) -> str:
    import json

    text = json.dumps(value)
    return text if len(text) <= 200 else text[:200] + "..."
