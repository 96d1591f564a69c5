"""statemachine/*.asl.json pass npm's asl-validator (pinned in package-lock.json),
in addition to being executed by the ASL tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT, STATE_MACHINE_DIR

VALIDATOR = ROOT / "node_modules" / ".bin" / "asl-validator"


def validate(*paths: Path) -> subprocess.CompletedProcess:
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH: install Node.js, then run `make setup`")
    if not VALIDATOR.exists():
        pytest.fail("node_modules/.bin/asl-validator is missing: run `make setup` (it runs `npm ci`)")
    args = [str(VALIDATOR)]
    for path in paths:
        args += ["--json-path", str(path)]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_state_machines_are_valid_asl():
    files = sorted(STATE_MACHINE_DIR.glob("*.asl.json"))
    assert len(files) == 2
    result = validate(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validator_rejects_a_transition_to_a_missing_state(tmp_path):
    definition = json.loads((STATE_MACHINE_DIR / "copy_small.asl.json").read_text())
    first = definition["States"][definition["StartAt"]]
    first["Default"] = "NoSuchState"
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps(definition))
    result = validate(broken)
    assert result.returncode != 0 and "NoSuchState" in result.stdout + result.stderr
