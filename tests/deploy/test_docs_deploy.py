"""docs/aws.md says what a first deployment needs, and only what the template and make
outputs really provide; no command in the README or docs/ names a partition."""

from __future__ import annotations

import re
import sys

import pytest

from tests.deploy.conftest import ROOT

AWS_DOC = (ROOT / "docs" / "aws.md").read_text()
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^#)", AWS_DOC, re.S | re.M)
    assert match, f"docs/aws.md has no '## {title}' section"
    return match.group(1)


@pytest.mark.parametrize("needed", [
    "aws ec2 describe-subnets", "aws ec2 describe-security-groups", "WORKER_SUBNETS", "WORKER_SECURITY_GROUPS",
    "Lambda concurrent executions", "Fargate Spot", "StartExecution", "StateTransition", "Map Runs",
])
def test_first_deployment_covers(needed):
    assert needed in section("First deployment")


def test_console_values_are_the_ones_make_outputs_prints(template):
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        from outputs import CONSOLE_OUTPUTS
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    text = section("First deployment")
    for name, _ in CONSOLE_OUTPUTS:
        assert name in template["Outputs"], name
        assert f"`{name}`" in text or name.endswith("StateMachineArn"), f"docs/aws.md does not say what {name} is for"


def test_documented_commands_name_no_partition():
    commands = "\n".join(re.findall(r"```sh\n(.*?)```", "\n".join(p.read_text() for p in PAGES), re.S))
    assert not re.search(r"arn:aws[a-z-]*:", commands)
