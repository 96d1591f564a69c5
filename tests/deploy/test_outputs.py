"""`make outputs`: what a source account grants is what the template's roles use."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

from mediasync.stack.permissions import (
    SOURCE_BUCKETS,
    SOURCE_KEY,
    SOURCE_OBJECT_DELETES,
    SOURCE_OBJECT_LOCKS,
    SOURCE_OBJECTS,
)
from tests.deploy.conftest import ROOT, as_list, of_type, statements

SCRIPT = ROOT / "deploy" / "outputs.py"


def load_outputs_module():
    spec = importlib.util.spec_from_file_location("deploy_outputs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def granted_on(resources, sid: str) -> tuple[set[str], set[str]]:
    """(roles, actions) of every statement with this Sid in the template."""
    roles, actions = set(), set()
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        for _, statement in statements(role):
            if statement["Sid"] == sid:
                roles.add(name)
                actions |= set(as_list(statement["Action"]))
    return roles, actions


def test_source_bucket_policy_grants_what_the_roles_use(template, resources):
    outputs = load_outputs_module()
    policy = outputs.bucket_policy("masters", ["arn:aws:iam::111122223333:role/r"])
    by_sid = {statement["Sid"]: statement for statement in policy["Statement"]}
    readers, object_actions = granted_on(resources, SOURCE_OBJECTS)
    assert set(by_sid["MediaSyncReadObjects"]["Action"]) == object_actions | granted_on(resources, SOURCE_OBJECT_LOCKS)[1]
    assert "MediaSyncMoveObjects" not in by_sid, "a stack that may not move is granted no delete"
    assert by_sid["MediaSyncReadObjects"]["Resource"] == "arn:aws:s3:::masters/*"
    assert set(by_sid["MediaSyncListBucket"]["Action"]) == granted_on(resources, SOURCE_BUCKETS)[1]
    assert set(outputs.key_policy_statement(["r"])["Action"]) == granted_on(resources, SOURCE_KEY)[1]
    # The stack's output names every role that reads sources, so the policy covers them all.
    listed = {item["Fn::GetAtt"][0] for item in template["Outputs"]["SourceReadRoleArns"]["Value"]["Fn::Join"][1]
              if "Fn::GetAtt" in item}
    listed |= {item["Fn::If"][1]["Fn::GetAtt"][0] for item in template["Outputs"]["SourceReadRoleArns"]["Value"]["Fn::Join"][1]
               if "Fn::If" in item}
    assert listed == readers


def test_a_stack_that_moves_is_granted_deletes_for_its_deleting_role_only(template, resources):
    outputs = load_outputs_module()
    deleter = "arn:aws:iam::111122223333:role/batch-invoke"
    policy = outputs.bucket_policy("masters", ["arn:aws:iam::111122223333:role/r", deleter], delete_role_arn=deleter)
    [move] = [statement for statement in policy["Statement"] if statement["Sid"] == "MediaSyncMoveObjects"]
    roles, actions = granted_on(resources, SOURCE_OBJECT_DELETES)
    assert move["Principal"] == {"AWS": [deleter]} and set(move["Action"]) == actions
    output = template["Outputs"]["SourceDeleteRoleArn"]
    assert output["Condition"] == "AllowsSourceDeletes" and {output["Value"]["Fn::GetAtt"][0]} == roles


def test_outputs_prints_console_values_and_the_cross_account_policy():
    stack = [
        {"OutputKey": "BatchInvokeFunctionArn", "OutputValue": "arn:aws:lambda:eu-west-1:111122223333:function:f"},
        {"OutputKey": "BatchOperationsRoleArn", "OutputValue": "arn:aws:iam::111122223333:role/s3batch"},
        {"OutputKey": "SourceReadRoleArns", "OutputValue": "arn:aws:iam::111122223333:role/a,arn:aws:iam::111122223333:role/b"},
        {"OutputKey": "SourceBucketNames", "OutputValue": "masters,proxies"},
    ]
    result = subprocess.run([sys.executable, str(SCRIPT)], input=json.dumps(stack), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "arn:aws:iam::111122223333:role/s3batch" in result.stdout
    assert "arn:aws:s3:::masters/*" in result.stdout and "arn:aws:s3:::proxies" in result.stdout


def test_outputs_without_a_stack_says_so():
    result = subprocess.run([sys.executable, str(SCRIPT)], input="", capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "make install" in result.stderr
