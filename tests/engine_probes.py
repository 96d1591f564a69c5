"""Small ASL definitions that show how a Step Functions engine reads one rule.

Each probe runs on moto's interpreter through our runtime (tests/asl) and on
LocalStack's (tests/localstack); where they disagree with each other or with AWS's
documentation, the engines table of docs/local.md says so.
"""

from __future__ import annotations

import json
import time
from typing import Any

# https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html:
# "The default percentage value is zero, meaning the workflow fails if any one of its
# child workflow executions fails or times out", with States.ExceedToleratedFailureThreshold.
EXCEEDED = "States.ExceedToleratedFailureThreshold"


def tolerance_probe(**tolerance: Any) -> str:
    """A Distributed Map over three items whose second fails; ``tolerance`` adds
    ToleratedFailureCount / ToleratedFailurePercentage to the Map state."""
    return json.dumps({
        "StartAt": "Items",
        "States": {
            "Items": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Item",
                    "States": {
                        "Item": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "ItemFails"}],
                            "Default": "ItemSucceeds",
                        },
                        "ItemFails": {"Type": "Fail", "Error": "GroupFailed", "Cause": "item 2"},
                        "ItemSucceeds": {"Type": "Pass", "End": True},
                    },
                },
                **tolerance,
                "End": True,
            }
        },
    })


PROBE_INPUT = json.dumps({"items": [1, 2, 3]})


def run_to_end(sfn: Any, definition: str, role_arn: str) -> tuple[str, dict[str, Any]]:
    """Deploy a probe, run it on PROBE_INPUT, and wait (30 s at most) for it to end:
    the execution's ARN and its final description."""
    arn = sfn.create_state_machine(name=f"probe-{time.monotonic_ns()}", definition=definition,
                                   roleArn=role_arn)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=PROBE_INPUT)["executionArn"]
    deadline = time.monotonic() + 30
    while (description := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the probe execution did not end"
        time.sleep(0.05)
    return execution, description
