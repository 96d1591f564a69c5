"""S3 Batch task plumbing that needs no S3: names, outcomes, result strings."""

import json

from mediasync.core.s3batch_task import (
    PERMANENT_FAILURE,
    SUCCEEDED,
    TEMPORARY_FAILURE,
    copied_bytes,
    execution_arn,
    execution_name,
    outcome_of_execution,
    parse_result_string,
)


def test_execution_names_are_deterministic_valid_and_distinct():
    job = "2f6a1d3c-9c2b-4c55-8a4e-3e7d0f1b2a99"
    name = execution_name(job, "AAAAAAAAAAGl8Jz+/task==", 0)
    assert name == execution_name(job, "AAAAAAAAAAGl8Jz+/task==", 0)
    assert len(name) <= 80 and all(c.isalnum() or c in "-_" for c in name)
    assert name != execution_name(job, "AAAAAAAAAAGl8Jz+/task==", 1)
    assert name != execution_name(job, "other-task", 0)


def test_execution_arn_from_state_machine_arn():
    machine = "arn:aws:states:eu-west-1:111122223333:stateMachine:mediasync-copy-large"
    assert execution_arn(machine, "n1") == "arn:aws:states:eu-west-1:111122223333:execution:mediasync-copy-large:n1"


def test_failed_execution_maps_named_errors_to_batch_results():
    lambda_cause = json.dumps({"errorType": "SourceChanged", "errorMessage": "s3://a/b changed"})
    changed = outcome_of_execution({"status": "FAILED", "error": "SourceChanged", "cause": lambda_cause})
    assert (changed.result_code, changed.code, changed.message, changed.http_status) == (
        PERMANENT_FAILURE, "SourceChanged", "s3://a/b changed", 412)
    throttled = outcome_of_execution({"status": "FAILED", "error": "Throttled", "cause": "slow down"})
    assert throttled.result_code == TEMPORARY_FAILURE
    timed_out = outcome_of_execution({"status": "TIMED_OUT"})
    assert timed_out.result_code == TEMPORARY_FAILURE


def test_success_is_reported_only_with_verification_details():
    output = {"destination": {"bucket": "d", "key": "k"}, "copy": {"etag": '"e"'}, "size": 42,
              "verification": {"method": "etag", "message": "ETag equals the source's"}}
    outcome = outcome_of_execution({"status": "SUCCEEDED", "output": json.dumps(output)})
    assert outcome.result_code == SUCCEEDED
    code, message = parse_result_string(outcome.result_string)
    assert code == "Copied" and "verified by etag" in message
    assert copied_bytes(message) == 42


def test_a_copy_still_running_is_counted_apart_from_failures():
    from mediasync.core.s3batch_task import TaskOutcome, still_running

    assert still_running("arn:aws:states:us-east-1:111122223333:execution:m:n").metric_name == "InProgress"
    assert TaskOutcome.failure("Throttled", "slow down").metric_name == "TemporaryFailure"
    assert TaskOutcome.failure("SourceMissing", "gone").metric_name == "PermanentFailure"
