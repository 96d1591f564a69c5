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
# One line per call: the arguments separated by the unit separator (no quoting lost),
# appended in one write: `aws ecr get-login-password | docker login` log at once.
line=$(printf '%s\\037' "$(basename "$0")" "$@"); printf '%s\\n' "$line" >> "{log}"
case "$(basename "$0") $*" in
  # sam delete as SAM does it: it asks first unless told --no-prompts.
  "sam delete"*"--no-prompts"*) touch "{deleted}" ;;
  "sam delete"*)
    printf 'Are you sure you want to delete the stack? [y/N]: '
    read answer || answer=""
    [ "$answer" = y ] && touch "{deleted}" ;;
  *"describe-stacks"*) [ -e "{deleted}" ] && {{ echo "Stack with id x does not exist" >&2; exit 254; }} ;;
esac
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
        stub.write_text(STUB.format(log=log, listed=listed, table=table, deleted=tmp_path / "deleted"))
        stub.chmod(0o755)
        paths[tool.upper()] = str(stub)
    return paths, log


def make(target: str, tools: dict[str, str], *settings: str, answer: str = "") -> subprocess.CompletedProcess:
    args = ["make", "--no-print-directory", target, "MEDIASYNC_CONFIG=/dev/null", "STACK_NAME=media-prod",
            "AWS_REGION=eu-west-1", *[f"{name}={path}" for name, path in tools.items()], *settings]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60, input=answer)


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
    assert {item.split("=", 1)[0] for item in overrides} == set(template["Parameters"])


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
    result = make("clean", paths, "YES=1")
    assert result.returncode == 0, result.stderr
    made = calls(log)
    assert ["sam", "delete", "--stack-name", "media-prod", "--region", "eu-west-1", "--no-prompts"] in made
    assert ["aws", "ecr", "delete-repository", "--region", "eu-west-1", "--force", "--repository-name", "mediasync-worker"] in made
    assert not [call for call in made if "s3" in call or "s3api" in call or "rb" in call]
    assert "kept s3://mediasync-reports" in result.stdout


def test_clean_lets_sam_ask_first_and_deletes_once_confirmed(tools):
    paths, log = tools
    result = make("clean", paths, answer="y\n")
    assert result.returncode == 0, result.stderr
    made = calls(log)
    assert ["sam", "delete", "--stack-name", "media-prod", "--region", "eu-west-1"] in made
    assert ["aws", "ecr", "delete-repository", "--region", "eu-west-1", "--force", "--repository-name", "mediasync-worker"] in made


@pytest.mark.parametrize("answer", ["n\n", ""])
def test_clean_declined_deletes_nothing(tools, answer):
    paths, log = tools
    result = make("clean", paths, answer=answer)
    assert result.returncode == 0, result.stderr
    made = calls(log)
    assert [call for call in made if call[:2] == ["sam", "delete"]] == [["sam", "delete", "--stack-name", "media-prod", "--region", "eu-west-1"]]
    assert not [call for call in made if "delete-repository" in call]
    assert "kept" in result.stdout and "nothing deleted" in result.stdout


def test_help_says_clean_asks_first():
    result = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    line = next(line for line in result.stdout.splitlines() if line.startswith("make clean"))
    assert "YES=1" in line and "asks" in line
    assert "make clean YES=1" in (ROOT / "README.md").read_text()


BATCH = ("SOURCE_BUCKETS=masters", "DESTINATION_BUCKET=archive", "WORKER_SUBNETS=subnet-1", "WORKER_SECURITY_GROUPS=sg-1")


@pytest.mark.parametrize("mode", ["batch", "auto", "lambda"])
def test_install_with_batch_workers_publishes_their_image_after_deploying(tools, mode):
    paths, log = tools
    result = make("install", paths, *BATCH, f"WORKER_MODE={mode}")
    assert result.returncode == 0, result.stderr
    made = [call[:2] for call in calls(log) if call[0] in ("sam", "docker")]
    image = OUTPUTS["WorkerImageRepositoryUri"] + ":latest"
    assert made == [["sam", "build"], ["sam", "deploy"], ["docker", "login"], ["docker", "build"], ["docker", "push"]]
    assert ["docker", "push", image] in calls(log)


def test_install_with_batch_workers_and_no_docker_refuses_before_deploying(tools, tmp_path):
    paths, log = tools
    result = make("install", {**paths, "DOCKER": str(tmp_path / "no-docker")}, *BATCH, "WORKER_MODE=batch")
    assert result.returncode != 0
    assert "Docker" in result.stderr and "make install" in result.stderr and "make publish" in result.stderr
    assert not [call for call in calls(log) if call[0] == "sam"]


@pytest.mark.parametrize("mode", ["batch", "auto"])
def test_batch_mode_without_subnets_is_refused_before_deploying(tools, mode):
    paths, log = tools
    result = make("install", paths, "SOURCE_BUCKETS=masters", "DESTINATION_BUCKET=archive", f"WORKER_MODE={mode}")
    assert result.returncode != 0 and "WORKER_SUBNETS" in result.stderr
    assert not [call for call in calls(log) if call[0] == "sam"]


def test_install_for_lambda_workers_needs_no_docker(tools, tmp_path):
    paths, log = tools
    result = make("install", {**paths, "DOCKER": str(tmp_path / "no-docker")}, "SOURCE_BUCKETS=masters", "DESTINATION_BUCKET=archive")
    assert result.returncode == 0, result.stderr
    assert not [call for call in calls(log) if call[0] == "docker"]
