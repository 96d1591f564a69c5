"""The probes of tests/engine_probes.py on LocalStack's engine, where it reads a rule
otherwise than AWS's documentation pinned as it reads it (docs/local-engine.md lists
each). A LocalStack upgrade that changes one of these fails here: then move the row
and the probe's pin.
"""

from __future__ import annotations

import pytest

from mediasync.core.settings import MiB, reset_settings
from tests.conftest import put_multipart
from tests.engine_probes import LOCALSTACK, PROBES, matches, outcome, run_to_end, tolerance_probe
from tests.localstack.test_state_machines import code_of, open_uploads, run_task

ROLE = "arn:aws:iam::000000000000:role/mediasync"


@pytest.mark.parametrize("probe", PROBES, ids=[probe.name for probe in PROBES])
def test_probe(engine, probe):
    answer = outcome(engine.sfn(), probe, ROLE)
    expected = probe.expected_on(LOCALSTACK)
    assert matches(answer, expected), (
        f"{probe.name}: AWS answers {probe.expected} ({probe.doc}); LocalStack was expected to answer "
        f"{expected} and answered {answer}")


def test_a_failed_map_item_is_counted_in_a_map_run_that_succeeds(engine):
    # AWS: the Map Run fails with States.ExceedToleratedFailureThreshold (default 0).
    sfn = engine.sfn()
    execution, description = run_to_end(sfn, tolerance_probe(), ROLE)
    (map_run,) = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    map_run = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])
    assert description["status"] == "SUCCEEDED"
    assert (map_run["status"], map_run["toleratedFailureCount"], map_run["toleratedFailurePercentage"]) == ("SUCCEEDED", 0, 0.0)
    assert (map_run["itemCounts"]["failed"], map_run["itemCounts"]["succeeded"]) == (1, 2)


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
