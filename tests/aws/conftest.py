"""Shared by the AWS suites (tests/aws): when they run, the stack they run on, and an S3
Batch Operations job helper. Costs money and needs credentials, so they run only when asked:
  MEDIASYNC_AWS_STACK=<name>   use that deployed stack (its first source bucket
                               and its destination bucket; objects under a
                               fresh prefix, removed afterwards)
  MEDIASYNC_AWS_DEPLOY=1       deploy a temporary stack with `make install` over two
                               new buckets, and remove all of it with `make clean`
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import time
import uuid
from typing import Any, Iterator

import boto3
import pytest
from botocore.exceptions import BotoCoreError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STACK_ENV = "MEDIASYNC_AWS_STACK"
DEPLOY_ENV = "MEDIASYNC_AWS_DEPLOY"
JOB_ARGUMENTS = {"multipartThreshold": "8MiB", "partSize": "5MiB", "partsPerGroup": "1", "worker": "lambda"}


def _skip_reason() -> str | None:
    deploy = os.environ.get(DEPLOY_ENV) == "1"
    if not os.environ.get(STACK_ENV) and not deploy:
        return (f"AWS end-to-end suite: set {STACK_ENV}=<deployed stack name>, or {DEPLOY_ENV}=1 to deploy "
                "a temporary stack (needs AWS credentials; see docs/aws.md)")
    try:
        credentials = boto3.session.Session().get_credentials()
    except BotoCoreError as err:
        return f"AWS end-to-end suite: AWS credentials unusable: {err}"
    if credentials is None:
        return "AWS end-to-end suite: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)"
    if deploy and not os.environ.get(STACK_ENV) and shutil.which("sam") is None:
        return f"{DEPLOY_ENV}=1 deploys with the AWS SAM CLI, which is not on PATH"
    return None


_REASON = _skip_reason()
# Each AWS test module sets ``pytestmark = AWS``.
AWS = [pytest.mark.aws, pytest.mark.skipif(_REASON is not None, reason=_REASON or "")]


def _outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])}


def _empty_and_delete(s3: Any, bucket: str) -> None:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})
    s3.delete_bucket(Bucket=bucket)


@pytest.fixture(scope="session")
def session() -> boto3.session.Session:
    return boto3.session.Session()


@pytest.fixture(scope="session")
def stack(session) -> Iterator[dict[str, str]]:
    cloudformation = session.client("cloudformation")
    if os.environ.get(STACK_ENV):
        yield {**_outputs(cloudformation, os.environ[STACK_ENV]), "StackName": os.environ[STACK_ENV]}
        return
    s3 = session.client("s3")
    run = uuid.uuid4().hex[:8]
    name, buckets = f"mediasync-e2e-{run}", [f"mediasync-e2e-{run}-src", f"mediasync-e2e-{run}-dst"]
    region = session.region_name
    for bucket in buckets:
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **extra)
    make = ["make", f"STACK_NAME={name}", f"AWS_REGION={region}", f"SOURCE_BUCKETS={buckets[0]}",
            f"DESTINATION_BUCKET={buckets[1]}", "MEDIASYNC_CONFIG=/dev/null"]
    report_bucket = None
    try:
        subprocess.run([*make, "install"], cwd=ROOT, check=True, timeout=1800)
        outputs = {**_outputs(cloudformation, name), "StackName": name}
        report_bucket = outputs["ReportBucketName"]
        yield outputs
    finally:
        # YES=1: make clean otherwise waits for an answer to sam delete's prompt.
        subprocess.run([*make, "clean", "YES=1"], cwd=ROOT, timeout=1800, stdin=subprocess.DEVNULL)
        for bucket in [*buckets, *([report_bucket] if report_bucket else [])]:
            _empty_and_delete(s3, bucket)




def empty_prefix(s3: Any, buckets: list[str | None], prefix: str) -> None:
    for bucket in buckets:
        if not bucket:
            continue
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])


def run_s3_batch_job(session: Any, stack: dict[str, str], rows: list[tuple[str, str]], arguments: dict[str, str],
                     prefix: str, *, timeout: float = 1800) -> tuple[dict[str, Any], list[list[str]]]:
    """An S3 Batch Operations job of the stack over CSV manifest ``rows`` (bucket, decoded
    key), waited for: its DescribeJob answer and its completion report's rows."""
    from urllib.parse import quote_plus

    s3, s3control = session.client("s3"), session.client("s3control")
    account = session.client("sts").get_caller_identity()["Account"]
    manifest_bucket = stack.get("ManifestBucketName") or stack["ReportBucketName"]
    manifest_key = prefix + "manifest.csv"
    body = "".join(f"{bucket},{quote_plus(key, safe='/')}\n" for bucket, key in rows)
    manifest = s3.put_object(Bucket=manifest_bucket, Key=manifest_key, Body=body.encode())
    partition = stack["BatchOperationsRoleArn"].split(":")[1]
    job = s3control.create_job(
        AccountId=account,
        ConfirmationRequired=False,
        Priority=10,
        RoleArn=stack["BatchOperationsRoleArn"],
        ClientRequestToken=uuid.uuid4().hex,
        Operation={"LambdaInvoke": {"FunctionArn": stack["BatchInvokeFunctionArn"], "InvocationSchemaVersion": "2.0",
                                    "UserArguments": arguments}},
        Manifest={"Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
                  "Location": {"ObjectArn": f"arn:{partition}:s3:::{manifest_bucket}/{manifest_key}",
                               "ETag": manifest["ETag"].strip('"')}},
        Report={"Bucket": f"arn:{partition}:s3:::{stack['ReportBucketName']}", "Prefix": prefix + "report",
                "Format": "Report_CSV_20180820", "Enabled": True, "ReportScope": "AllTasks"},
    )["JobId"]
    deadline = time.monotonic() + timeout
    while (described := s3control.describe_job(AccountId=account, JobId=job)["Job"])["Status"] not in (
            "Complete", "Failed", "Cancelled"):
        assert time.monotonic() < deadline, f"job {job} still {described['Status']}"
        time.sleep(15)
    listed = s3.list_objects_v2(Bucket=stack["ReportBucketName"], Prefix=f"{prefix}report/job-{job}/results/")
    report = [row for item in listed.get("Contents", []) for row in csv.reader(io.StringIO(
        s3.get_object(Bucket=stack["ReportBucketName"], Key=item["Key"])["Body"].read().decode()))]
    return described, report
