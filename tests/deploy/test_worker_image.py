"""worker/Dockerfile builds the image the job definition runs (checked without Docker)."""

from __future__ import annotations

import json
import re
from fnmatch import fnmatch

from mediasync.core import awsbatch_worker as worker
from tests.deploy.conftest import ROOT

DOCKERFILE = (ROOT / "worker" / "Dockerfile").read_text()


def instructions(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in DOCKERFILE.splitlines() if line.startswith(name + " ")]


def test_image_runs_the_command_of_the_job_definition(resources):
    command = json.loads(instructions("CMD")[-1])
    assert command == resources["WorkerJobDefinition"]["Properties"]["ContainerProperties"]["Command"]
    assert command == ["python", "-m", worker.__name__] and callable(worker.main)


def test_image_is_slim_python_of_the_lambda_runtime_and_runs_as_non_root(template):
    runtime = template["Globals"]["Function"]["Runtime"].removeprefix("python")
    assert re.search(rf"python:{re.escape(runtime)}-slim\b", DOCKERFILE)
    user = instructions("USER")[-1].strip()
    assert user not in ("root", "0")


def test_build_context_sends_what_the_dockerfile_copies():
    rules = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]

    def sent(path: str) -> bool:
        keep = True
        for rule in rules:  # later rules win, as in Docker
            if fnmatch(path, rule.lstrip("!")):
                keep = rule.startswith("!")
        return keep

    copied = [source for line in instructions("COPY") if not line.startswith("--from") for source in line.split()[:-1]]
    assert copied
    for source in copied:
        target = ROOT / source
        assert target.exists(), source
        files = [target] if target.is_file() else list(target.rglob("*.py"))
        assert files and all(sent(str(p.relative_to(ROOT))) for p in files), source
    assert not sent(".venv/bin/python") and not sent("node_modules/asl-validator/package.json")
