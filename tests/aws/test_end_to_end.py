"""End to end on AWS: a deployed stack copies a small and a multipart object,
through batch_invoke directly and through a real S3 Batch Operations job.

Costs money and needs credentials, so it runs only when asked:
  MEDIASYNC_AWS_STACK=<name>   use that deployed stack (its first source bucket
                               and its destination bucket; objects under a
                               fresh mediasync-e2e/ prefix, removed afterwards)
  MEDIASYNC_AWS_DEPLOY=1       deploy a temporary stack with `make install` over two
                               new buckets, and remove all of it with `make clean`
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import time
import uuid
from typing import Any, Iterator

import boto3
import pytest
from botocore.exceptions import BotoCoreError

from mediasync.core.settings import MiB

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
pytestmark = [pytest.mark.aws, pytest.mark.skipif(_REASON is not None, reason=_REASON or "")]


def _outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])}


def _empty_and_delete(s3: Any, bucket: str) -> None:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})
    s3.delete_bucket(Bucket=bucket)


@pytest.fixture(scope="module")
def session() -> boto3.session.Session:
    return boto3.session.Session()


@pytest.fixture(scope="module")
def stack(session) -> Iterator[dict[str, str]]:
    cloudformation = session.client("cloudformation")
    if os.environ.get(STACK_ENV):
        yield _outputs(cloudformation, os.environ[STACK_ENV])
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
        outputs = _outputs(cloudformation, name)
        report_bucket = outputs["ReportBucketName"]
        yield outputs
    finally:
        # YES=1: make clean otherwise waits for an answer to sam delete's prompt.
        subprocess.run([*make, "clean", "YES=1"], cwd=ROOT, timeout=1800, stdin=subprocess.DEVNULL)
        for bucket in [*buckets, *([report_bucket] if report_bucket else [])]:
            _empty_and_delete(s3, bucket)


@pytest.fixture(scope="module")
def objects(session, stack) -> Iterator[dict[str, Any]]:
    """A small object and a 3-part multipart object under a fresh prefix."""
    s3 = session.client("s3")
    source = stack["SourceBucketNames"].split(",")[0]
    destination = stack["DestinationBucketName"]
    prefix = f"mediasync-e2e/{uuid.uuid4().hex[:8]}/"
    small = s3.put_object(Bucket=source, Key=prefix + "proxy one.mp4", Body=b"proxy" * 100, Metadata={"take": "1"})
    big_key = prefix + "master.mov"
    body = os.urandom(12 * MiB)
    upload = s3.create_multipart_upload(Bucket=source, Key=big_key, ContentType="video/quicktime")["UploadId"]
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=source, Key=big_key, UploadId=upload, PartNumber=n,
                                                     Body=body[start:start + 5 * MiB])["ETag"]}
             for n, start in enumerate(range(0, len(body), 5 * MiB), 1)]
    big = s3.complete_multipart_upload(Bucket=source, Key=big_key, UploadId=upload, MultipartUpload={"Parts": parts})
    yield {"source": source, "destination": destination, "prefix": prefix,
           "etags": {prefix + "proxy one.mp4": small["ETag"], big_key: big["ETag"]}}
    for bucket in (source, destination, stack["ReportBucketName"], stack.get("ManifestBucketName")):
        if not bucket:
            continue
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])


def _event(job: str, task: str, bucket: str, key: str, arguments: dict[str, str]) -> dict[str, Any]:
    from urllib.parse import quote_plus

    return {"invocationSchemaVersion": "2.0", "invocationId": f"inv-{task}",
            "job": {"id": job, "userArguments": arguments},
            "tasks": [{"taskId": task, "s3Bucket": bucket, "s3Key": quote_plus(key, safe="/"), "s3VersionId": None}]}


def test_batch_invoke_copies_small_and_multipart_objects_with_the_same_etag(session, stack, objects):
    lambda_client, s3 = session.client("lambda"), session.client("s3")
    arguments = {**JOB_ARGUMENTS, "destinationBucket": objects["destination"], "destinationPrefix": "direct/"}
    job = f"e2e-direct-{uuid.uuid4().hex[:8]}"
    for number, (key, etag) in enumerate(objects["etags"].items()):
        deadline = time.monotonic() + 900
        while True:
            response = lambda_client.invoke(FunctionName=stack["BatchInvokeFunctionArn"],
                                            Payload=json.dumps(_event(job, f"t{number}", objects["source"], key, arguments)))
            result = json.loads(response["Payload"].read())["results"][0]
            # TemporaryFailure "InProgress": a large copy still running; S3 Batch would call again.
            if result["resultCode"] != "TemporaryFailure" or time.monotonic() > deadline:
                break
            time.sleep(10)
        assert result["resultCode"] == "Succeeded", result
        copied = s3.head_object(Bucket=objects["destination"], Key="direct/" + key)
        assert copied["ETag"] == etag


def test_s3_batch_operations_job_reports_every_object_copied(session, stack, objects):
    s3, s3control = session.client("s3"), session.client("s3control")
    account = session.client("sts").get_caller_identity()["Account"]
    manifest_bucket = stack.get("ManifestBucketName") or stack["ReportBucketName"]
    from urllib.parse import quote_plus

    manifest_key = objects["prefix"] + "manifest.csv"
    rows = "".join(f"{objects['source']},{quote_plus(key, safe='/')}\n" for key in objects["etags"])
    manifest = s3.put_object(Bucket=manifest_bucket, Key=manifest_key, Body=rows.encode())
    partition = stack["BatchOperationsRoleArn"].split(":")[1]
    job = s3control.create_job(
        AccountId=account,
        ConfirmationRequired=False,
        Priority=10,
        RoleArn=stack["BatchOperationsRoleArn"],
        ClientRequestToken=uuid.uuid4().hex,
        Operation={"LambdaInvoke": {"FunctionArn": stack["BatchInvokeFunctionArn"], "InvocationSchemaVersion": "2.0",
                                    "UserArguments": {**JOB_ARGUMENTS, "destinationBucket": objects["destination"],
                                                      "destinationPrefix": "job/"}}},
        Manifest={"Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
                  "Location": {"ObjectArn": f"arn:{partition}:s3:::{manifest_bucket}/{manifest_key}", "ETag": manifest["ETag"].strip('"')}},
        Report={"Bucket": f"arn:{partition}:s3:::{stack['ReportBucketName']}", "Prefix": objects["prefix"] + "report",
                "Format": "Report_CSV_20180820", "Enabled": True, "ReportScope": "AllTasks"},
    )["JobId"]
    deadline = time.monotonic() + 1800
    while (status := s3control.describe_job(AccountId=account, JobId=job)["Job"])["Status"] not in ("Complete", "Failed", "Cancelled"):
        assert time.monotonic() < deadline, f"job {job} still {status['Status']}"
        time.sleep(15)
    assert status["Status"] == "Complete", status
    assert status["ProgressSummary"]["NumberOfTasksFailed"] == 0, status["ProgressSummary"]
    listed = s3.list_objects_v2(Bucket=stack["ReportBucketName"], Prefix=f"{objects['prefix']}report/job-{job}/results/")
    rows = [row for item in listed.get("Contents", []) for row in csv.reader(io.StringIO(
        s3.get_object(Bucket=stack["ReportBucketName"], Key=item["Key"])["Body"].read().decode()))]
    assert len(rows) == len(objects["etags"]) and all(row[3] == "succeeded" for row in rows), rows
    for key, etag in objects["etags"].items():
        assert s3.head_object(Bucket=objects["destination"], Key="job/" + key)["ETag"] == etag
