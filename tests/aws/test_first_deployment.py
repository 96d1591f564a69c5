"""What only a real job can settle: run these once on a first deployment
(docs/aws-rules.md, "Check on your first deployment"). When they run: tests/aws/conftest.py.

Each is a question the AWS documentation leaves open; each test fails, naming what it
saw, if AWS answers it the way MediaSync does not expect.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any, Iterator

import pytest

from mediasync.core.s3batch_task import execution_arn_in
from mediasync.core.settings import MiB
from tests.aws.conftest import AWS, JOB_ARGUMENTS, empty_prefix, run_s3_batch_job

pytestmark = AWS


@pytest.fixture
def prefix(session, stack) -> Iterator[str]:
    chosen = f"mediasync-first/{uuid.uuid4().hex[:8]}/"
    yield chosen
    empty_prefix(session.client("s3"), [stack["SourceBucketNames"].split(",")[0], stack["DestinationBucketName"],
                                        stack["ReportBucketName"], stack.get("ManifestBucketName")], chosen)


def arguments(stack: dict[str, str], prefix: str) -> dict[str, str]:
    return {**JOB_ARGUMENTS, "destinationBucket": stack["DestinationBucketName"], "destinationPrefix": prefix + "copy/"}


def test_s3_batch_assumes_the_role_under_its_source_account_condition(session, stack, prefix):
    """template.yaml's BatchOperationsRole trusts batchoperations.s3.amazonaws.com only with
    aws:SourceAccount equal to this account. The S3 Batch permissions page shows the trust
    policy without a condition (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html):
    if S3 Batch does not send aws:SourceAccount, no job can assume the role."""
    source = stack["SourceBucketNames"].split(",")[0]
    session.client("s3").put_object(Bucket=source, Key=prefix + "role.txt", Body=b"role check")

    status, rows = run_s3_batch_job(session, stack, [(source, prefix + "role.txt")], arguments(stack, prefix), prefix)

    assert status["Status"] == "Complete", (status.get("FailureReasons"), status["Status"])
    assert [row[3] for row in rows] == ["succeeded"], rows


def test_the_last_in_progress_message_reaches_the_completion_report(session, stack, prefix):
    """For TemporaryFailure "the result string is ignored. If this is the final redrive, the
    error message is included in the final report"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html).
    `mediasync status` reads the execution ARN from "InProgress: copy still running: <ARN>":
    batch_invoke answers it at once here (its margin set to nearly its whole timeout) while
    a slow copy runs (MEDIASYNC_AWS_SLOW_COPY_MIB MiB in 5 MiB parts, one at a time)."""
    lambda_client, s3 = session.client("lambda"), session.client("s3")
    source = stack["SourceBucketNames"].split(",")[0]
    size = int(os.environ.get("MEDIASYNC_AWS_SLOW_COPY_MIB", "5120")) * MiB
    _put_zeros(s3, source, prefix + "slow.mov", size)
    function = stack["BatchInvokeFunctionArn"]
    configuration = lambda_client.get_function_configuration(FunctionName=function)
    variables = dict(configuration["Environment"]["Variables"])
    lambda_client.update_function_configuration(FunctionName=function, Environment={"Variables": {
        **variables, "MEDIASYNC_INVOKE_TIME_MARGIN": str(configuration["Timeout"] - 5)}})
    try:
        lambda_client.get_waiter("function_updated_v2").wait(FunctionName=function)
        status, rows = run_s3_batch_job(session, stack, [(source, prefix + "slow.mov")],
                                        {**arguments(stack, prefix), "maxConcurrency": "1"}, prefix, timeout=7200)
    finally:
        lambda_client.update_function_configuration(FunctionName=function, Environment={"Variables": variables})
    [row] = rows
    if row[3] == "succeeded":
        pytest.skip("the copy ended before S3 Batch's last redrive: raise MEDIASYNC_AWS_SLOW_COPY_MIB and run again")
    assert execution_arn_in(row[-1]), f"the final report lost the InProgress message: {row}"


def test_fargate_on_demand_takes_jobs_the_spot_environment_cannot(session, stack):
    """The worker queue orders Fargate Spot, then on-demand Fargate. AWS Batch places jobs
    on compute environments in order by available capacity of the environment
    (https://docs.aws.amazon.com/batch/latest/userguide/job_queue_parameters.html), not by
    Spot capacity: with Spot scarce, jobs might wait RUNNABLE. Spot scarcity cannot be
    made to order: this checks the other half, that with the Spot environment unable to
    take a job (disabled) the on-demand one runs it."""
    queue = stack.get("WorkerJobQueueArn")
    if not queue:
        pytest.skip("the stack has no AWS Batch workers (deploy with WORKER_SUBNETS)")
    batch = session.client("batch")
    order = batch.describe_job_queues(jobQueues=[queue])["jobQueues"][0]["computeEnvironmentOrder"]
    spot, on_demand = (item["computeEnvironment"] for item in sorted(order, key=lambda item: item["order"]))
    clusters = {item["computeEnvironmentArn"]: item["ecsClusterArn"]
                for item in batch.describe_compute_environments(computeEnvironments=[spot, on_demand])["computeEnvironments"]}
    batch.update_compute_environment(computeEnvironment=spot, state="DISABLED")
    try:
        # The stack's worker definition (WorkerJobDefinition); given no group, it exits at once.
        job = batch.submit_job(jobName="mediasync-first-deployment", jobQueue=queue,
                               jobDefinition=f"{stack['StackName']}-worker")["jobId"]
        deadline = time.monotonic() + 1800
        while (described := batch.describe_jobs(jobs=[job])["jobs"][0])["status"] not in ("RUNNING", "SUCCEEDED", "FAILED"):
            assert time.monotonic() < deadline, f"job {job} still {described['status']}: {described.get('statusReason')}"
            time.sleep(15)
    finally:
        batch.update_compute_environment(computeEnvironment=spot, state="ENABLED")
    task = (described.get("container") or {}).get("taskArn") or ""
    # A Fargate task's ARN names its cluster: arn:...:task/<cluster>/<id>.
    assert clusters[on_demand].rsplit("/", 1)[-1] in task, (task, clusters)


def test_the_manifest_key_limit_applies_to_decoded_keys(session, stack, prefix):
    """"The maximum number of characters for the key field in the manifest is 1,024"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html). A
    manifest key is URL-encoded: 300 'é' are 600 bytes (S3 takes keys of up to 1,024) but
    1,800 characters encoded. If the limit counts the encoded field, such keys cannot be
    in a manifest, and `inventory` must say so."""
    source = stack["SourceBucketNames"].split(",")[0]
    key = prefix + "é" * 300 + ".mov"
    session.client("s3").put_object(Bucket=source, Key=key, Body=b"long name")

    status, rows = run_s3_batch_job(session, stack, [(source, key)], arguments(stack, prefix), prefix)

    assert status["Status"] == "Complete", (status.get("FailureReasons"), status["Status"])
    assert [row[3] for row in rows] == ["succeeded"], rows


def _put_zeros(s3: Any, bucket: str, key: str, size: int) -> None:
    """``size`` bytes in 5 MiB parts: UploadPartCopy of it copies one part at a time."""
    part = b"\0" * (5 * MiB)
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = [{"PartNumber": number, "ETag": s3.upload_part(Bucket=bucket, Key=key, UploadId=upload,
                                                           PartNumber=number, Body=part)["ETag"]}
             for number in range(1, size // len(part) + 1)]
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})

