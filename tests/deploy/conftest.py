"""Fixtures for the deployment checks: template.yaml and the ASL files, read as written."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
STATE_MACHINE_DIR = ROOT / "statemachine"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml with intrinsic functions in their long form (Fn::Sub, Ref...)."""
    from cfnlint.decode import decode

    parsed, problems = decode(str(TEMPLATE))
    assert not problems, [str(problem) for problem in problems]
    return parsed


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return template["Resources"]


def of_type(resources: dict[str, dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in resources.items() if body["Type"] == kind}


def placeholders(path: Path) -> set[str]:
    return set(PLACEHOLDER.findall(path.read_text()))


def asl_states(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every state, nested Map processors included."""
    for state in definition.get("States", {}).values():
        yield state
        for nested in (state.get("ItemProcessor"), state.get("Iterator")):
            if nested:
                yield from asl_states(nested)
        for branch in state.get("Branches", []):
            yield from asl_states(branch)


def load_asl(filename: str) -> dict[str, Any]:
    return json.loads((STATE_MACHINE_DIR / filename).read_text())


def references(value: Any) -> set[str]:
    """Names a CloudFormation value refers to: Ref, GetAtt and ${...} inside Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= {name.split(".")[0] for name in re.findall(r"\$\{([A-Za-z0-9_:.]+)\}", text)}
                if isinstance(inner, list):
                    found |= references(inner[1])
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return found


def statements(role: dict[str, Any]) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """(condition, statement) for every statement of a role's inline policies."""
    for policy in role["Properties"].get("Policies", []):
        for item in policy["PolicyDocument"]["Statement"]:
            condition = None
            if "Fn::If" in item:
                condition, item, otherwise = item["Fn::If"]
                assert otherwise == {"Ref": "AWS::NoValue"}, f"{condition}: the false branch must grant nothing"
            yield condition, item


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
