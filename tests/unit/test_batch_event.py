"""S3 Batch invocations as functions/batch_invoke/app.py receives them: malformed
events answer every task they name and run none; job arguments are checked by name.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html
"""

from __future__ import annotations

import copy

import pytest

from mediasync.core.s3batch_event import answer_invocation, parse_invocation
from mediasync.core.s3batch_task import SUCCEEDED, TaskOutcome, TaskRunner
from mediasync.core.settings import Settings

GOOD_V2 = {
    "invocationSchemaVersion": "2.0",
    "invocationId": "inv-1",
    "job": {"id": "job-1", "userArguments": {"destinationBucket": "archive", "storageClass": "GLACIER"}},
    "tasks": [{"taskId": "t-1", "s3Bucket": "media", "s3Key": "a+b%2B.mov", "s3VersionId": None}],
}
GOOD_V1 = {
    "invocationSchemaVersion": "1.0",
    "invocationId": "inv-2",
    "job": {"id": "job-2"},
    "tasks": [{"taskId": "t-2", "s3BucketArn": "arn:aws:s3:::media", "s3Key": "clip.mov", "s3VersionId": "v1"}],
}


def answered(event):
    ran = []

    def run(task):
        ran.append(task)
        return TaskOutcome(SUCCEEDED, "Copied", "fine", 200)

    return answer_invocation(parse_invocation(event), run), ran


def test_a_sound_event_of_either_schema_runs_its_one_task():
    response, ran = answered(GOOD_V2)
    assert [(t.bucket, t.key, t.version_id, t.user_arguments["storageClass"]) for t in ran] == [
        ("media", "a b+.mov", None, "GLACIER")]
    assert response == {"invocationSchemaVersion": "2.0", "treatMissingKeysAs": "PermanentFailure",
                        "invocationId": "inv-1",
                        "results": [{"taskId": "t-1", "resultCode": "Succeeded", "resultString": "Copied: fine"}]}
    response, ran = answered(GOOD_V1)
    assert [(t.bucket, t.key, t.version_id, t.user_arguments) for t in ran] == [("media", "clip.mov", "v1", None)]


def with_change(path, value):
    event = copy.deepcopy(GOOD_V2)
    *parents, last = path
    target = event
    for name in parents:
        target = target[name]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return event


SECOND_TASK = GOOD_V2["tasks"] + [{"taskId": "t-9", "s3Bucket": "media", "s3Key": "other.mov"}]


@pytest.mark.parametrize(("event", "answered_ids", "reason"), [
    (with_change(["invocationSchemaVersion"], "3.0"), ["t-1"], "invocationSchemaVersion '3.0' is not 1.0 or 2.0"),
    (with_change(["invocationSchemaVersion"], KeyError), ["t-1"], "invocationSchemaVersion None is not 1.0 or 2.0"),
    (with_change(["job", "userArguments"], ["destinationBucket", "archive"]), ["t-1"],
     "job.userArguments is a list, not an object"),
    (with_change(["job", "userArguments"], {"partSize": {"MiB": 64}}), ["t-1"],
     "job.userArguments values are strings, as S3 Batch sends them; not partSize"),
    (with_change(["tasks"], SECOND_TASK), ["t-1", "t-9"], "carries exactly one task; this one has 2 tasks, none run"),
    (with_change(["tasks"], []), [], "this one has 0 tasks"),
    (with_change(["tasks"], "t-1"), [], "this one has no list of tasks"),
    (with_change(["job"], KeyError), ["t-1"], "no job id"),
    (with_change(["tasks", 0, "s3Key"], KeyError), ["t-1"], "the task has no s3Key"),
    (with_change(["tasks", 0, "s3Key"], "%ff.mov"), ["t-1"], "is not URL-encoded UTF-8"),
    (with_change(["tasks", 0, "s3Bucket"], KeyError), ["t-1"], "names no bucket"),
    (with_change(["tasks", 0, "s3VersionId"], 7), ["t-1"], "s3VersionId is a int"),
    (with_change(["tasks", 0, "taskId"], KeyError), [], "the task has no taskId"),
    ("not an object", [], "the event is a JSON str"),
])
def test_a_malformed_event_answers_every_task_it_names_and_runs_none(event, answered_ids, reason):
    response, ran = answered(event)
    assert ran == []
    assert [result["taskId"] for result in response["results"]] == answered_ids
    for result in response["results"]:
        assert result["resultCode"] == "PermanentFailure"
        assert result["resultString"].startswith("InvalidTask: malformed S3 Batch event: ")
        assert reason in result["resultString"], result


def test_an_unknown_job_argument_fails_the_task_naming_it_and_the_known_ones(monkeypatch):
    # storageClas (a typo) would otherwise copy into STANDARD: refused before any S3 request.
    monkeypatch.setattr("mediasync.core.clients.s3", lambda: pytest.fail("an S3 request was made"))
    [task] = [parse_invocation(with_change(["job", "userArguments", "storageClas"], "GLACIER")).task]
    outcome = TaskRunner(Settings()).run(task, remaining_ms=lambda: 900_000)
    assert (outcome.result_code, outcome.code) == ("PermanentFailure", "InvalidTask")
    assert "unknown job argument 'storageClas'" in outcome.message
    assert "storageClass" in outcome.message and "destinationBucket" in outcome.message


@pytest.mark.parametrize(("argument", "value", "reason"), [
    ("partSize", "1KiB", "part_size must be between 5.0 MiB and 5.0 GiB"),
    ("destinationBucket", "s3://archive", "is a URL, not a bucket name"),
])
def test_out_of_range_or_malformed_job_arguments_fail_the_task(argument, value, reason):
    task = parse_invocation(with_change(["job", "userArguments", argument], value)).task
    outcome = TaskRunner(Settings()).run(task, remaining_ms=lambda: 900_000)
    assert (outcome.code, reason in outcome.message) == ("InvalidTask", True), outcome
