"""A job's destinationBucket: only buckets the deployed stack's IAM grants.

The template grants every role that writes the destination DestinationBucket and
AllowedDestinationBuckets, and tells batch_invoke the same list
(MEDIASYNC_ALLOWED_DESTINATION_BUCKETS): any other bucket is refused before
anything runs, with the setting to change, instead of an AccessDenied from deep
inside the state machine.
"""

from __future__ import annotations

import pytest

from mediasync.core import s3batch_task as batch
from mediasync.core.errors import SourceMissing
from mediasync.core.s3batch_task import PERMANENT_FAILURE, BatchTask, TaskRunner
from mediasync.core.settings import Settings


@pytest.fixture
def s3_reached(monkeypatch) -> list[str]:
    """Records that the task got past its checks to the source (which is then missing)."""
    reached: list[str] = []

    def inspect(_s3, ref, _options=None):
        reached.append(ref.bucket)
        raise SourceMissing(f"s3://{ref.bucket}/{ref.key} does not exist")

    monkeypatch.setattr(batch.clients, "s3", lambda: None)
    monkeypatch.setattr(batch, "inspect_source", inspect)
    return reached


def run(settings: Settings, destination: str) -> batch.TaskOutcome:
    task = BatchTask("job", "task", "src", "a.mov", user_arguments={"destinationBucket": destination})
    return TaskRunner(settings).run(task, remaining_ms=lambda: 60_000)


def test_a_destination_the_stack_may_not_write_is_refused_naming_the_parameter(s3_reached):
    settings = Settings(allowed_destination_buckets=("archive", "proxies"))

    outcome = run(settings, "someone-elses-bucket")

    assert (outcome.result_code, outcome.code) == (PERMANENT_FAILURE, "InvalidTask")
    assert "'someone-elses-bucket'" in outcome.message and "AllowedDestinationBuckets" in outcome.message
    assert s3_reached == [], "refused before any S3 call"


def test_an_allowed_destination_goes_on_to_the_copy(s3_reached):
    outcome = run(Settings(allowed_destination_buckets=("archive", "proxies")), "proxies")

    assert outcome.code == "SourceMissing" and s3_reached == ["src"]


def test_without_a_list_any_destination_is_allowed(s3_reached):
    assert run(Settings.from_env({}), "anything").code == "SourceMissing"


def test_the_list_is_read_from_the_environment_the_template_sets():
    settings = Settings.from_env({"MEDIASYNC_ALLOWED_DESTINATION_BUCKETS": "archive, proxies,,"})
    assert settings.allowed_destination_buckets == ("archive", "proxies")
    # AllowedDestinationBuckets left empty: the template's join ends in a comma.
    assert Settings.from_env({"MEDIASYNC_ALLOWED_DESTINATION_BUCKETS": "archive,"}).allowed_destination_buckets == (
        "archive",)
