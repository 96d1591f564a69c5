"""What AWS would refuse object by object, checked once before a job or a deployment.

A destination bucket whose default encryption is a customer managed KMS key makes
every copy into it need kms:GenerateDataKey and kms:Decrypt on that key
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions),
and HeadObject with ChecksumMode=ENABLED need kms:Decrypt
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html). The stack grants
a KMS key only as DestinationKmsKeyArn: with that empty, or another key, every copy
would fail AccessDenied. ``make install`` (deploy/preflight.py) and ``submit`` say so
first. Standard library only: deploy/preflight.py runs it outside the venv.
"""

from __future__ import annotations

from typing import Any

from mediasync.core.requested import same_kms_key

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
# The AWS managed key S3 uses when a bucket names aws:kms without a key of its own.
AWS_MANAGED_S3_KEY = "alias/aws/s3"


def default_kms_key(encryption: dict[str, Any] | None) -> str | None:
    """The customer managed key a GetBucketEncryption answer names as the bucket's
    default, or None (SSE-S3, or the AWS managed aws/s3 key)."""
    rules = ((encryption or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        key = default.get("KMSMasterKeyID")
        if default.get("SSEAlgorithm") in KMS_ALGORITHMS and key and not key.endswith(AWS_MANAGED_S3_KEY):
            return str(key)
    return None


def default_key_problem(bucket: str, encryption: dict[str, Any] | None, granted_key: str | None) -> str | None:
    """Why copies into ``bucket`` would be refused, given its GetBucketEncryption answer
    and the key the stack grants (DestinationKmsKeyArn; "" for none); None if they would not."""
    key = default_kms_key(encryption)
    if key is None or (granted_key and same_kms_key(granted_key, key) is not False):
        return None
    granted = f"DestinationKmsKeyArn is {granted_key}" if granted_key else "DestinationKmsKeyArn is empty"
    return (
        f"destination bucket {bucket} encrypts new objects with the KMS key {key} by default, and the stack's "
        f"roles may not use it ({granted}): every copy would fail AccessDenied (kms:GenerateDataKey), and the "
        f"skip-existing check too (kms:Decrypt). Set DESTINATION_KMS_KEY_ARN to that key's ARN and run make "
        "install again (the key policy must let this account's IAM grant it)"
    )


def bucket_encryption(s3: Any, bucket: str) -> dict[str, Any] | None:
    """GetBucketEncryption's answer, or None when it cannot be read (then nothing is claimed)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return s3.get_bucket_encryption(Bucket=bucket)
    except (ClientError, BotoCoreError):
        return None
