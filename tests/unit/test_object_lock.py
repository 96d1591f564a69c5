"""What a run asks of each copy's Object Lock, what a lock shows, and the options that ask it."""

from __future__ import annotations

import datetime

import boto3
import pytest
from moto import mock_aws

from mediasync.cli.local_job import flag_names
from mediasync.core.object_lock import (
    NO_LOCK,
    ObjectLock,
    lock_asked,
    lock_bucket_problem,
    lock_problems,
    lock_requested,
    time_text,
)
from mediasync.core.settings import CopyOptions, user_arguments
from mediasync.stack.submit import SubmitError, lock_destination_problem, stack_problem
from mediasync.stack.submit import user_arguments as job_arguments

NOW = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.timezone.utc)
LATER, EARLIER = "2027-01-01T00:00:00Z", "2026-12-01T00:00:00Z"
FUTURE = "2099-01-01T00:00:00Z"


def test_keep_copies_a_retention_that_lasts_and_the_legal_hold():
    keep = CopyOptions(object_lock="keep")
    assert lock_asked(keep, ObjectLock("COMPLIANCE", LATER, True), NOW) == ObjectLock("COMPLIANCE", LATER, True)
    # S3 refuses a retain-until date in the past: an ended retention is not set again.
    assert lock_asked(keep, ObjectLock("GOVERNANCE", EARLIER, False), NOW) == NO_LOCK
    assert lock_asked(keep, NO_LOCK, NOW) == NO_LOCK
    assert lock_asked(keep, None, NOW) is None, "a listing shows no lock: cannot tell"
    assert lock_asked(CopyOptions(), None, NOW) == NO_LOCK


def test_a_mode_date_or_legal_hold_given_takes_the_place_of_the_sources():
    options = CopyOptions(object_lock="keep", object_lock_mode="GOVERNANCE", object_lock_retain_until=FUTURE,
                          legal_hold="OFF")
    assert lock_asked(options, ObjectLock("COMPLIANCE", LATER, True), NOW) == ObjectLock("GOVERNANCE", FUTURE, False)
    assert lock_asked(CopyOptions(legal_hold="ON"), None, NOW) == ObjectLock(None, None, True)


def test_only_a_lock_asked_needs_a_bucket_with_object_lock():
    assert not lock_requested(CopyOptions())
    assert not lock_requested(CopyOptions(legal_hold="OFF"))
    assert lock_requested(CopyOptions(object_lock="keep"))
    assert lock_requested(CopyOptions(legal_hold="ON"))
    assert lock_requested(CopyOptions(object_lock_mode="COMPLIANCE", object_lock_retain_until=FUTURE))


def test_a_copy_lacking_the_lock_asked_is_named_and_a_bucket_default_beyond_it_is_not():
    asked = ObjectLock("COMPLIANCE", LATER, True)
    assert lock_problems(asked, ObjectLock("COMPLIANCE", "2027-01-01T00:00:00.000Z", True)) == []
    assert lock_problems(asked, NO_LOCK) == [f"Object Lock no retention, asked COMPLIANCE until {LATER}",
                                             "no legal hold, asked one"]
    assert lock_problems(asked, ObjectLock("GOVERNANCE", LATER, True)) == [
        f"Object Lock GOVERNANCE retention until {LATER}, asked COMPLIANCE until {LATER}"]
    assert lock_problems(NO_LOCK, ObjectLock("GOVERNANCE", LATER, False)) == []


def test_a_lock_holds_while_its_retention_lasts_or_under_a_legal_hold():
    assert ObjectLock("GOVERNANCE", LATER).locked(NOW)
    assert not ObjectLock("GOVERNANCE", EARLIER).locked(NOW)
    assert ObjectLock(None, None, True).locked(NOW)
    assert ObjectLock.from_head({"ObjectLockMode": "COMPLIANCE", "ObjectLockLegalHoldStatus": "OFF",
                                 "ObjectLockRetainUntilDate": datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc)}
                                ) == ObjectLock("COMPLIANCE", LATER, False)
    assert ObjectLock("COMPLIANCE", LATER, True).request_args() == {
        "ObjectLockMode": "COMPLIANCE", "ObjectLockLegalHoldStatus": "ON",
        "ObjectLockRetainUntilDate": datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc)}


@pytest.mark.parametrize(("text", "kept"), [("2031-01-31", "2031-01-31T00:00:00Z"),
                                            ("2031-01-31T18:00:00+02:00", "2031-01-31T16:00:00Z"),
                                            ("2031-01-31T18:00:00.250Z", "2031-01-31T18:00:00.250Z")])
def test_times_are_kept_in_utc(text, kept):
    assert time_text(text) == kept


def test_job_arguments_ask_the_lock_and_the_move_as_s3_batch_sends_them():
    options = CopyOptions().merged({"move": "true", "objectLock": "KEEP", "objectLockMode": "compliance",
                                    "objectLockRetainUntil": "2099-01-01", "legalHold": "on"})
    assert (options.move, options.object_lock, options.object_lock_mode, options.object_lock_retain_until,
            options.legal_hold) == (True, "keep", "COMPLIANCE", FUTURE, "ON")
    assert {name: value for name, value in user_arguments(options).items()
            if name in ("move", "objectLock", "objectLockMode", "objectLockRetainUntil", "legalHold")} == {
        "move": "true", "objectLock": "keep", "objectLockMode": "COMPLIANCE", "objectLockRetainUntil": FUTURE,
        "legalHold": "ON"}
    assert CopyOptions.from_event(options.to_event()) == options


@pytest.mark.parametrize(("arguments", "message"), [
    ({"objectLockMode": "GOVERNANCE"}, "object_lock_mode and object_lock_retain_until go together"),
    ({"objectLockRetainUntil": "2099-01-01"}, "object_lock_mode and object_lock_retain_until go together"),
    ({"objectLockMode": "GOVERNANCE", "objectLockRetainUntil": "2001-01-01"},
     "object_lock_retain_until 2001-01-01T00:00:00Z is not in the future"),
    ({"objectLockMode": "FOREVER", "objectLockRetainUntil": "2099-01-01"}, "object_lock_mode must be GOVERNANCE or"),
    ({"objectLock": "copy"}, "object_lock must be keep or off, not 'copy'"),
    ({"legalHold": "maybe"}, "legal_hold must be on or off, not 'MAYBE'"),
    ({"objectLockRetainUntil": "soon"}, "not a time: 'soon'"),
    ({"move": "perhaps"}, "not a boolean: 'perhaps'"),
])
def test_bad_lock_and_move_arguments_are_refused_by_name(arguments, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        CopyOptions().merged(arguments)


def test_the_command_line_names_the_flags():
    assert flag_names("object_lock_mode and object_lock_retain_until go together") == (
        "--object-lock-mode and --object-lock-retain-until go together")


def test_submit_sends_the_move_and_lock_asked_and_still_fits_s3_batchs_ten_arguments():
    """S3 Batch takes at most 10 UserArguments (CreateJob): the destination, the five new
    options and four more given still fit."""
    options = CopyOptions(destination_bucket="archive", destination_prefix="moved/", storage_class="GLACIER_IR",
                          move=True, object_lock="keep", object_lock_mode="COMPLIANCE",
                          object_lock_retain_until=FUTURE, legal_hold="ON", requester_pays=True, part_size=128 << 20)
    given = ["destination_prefix", "storage_class", "move", "object_lock", "object_lock_mode",
             "object_lock_retain_until", "legal_hold", "requester_pays", "part_size"]
    arguments = job_arguments(options, given)
    assert len(arguments) == 10 and arguments["move"] == "true" and arguments["objectLock"] == "keep"
    with pytest.raises(SubmitError, match="at most 10 user arguments"):
        job_arguments(options, [*given, "verify"])


def test_submit_refuses_a_job_the_stack_would_refuse_task_by_task():
    moving, locking = CopyOptions(move=True), CopyOptions(object_lock="keep")
    assert "ALLOW_SOURCE_DELETES=true" in stack_problem({}, moving)
    assert stack_problem({"SourceDeleteRoleArn": "arn:aws:iam::1:role/r"}, moving) is None
    assert "OBJECT_LOCK=allowed or keep" in stack_problem({"ObjectLock": "off"}, locking)
    assert stack_problem({"ObjectLock": "allowed"}, locking) is None
    assert stack_problem(None, moving) is None, "ARNs given: the stack's outputs were not read"


def test_a_destination_without_object_lock_is_named():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="plain")
        s3.create_bucket(Bucket="vault", ObjectLockEnabledForBucket=True)
        assert lock_bucket_problem(s3, "vault") is None
        assert lock_bucket_problem(s3, "plain").startswith("destination bucket 'plain' does not have Object Lock")
        assert lock_destination_problem(s3, "plain", CopyOptions()) is None, "no lock asked"
        assert lock_destination_problem(s3, "plain", CopyOptions(legal_hold="ON"))
        assert lock_destination_problem(s3, "missing", CopyOptions(legal_hold="ON")) is None, "each task checks again"
