"""Every AWS call each deployed role makes, and the IAM actions that allows.

The one place a reviewer reads to know what MediaSync may do in an account.
``template.yaml`` must grant exactly these actions, statement by statement (the
statement ``Sid`` names the resource), and tests/deploy/test_iam_coverage.py
checks both directions: the template against this module, and the calls the
handlers and the worker really make (recorded while they copy on the local
runtime) against ``Role.calls``.

S3 facts behind the table (AWS "Actions, resources, and condition keys for
Amazon S3" and the S3 API reference): HeadObject is authorised by GetObject
(GetObjectVersion with a VersionId); without ListBucket on the bucket a missing
key answers 403 instead of 404, and MediaSync would report ``AccessDenied``
where the truth is ``SourceMissing``; CopyObject with ``TaggingDirective=COPY``
reads the source's tags and writes them; CreateMultipartUpload with
``Tagging`` needs PutObjectTagging; UploadPartCopy and CompleteMultipartUpload
are PutObject; ListParts is ListMultipartUploadParts. With SSE-KMS, reading a
source for a copy needs kms:Decrypt on its key; writing into SSE-KMS needs
kms:GenerateDataKey and kms:Decrypt on the destination's key, for CopyObject
("you must also have the kms:GenerateDataKey and kms:Decrypt permissions",
https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html) as for every
step of a multipart upload, since S3 decrypts the parts to complete it
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions).
A write that sets an ACL needs s3:PutObjectAcl as well as s3:PutObject
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html); the grant is
held by the s3:x-amz-acl condition key to the one canned ACL MediaSync sends.
Requester Pays sources need no action of their own: the requester's s3:GetObject
and s3:ListBucket, with RequestPayer on the request.

Moving and Object Lock (core.move, core.object_lock) are off unless the stack turns them
on, and so are their grants. A conditional delete (DeleteObject If-Match) "require[s]
both s3:DeleteObject and s3:GetObject"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-delete-enforce.html);
a delete without a version ID needs no s3:DeleteObjectVersion. HeadObject shows an
object's retention only with s3:GetObjectRetention and its legal hold only with
s3:GetObjectLegalHold, and answers without them rather than refusing; writing them on a
copy takes s3:PutObjectRetention and s3:PutObjectLegalHold; GetObjectLockConfiguration is
s3:GetBucketObjectLockConfiguration
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html).
"""

from __future__ import annotations

from dataclasses import dataclass

# Statement ids in template.yaml: each names the resource a statement covers.
SOURCE_OBJECTS = "SourceObjects"
SOURCE_BUCKETS = "SourceBuckets"
SOURCE_KEY = "SourceKmsKey"
SOURCE_OBJECT_LOCKS = "SourceObjectLocks"
SOURCE_OBJECT_DELETES = "SourceObjectDeletes"
DESTINATION_OBJECTS = "DestinationObjects"
DESTINATION_OBJECT_ACL = "DestinationObjectAcl"
DESTINATION_BUCKET = "DestinationBucket"
DESTINATION_KEY = "DestinationKmsKey"
DESTINATION_OBJECT_LOCKS = "DestinationObjectLocks"
DESTINATION_OBJECT_LOCK_STATUS = "DestinationObjectLockStatus"
DESTINATION_BUCKET_OBJECT_LOCK = "DestinationBucketObjectLock"
EXPRESS_MACHINE = "CopySmallStateMachine"
STANDARD_MACHINE = "CopyLargeStateMachine"
STANDARD_EXECUTIONS = "CopyLargeExecutions"
MAP_RUN_EXECUTIONS = "CopyLargeMapRunExecutions"
COPY_FUNCTIONS = "CopyFunctions"
BATCH_INVOKE_FUNCTION = "BatchInvokeFunction"
WORKER_QUEUE_AND_DEFINITION = "WorkerJobQueueAndDefinition"
WORKER_JOBS = "WorkerJobs"
BATCH_EVENTS_RULE = "BatchJobEventsRule"
WORKER_IMAGE = "WorkerImageRepository"
OWN_LOG_GROUP = "OwnLogGroup"
MANIFEST_OBJECTS = "ManifestObjects"
MANIFEST_BUCKET = "ManifestBucket"
REPORT_OBJECTS = "ReportObjects"
REPORT_BUCKET = "ReportBucket"
# Actions AWS authorises only on "Resource": "*" (no resource-level permissions).
LOG_DELIVERY = "LogDelivery"
BATCH_JOB_STATUS = "BatchJobStatus"
ECR_AUTHORIZATION = "EcrAuthorization"

# A job's destinationBucket may name the deployed DestinationBucket or one of
# AllowedDestinationBuckets (batch_invoke refuses any other): every statement on
# the destination covers both.
DESTINATION_SCOPE = ("DestinationBucket", "AllowedDestinationBuckets")

# What each resource statement must be scoped by: the template parameters or
# resource its ARN is built from (each one named). "*" only for the three
# statements above.
SCOPED_BY: dict[str, str | tuple[str, ...] | None] = {
    SOURCE_OBJECTS: "SourceBuckets",
    SOURCE_BUCKETS: "SourceBuckets",
    SOURCE_KEY: "SourceKmsKeyArns",
    SOURCE_OBJECT_LOCKS: "SourceBuckets",
    SOURCE_OBJECT_DELETES: "SourceBuckets",
    DESTINATION_OBJECTS: DESTINATION_SCOPE,
    DESTINATION_OBJECT_ACL: DESTINATION_SCOPE,
    DESTINATION_BUCKET: DESTINATION_SCOPE,
    DESTINATION_KEY: "DestinationKmsKeyArn",
    DESTINATION_OBJECT_LOCKS: DESTINATION_SCOPE,
    DESTINATION_OBJECT_LOCK_STATUS: DESTINATION_SCOPE,
    DESTINATION_BUCKET_OBJECT_LOCK: DESTINATION_SCOPE,
    EXPRESS_MACHINE: "CopySmallStateMachine",
    STANDARD_MACHINE: "AWS::StackName",
    STANDARD_EXECUTIONS: "AWS::StackName",
    MAP_RUN_EXECUTIONS: "AWS::StackName",
    COPY_FUNCTIONS: "CopyParts",  # CopyPartsFunction or, for the EXPRESS machine, CopyPartsExpressFunction
    BATCH_INVOKE_FUNCTION: "BatchInvokeFunction",
    WORKER_QUEUE_AND_DEFINITION: "WorkerJobQueue",
    WORKER_JOBS: "AWS::AccountId",
    BATCH_EVENTS_RULE: "AWS::AccountId",
    WORKER_IMAGE: "WorkerImageRepository",
    OWN_LOG_GROUP: "LogGroup",
    MANIFEST_OBJECTS: "ManifestBucket",
    MANIFEST_BUCKET: "ManifestBucket",
    REPORT_OBJECTS: "ReportBucket",
    REPORT_BUCKET: "ReportBucket",
    LOG_DELIVERY: None,
    BATCH_JOB_STATUS: None,
    ECR_AUTHORIZATION: None,
}

# Template conditions that switch statements on: KMS keys given, Batch deployed, source
# deletes allowed (AllowSourceDeletes), Object Lock on the copies (ObjectLock).
CONDITIONS = {
    SOURCE_KEY: "HasSourceKmsKey",
    DESTINATION_KEY: "HasDestinationKmsKey",
    SOURCE_OBJECT_DELETES: "AllowsSourceDeletes",
    SOURCE_OBJECT_LOCKS: "HasObjectLock",
    DESTINATION_OBJECT_LOCKS: "HasObjectLock",
    DESTINATION_OBJECT_LOCK_STATUS: "HasObjectLock",
    DESTINATION_BUCKET_OBJECT_LOCK: "HasObjectLock",
    WORKER_QUEUE_AND_DEFINITION: "DeployBatch",
    WORKER_JOBS: "DeployBatch",
    BATCH_JOB_STATUS: "DeployBatch",
    BATCH_EVENTS_RULE: "DeployBatch",
}


@dataclass(frozen=True)
class Grant:
    """Actions on one resource, and why (the API call or service feature)."""

    on: str
    actions: tuple[str, ...]
    because: str
    # The statement's IAM Condition block, as (operator, key, value) triples.
    when: tuple[tuple[str, str, str], ...] = ()

    def iam_condition(self) -> dict[str, dict[str, str]] | None:
        condition: dict[str, dict[str, str]] = {}
        for operator, key, value in self.when:
            condition.setdefault(operator, {})[key] = value
        return condition or None

    @property
    def condition(self) -> str | None:
        return CONDITIONS.get(self.on)


@dataclass(frozen=True)
class Role:
    """One IAM role in template.yaml: who assumes it and what it is allowed."""

    logical_id: str
    principal: str
    # Calls the code running under this role makes ("s3:HeadObject"), compared
    # with the calls recorded while it runs. Empty for roles AWS services use.
    calls: tuple[str, ...]
    grants: tuple[Grant, ...]

    def actions(self) -> set[tuple[str, str, str | None]]:
        """(statement id, action, condition) triples the template must grant exactly."""
        return {(grant.on, action, grant.condition) for grant in self.grants for action in grant.actions}


# -- grants several roles share --------------------------------------------------
def _read_source(because: str, *, tags: bool = False, data: bool = False, parts: bool = False) -> tuple[Grant, ...]:
    actions = ("s3:GetObject", "s3:GetObjectVersion")
    if tags:
        actions += ("s3:GetObjectTagging", "s3:GetObjectVersionTagging")
    if parts:
        actions += ("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes")
    grants = (Grant(SOURCE_OBJECTS, actions, because),)
    if data:
        grants += (Grant(SOURCE_KEY, ("kms:Decrypt",), f"{because} reads SSE-KMS sources"),)
    return grants


_SOURCE_LISTING = Grant(
    SOURCE_BUCKETS, ("s3:ListBucket",),
    "HeadObject, CopyObject and UploadPartCopy answer 404, not 403, for a missing source key (a source deleted "
    "mid-copy is reported missing, not as the destination's refusal); HeadBucket tells a missing bucket from it",
)
# HeadObject with ChecksumMode=ENABLED on an SSE-KMS object needs kms:Decrypt
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html), and so does
# a copy that asks for a checksum.
_DESTINATION_CHECKSUM = Grant(DESTINATION_KEY, ("kms:Decrypt",), "HeadObject ChecksumMode=ENABLED of an SSE-KMS copy")
_INSPECT_CALLS = ("s3:HeadObject", "s3:HeadBucket", "s3:GetObjectAttributes")
_INSPECT_BECAUSE = "HeadObject with its checksum, the part layout (GetObjectAttributes) of an uneven multipart source"
_DESTINATION_LISTING = Grant(
    DESTINATION_BUCKET, ("s3:ListBucket",), "HeadObject answers 404, not 403, for a destination not yet copied"
)
_LOCK_STATUS = ("s3:GetObjectRetention", "s3:GetObjectLegalHold")
_SOURCE_LOCKS = Grant(SOURCE_OBJECT_LOCKS, _LOCK_STATUS,
                      "HeadObject shows the source's Object Lock, which --object-lock keep copies")
_DESTINATION_LOCK_STATUS = Grant(DESTINATION_OBJECT_LOCK_STATUS, _LOCK_STATUS,
                                 "HeadObject shows the copy's Object Lock, which Verify and the skip-existing check "
                                 "compare with the lock asked")


def _lock_copies(because: str) -> Grant:
    return Grant(DESTINATION_OBJECT_LOCKS, ("s3:PutObjectRetention", "s3:PutObjectLegalHold"),
                 f"{because} with ObjectLockMode, ObjectLockRetainUntilDate, ObjectLockLegalHoldStatus")


def _logs() -> Grant:
    return Grant(OWN_LOG_GROUP, ("logs:CreateLogStream", "logs:PutLogEvents"), "Powertools logs and EMF metrics")


def _function(logical_id: str, calls: tuple[str, ...], *grants: Grant) -> Role:
    return Role(logical_id, "lambda.amazonaws.com", calls, (*grants, _logs()))


_COPY_PART = (
    *_read_source("UploadPartCopy", data=True),
    _SOURCE_LISTING,
    Grant(DESTINATION_OBJECTS, ("s3:PutObject",), "UploadPartCopy"),
    Grant(DESTINATION_KEY, ("kms:GenerateDataKey", "kms:Decrypt"), "UploadPartCopy into an SSE-KMS destination"),
)


def _object_acl(because: str) -> Grant:
    return Grant(
        DESTINATION_OBJECT_ACL,
        ("s3:PutObjectAcl",),
        f"{because} with ACL=bucket-owner-full-control (the acl option)",
        when=(("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"),),
    )

_LOG_DELIVERY = Grant(
    LOG_DELIVERY,
    (
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    ),
    "state machine logging to CloudWatch Logs (vended log delivery takes no resource ARN)",
)

# Handler directory under functions/ -> its role.
FUNCTION_ROLES: dict[str, Role] = {
    "batch_invoke": _function(
        "BatchInvokeFunctionRole",
        (*_INSPECT_CALLS, "states:StartSyncExecution", "states:StartExecution", "states:DescribeExecution",
         "s3:ListMultipartUploads", "s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObjectLockConfiguration"),
        *_read_source(_INSPECT_BECAUSE, data=True, parts=True),
        _SOURCE_LISTING,
        Grant(DESTINATION_OBJECTS, ("s3:GetObject", "s3:AbortMultipartUpload"),
              "HeadObject (skip objects already copied); abort the uploads an EXPRESS execution ended at its "
              "ceiling left open (no Catch runs there)"),
        Grant(DESTINATION_BUCKET, ("s3:ListBucket", "s3:ListBucketMultipartUploads"),
              "HeadObject answers 404, not 403, for a destination not yet copied; find the uploads an EXPRESS "
              "execution ended at its ceiling left open"),
        _DESTINATION_CHECKSUM,
        Grant(SOURCE_OBJECT_DELETES, ("s3:DeleteObject", *_LOCK_STATUS),
              "move: DeleteObject If-Match of a source whose copy is proved (with s3:GetObject, granted above); "
              "HeadObject shows the source's lock, and a locked source is kept"),
        _SOURCE_LOCKS,
        _DESTINATION_LOCK_STATUS,
        Grant(DESTINATION_BUCKET_OBJECT_LOCK, ("s3:GetBucketObjectLockConfiguration",),
              "GetObjectLockConfiguration: a destination without Object Lock is refused before any copy"),
        Grant(EXPRESS_MACHINE, ("states:StartSyncExecution",), "small objects"),
        Grant(STANDARD_MACHINE, ("states:StartExecution",), "large objects"),
        Grant(STANDARD_EXECUTIONS, ("states:DescribeExecution",), "wait for or re-attach to a large copy"),
    ),
    "inspect_source": _function(
        "InspectSourceFunctionRole",
        _INSPECT_CALLS,
        *_read_source(_INSPECT_BECAUSE, data=True, parts=True),
        _SOURCE_LISTING,
        _SOURCE_LOCKS,
    ),
    "copy_object": _function(
        "CopyObjectFunctionRole",
        ("s3:CopyObject",),
        *_read_source("CopyObject with TaggingDirective=COPY", tags=True, data=True),
        _SOURCE_LISTING,
        Grant(DESTINATION_OBJECTS, ("s3:PutObject", "s3:PutObjectTagging"), "CopyObject with TaggingDirective=COPY"),
        _object_acl("CopyObject"),
        _lock_copies("CopyObject"),
        Grant(DESTINATION_KEY, ("kms:GenerateDataKey", "kms:Decrypt"),
              "CopyObject into an SSE-KMS destination, with a checksum"),
    ),
    "create_upload": _function(
        "CreateUploadFunctionRole",
        ("s3:HeadObject", "s3:GetObjectTagging", "s3:CreateMultipartUpload", "s3:ListMultipartUploads",
         "s3:AbortMultipartUpload"),
        *_read_source("HeadObject IfMatch and GetObjectTagging", tags=True),
        _SOURCE_LISTING,
        Grant(
            DESTINATION_OBJECTS,
            ("s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"),
            "CreateMultipartUpload with Tagging; abort the upload of a create whose answer was lost and retried",
        ),
        Grant(
            DESTINATION_BUCKET,
            ("s3:ListBucketMultipartUploads",),
            "find the upload a retried CreateMultipartUpload created but never heard of",
        ),
        _object_acl("CreateMultipartUpload"),
        _lock_copies("CreateMultipartUpload"),
        Grant(DESTINATION_KEY, ("kms:GenerateDataKey", "kms:Decrypt"),
              "CreateMultipartUpload into an SSE-KMS destination, with a checksum"),
    ),
    "copy_parts": _function("CopyPartsFunctionRole", ("s3:UploadPartCopy",), *_COPY_PART),
    "complete_upload": _function(
        "CompleteUploadFunctionRole",
        ("s3:ListParts", "s3:CompleteMultipartUpload", "s3:HeadObject", "s3:GetObjectAttributes"),
        *_read_source("GetObjectAttributes: the source's part checksums where ListParts lacks the copy's", parts=True),
        Grant(
            DESTINATION_OBJECTS,
            ("s3:ListMultipartUploadParts", "s3:PutObject", "s3:GetObject"),
            "ListParts, CompleteMultipartUpload, HeadObject when a retried completion finds the upload done",
        ),
        _DESTINATION_LISTING,
        Grant(DESTINATION_KEY, ("kms:GenerateDataKey", "kms:Decrypt"), "CompleteMultipartUpload with SSE-KMS"),
    ),
    "verify_copy": _function(
        "VerifyCopyFunctionRole",
        ("s3:HeadObject", "s3:DeleteObject"),
        Grant(
            DESTINATION_OBJECTS,
            ("s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject", "s3:DeleteObjectVersion"),
            "HeadObject of the pinned copy; DeleteObject of a copy that differs",
        ),
        _DESTINATION_LISTING,
        _DESTINATION_CHECKSUM,
        _DESTINATION_LOCK_STATUS,
    ),
    "abort_upload": _function(
        "AbortUploadFunctionRole",
        ("s3:AbortMultipartUpload", *_INSPECT_CALLS),
        Grant(DESTINATION_OBJECTS, ("s3:AbortMultipartUpload",), "AbortMultipartUpload"),
        *_read_source("HeadObject (did the source change or vanish?)", data=True, parts=True),
        _SOURCE_LISTING,
    ),
}

WORKER_JOB_ROLE = Role("WorkerJobRole", "ecs-tasks.amazonaws.com", ("s3:UploadPartCopy",), _COPY_PART)

# Roles AWS services assume on our behalf: no code of ours runs under them.
SERVICE_ROLES: tuple[Role, ...] = (
    Role(
        "WorkerExecutionRole",
        "ecs-tasks.amazonaws.com",
        (),
        (
            Grant(ECR_AUTHORIZATION, ("ecr:GetAuthorizationToken",), "Fargate pulls the worker image"),
            Grant(
                WORKER_IMAGE,
                ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"),
                "Fargate pulls the worker image",
            ),
            Grant(OWN_LOG_GROUP, ("logs:CreateLogStream", "logs:PutLogEvents"), "awslogs driver"),
        ),
    ),
    Role(
        "CopySmallStateMachineRole",
        "states.amazonaws.com",
        (),
        (
            Grant(COPY_FUNCTIONS, ("lambda:InvokeFunction",), "the lambda:invoke Task states"),
            _LOG_DELIVERY,
        ),
    ),
    Role(
        "CopyLargeStateMachineRole",
        "states.amazonaws.com",
        (),
        (
            Grant(COPY_FUNCTIONS, ("lambda:InvokeFunction",), "the lambda:invoke Task states"),
            Grant(STANDARD_MACHINE, ("states:StartExecution",), "the Distributed Map starts child executions"),
            Grant(
                MAP_RUN_EXECUTIONS,
                ("states:DescribeExecution", "states:StopExecution"),
                "the Distributed Map watches and stops its child executions",
            ),
            Grant(WORKER_QUEUE_AND_DEFINITION, ("batch:SubmitJob",), "the batch:submitJob.sync Task state"),
            Grant(WORKER_JOBS, ("batch:TerminateJob",), "submitJob.sync stops the job of a stopped execution"),
            Grant(BATCH_JOB_STATUS, ("batch:DescribeJobs",), "submitJob.sync polls the job"),
            Grant(
                BATCH_EVENTS_RULE,
                ("events:PutTargets", "events:PutRule", "events:DescribeRule"),
                "submitJob.sync learns of job completion through a managed EventBridge rule",
            ),
            _LOG_DELIVERY,
        ),
    ),
    Role(
        "BatchOperationsRole",
        "batchoperations.s3.amazonaws.com",
        (),
        (
            Grant(BATCH_INVOKE_FUNCTION, ("lambda:InvokeFunction",), "the job's LambdaInvoke operation"),
            Grant(SOURCE_BUCKETS, ("s3:ListBucket",),
                  "a job's ManifestGenerator lists the source (submit --source); its manifest goes to the report bucket"),
            Grant(MANIFEST_OBJECTS, ("s3:GetObject", "s3:GetObjectVersion"), "read the manifest"),
            Grant(MANIFEST_BUCKET, ("s3:GetBucketLocation",), "read the manifest"),
            Grant(REPORT_OBJECTS, ("s3:PutObject",), "write the completion report"),
            Grant(REPORT_BUCKET, ("s3:GetBucketLocation",), "write the completion report"),
        ),
    ),
)

ROLES: dict[str, Role] = {
    role.logical_id: role for role in (*FUNCTION_ROLES.values(), WORKER_JOB_ROLE, *SERVICE_ROLES)
}
