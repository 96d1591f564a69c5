"""Print a MediaSync stack's outputs for the S3 Batch console, and what a source
account must grant when the source buckets live in another account.

    aws cloudformation describe-stacks --stack-name mediasync \
        --query Stacks[0].Outputs --output json | python deploy/outputs.py

(`make outputs` runs exactly that.) The actions granted come from
src/mediasync/stack/permissions.py, the same table the template is checked against.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from mediasync.stack.permissions import (
    ROLES,
    SOURCE_BUCKETS,
    SOURCE_KEY,
    SOURCE_OBJECT_DELETES,
    SOURCE_OBJECT_LOCKS,
    SOURCE_OBJECTS,
)

CONSOLE_OUTPUTS = (
    ("BatchInvokeFunctionArn", "S3 Batch job, operation 'Invoke AWS Lambda function' (schema 2.0)"),
    ("BatchOperationsRoleArn", "S3 Batch job, permissions: IAM role"),
    ("ReportBucketName", "S3 Batch job, completion report bucket"),
    ("ManifestBucketName", "bucket the job's role may read manifests from"),
    ("CopyLargeStateMachineArn", "large objects: executions and Map Runs (Step Functions console)"),
    ("CopySmallStateMachineArn", "small objects: EXPRESS, read its CloudWatch log group"),
    ("DashboardUrl", "CloudWatch dashboard"),
    ("WorkerImageRepositoryUri", "make publish pushes the Batch worker image here"),
)


def source_actions(resource: str) -> list[str]:
    """Every action any MediaSync role is granted on the source resource ``resource``."""
    return sorted({action for role in ROLES.values() for grant in role.grants if grant.on == resource for action in grant.actions})


def bucket_policy(bucket: str, role_arns: list[str], partition: str = "aws", delete_role_arn: str = "") -> dict:
    """Statements for the source bucket's policy, in the account that owns it; with
    ``delete_role_arn`` (a stack that may move), that role may delete its objects too."""
    principal = {"AWS": role_arns}
    statements = [
        {
            "Sid": "MediaSyncReadObjects",
            "Effect": "Allow",
            "Principal": principal,
            # Lock status only shows where the stack's own grants let it (ObjectLock, AllowSourceDeletes).
            "Action": sorted({*source_actions(SOURCE_OBJECTS), *source_actions(SOURCE_OBJECT_LOCKS)}),
            "Resource": f"arn:{partition}:s3:::{bucket}/*",
        },
        {
            "Sid": "MediaSyncListBucket",
            "Effect": "Allow",
            "Principal": principal,
            "Action": source_actions(SOURCE_BUCKETS),
            "Resource": f"arn:{partition}:s3:::{bucket}",
        },
    ]
    if delete_role_arn:
        statements.append({
            "Sid": "MediaSyncMoveObjects",
            "Effect": "Allow",
            "Principal": {"AWS": [delete_role_arn]},
            "Action": source_actions(SOURCE_OBJECT_DELETES),
            "Resource": f"arn:{partition}:s3:::{bucket}/*",
        })
    return {"Version": "2012-10-17", "Statement": statements}


def key_policy_statement(role_arns: list[str]) -> dict:
    """A statement to add to the source's KMS key policy (SSE-KMS sources only)."""
    return {
        "Sid": "MediaSyncDecryptSources",
        "Effect": "Allow",
        "Principal": {"AWS": role_arns},
        "Action": source_actions(SOURCE_KEY),
        "Resource": "*",
    }


def render(outputs: dict[str, str]) -> str:
    lines = []
    width = max(len(name) for name, _ in CONSOLE_OUTPUTS)
    for name, use in CONSOLE_OUTPUTS:
        if outputs.get(name):
            lines += [f"{name:<{width}}  {outputs[name]}", f"{'':<{width}}  ({use})"]
    roles = [arn for arn in outputs.get("SourceReadRoleArns", "").split(",") if arn]
    buckets = [name for name in outputs.get("SourceBucketNames", "").split(",") if name]
    if roles:
        partition = roles[0].split(":")[1]
        lines += ["", "Source buckets in another account: add to each one's bucket policy (in that account):"]
        for bucket in buckets or ["SOURCE-BUCKET"]:
            policy = bucket_policy(bucket, roles, partition, outputs.get("SourceDeleteRoleArn", ""))
            lines += [f"--- s3://{bucket}", json.dumps(policy, indent=2)]
        lines += [
            "",
            "SSE-KMS sources in another account: add this statement to the key policy, and deploy with",
            "SOURCE_KMS_KEY_ARNS set to the key ARNs:",
            json.dumps(key_policy_statement(roles), indent=2),
        ]
    return "\n".join(lines)


def main() -> int:
    text = sys.stdin.read().strip()
    try:
        items = json.loads(text) if text else None
    except ValueError:
        items = None
    if not items:
        print("no stack outputs: is the stack deployed (make install) in this region?", file=sys.stderr)
        return 1
    print(render({item["OutputKey"]: item["OutputValue"] for item in items}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
