"""One substitution map: the ASL placeholders, the template's DefinitionSubstitutions
and the local runtime's keys are the same names for the same resources."""

from __future__ import annotations

import json
import re

import pytest

from mediasync.local.runtime import BATCH_SUBSTITUTIONS, FUNCTION_SUBSTITUTIONS, PARTITION_SUBSTITUTION, STATE_MACHINES
from tests.deploy.conftest import STATE_MACHINE_DIR, TEMPLATE, of_type, placeholders


@pytest.fixture(scope="module")
def machines(resources) -> dict[str, dict]:
    """ASL file name -> the template's state machine properties."""
    return {
        body["Properties"]["DefinitionUri"].removeprefix("statemachine/"): body["Properties"]
        for body in of_type(resources, "AWS::Serverless::StateMachine").values()
    }


@pytest.mark.parametrize("filename", sorted(path.name for path in STATE_MACHINE_DIR.glob("*.asl.json")))
def test_every_placeholder_is_substituted_and_every_substitution_is_used(machines, filename):
    assert filename in machines, f"statemachine/{filename} is not deployed by template.yaml"
    used = placeholders(STATE_MACHINE_DIR / filename)
    given = set(machines[filename]["DefinitionSubstitutions"])
    assert used == given, {"placeholder without substitution": used - given, "substitution not used": given - used}


def test_local_runtime_fills_the_same_keys(machines):
    deployed = set().union(*(set(props["DefinitionSubstitutions"]) for props in machines.values()))
    local = set(FUNCTION_SUBSTITUTIONS) | set(BATCH_SUBSTITUTIONS) | {PARTITION_SUBSTITUTION}
    assert deployed == local
    assert {filename for filename, _, _ in STATE_MACHINES.values()} == set(machines)


def test_each_key_names_the_same_resource_in_both(resources, machines):
    handler_of = {
        name: body["Properties"]["CodeUri"].strip("/").removeprefix("functions/")
        for name, body in of_type(resources, "AWS::Serverless::Function").items()
    }
    batch_types = {"WorkerJobQueueArn": "AWS::Batch::JobQueue"}
    for props in machines.values():
        for key, value in props["DefinitionSubstitutions"].items():
            if key == PARTITION_SUBSTITUTION:
                assert value == {"Ref": "AWS::Partition"}
            elif key in FUNCTION_SUBSTITUTIONS:
                function, attribute = value["Fn::GetAtt"]
                assert attribute == "Arn" and handler_of[function] == FUNCTION_SUBSTITUTIONS[key], key
            elif key == "WorkerJobDefinitionName":
                # By name, so a running execution submits to the latest ACTIVE revision
                # after an update deregistered the one it started with.
                condition, deployed, _ = value["Fn::If"]
                assert condition == "DeployBatch"
                assert deployed == resources["WorkerJobDefinition"]["Properties"]["JobDefinitionName"]
            else:
                condition, deployed, _ = value["Fn::If"]
                assert condition == "DeployBatch"
                assert resources[deployed["Ref"]]["Type"] == batch_types[key], key


# GovCloud is aws-us-gov, China aws-cn: an ARN with a literal partition deploys in one
# of them only (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
LITERAL_PARTITION = re.compile(r"arn:aws[a-z-]*:")


@pytest.mark.parametrize("path", [TEMPLATE, *sorted(STATE_MACHINE_DIR.glob("*.asl.json"))], ids=lambda path: path.name)
def test_no_arn_names_its_partition(path):
    found = [line.strip() for line in path.read_text().splitlines() if LITERAL_PARTITION.search(line)]
    assert not found, found


@pytest.mark.parametrize("filename", sorted(path.name for path in STATE_MACHINE_DIR.glob("*.asl.json")))
def test_service_integrations_take_the_partition_from_the_substitutions(filename):
    text = (STATE_MACHINE_DIR / filename).read_text()
    resources = set(re.findall(r'"Resource": "([^"]+)"', text))
    assert resources and all(resource.startswith("arn:${Partition}:states:::") for resource in resources), resources


def test_the_batch_task_submits_the_job_definition_by_name():
    definition = json.loads((STATE_MACHINE_DIR / "copy_large.asl.json").read_text())
    states = definition["States"]["CopyPartGroups"]["ItemProcessor"]["States"]
    submitted = [state["Parameters"]["JobDefinition"] for state in states.values()
                 if state.get("Resource", "").endswith(":states:::batch:submitJob.sync")]
    assert submitted == ["${WorkerJobDefinitionName}"]


def test_the_state_machine_may_submit_every_revision_of_that_name(resources):
    role = resources["CopyLargeStateMachineRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    submit = next(item["Fn::If"][1] for item in role if "Fn::If" in item and item["Fn::If"][1]["Sid"] == "WorkerJobQueueAndDefinition")
    name = resources["WorkerJobDefinition"]["Properties"]["JobDefinitionName"]["Fn::Sub"]
    assert {"Fn::Sub": f"arn:${{AWS::Partition}}:batch:${{AWS::Region}}:${{AWS::AccountId}}:job-definition/{name}:*"} in submit["Resource"]
