"""Create the S3 Batch Operations job that runs MediaSync on AWS.

One ``s3control.create_job`` call: a LambdaInvoke operation on the deployed
``batch_invoke`` function with invocation schema 2.0, the copy options as
``UserArguments`` (the same strings the local runner passes), the manifest
located by ARN and ETag, and a completion report for all tasks (the ``report``
command charts it). Function and role ARNs come from the deployed stack's
CloudFormation outputs unless given.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from typing import Any, Collection

from mediasync.core.object_lock import lock_bucket_problem, lock_requested
from mediasync.core.settings import CopyOptions, camel_case
from mediasync.core.settings import user_arguments as job_arguments
from mediasync.manifests.inventory_report import is_inventory_manifest, parse_inventory_manifest
from mediasync.manifests.locations import split_s3_url
from mediasync.manifests.s3batch_csv import ManifestError

STACK_OUTPUT_FUNCTION = "BatchInvokeFunctionArn"
STACK_OUTPUT_ROLE = "BatchOperationsRoleArn"
# Present only when the stack was given a destination KMS key.
STACK_OUTPUT_KMS_KEY = "DestinationKmsKeyArn"
# Present only when the stack may delete sources (AllowSourceDeletes=true).
STACK_OUTPUT_DELETE_ROLE = "SourceDeleteRoleArn"
# The stack's ObjectLock parameter: off, allowed or keep.
STACK_OUTPUT_OBJECT_LOCK = "ObjectLock"
STACK_OUTPUT_SOURCE_BUCKETS = "SourceBucketNames"
CSV_FORMAT = "S3BatchOperations_CSV_20180820"
INVENTORY_FORMAT = "S3InventoryReport_CSV_20161130"
GENERATED_FORMAT = "S3InventoryReport_CSV_20211130"
REPORT_FORMAT = "Report_CSV_20180820"
SCHEMA_VERSION = "2.0"
MAX_USER_ARGUMENTS = 10


def aws_client(service: str, region: str | None = None) -> Any:
    """A client for AWS itself (never an S3-compatible endpoint); tests replace this."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(service, region_name=region, config=Config(retries={"mode": "standard"}))


class SubmitError(Exception):
    """The job cannot be created as asked (missing ARN, unreadable manifest...)."""


@dataclass(frozen=True)
class ManifestLocation:
    bucket: str
    key: str
    etag: str
    version_id: str | None
    fields: tuple[str, ...]  # () for an inventory report
    # An "all versions" S3 Inventory report: a task for every version row.
    all_versions: bool = False

    def arn(self, partition: str) -> str:
        return f"arn:{partition}:s3:::{self.bucket}/{self.key}"

    @property
    def format(self) -> str:
        return CSV_FORMAT if self.fields else INVENTORY_FORMAT


@dataclass(frozen=True)
class GeneratedManifest:
    """A manifest S3 Batch Operations lists itself before the job runs (CreateJob's
    ``ManifestGenerator``): the source bucket, what its ``Filter`` keeps, and where the
    generated manifest is kept for the record (S3 Inventory-style, ``S3InventoryReport_CSV_20211130``)."""

    source_bucket: str
    filter: dict[str, Any]  # a JobManifestGeneratorFilter (manifests.filters.generator_filter)
    output_bucket: str
    output_prefix: str

    def request(self, partition: str) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "SourceBucket": f"arn:{partition}:s3:::{self.source_bucket}",
            "EnableManifestOutput": True,
            "ManifestOutputLocation": {"Bucket": report_bucket_arn(self.output_bucket, partition),
                                       "ManifestFormat": GENERATED_FORMAT},
        }
        if self.output_prefix:
            spec["ManifestOutputLocation"]["ManifestPrefix"] = self.output_prefix
        if self.filter:
            spec["Filter"] = self.filter
        return {"S3JobManifestGenerator": spec}


def manifest_request(manifest: ManifestLocation | GeneratedManifest, partition: str) -> dict[str, Any]:
    """CreateJob's ``Manifest`` (a manifest in S3) or ``ManifestGenerator`` (one S3 Batch lists)."""
    if isinstance(manifest, GeneratedManifest):
        return {"ManifestGenerator": manifest.request(partition)}
    location: dict[str, Any] = {"ObjectArn": manifest.arn(partition), "ETag": manifest.etag}
    if manifest.version_id:
        location["ObjectVersionId"] = manifest.version_id
    spec: dict[str, Any] = {"Format": manifest.format}
    if manifest.fields:
        spec["Fields"] = list(manifest.fields)
    return {"Manifest": {"Spec": spec, "Location": location}}


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as err:
        raise SubmitError(
            f"cannot read stack {stack_name!r}: {err.response.get('Error', {}).get('Message', err)}; "
            "deploy it (make install) or pass --function-arn and --role-arn"
        ) from err
    return {item["OutputKey"]: item["OutputValue"] for item in (stacks[0].get("Outputs") or [])} if stacks else {}


def resolve_arns(function_arn: str | None, role_arn: str | None, outputs: dict[str, str] | None) -> tuple[str, str]:
    outputs = outputs or {}
    function_arn = function_arn or outputs.get(STACK_OUTPUT_FUNCTION)
    role_arn = role_arn or outputs.get(STACK_OUTPUT_ROLE)
    missing = [name for name, value in ((STACK_OUTPUT_FUNCTION, function_arn), (STACK_OUTPUT_ROLE, role_arn)) if not value]
    if missing:
        raise SubmitError(f"the stack has no output {', '.join(missing)}: pass --function-arn/--role-arn")
    return str(function_arn), str(role_arn)


def caller_account(sts: Any) -> str:
    """The account of the credentials in use (STS GetCallerIdentity)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return str(sts.get_caller_identity()["Account"])
    except (ClientError, BotoCoreError) as err:
        raise SubmitError(f"cannot tell which AWS account to use ({err}): pass --account-id") from err


def account_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


def locate_manifest(s3: Any, url: str) -> ManifestLocation:
    """HEAD the manifest for its ETag; for a CSV, read its first row for the field list."""
    from botocore.exceptions import ClientError

    if not url.startswith("s3://"):
        raise SubmitError(f"--manifest must be in S3 (s3://bucket/key), not {url!r}: S3 Batch reads it from there")
    try:
        bucket, key = split_s3_url(url)
    except ValueError as err:
        raise SubmitError(str(err)) from err
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
        if is_inventory_manifest(key):
            document = s3.get_object(Bucket=bucket, Key=key, **({"VersionId": head["VersionId"]} if head.get("VersionId") else {}))
            try:
                inventory = parse_inventory_manifest(document["Body"].read().decode("utf-8", errors="replace"), url)
            except ManifestError as err:
                raise SubmitError(str(err)) from err
            return ManifestLocation(bucket, key, head["ETag"].strip('"'), head.get("VersionId"), (),
                                    all_versions=inventory.all_versions)
        if not head.get("ContentLength"):
            raise SubmitError(f"{url} is empty: no object to copy")
        first = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-65535")["Body"].read()
    except ClientError as err:
        error = err.response.get("Error", {})
        raise SubmitError(f"cannot read manifest {url}: {error.get('Code')} {error.get('Message', '')}".strip()) from err
    line = first.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[:1]
    columns = next(csv.reader(io.StringIO(line[0])), []) if line else []
    if len(columns) not in (2, 3):
        raise SubmitError(f"{url} does not start with a bucket,key[,version-id] row: {line[:1]}")
    fields = ("Bucket", "Key", "VersionId")[: len(columns)]
    return ManifestLocation(bucket, key, head["ETag"].strip('"'), head.get("VersionId"), fields)


def destination_problem(s3: Any, bucket: str, outputs: dict[str, str] | None, options: CopyOptions) -> str | None:
    """Why every copy into ``bucket`` would be refused (its default KMS key is one the
    stack does not grant), read from the stack's outputs; None when they would not be,
    when the job names its own key, or when the stack's outputs were not read."""
    from mediasync.stack.preflight import bucket_encryption, default_key_problem

    if outputs is None or options.sse_kms_key_id:
        return None
    return default_key_problem(bucket, bucket_encryption(s3, bucket), outputs.get(STACK_OUTPUT_KMS_KEY, ""))


def stack_problem(outputs: dict[str, str] | None, options: CopyOptions) -> str | None:
    """Why every task would fail InvalidTask on this stack (it may not delete, or may not
    lock, and the job asks it), read from its outputs; None when the outputs were not read."""
    if outputs is None:
        return None
    if options.move and not outputs.get(STACK_OUTPUT_DELETE_ROLE):
        return ("--move deletes each source once its copy is proved, and this stack may not delete sources: deploy "
                "it with ALLOW_SOURCE_DELETES=true (make install), or submit without --move")
    if lock_requested(options) and outputs.get(STACK_OUTPUT_OBJECT_LOCK, "off") == "off":
        return ("the job asks Object Lock on its copies, and this stack may not set or read locks (ObjectLock=off): "
                "deploy it with OBJECT_LOCK=allowed or keep (make install), or submit without --object-lock, "
                "--object-lock-mode and --legal-hold")
    return None


def source_bucket_problem(outputs: dict[str, str] | None, bucket: str) -> str | None:
    """Why a job listing ``bucket`` would fail every task (the stack's roles may not read
    it: SourceBuckets), read from its outputs; None when they may, or were not read."""
    if outputs is None or STACK_OUTPUT_SOURCE_BUCKETS not in outputs:
        return None
    allowed = [name.strip() for name in outputs[STACK_OUTPUT_SOURCE_BUCKETS].split(",") if name.strip()]
    if bucket in allowed or "*" in allowed:
        return None
    return (f"source bucket {bucket!r} is not one the stack may read (SourceBuckets: {', '.join(allowed) or 'none'}): "
            "add it to SOURCE_BUCKETS and deploy again (make install), or copy from one of those")


def lock_destination_problem(s3: Any, bucket: str, options: CopyOptions) -> str | None:
    """Why no copy into ``bucket`` can carry the lock ``options`` ask (core.object_lock), or
    None; None too when it cannot be read with these credentials (each task checks again)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if not lock_requested(options):
        return None
    try:
        return lock_bucket_problem(s3, bucket)
    except (ClientError, BotoCoreError):
        return None


def manifest_notes(manifest: ManifestLocation, options: CopyOptions) -> list[str]:
    """What the job will do with this manifest that a user might not expect: said before
    the job is created."""
    if not manifest.all_versions:
        return []
    what = ("only current versions are copied: noncurrent versions and delete markers each end as a succeeded row "
            "saying why (NotCurrentVersion, DeleteMarker)" if options.skip_noncurrent else
            "skipNoncurrent is off: every version is copied to the same destination key, in no set order, so an "
            "older version may be the one left there")
    return [
        f"s3://{manifest.bucket}/{manifest.key} is an all-versions S3 Inventory report: S3 Batch makes a task of "
        f"every version row; {what}. Rows of null versions (objects written before versioning; their VersionId is "
        "empty) fail, as S3 Batch fails them: convert them to 'null' first "
        "(https://docs.aws.amazon.com/AmazonS3/latest/userguide/inventory-configure-bops.html) or use a "
        "current-versions inventory."
    ]


def user_arguments(options: CopyOptions, given: Collection[str] | None = None) -> dict[str, str]:
    """The job's UserArguments: the strings the local runner passes (S3 Batch keeps at most 10).

    With ``given`` (option names the user set), only those and the destination: the
    rest falls back to what the stack was deployed with, not to this CLI's defaults.
    """
    arguments = job_arguments(options, include=given or ())
    if given is not None:
        keep = {"destinationBucket", *(camel_case(name) for name in given)}
        arguments = {name: value for name, value in arguments.items() if name in keep}
    if len(arguments) > MAX_USER_ARGUMENTS:
        raise SubmitError(f"S3 Batch accepts at most {MAX_USER_ARGUMENTS} user arguments, not {len(arguments)}")
    return arguments


def partition_of(arn: str) -> str:
    """The partition an ARN is in: aws, aws-cn, aws-us-gov... S3 ARNs built for a job must
    be in the job's own (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html)."""
    parts = arn.split(":")
    if len(parts) < 3 or parts[0] != "arn" or not parts[1]:
        raise SubmitError(f"{arn!r} is not an ARN")
    return parts[1]


def report_bucket_arn(bucket: str, partition: str) -> str:
    return bucket if bucket.startswith("arn:") else f"arn:{partition}:s3:::{bucket}"


def create_job_request(
    *,
    account_id: str,
    manifest: ManifestLocation | GeneratedManifest,
    options: CopyOptions,
    given_options: Collection[str] | None = None,
    function_arn: str,
    role_arn: str,
    report_bucket: str,
    report_prefix: str = "mediasync-reports",
    report_scope: str = "AllTasks",
    priority: int = 10,
    confirmation_required: bool = False,
    description: str | None = None,
    client_token: str | None = None,
) -> dict[str, Any]:
    """The exact ``create_job`` parameters (pure: tested as data). S3 ARNs are built in
    the partition of the function the job invokes (GovCloud, China)."""
    partition = partition_of(function_arn)
    report: dict[str, Any] = {
        "Bucket": report_bucket_arn(report_bucket, partition),
        "Format": REPORT_FORMAT,
        "Enabled": True,
        "ReportScope": report_scope,
    }
    if report_prefix:
        report["Prefix"] = report_prefix
    return {
        "AccountId": account_id,
        "ConfirmationRequired": confirmation_required,
        "Operation": {
            "LambdaInvoke": {
                "FunctionArn": function_arn,
                "InvocationSchemaVersion": SCHEMA_VERSION,
                "UserArguments": user_arguments(options, given_options),
            }
        },
        "Report": report,
        "ClientRequestToken": client_token or str(uuid.uuid4()),
        **manifest_request(manifest, partition),
        "Description": (description or f"mediasync copy to s3://{options.destination_bucket}/{options.destination_prefix}")[:256],
        "Priority": priority,
        "RoleArn": role_arn,
    }


def submit_job(s3control: Any, request: dict[str, Any]) -> str:
    from botocore.exceptions import ClientError

    try:
        return s3control.create_job(**request)["JobId"]
    except ClientError as err:
        error = err.response.get("Error", {})
        raise SubmitError(f"create_job refused: {error.get('Code')}: {error.get('Message', '')}") from err
