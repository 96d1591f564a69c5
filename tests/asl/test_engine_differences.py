"""Rules where Step Functions engines disagree, pinned as our local runtime applies them.

See docs/local.md, the engines table; tests/localstack pins LocalStack's reading.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.engine_probes import EXCEEDED, run_to_end, tolerance_probe


def run_probe(runtime, definition: str) -> dict:
    sfn = boto3.client("stepfunctions", region_name=runtime.region)
    return run_to_end(sfn, definition, "arn:aws:iam::123456789012:role/mediasync-local")[1]


def test_one_failed_map_item_fails_the_map_run_as_on_aws(runtime):
    # moto alone would record the failed item and succeed; the runtime applies AWS's default of 0.
    description = run_probe(runtime, tolerance_probe())
    assert (description["status"], description.get("error")) == ("FAILED", EXCEEDED)


@pytest.mark.parametrize("tolerance", [{"ToleratedFailureCount": 1}, {"ToleratedFailurePercentage": 34.0}])
def test_a_map_run_within_its_tolerated_failures_succeeds(runtime, tolerance):
    assert run_probe(runtime, tolerance_probe(**tolerance))["status"] == "SUCCEEDED"


@pytest.mark.parametrize("tolerance", [{"ToleratedFailureCount": 0}, {"ToleratedFailurePercentage": 33.0}])
def test_a_map_run_beyond_its_tolerated_failures_fails(runtime, tolerance):
    description = run_probe(runtime, tolerance_probe(**tolerance))
    assert (description["status"], description.get("error")) == ("FAILED", EXCEEDED)


def test_an_integer_tolerated_failure_percentage_is_refused(runtime):
    # AWS takes any number from 0 to 100; moto's grammar wants 34.0 (none of our ASL files sets it).
    with pytest.raises(ClientError, match="ToleratedFailurePercentage"):
        run_probe(runtime, tolerance_probe(ToleratedFailurePercentage=34))
