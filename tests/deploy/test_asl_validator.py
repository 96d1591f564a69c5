"""statemachine/*.asl.json pass npm's asl-validator (pinned in package-lock.json),
in addition to being executed by the ASL tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mediasync.local.runtime import BATCH_SUBSTITUTIONS, FUNCTION_SUBSTITUTIONS, PARTITION_SUBSTITUTION, substitute
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


def deployed(tmp_path: Path, partition: str) -> list[Path]:
    """The ASL files as CloudFormation's DefinitionSubstitutions fill them in ``partition``:
    the validator checks every Resource is an ARN, which ``arn:${Partition}:...`` is not yet."""
    prefix = f"arn:{partition}"
    values = {key: f"{prefix}:lambda:us-east-1:111122223333:function:{name}" for key, name in FUNCTION_SUBSTITUTIONS.items()}
    values |= {key: f"{prefix}:batch:us-east-1:111122223333:{key.lower()}/worker" for key in BATCH_SUBSTITUTIONS}
    values[PARTITION_SUBSTITUTION] = partition
    files = []
    for path in sorted(STATE_MACHINE_DIR.glob("*.asl.json")):
        filled = tmp_path / partition / path.name
        filled.parent.mkdir(exist_ok=True)
        filled.write_text(substitute(path, values))
        files.append(filled)
    return files


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov", "aws-cn"])
def test_state_machines_are_valid_asl(tmp_path, partition):
    files = deployed(tmp_path, partition)
    assert len(files) == 2
    result = validate(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validator_rejects_a_transition_to_a_missing_state(tmp_path):
    definition = json.loads(deployed(tmp_path, "aws")[0].read_text())
    first = definition["States"][definition["StartAt"]]
    first["Default"] = "NoSuchState"
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps(definition))
    result = validate(broken)
    assert result.returncode != 0 and "NoSuchState" in result.stdout + result.stderr
