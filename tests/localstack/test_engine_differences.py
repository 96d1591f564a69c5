"""Rules where LocalStack's engine disagrees with AWS's documentation, pinned as it reads them.

Our moto runtime applies AWS's rule (tests/asl/test_engine_differences.py); docs/local.md,
"Step Functions engines differ", lists each. A LocalStack upgrade that changes one of
these fails here: then move the row and the test.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from mediasync.core.settings import MiB, reset_settings
from tests.conftest import put_multipart
from tests.engine_probes import run_to_end, tolerance_probe
from tests.localstack.test_state_machines import code_of, open_uploads, run_task


def run_probe(engine, definition: str) -> tuple[dict, dict]:
    """The ended execution's description and its Map Run's."""
    sfn = engine.sfn()
    execution, description = run_to_end(sfn, definition, "arn:aws:iam::000000000000:role/mediasync")
    (map_run,) = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    return description, sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])


def test_a_failed_map_item_does_not_fail_the_map_run_on_localstack(engine):
    # AWS: the Map Run fails with States.ExceedToleratedFailureThreshold (default 0).
    description, map_run = run_probe(engine, tolerance_probe())
    assert description["status"] == "SUCCEEDED"
    assert (map_run["status"], map_run["toleratedFailureCount"], map_run["toleratedFailurePercentage"]) == ("SUCCEEDED", 0, 0.0)
    assert (map_run["itemCounts"]["failed"], map_run["itemCounts"]["succeeded"]) == (1, 2)


def test_an_explicit_tolerated_failure_count_is_not_enforced_either(engine):
    description, map_run = run_probe(engine, tolerance_probe(ToleratedFailureCount=0))
    assert (description["status"], map_run["status"], map_run["itemCounts"]["failed"]) == ("SUCCEEDED", "SUCCEEDED", 1)


def test_an_integer_tolerated_failure_percentage_is_refused(engine):
    # AWS takes any number from 0 to 100; LocalStack's grammar (and moto's, ported from it) wants 34.0.
    with pytest.raises(ClientError, match="ToleratedFailurePercentage"):
        run_probe(engine, tolerance_probe(ToleratedFailurePercentage=34))


def test_a_failed_part_group_the_map_run_tolerates_still_fails_the_object(engine, s3, buckets, invoke_batch, monkeypatch):
    """Without the Map Run failing, CompleteUpload finds the group's parts missing:
    the upload is aborted and the object reported failed, never copied."""
    source, destination = buckets
    put_multipart(s3, source, "master.mov", 17 * MiB, 8 * MiB)
    # A failure the abort cannot diagnose: the source is unchanged.
    engine.inject({"function": "copy_parts", "match": {"group": 1}, "error": "AccessDenied", "message": "injected"})
    # On AWS: AccessDenied (through States.ExceedToleratedFailureThreshold and the abort's
    # diagnosis). Here PartsMissing, transient, so batch_invoke would start the copy again:
    # one execution is enough to show it.
    monkeypatch.setenv("MEDIASYNC_MAX_EXECUTION_ATTEMPTS", "1")
    reset_settings()
    result = run_task(invoke_batch, s3, buckets, "master.mov")
    assert (result["resultCode"], code_of(result)) == ("PermanentFailure", "PartsMissing"), result
    calls = engine.invocations()
    assert calls["copy_parts"] >= 2 and calls["complete_upload"] >= 1 and calls["abort_upload"] == 1
    assert open_uploads(s3, destination) == []
    assert "Contents" not in s3.list_objects_v2(Bucket=destination)
