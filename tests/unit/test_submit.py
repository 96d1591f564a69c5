"""`mediasync submit`: the create_job request as data, and the ARNs it takes from the stack."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from mediasync.cli import main
from mediasync.core.settings import CopyOptions
from mediasync.local.runner import user_arguments as runner_arguments
from mediasync.stack.submit import ManifestLocation, SubmitError, create_job_request, resolve_arns

FUNCTION = "arn:aws:lambda:eu-west-1:111122223333:function:mediasync-batch-invoke"
ROLE = "arn:aws:iam::111122223333:role/mediasync-batch-operations"


def request_for(manifest: ManifestLocation, **extra: Any) -> dict:
    options = CopyOptions(destination_bucket="archive", destination_prefix="2026/", part_size=128 * 2**20)
    return create_job_request(account_id="111122223333", manifest=manifest, options=options, function_arn=FUNCTION,
                              role_arn=ROLE, report_bucket="jobs", client_token="token-1", **extra)


def test_a_versioned_csv_manifest_is_located_by_arn_etag_and_version():
    request = request_for(ManifestLocation("jobs", "m/all.csv", "abc", "v7", ("Bucket", "Key", "VersionId")))

    assert request["Manifest"] == {
        "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key", "VersionId"]},
        "Location": {"ObjectArn": "arn:aws:s3:::jobs/m/all.csv", "ETag": "abc", "ObjectVersionId": "v7"},
    }
    assert request["Operation"]["LambdaInvoke"] == {
        "FunctionArn": FUNCTION, "InvocationSchemaVersion": "2.0",
        "UserArguments": runner_arguments(CopyOptions(destination_bucket="archive", destination_prefix="2026/",
                                                      part_size=128 * 2**20)),
    }
    assert request["Report"] == {"Bucket": "arn:aws:s3:::jobs", "Format": "Report_CSV_20180820", "Enabled": True,
                                 "Prefix": "mediasync-reports", "ReportScope": "AllTasks"}
    assert request["ClientRequestToken"] == "token-1" and request["RoleArn"] == ROLE


def test_only_the_options_given_are_sent_so_the_stack_settings_apply_to_the_rest():
    request = request_for(ManifestLocation("jobs", "m.csv", "abc", None, ("Bucket", "Key")),
                          given_options=["part_size", "destination_prefix"])

    assert request["Operation"]["LambdaInvoke"]["UserArguments"] == {
        "destinationBucket": "archive", "destinationPrefix": "2026/", "partSize": str(128 * 2**20)}


def test_an_inventory_manifest_has_no_field_list():
    request = request_for(ManifestLocation("inv", "media/all/2026-11-25T01-00Z/manifest.json", "e", None, ()),
                          report_scope="FailedTasksOnly")

    assert request["Manifest"]["Spec"] == {"Format": "S3InventoryReport_CSV_20161130"}
    assert request["Report"]["ReportScope"] == "FailedTasksOnly"


def test_arns_not_given_come_from_the_stack_outputs_and_a_missing_one_is_named():
    outputs = {"BatchInvokeFunctionArn": FUNCTION, "BatchOperationsRoleArn": ROLE}

    assert resolve_arns(None, None, outputs) == (FUNCTION, ROLE)
    assert resolve_arns("arn:given", None, outputs) == ("arn:given", ROLE)
    with pytest.raises(SubmitError, match="BatchOperationsRoleArn"):
        resolve_arns(None, None, {"BatchInvokeFunctionArn": FUNCTION})


def test_submit_without_a_deployed_stack_says_how_to_go_on(monkeypatch):
    cloudformation = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x",
                                           region_name="eu-west-1").client("cloudformation")
    stub = Stubber(cloudformation)
    stub.add_client_error("describe_stacks", "ValidationError", "Stack with id mediasync does not exist")
    stub.activate()
    monkeypatch.setattr("mediasync.stack.submit.aws_client", lambda service, region=None: {"cloudformation": cloudformation}[service])

    result = CliRunner().invoke(main, ["submit", "--manifest", "s3://jobs/m.csv", "--destination-bucket", "archive",
                                       "--report-bucket", "jobs"])

    assert result.exit_code == 2
    assert "Stack with id mediasync does not exist" in result.output and "--function-arn" in result.output


def test_submit_needs_the_manifest_in_s3(monkeypatch):
    monkeypatch.setattr("mediasync.stack.submit.aws_client", lambda service, region=None: object())

    result = CliRunner().invoke(main, ["submit", "--manifest", "local.csv", "--destination-bucket", "archive",
                                       "--report-bucket", "jobs", "--function-arn", FUNCTION, "--role-arn", ROLE])

    assert result.exit_code == 2 and "must be in S3" in result.output


@pytest.mark.parametrize("schema, all_versions", [
    ("Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size", True),
    ("Bucket, Key, VersionId, Size", False),
])
def test_submit_says_what_an_all_versions_inventory_will_do_before_the_job_exists(schema, all_versions):
    """S3 Batch makes a task of every version row of an all-versions inventory and fails
    those with an empty VersionId (https://docs.aws.amazon.com/AmazonS3/latest/userguide/inventory-configure-bops.html)."""
    import json

    from moto import mock_aws

    from mediasync.stack.submit import locate_manifest, manifest_notes

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="inv")
        s3.put_object(Bucket="inv", Key="media/all/manifest.json", Body=json.dumps({
            "sourceBucket": "media", "destinationBucket": "arn:aws:s3:::inv", "fileFormat": "CSV",
            "fileSchema": schema, "files": [{"key": "media/all/data/0.csv.gz", "size": 1, "MD5checksum": "x"}]}))
        location = locate_manifest(s3, "s3://inv/media/all/manifest.json")

    notes = manifest_notes(location, CopyOptions(destination_bucket="archive"))
    assert location.all_versions is all_versions
    assert bool(notes) is all_versions
    if all_versions:
        assert "only current versions are copied" in notes[0] and "inventory-configure-bops" in notes[0]


@pytest.mark.parametrize("outputs, job_key, refused", [
    ({}, "", True),
    ({"DestinationKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/dflt"}, "", False),
    ({}, "arn:aws:kms:us-east-1:123456789012:key/job", False),
    (None, "", False),  # ARNs given, the stack not read: nothing known to check against
])
def test_submit_refuses_a_destination_whose_default_kms_key_the_stack_does_not_grant(outputs, job_key, refused):
    """Copies into a bucket encrypting with a customer managed key need kms:GenerateDataKey
    and kms:Decrypt on it (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html)."""
    from moto import mock_aws

    from mediasync.stack.submit import destination_problem

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="archive")
        s3.put_bucket_encryption(Bucket="archive", ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                    "KMSMasterKeyID": "arn:aws:kms:us-east-1:123456789012:key/dflt"}}]})
        s3.create_bucket(Bucket="plain")
        problem = destination_problem(s3, "archive", outputs, CopyOptions(destination_bucket="archive",
                                                                          sse_kms_key_id=job_key))
        assert destination_problem(s3, "plain", {}, CopyOptions(destination_bucket="plain")) is None

    assert bool(problem) is refused
    if refused:
        assert "key/dflt" in problem and "DESTINATION_KMS_KEY_ARN" in problem


@pytest.mark.parametrize("partition", ["aws", "aws-us-gov", "aws-cn"])
def test_s3_arns_are_built_in_the_partition_of_the_function(partition):
    """ARNs name their partition (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html):
    an arn:aws: manifest or report ARN is refused in GovCloud and China."""
    function = FUNCTION.replace("arn:aws:", f"arn:{partition}:")
    options = CopyOptions(destination_bucket="archive")
    request = create_job_request(account_id="111122223333", manifest=ManifestLocation("jobs", "m.csv", "e", None, ("Bucket", "Key")),
                                 options=options, function_arn=function, role_arn=ROLE, report_bucket="jobs")
    assert request["Manifest"]["Location"]["ObjectArn"] == f"arn:{partition}:s3:::jobs/m.csv"
    assert request["Report"]["Bucket"] == f"arn:{partition}:s3:::jobs"


def test_more_than_ten_user_arguments_are_refused_before_create_job():
    """S3 Batch takes at most 10 UserArguments (the s3control CreateJob model)."""
    from mediasync.stack.submit import user_arguments

    options = CopyOptions(destination_bucket="archive", storage_class="STANDARD_IA", acl="bucket-owner-full-control",
                          requester_pays=True, verify="readback")
    with pytest.raises(SubmitError, match="at most 10 user arguments"):
        user_arguments(options)


def test_submit_source_asks_s3_batch_to_generate_the_manifest_into_the_report_bucket():
    """Nothing is asked of AWS for a generated manifest: the request is data (a report
    bucket given as an ARN names the manifests' bucket too)."""
    result = CliRunner().invoke(main, [
        "submit", "--source", "s3://media/masters/", "--exclude", "*", "--include", "*.mov", "--modified-after",
        "2026-01-31T18:00:00+01:00", "--destination-bucket", "archive", "--report-bucket", "arn:aws:s3:::jobs",
        "--function-arn", FUNCTION, "--role-arn", ROLE, "--dry-run"])

    assert result.exit_code == 0, result.output
    request = json.loads(result.stdout)
    assert "Manifest" not in request
    assert request["ManifestGenerator"] == {"S3JobManifestGenerator": {
        "SourceBucket": "arn:aws:s3:::media", "EnableManifestOutput": True,
        "ManifestOutputLocation": {"Bucket": "arn:aws:s3:::jobs", "ManifestFormat": "S3InventoryReport_CSV_20211130",
                                   "ManifestPrefix": "mediasync-manifests"},
        "Filter": {"KeyNameConstraint": {"MatchAnySuffix": [".mov"], "MatchAnyPrefix": ["masters/"]},
                   "CreatedAfter": "2026-01-31T17:00:00Z"}}}
    assert request["Operation"]["LambdaInvoke"]["UserArguments"] == {"destinationBucket": "archive"}


def test_submit_source_refuses_a_bucket_the_stack_may_not_read(monkeypatch):
    """Every task of such a job would fail AccessDenied on AWS's side: said before the job
    exists, from the stack's SourceBucketNames output."""
    from moto import mock_aws

    cloudformation = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x",
                                           region_name="eu-west-1").client("cloudformation")
    stub = Stubber(cloudformation)
    outputs = {"BatchInvokeFunctionArn": FUNCTION, "BatchOperationsRoleArn": ROLE, "SourceBucketNames": "media,promos"}
    for _ in range(2):
        stub.add_response("describe_stacks", {"Stacks": [{
            "StackName": "mediasync", "CreationTime": "2026-12-01T00:00:00Z", "StackStatus": "CREATE_COMPLETE",
            "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()]}]})
    stub.activate()

    def submit(source: str):
        return CliRunner().invoke(main, ["submit", "--source", source, "--destination-bucket", "archive",
                                         "--report-bucket", "jobs", "--dry-run"])

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="archive")
        clients = {"cloudformation": cloudformation, "s3": s3}
        monkeypatch.setattr("mediasync.stack.submit.aws_client", lambda service, region=None: clients[service])
        refused = submit("s3://archive-old/masters/")
        allowed = submit("s3://promos/trailers/")

    assert refused.exit_code == 2, refused.output
    assert ("source bucket 'archive-old' is not one the stack may read (SourceBuckets: media, promos)"
            in " ".join(refused.output.split()))
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.stdout)["ManifestGenerator"]["S3JobManifestGenerator"]["SourceBucket"] == "arn:aws:s3:::promos"
