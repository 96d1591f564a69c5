"""make install / publish / outputs / clean call sam, aws and docker as documented.

The tools are replaced by one stub that records its arguments and answers
describe-stacks like a deployed stack: the targets' wiring is checked here, the
real calls only on AWS (tests/aws).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT

OUTPUTS = {
    "BatchInvokeFunctionArn": "arn:aws:lambda:eu-west-1:111122223333:function:mediasync-BatchInvoke",
    "BatchOperationsRoleArn": "arn:aws:iam::111122223333:role/mediasync-BatchOperationsRole",
    "ReportBucketName": "mediasync-reports",
    "WorkerImageRepositoryUri": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/mediasync-worker",
    "WorkerImageRepositoryName": "mediasync-worker",
    "SourceReadRoleArns": "arn:aws:iam::111122223333:role/reader",
    "SourceBucketNames": "masters",
}

STUB = """#!/bin/sh
# One line per call: the arguments separated by the unit separator (no quoting lost).
printf '%s\\037' "$(basename "$0")" "$@" >> "{log}"; echo >> "{log}"
case "$*" in
  *"describe-stacks"*"--output json"*) cat "{listed}" ;;
  *"describe-stacks"*)
    key=$(echo "$*" | sed -n "s/.*OutputKey=='\\([A-Za-z]*\\)'.*/\\1/p")
    grep "^$key=" "{table}" | cut -d= -f2- | grep . || echo None ;;
esac
"""

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")


@pytest.fixture
def tools(tmp_path: Path) -> tuple[dict[str, str], Path]:
    log, table, listed = tmp_path / "calls.log", tmp_path / "outputs.env", tmp_path / "outputs.json"
    table.write_text("".join(f"{key}={value}\n" for key, value in OUTPUTS.items()))
    listed.write_text(json.dumps([{"OutputKey": k, "OutputValue": v} for k, v in OUTPUTS.items()]))
    paths = {}
    for tool in ("aws", "sam", "docker"):
        stub = tmp_path / tool
        stub.write_text(STUB.format(log=log, listed=listed, table=table))
        stub.chmod(0o755)
        paths[tool.upper()] = str(stub)
    return paths, log


def make(target: str, tools: dict[str, str], *settings: str) -> subprocess.CompletedProcess:
    args = ["make", "--no-print-directory", target, "MEDIASYNC_CONFIG=/dev/null", "STACK_NAME=media-prod",
            "AWS_REGION=eu-west-1", *[f"{name}={path}" for name, path in tools.items()], *settings]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60)


def calls(log: Path) -> list[list[str]]:
    return [line.split("\x1f")[:-1] for line in log.read_text().splitlines()] if log.exists() else []


def test_install_builds_and_deploys_non_interactively_with_every_parameter(tools, template):
    paths, log = tools
    result = make("install", paths, "SOURCE_BUCKETS=masters,proxies", "DESTINATION_BUCKET=archive")
    assert result.returncode == 0, result.stderr
    sam = [call for call in calls(log) if call[0] == "sam"]
    assert [call[1] for call in sam] == ["build", "deploy"]
    deploy = sam[1]
    assert {"--no-confirm-changeset", "--resolve-s3", "CAPABILITY_IAM"} <= set(deploy)
    assert deploy[deploy.index("--stack-name") + 1] == "media-prod"
    overrides = deploy[deploy.index("--parameter-overrides") + 1:]
    assert 'SourceBuckets="masters,proxies"' in overrides and 'DestinationBucket="archive"' in overrides
    assert {item.split("=", 1)[0] for item in overrides} == set(template["Parameters"]) - {"PowertoolsLayerVersion"}


def test_install_without_buckets_says_what_to_set(tools):
    paths, log = tools
    result = make("install", paths)
    assert result.returncode != 0 and "SOURCE_BUCKETS" in result.stderr
    assert not [call for call in calls(log) if call[0] == "sam"]


def test_publish_builds_the_worker_image_and_pushes_it_to_the_stack_repository(tools):
    paths, log = tools
    result = make("publish", paths)
    assert result.returncode == 0, result.stderr
    docker = [call for call in calls(log) if call[0] == "docker"]
    image = OUTPUTS["WorkerImageRepositoryUri"] + ":latest"
    assert docker[0][:2] == ["docker", "login"] and docker[0][-1] == image.split("/")[0]
    assert docker[1] == ["docker", "build", "--platform", "linux/amd64", "-f", "worker/Dockerfile", "-t", image, "."]
    assert docker[2] == ["docker", "push", image]


def test_outputs_prints_the_console_values(tools):
    paths, _ = tools
    result = make("outputs", paths)
    assert result.returncode == 0, result.stderr
    assert OUTPUTS["BatchOperationsRoleArn"] in result.stdout and "arn:aws:s3:::masters/*" in result.stdout


def test_clean_deletes_the_stack_and_image_repository_and_keeps_buckets(tools):
    paths, log = tools
    result = make("clean", paths)
    assert result.returncode == 0, result.stderr
    made = calls(log)
    assert ["sam", "delete", "--stack-name", "media-prod", "--region", "eu-west-1", "--no-prompts"] in made
    assert ["aws", "ecr", "delete-repository", "--region", "eu-west-1", "--force", "--repository-name", "mediasync-worker"] in made
    assert not [call for call in made if "s3" in call or "s3api" in call or "rb" in call]
    assert "kept s3://mediasync-reports" in result.stdout
