"""Choice rules, compiled once.

A comparison of values of different types is false. A comparison on a Variable
that selects nothing fails the state with States.Runtime; only IsPresent answers
for an absent field. StringMatches takes ``*`` wildcards, ``\\*`` for a star and
``\\\\`` for a backslash.
https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Callable

from mediasync.local.asl.errors import DefinitionError
from mediasync.local.asl.paths import MISSING, Path

Test = Callable[[Any, Any], bool]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_timestamp(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _string(value: Any) -> Any:
    return value if isinstance(value, str) else None


def _number(value: Any) -> Any:
    return value if _is_number(value) else None


def _boolean(value: Any) -> Any:
    return value if isinstance(value, bool) else None


_KINDS: dict[str, Callable[[Any], Any]] = {
    "String": _string,
    "Numeric": _number,
    "Timestamp": parse_timestamp,
    "Boolean": _boolean,
}
_RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: a == b,
    "LessThan": lambda a, b: a < b,
    "GreaterThan": lambda a, b: a > b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThanEquals": lambda a, b: a >= b,
}
# Every comparison operator: name -> (value converter, relation).
COMPARISONS: dict[str, tuple[Callable[[Any], Any], Callable[[Any, Any], bool]]] = {
    f"{kind}{relation}": (_KINDS[kind], _RELATIONS[relation])
    for kind in _KINDS
    for relation in _RELATIONS
    if not (kind == "Boolean" and relation != "Equals")
}
TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda value: value is None,
    "IsNumeric": _is_number,
    "IsString": lambda value: isinstance(value, str),
    "IsBoolean": lambda value: isinstance(value, bool),
    "IsTimestamp": lambda value: parse_timestamp(value) is not None,
}
OPERATORS = frozenset({*COMPARISONS, *(f"{name}Path" for name in COMPARISONS), *TYPE_TESTS, "IsPresent",
                       "StringMatches"})


def string_matcher(pattern: str) -> Callable[[str], bool]:
    parts: list[str] = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\" and position + 1 < len(pattern) and pattern[position + 1] in "*\\":
            parts.append(re.escape(pattern[position + 1]))
            position += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        position += 1
    compiled = re.compile("".join(parts), re.DOTALL)
    return lambda value: compiled.fullmatch(value) is not None


def compile_rule(rule: Any, where: str, top_level: bool) -> tuple[Test, str | None]:
    """(test, Next) for one rule; nested rules have no Next."""
    if not isinstance(rule, dict):
        raise DefinitionError(where, "a choice rule must be an object")
    next_state = rule.get("Next")
    allowed = {"Next", "Comment"} if top_level else {"Comment"}
    if top_level and not isinstance(next_state, str):
        raise DefinitionError(where, "a top-level choice rule needs Next")
    if not top_level and "Next" in rule:
        raise DefinitionError(where, "only top-level choice rules may have Next")
    for boolean in ("And", "Or", "Not"):
        if boolean in rule:
            extra = set(rule) - allowed - {boolean}
            if extra:
                raise DefinitionError(where, f"unexpected fields beside {boolean}: {', '.join(sorted(extra))}")
            return _boolean_rule(boolean, rule[boolean], f"{where}.{boolean}"), next_state
    extra = set(rule) - allowed - {"Variable"} - OPERATORS
    if extra:
        raise DefinitionError(where, f"unknown fields: {', '.join(sorted(extra))}")
    operators = [name for name in rule if name in OPERATORS]
    if "Variable" not in rule or len(operators) != 1:
        raise DefinitionError(where, "a data-test rule needs Variable and exactly one comparison operator")
    variable = Path(rule["Variable"], f"{where}.Variable")
    return _data_test(variable, operators[0], rule[operators[0]], f"{where}.{operators[0]}"), next_state


def _boolean_rule(kind: str, value: Any, where: str) -> Test:
    if kind == "Not":
        inner, _ = compile_rule(value, where, top_level=False)
        return lambda state_input, context: not inner(state_input, context)
    if not isinstance(value, list) or not value:
        raise DefinitionError(where, f"{kind} takes a non-empty array of rules")
    tests = [compile_rule(item, f"{where}[{index}]", top_level=False)[0] for index, item in enumerate(value)]
    if kind == "And":
        return lambda state_input, context: all(test(state_input, context) for test in tests)
    return lambda state_input, context: any(test(state_input, context) for test in tests)


def _data_test(variable: Path, operator: str, expected: Any, where: str) -> Test:
    missing = f"Invalid path {variable.text!r}: the choice state's condition path references an invalid value"

    def value_of(state_input: Any, context: Any) -> Any:
        return variable.require(state_input, context, missing)

    if operator == "IsPresent":
        if not isinstance(expected, bool):
            raise DefinitionError(where, "IsPresent takes true or false")
        return lambda state_input, context: (variable.resolve(state_input, context) is not MISSING) == expected
    if operator in TYPE_TESTS:
        if not isinstance(expected, bool):
            raise DefinitionError(where, f"{operator} takes true or false")
        type_test = TYPE_TESTS[operator]
        return lambda state_input, context: type_test(value_of(state_input, context)) == expected
    if operator == "StringMatches":
        if not isinstance(expected, str):
            raise DefinitionError(where, "StringMatches takes a string pattern")
        matcher = string_matcher(expected)
        return lambda state_input, context: isinstance(value := value_of(state_input, context), str) and matcher(value)
    if operator.endswith("Path"):
        convert, relation = COMPARISONS[operator[:-4]]
        other = Path(expected, where)
        other_missing = f"Invalid path {other.text!r}: the choice state's comparison path references an invalid value"

        def compare_to_path(state_input: Any, context: Any) -> bool:
            value = convert(value_of(state_input, context))
            reference = convert(other.require(state_input, context, other_missing))
            return value is not None and reference is not None and relation(value, reference)

        return compare_to_path
    convert, relation = COMPARISONS[operator]
    reference = convert(expected)
    if reference is None:
        raise DefinitionError(where, f"{operator} cannot compare with {expected!r}")

    def compare(state_input: Any, context: Any) -> bool:
        value = convert(value_of(state_input, context))
        return value is not None and relation(value, reference)

    return compare
