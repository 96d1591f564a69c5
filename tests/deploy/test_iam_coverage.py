"""IAM in template.yaml is exactly src/mediasync/stack/permissions.py, and that table is
exactly what the code calls.

Two directions: each role's statements grant precisely the (resource, action)
pairs the table lists, scoped to the named buckets, machines and queue, with no
wildcard action; and the AWS calls each handler and the worker really make while
they copy (recorded on the local runtime, success and failure paths) are
precisely the calls the table lists for the role that runs them.
"""

from __future__ import annotations

import contextvars
import json
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest import mock

import boto3
import pytest

from mediasync.core import clients
from mediasync.core import copy as copy_module
from mediasync.core import source as source_module
from mediasync.core.settings import CopyOptions, MiB
from mediasync.local import runtime as runtime_module
from mediasync.local.runtime import FUNCTION_SUBSTITUTIONS, LocalRuntime
from mediasync.stack.permissions import (
    BATCH_JOB_STATUS,
    COPY_FUNCTIONS,
    DESTINATION_KEY,
    DESTINATION_OBJECTS,
    ECR_AUTHORIZATION,
    FUNCTION_ROLES,
    LOG_DELIVERY,
    MAP_RUN_EXECUTIONS,
    ROLES,
    SCOPED_BY,
    STANDARD_MACHINE,
    WORKER_JOB_ROLE,
    WORKER_QUEUE_AND_DEFINITION,
)
from tests.conftest import batch_event, put_multipart, put_parts
from tests.deploy.conftest import ROOT, as_list, asl_states, load_asl, of_type, references, statements
from tests.faults.aws_rules import bare_head_errors

UNSCOPED = {LOG_DELIVERY, BATCH_JOB_STATUS, ECR_AUTHORIZATION}


@pytest.fixture(scope="module")
def iam_roles(resources) -> dict[str, dict[str, Any]]:
    return of_type(resources, "AWS::IAM::Role")


def test_the_template_has_exactly_the_roles_permissions_lists(iam_roles):
    assert set(iam_roles) == set(ROLES)


@pytest.mark.parametrize("logical_id", sorted(ROLES))
def test_role_grants_exactly_what_permissions_lists(iam_roles, logical_id):
    role = iam_roles[logical_id]
    assert "ManagedPolicyArns" not in role["Properties"], "managed policies would grant more than the table"
    granted = set()
    for condition, statement in statements(role):
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        granted |= {(statement.get("Sid"), action, condition) for action in as_list(statement["Action"])}
    expected = ROLES[logical_id].actions()
    assert granted == expected, {"not in permissions.py": granted - expected, "missing": expected - granted}
    trusted = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [item["Principal"]["Service"] for item in trusted] == [ROLES[logical_id].principal]


def test_statement_conditions_are_exactly_the_ones_permissions_lists(iam_roles):
    for logical_id, role in iam_roles.items():
        expected = {grant.on: grant.iam_condition() for grant in ROLES[logical_id].grants}
        for _, statement in statements(role):
            assert statement.get("Condition") == expected[statement["Sid"]], f"{logical_id}/{statement['Sid']}"


def test_writing_roles_may_set_only_the_bucket_owner_full_control_acl(iam_roles):
    writers = {FUNCTION_ROLES["copy_object"].logical_id, FUNCTION_ROLES["create_upload"].logical_id}
    granting = {name for name, role in iam_roles.items() for _, statement in statements(role)
                if "s3:PutObjectAcl" in as_list(statement["Action"])}
    assert granting == writers
    for name in writers:
        [acl] = [s for _, s in statements(iam_roles[name]) if "s3:PutObjectAcl" in as_list(s["Action"])]
        assert acl["Condition"] == {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}


def test_roles_writing_an_sse_kms_destination_get_generate_data_key_and_decrypt_only_with_the_key(iam_roles):
    writers = {FUNCTION_ROLES[name].logical_id for name in ("copy_object", "create_upload", "copy_parts",
                                                            "complete_upload")} | {WORKER_JOB_ROLE.logical_id}
    for name in writers:
        [(condition, key)] = [(c, s) for c, s in statements(iam_roles[name]) if s["Sid"] == DESTINATION_KEY]
        assert condition == "HasDestinationKmsKey"
        assert set(as_list(key["Action"])) == {"kms:GenerateDataKey", "kms:Decrypt"}
        assert key["Resource"] == {"Ref": "DestinationKmsKeyArn"}


def test_no_action_is_a_wildcard(iam_roles):
    for name, role in iam_roles.items():
        for _, statement in statements(role):
            for action in as_list(statement["Action"]):
                service, _, verb = action.partition(":")
                assert service and verb and "*" not in action, f"{name}: {action}"


def test_resources_are_scoped_to_what_they_name(iam_roles):
    for name, role in iam_roles.items():
        for _, statement in statements(role):
            sid, resource = statement["Sid"], statement["Resource"]
            if sid in UNSCOPED:
                assert resource == "*"
                continue
            assert "*" not in as_list(resource), f"{name}/{sid} grants on every resource"
            names = references(resource)
            scopes = SCOPED_BY[sid]
            for scope in (scopes,) if isinstance(scopes, str) else scopes or ():
                assert any(scope in ref for ref in names), f"{name}/{sid} is not built from {scope}: {names}"


def test_each_function_runs_under_its_own_role_and_every_handler_is_deployed(resources):
    functions = of_type(resources, "AWS::Serverless::Function")
    deployed = {}
    for logical_id, function in functions.items():
        handler_dir = function["Properties"]["CodeUri"].strip("/").removeprefix("functions/")
        deployed[handler_dir] = function["Properties"]["Role"]["Fn::GetAtt"][0]
        assert "Policies" not in function["Properties"], f"{logical_id}: permissions belong to its role"
    handlers = {path.parent.name for path in (ROOT / "functions").glob("*/app.py")}
    assert set(deployed) == handlers == set(FUNCTION_ROLES)
    assert deployed == {name: role.logical_id for name, role in FUNCTION_ROLES.items()}


@pytest.mark.parametrize("logical_id", ["CopySmallStateMachine", "CopyLargeStateMachine"])
def test_state_machine_role_matches_its_definition(resources, logical_id):
    machine = resources[logical_id]["Properties"]
    definition = load_asl(machine["DefinitionUri"].removeprefix("statemachine/"))
    substitutions = machine["DefinitionSubstitutions"]
    used = {
        substitutions[key]["Fn::GetAtt"][0]
        for key in substitutions
        if key in FUNCTION_SUBSTITUTIONS and f"${{{key}}}" in json.dumps(definition)
    }
    role = resources[machine["Role"]["Fn::GetAtt"][0]]
    by_sid = {statement["Sid"]: statement for _, statement in statements(role)}
    invoked = {item["Fn::GetAtt"][0] for item in as_list(by_sid[COPY_FUNCTIONS]["Resource"])}
    assert invoked == used, "the machine may invoke exactly the functions its ASL names"
    kinds = {state.get("Resource") for state in asl_states(definition)}
    distributed = any(
        (state.get("ItemProcessor") or {}).get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
        for state in asl_states(definition)
    )
    assert ("arn:${Partition}:states:::batch:submitJob.sync" in kinds) == (WORKER_QUEUE_AND_DEFINITION in by_sid)
    assert distributed == (STANDARD_MACHINE in by_sid) == (MAP_RUN_EXECUTIONS in by_sid)
    if distributed:
        own_name = machine["Name"]["Fn::Sub"]
        started = by_sid[STANDARD_MACHINE]["Resource"]["Fn::Sub"]
        assert started.endswith(":stateMachine:" + own_name), "the Distributed Map starts executions of this machine"


# -- the calls the code really makes --------------------------------------------
CURRENT_ROLE: contextvars.ContextVar[str | None] = contextvars.ContextVar("role", default=None)
ARGS = {"destinationBucket": "dst", "multipartThreshold": str(8 * MiB), "partSize": str(5 * MiB), "partsPerGroup": "2"}


class _ContextThreadPool(ThreadPoolExecutor):
    """Part threads (copy_parts' copies, inspection's part heads) belong to the role of
    the handler that started them."""

    def submit(self, fn, /, *args, **kwargs):
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


def _as_role(role: str, function: Any) -> Any:
    def run(*args: Any, **kwargs: Any) -> Any:
        token = CURRENT_ROLE.set(role)
        try:
            return function(*args, **kwargs)
        finally:
            CURRENT_ROLE.reset(token)

    return run


@pytest.fixture(scope="module")
def recorded_calls() -> dict[str | None, set[str]]:
    """Run copies down every path and record each API call under the role that made it."""
    calls: dict[str | None, set[str]] = defaultdict(set)

    def record(model: Any, **_: Any) -> None:
        calls[CURRENT_ROLE.get()].add(f"{model.service_model.endpoint_prefix}:{model.name}")

    create = clients.Clients._create

    def create_recording(self: Any, service: str) -> Any:
        client = create(self, service)
        client.meta.events.register("before-parameter-build", record)
        if service == "s3":
            client.meta.events.register_first("before-send.s3.CreateMultipartUpload", _lose_first_create_answer())
            bare_head_errors(client)
        return client

    with (
        mock.patch.object(clients.Clients, "_create", create_recording),
        mock.patch.object(copy_module, "ThreadPoolExecutor", _ContextThreadPool),
        mock.patch.object(source_module, "ThreadPoolExecutor", _ContextThreadPool),
        LocalRuntime() as runtime,
        mock.patch.object(runtime_module, "run_group", _as_role(WORKER_JOB_ROLE.logical_id, runtime_module.run_group)),
    ):
        for name, handler in list(runtime.handlers.items()):
            runtime.handlers[name] = _as_role(FUNCTION_ROLES[name].logical_id, handler)
        _copy_down_every_path(runtime)
    return calls


def _lose_first_create_answer() -> Any:
    """S3 creates the upload of ``lost.mov`` but its answer never arrives: botocore
    retries, and CreateUpload must find and abort the upload it never heard of."""
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    lost: list[str] = []

    def send(request: Any, **_: Any) -> Any:
        if "/lost.mov?uploads" not in request.url or lost:
            return None
        unrecorded = boto3.client("s3", region_name="us-east-1")
        lost.append(unrecorded.create_multipart_upload(Bucket="dst", Key="lost.mov")["UploadId"])
        body = b"<Error><Code>InternalError</Code><Message>injected: answer lost</Message></Error>"
        return AWSResponse(request.url, 500, {}, MockRawResponse(body))

    return send


def _copy_down_every_path(runtime: LocalRuntime) -> None:
    s3 = boto3.client("s3", region_name=runtime.region)
    s3.create_bucket(Bucket="src")
    s3.create_bucket(Bucket="dst")
    for key in ("small.txt", "corrupt.txt"):
        s3.put_object(Bucket="src", Key=key, Body=b"proxy", Tagging="a=b")
    for key in ("big.mov", "on-batch.mov", "gone.mov", "lost.mov"):
        put_multipart(s3, "src", key, 12 * MiB, 5 * MiB)
    # Parts of 6, 5 and 2 MiB: the layout is read part by part (moto has no ObjectParts).
    for key in ("broken.mov", "uneven.mov"):
        put_parts(s3, "src", key, [6 * MiB, 5 * MiB, 2 * MiB])
    s3.create_bucket(Bucket="src-vanishing")
    put_multipart(s3, "src-vanishing", "vanishing.mov", 12 * MiB, 5 * MiB)
    # Small and multipart (EXPRESS, inline Map), and slow past a scaled-down EXPRESS
    # ceiling: batch_invoke aborts the upload no Catch did.
    put_multipart(s3, "src", "ceiling.mov", 7 * MiB, 5 * MiB)
    past_ceiling = threading.Event()
    copy_parts = runtime.handlers["copy_parts"]

    def slow_past_the_ceiling(event: dict, context: Any) -> Any:
        if event["destination"]["key"] != "ceiling.mov":
            return copy_parts(event, context)
        time.sleep(1.0)
        try:
            return copy_parts(event, context)
        finally:
            past_ceiling.set()

    runtime.handlers["copy_parts"] = slow_past_the_ceiling

    def faults(name: str, event: dict) -> None:
        key = (event.get("destination") or {}).get("key")
        if name == "verify_copy" and key == "corrupt.txt":
            s3.put_object(Bucket="dst", Key=key, Body=b"not the copy")
        if name == "copy_parts" and key == "broken.mov":
            raise RuntimeError("injected: the part group failed")
        if name == "copy_parts" and key == "vanishing.mov":
            # The source bucket is deleted mid-copy: Abort finds out why (HeadBucket).
            s3.delete_object(Bucket="src-vanishing", Key=key)
            s3.delete_bucket(Bucket="src-vanishing")
            raise RuntimeError("injected: the part group failed")
        if name == "complete_upload" and key == "gone.mov":
            # A retried completion whose first attempt did complete the upload.
            upload = event["upload"]["upload_id"]
            parts = s3.list_parts(Bucket="dst", Key=key, UploadId=upload)["Parts"]
            s3.complete_multipart_upload(
                Bucket="dst", Key=key, UploadId=upload,
                MultipartUpload={"Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]},
            )

    runtime.before_invoke = faults
    # Moved (DeleteObject) and copied with the source's Object Lock into a bucket that has it
    # (GetObjectLockConfiguration, and the lock on CopyObject and CreateMultipartUpload).
    s3.create_bucket(Bucket="dst-locked", ObjectLockEnabledForBucket=True)
    for key in ("moved.txt", "locked.txt"):
        s3.put_object(Bucket="src", Key=key, Body=b"proxy")
    put_multipart(s3, "src", "locked.mov", 12 * MiB, 5 * MiB)
    special = {"moved.txt": {"move": "true"}, "locked.txt": {"destinationBucket": "dst-locked", "legalHold": "on"},
               "locked.mov": {"destinationBucket": "dst-locked", "legalHold": "on"}}
    expected = {
        "small.txt": "Succeeded",
        "corrupt.txt": "PermanentFailure",
        "big.mov": "Succeeded",
        "on-batch.mov": "Succeeded",
        "broken.mov": "TemporaryFailure",  # S3 Batch redrives it: the next execution then
        "gone.mov": "Succeeded",
        "lost.mov": "Succeeded",
        "uneven.mov": "Succeeded",
        "no-such-bucket/any.mov": "PermanentFailure",
        "src-vanishing/vanishing.mov": "PermanentFailure",
        "ceiling.mov": "TemporaryFailure",
        "moved.txt": "Succeeded",
        "locked.txt": "Succeeded",
        "locked.mov": "Succeeded",
    }
    for task, (key, result_code) in enumerate(expected.items()):
        arguments = {**ARGS, "worker": "batch" if key == "on-batch.mov" else "lambda",
                     # The copy's answer would prove it: read back, to find the object changed since.
                     "verify": "readback" if key == "corrupt.txt" else "auto", **special.get(key, {})}
        bucket, key = key.split("/", 1) if "/" in key else ("src", key)
        runtime.express_ceiling_seconds = 0.5 if key == "ceiling.mov" else 300.0
        result = runtime.invoke("batch_invoke", batch_event("job-iam", f"t{task}", bucket, key, user_arguments=arguments))
        assert result["results"][0]["resultCode"] == result_code, result
    assert past_ceiling.wait(60), "the Lambda in flight at the ceiling ran on to its end"

    assert s3.list_multipart_uploads(Bucket="dst").get("Uploads", []) == [], "an upload was left open"

    # An execution started without a plan inspects the source itself.
    sfn = boto3.client("stepfunctions", region_name=runtime.region)
    options = CopyOptions.from_event(ARGS | {"destination_bucket": "dst", "worker": "lambda"}).to_event()
    arn = sfn.start_execution(
        stateMachineArn=runtime.state_machine_arns["copy_large"],
        input=json.dumps({"source": {"bucket": "src", "key": "big.mov"}, "destination": {"bucket": "dst", "key": "direct.mov"}, "options": options}),
    )["executionArn"]
    while (status := sfn.describe_execution(executionArn=arn)["status"]) == "RUNNING":
        time.sleep(0.02)
    assert status == "SUCCEEDED"
    for name, source, expected_status in (("uneven", {"bucket": "src", "key": "uneven.mov"}, "SUCCEEDED"),
                                          ("no-bucket", {"bucket": "no-such-bucket", "key": "any.mov"}, "FAILED")):
        arn = sfn.start_execution(
            stateMachineArn=runtime.state_machine_arns["copy_large"], name=name,
            input=json.dumps({"source": source, "destination": {"bucket": "dst", "key": "direct-2.mov"}, "options": options}),
        )["executionArn"]
        while (status := sfn.describe_execution(executionArn=arn)["status"]) == "RUNNING":
            time.sleep(0.02)
        assert status == expected_status

    _complete_a_composite_copy_without_listed_checksums(runtime, s3)


def _complete_a_composite_copy_without_listed_checksums(runtime: LocalRuntime, s3: Any) -> None:
    """A copy of a source with a composite checksum, on a server whose ListParts lacks
    the parts' checksums (SeaweedFS): Complete reads the source's (GetObjectAttributes).
    moto never labels a source composite, so the step is called as the machine would."""
    from mediasync.core.plan import plan_copy
    from mediasync.core.source import ObjectRef, inspect_source

    source = inspect_source(s3, ObjectRef("src", "big.mov"))
    plan = plan_copy(source.size, CopyOptions.from_event(ARGS), **source.plan_args())
    plan = type(plan)(**{**plan.__dict__, "checksum_algorithm": "CRC32", "checksum_type": "COMPOSITE"})
    upload = s3.create_multipart_upload(Bucket="dst", Key="composite.mov", ChecksumAlgorithm="CRC32")["UploadId"]
    for number in range(1, plan.part_count + 1):
        start, end = plan.layout.part_range(number)
        s3.upload_part_copy(Bucket="dst", Key="composite.mov", UploadId=upload, PartNumber=number,
                            CopySource={"Bucket": "src", "Key": "big.mov"}, CopySourceRange=f"bytes={start}-{end}")
    state = {"source": source.to_state(), "destination": {"bucket": "dst", "key": "composite.mov"},
             "plan": plan.to_state(), "upload": {"upload_id": upload}}
    runtime.invoke("complete_upload", state)


def test_every_call_is_made_under_a_deployed_role(recorded_calls):
    assert recorded_calls.get(None, set()) == set(), "calls made outside any handler or the worker"


@pytest.mark.parametrize("logical_id", sorted([role.logical_id for role in FUNCTION_ROLES.values()] + [WORKER_JOB_ROLE.logical_id]))
def test_role_lists_exactly_the_calls_its_code_makes(recorded_calls, logical_id):
    declared = set(ROLES[logical_id].calls)
    made = recorded_calls.get(logical_id, set())
    assert made == declared, {"made but not in permissions.py": made - declared, "listed but never made": declared - made}


def test_batch_invoke_allows_exactly_the_destinations_iam_grants(resources):
    """The buckets batch_invoke accepts are the ones the destination statements name."""
    variables = resources["BatchInvokeFunction"]["Properties"]["Environment"]["Variables"]
    assert references(variables["MEDIASYNC_ALLOWED_DESTINATION_BUCKETS"]) == set(SCOPED_BY[DESTINATION_OBJECTS])
