"""One substitution map: the ASL placeholders, the template's DefinitionSubstitutions
and the local runtime's keys are the same names for the same resources."""

from __future__ import annotations

import pytest

from mediasync.local.runtime import BATCH_SUBSTITUTIONS, FUNCTION_SUBSTITUTIONS, STATE_MACHINES
from tests.deploy.conftest import STATE_MACHINE_DIR, of_type, placeholders


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
    local = set(FUNCTION_SUBSTITUTIONS) | set(BATCH_SUBSTITUTIONS)
    assert deployed == local
    assert {filename for filename, _, _ in STATE_MACHINES.values()} == set(machines)


def test_each_key_names_the_same_resource_in_both(resources, machines):
    handler_of = {
        name: body["Properties"]["CodeUri"].strip("/").removeprefix("functions/")
        for name, body in of_type(resources, "AWS::Serverless::Function").items()
    }
    batch_types = {"WorkerJobQueueArn": "AWS::Batch::JobQueue", "WorkerJobDefinitionArn": "AWS::Batch::JobDefinition"}
    for props in machines.values():
        for key, value in props["DefinitionSubstitutions"].items():
            if key in FUNCTION_SUBSTITUTIONS:
                function, attribute = value["Fn::GetAtt"]
                assert attribute == "Arn" and handler_of[function] == FUNCTION_SUBSTITUTIONS[key], key
            else:
                condition, deployed, _ = value["Fn::If"]
                assert condition == "DeployBatch"
                assert resources[deployed["Ref"]]["Type"] == batch_types[key], key
