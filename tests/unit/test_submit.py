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
