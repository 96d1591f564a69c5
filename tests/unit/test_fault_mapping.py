"""Which side a failure is about, and which worker exits AWS Batch runs again."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from mediasync.core import clients, steps
from mediasync.core.awsbatch_worker import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    GROUP_STATE_ENV,
    RETRY_STRATEGY,
    batch_retries,
    run_group,
)
from mediasync.core.copy import copy_single, create_upload
from mediasync.core.errors import (
    AccessDenied,
    BucketMissing,
    CredentialsRefused,
    DestinationMissing,
    S3ServiceError,
    SourceMissing,
    from_client_error,
    is_retryable,
)
from mediasync.core.plan import plan_copy
from mediasync.core.s3batch_task import TEMPORARY_FAILURE, BatchTask, TaskRunner
from mediasync.core.settings import CopyOptions, Settings, reset_settings
from mediasync.core.source import ObjectRef, SourceObject
from mediasync.testing.servers import free_port

SOURCE = SourceObject("src", "a.mov", None, 10, '"0123456789abcdef0123456789abcdef"')
DEST = ObjectRef("dst", "a.mov")


@pytest.fixture
def stubbed():
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(s3) as stubber:
        yield s3, stubber


def test_access_denied_on_a_copy_without_a_bucket_name_is_the_destination(stubbed):
    """AWS names no bucket; the source already passed HeadObject, so the destination refused."""
    s3, stubber = stubbed
    stubber.add_client_error("copy_object", "AccessDenied", "Access Denied", 403)
    with pytest.raises(AccessDenied, match="access denied to destination s3://dst/a.mov"):
        copy_single(s3, SOURCE, DEST)


class RefusingS3:
    """A client whose copy answers with one error document."""

    def __init__(self, **error: str) -> None:
        self.error = error

    def copy_object(self, **_: object) -> None:
        raise ClientError({"Error": self.error, "ResponseMetadata": {"HTTPStatusCode": 403}}, "CopyObject")


def test_errors_that_name_a_bucket_blame_that_side():
    with pytest.raises(AccessDenied, match="access denied to source s3://src/a.mov"):
        copy_single(RefusingS3(Code="AccessDenied", Message="Access Denied", BucketName="src"), SOURCE, DEST)
    with pytest.raises(BucketMissing, match="destination bucket 'dst'"):
        copy_single(RefusingS3(Code="NoSuchBucket", Message="gone", BucketName="dst"), SOURCE, DEST)
    with pytest.raises(BucketMissing, match="source bucket 'src'"):
        copy_single(RefusingS3(Code="NoSuchBucket", Message="gone", BucketName="src"), SOURCE, DEST)


class AnsweringS3(RefusingS3):
    def __init__(self, status: int, **error: str) -> None:
        super().__init__(**error)
        self.status = status

    def copy_object(self, **_: object) -> None:
        raise ClientError({"Error": self.error, "ResponseMetadata": {"HTTPStatusCode": self.status}}, "CopyObject")


def test_a_404_about_the_destination_is_never_source_missing():
    # moto's server answers a bare 404 (no S3 error body) to a destination key holding a
    # newline; a missing source answers NoSuchKey naming it.
    newline = ObjectRef("dst", "x\ny/a.mov")
    with pytest.raises(DestinationMissing, match="destination s3://dst/x\ny/a.mov answered 404.*control character"):
        copy_single(AnsweringS3(404, Code="404", Message="Not Found"), SOURCE, newline)
    with pytest.raises(SourceMissing, match="source s3://src/a.mov does not exist"):
        copy_single(AnsweringS3(404, Code="NoSuchKey", Message="gone", Key="a.mov"), SOURCE, DEST)
    error = ClientError({"Error": {"Code": "NoSuchKey"}, "ResponseMetadata": {"HTTPStatusCode": 404}}, "HeadObject")
    assert type(from_client_error(error, side="destination", bucket="dst", key="a.mov")) is DestinationMissing


def test_refused_credentials_are_named_not_blamed_on_the_source():
    with pytest.raises(CredentialsRefused, match=r"refused the credentials themselves \(InvalidAccessKeyId\)"):
        copy_single(AnsweringS3(403, Code="InvalidAccessKeyId", Message="no such key id"), SOURCE, DEST)


def test_create_upload_refused_is_the_destination(stubbed):
    s3, stubber = stubbed
    stubber.add_response("head_object", {"ContentLength": 10, "ContentType": "video/mp4"})
    stubber.add_response("get_object_tagging", {"TagSet": []})
    stubber.add_client_error("create_multipart_upload", "AccessDenied", "Access Denied", 403)
    with pytest.raises(AccessDenied, match="destination s3://dst/a.mov"):
        create_upload(s3, SOURCE, DEST)


@pytest.mark.parametrize(
    ("attempt", "exit_code", "reason", "retried"),
    [
        (1, EXIT_INTERRUPTED, "", True),  # SIGTERM on Spot reclaim
        (1, 137, "Host EC2 (instance i-0abc) terminated.", True),  # killed with the host
        (1, EXIT_FAILED, "Essential container in task exited", False),  # failed for its own reason
        (1, EXIT_OK, "", False),
        (RETRY_STRATEGY["attempts"], EXIT_INTERRUPTED, "", False),  # out of attempts
    ],
)
def test_batch_retry_strategy_runs_reclaimed_groups_again_only(attempt, exit_code, reason, retried):
    assert batch_retries(RETRY_STRATEGY, attempt, exit_code, reason) is retried


def test_batch_retries_when_no_rule_matches_as_aws_batch_does():
    strategy = {"attempts": 2, "evaluateOnExit": [{"onExitCode": "143", "action": "EXIT"}]}
    assert batch_retries(strategy, 1, 1) is True
    assert batch_retries(strategy, 1, 143) is False
    assert batch_retries(None, 1, 143) is False


def test_local_batch_retries_as_the_deployed_job_definition_says():
    """The local runtime's Batch emulation and template.yaml share one retry strategy."""
    import yaml

    class CloudFormation(yaml.SafeLoader):
        pass

    CloudFormation.add_multi_constructor("!", lambda loader, tag, node: None)
    template = yaml.load((Path(__file__).parents[2] / "template.yaml").read_text(), Loader=CloudFormation)
    [deployed] = [resource["Properties"]["RetryStrategy"] for resource in template["Resources"].values()
                  if resource["Type"] == "AWS::Batch::JobDefinition"]

    def camel(value):
        if isinstance(value, dict):
            return {key[:1].lower() + key[1:]: camel(item) for key, item in value.items()}
        return [camel(item) for item in value] if isinstance(value, list) else value

    assert camel(deployed) == RETRY_STRATEGY



@pytest.fixture
def unreachable_s3(monkeypatch):
    """S3 at a port nobody listens on, one attempt per call."""
    monkeypatch.setenv("MEDIASYNC_S3_MAX_ATTEMPTS", "1")
    reset_settings()
    credentials = {"aws_access_key_id": "x", "aws_secret_access_key": "y"}
    clients.CLIENTS.configure_s3(f"http://127.0.0.1:{free_port()}", credentials)
    yield
    clients.CLIENTS.reset()
    reset_settings()


def test_network_failure_in_a_state_is_a_named_transient_error_the_asl_retries(unreachable_s3):
    with pytest.raises(S3ServiceError, match="the network failed"):
        steps.inspect({"source": {"bucket": "src", "key": "a.mov"}})
    assert is_retryable("S3ServiceError")


def test_network_failure_in_batch_invoke_asks_s3_batch_to_try_again(unreachable_s3):
    outcome = TaskRunner(Settings()).run(BatchTask("job", "task", "src", "a.mov", user_arguments={
        "destinationBucket": "dst"}), remaining_ms=lambda: 60_000)
    assert (outcome.result_code, outcome.code) == (TEMPORARY_FAILURE, "S3ServiceError"), outcome


def test_worker_asks_batch_to_run_the_group_again_after_a_network_failure(unreachable_s3):
    state = {"group": 0, "destination": {"bucket": "dst", "key": "a.mov"}, "upload_id": "u",
             "source": SOURCE.to_state(), "options": {}, "plan": plan_copy(20 * 1024 * 1024, CopyOptions(
                 destination_bucket="dst", multipart_threshold=8 * 1024 * 1024, part_size=5 * 1024 * 1024)).to_state()}
    assert run_group({GROUP_STATE_ENV: json.dumps(state)}) == EXIT_INTERRUPTED
