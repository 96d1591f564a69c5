"""template.yaml: lint-clean, and it declares what the design promises."""

from __future__ import annotations

import json
import re

import pytest

from mediasync.core.awsbatch_worker import EXIT_FAILED, EXIT_INTERRUPTED, batch_retries
from mediasync.core.object_lock import KEEP, OFF
from mediasync.core.settings import ACLS, STORAGE_CLASSES, Settings
from mediasync.local.runtime import STATE_MACHINES
from tests.deploy.conftest import ROOT, TEMPLATE, as_list, of_type, statements


def test_cfn_lint_finds_no_errors():
    from cfnlint.api import lint_all

    errors = [match for match in lint_all(TEMPLATE.read_text()) if match.rule.id.startswith("E")]
    assert not errors, "\n".join(f"{m.rule.id} {m.message} (line {m.linenumber})" for m in errors)


def test_cfn_lint_reports_what_this_template_could_get_wrong():
    from cfnlint.api import lint_all

    broken = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Spot:
    Type: AWS::Batch::ComputeEnvironment
    Properties:
      Type: MANAGED
      ComputeResources: {Type: FARGATE_SPOTTY, MaxvCpus: 4, Subnets: [subnet-1]}
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Type: EXPRESS
      DefinitionUri: statemachine/copy_small.asl.json
      Role: !GetAtt NoSuchRole.Arn
"""
    assert {match.rule.id for match in lint_all(broken)} >= {"E3030", "E1010"}


def test_both_machines_come_from_their_files_with_logging(resources):
    machines = of_type(resources, "AWS::Serverless::StateMachine")
    declared = {
        body["Properties"]["DefinitionUri"]: (body["Properties"]["Type"], body["Properties"]["Logging"])
        for body in machines.values()
    }
    assert set(declared) == {f"statemachine/{filename}" for filename, _, _ in STATE_MACHINES.values()}
    for filename, machine_type, _ in STATE_MACHINES.values():
        kind, logging = declared[f"statemachine/{filename}"]
        assert kind == machine_type
        assert logging["Level"] in ("ERROR", "ALL") and logging["Destinations"]
    for body in machines.values():
        assert "Definition" not in body["Properties"], "ASL stays in statemachine/, never inline"


def test_functions_run_a_current_python_on_arm64_with_the_layer_only(template, resources):
    defaults = template["Globals"]["Function"]
    assert re.fullmatch(r"python3\.(1[2-9])", defaults["Runtime"])
    assert defaults["Architectures"] == ["arm64"]
    # No public layer (Powertools' is one account's, absent in GovCloud and China): the
    # layer carries the locked dependencies (tests/deploy/test_locks.py).
    assert defaults["Layers"] == [{"Ref": "MediaSyncLayer"}]
    assert defaults["RuntimeManagementConfig"] == {"UpdateRuntimeOn": "FunctionUpdate"}
    layer = resources["MediaSyncLayer"]
    assert layer["Properties"]["ContentUri"] == "src/" and (ROOT / "src" / "mediasync" / "core" / "steps.py").exists()
    assert layer["Metadata"]["BuildMethod"] == defaults["Runtime"]
    for name, function in of_type(resources, "AWS::Serverless::Function").items():
        assert "Runtime" not in function["Properties"] and "Architectures" not in function["Properties"], name
        assert (ROOT / function["Properties"]["CodeUri"] / "app.py").exists(), name


def test_environment_variables_are_the_ones_settings_reads(template, resources):
    read: set[str] = set()

    class Recording(dict):
        def get(self, key, default=None):
            read.add(key)
            return super().get(key, default)

        def __getitem__(self, key):
            read.add(key)
            return super().__getitem__(key)

    Settings.from_env(Recording())
    given = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    for function in of_type(resources, "AWS::Serverless::Function").values():
        given |= function["Properties"].get("Environment", {}).get("Variables", {})
    ours = {name for name in given if name.startswith("MEDIASYNC_")}
    assert ours and ours <= read, f"not read by Settings.from_env: {sorted(ours - read)}"
    invoke = resources["BatchInvokeFunction"]["Properties"]["Environment"]["Variables"]
    for _, _, variable in STATE_MACHINES.values():
        assert variable in invoke


def test_batch_invoke_reserves_concurrency_only_when_asked(template, resources):
    """0 means "none reserved": Lambda's own 0 would throttle every S3 Batch task."""
    parameter = template["Parameters"]["BatchInvokeReservedConcurrency"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 0, 0)
    condition, reserved, otherwise = resources["BatchInvokeFunction"]["Properties"]["ReservedConcurrentExecutions"]["Fn::If"]
    assert reserved == {"Ref": "BatchInvokeReservedConcurrency"} and otherwise == {"Ref": "AWS::NoValue"}
    assert template["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "BatchInvokeReservedConcurrency"}, "0"]}]}
    others = [name for name, function in of_type(resources, "AWS::Serverless::Function").items()
              if name != "BatchInvokeFunction" and "ReservedConcurrentExecutions" in function["Properties"]]
    assert others == [], "copy_parts and the state functions share the account's pool"


def test_batch_runs_on_fargate_spot_with_on_demand_fargate_after_it(resources):
    queue = resources["WorkerJobQueue"]["Properties"]
    order = sorted(queue["ComputeEnvironmentOrder"], key=lambda item: item["Order"])
    kinds = [resources[item["ComputeEnvironment"]["Ref"]]["Properties"]["ComputeResources"]["Type"] for item in order]
    assert kinds == ["FARGATE_SPOT", "FARGATE"]


def test_job_definition_retries_reclaims_and_host_failures_but_not_errors(resources):
    definition = resources["WorkerJobDefinition"]["Properties"]
    assert definition["ContainerProperties"]["Command"] == ["python", "-m", "mediasync.core.awsbatch_worker"]
    strategy = definition["RetryStrategy"]
    rules = strategy["EvaluateOnExit"]
    assert strategy["Attempts"] > 1
    # AWS Batch takes at most 5 (https://docs.aws.amazon.com/batch/latest/APIReference/API_RetryStrategy.html).
    assert len(rules) <= 5
    retried = [rule for rule in rules if rule["Action"] == "RETRY"]
    assert {"OnStatusReason": "Task failed to start*", "Action": "RETRY"} in retried
    assert {"OnStatusReason": "Host EC2*", "Action": "RETRY"} in retried
    assert {"OnExitCode": "143", "Action": "RETRY"} in retried
    # Rules match in order: the catch-all that stops on application errors is last.
    assert rules[-1] == {"OnReason": "*", "Action": "EXIT"}


def camel(rule: dict) -> dict:
    return {key[0].lower() + key[1:]: value for key, value in rule.items()}


@pytest.mark.parametrize("exit_code,status_reason,retried", [
    # A Fargate task that never ran (image pull, secrets, ENI): the job's statusReason;
    # CannotPullContainerError and the like are in the container's reason
    # (https://docs.aws.amazon.com/batch/latest/userguide/job_retries.html).
    (-1, "Task failed to start", True),
    (-1, "Host EC2 (instance i-0123456789abcdef0) terminated.", True),
    (-1, "Your Spot Task was interrupted.", True),
    (EXIT_INTERRUPTED, "Essential container in task exited", True),
    (EXIT_FAILED, "Essential container in task exited", False),
])
def test_job_definition_decides_like_aws_batch(resources, exit_code, status_reason, retried):
    strategy = resources["WorkerJobDefinition"]["Properties"]["RetryStrategy"]
    strategy = {"attempts": strategy["Attempts"], "evaluateOnExit": [camel(rule) for rule in strategy["EvaluateOnExit"]]}
    assert batch_retries(strategy, 1, exit_code, status_reason) is retried
    assert batch_retries(strategy, strategy["attempts"], exit_code, status_reason) is False


def test_s3_batch_operations_role_and_console_outputs(template, resources):
    role = resources["BatchOperationsRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert role["Principal"] == {"Service": "batchoperations.s3.amazonaws.com"}
    outputs = template["Outputs"]
    for name in ("BatchInvokeFunctionArn", "BatchOperationsRoleArn", "CopySmallStateMachineArn",
                 "CopyLargeStateMachineArn", "ReportBucketName", "DashboardUrl"):
        assert name in outputs


def test_user_buckets_are_never_deleted_with_the_stack(resources):
    for name in of_type(resources, "AWS::S3::Bucket"):
        assert resources[name].get("DeletionPolicy") == "Retain", name


@pytest.mark.parametrize("metric", ["Succeeded", "PermanentFailure", "BytesCopied", "PartsCopied", "ApproximateOpenMapRunCount", "Throttles"])
def test_dashboard_shows(resources, metric):
    body = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    assert f'"{metric}"' in body


def test_alarms_watch_failure_rates(resources):
    alarms = of_type(resources, "AWS::CloudWatch::Alarm")
    watched = {
        query["MetricStat"]["Metric"]["MetricName"]
        for alarm in alarms.values()
        for query in alarm["Properties"]["Metrics"]
        if "MetricStat" in query
    }
    assert {"PermanentFailure", "ExecutionsFailed"} <= watched


def test_dashboard_and_image_lifecycle_are_valid_json(resources):
    body, names = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    filled = re.sub(r"\$\{([A-Za-z:]+)\}", lambda m: "x" if m.group(1) in names or m.group(1).startswith("AWS::") else m.group(0), body)
    assert "${" not in filled and json.loads(filled)["widgets"]
    json.loads(resources["WorkerImageRepository"]["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"])


@pytest.mark.parametrize(("variable", "parameter"), [
    ("MEDIASYNC_STRIP_PREFIX", "StripPrefix"),
    ("MEDIASYNC_REQUESTER_PAYS", "SourceRequesterPays"),
    ("MEDIASYNC_STORAGE_CLASS", "StorageClass"),
    ("MEDIASYNC_ACL", "DestinationAcl"),
    ("MEDIASYNC_SSE_KMS_KEY_ID", "DestinationKmsKeyArn"),
    ("MEDIASYNC_BUCKET_KEY_ENABLED", "DestinationBucketKeyEnabled"),
])
def test_copy_option_defaults_are_stack_parameters_given_to_batch_invoke(resources, variable, parameter):
    # batch_invoke puts the options in each execution's input: the Task functions
    # and the Batch worker read them there, so they need no variable of their own.
    assert resources["BatchInvokeFunction"]["Properties"]["Environment"]["Variables"][variable] == {"Ref": parameter}


def test_parameters_allow_exactly_the_values_the_options_accept(template):
    parameters = template["Parameters"]
    assert parameters["StorageClass"]["AllowedValues"] == ["", *STORAGE_CLASSES]
    assert parameters["DestinationAcl"]["AllowedValues"] == ["", *ACLS]
    assert parameters["DestinationBucketKeyEnabled"]["AllowedValues"] == ["", "true", "false"]
# -- alarms and the dashboard's address ----------------------------------------------
METRIC_ID = re.compile(r"\b[a-z][A-Za-z0-9_]*\b")
FUNCTIONS = {"IF", "FILL", "MAX", "MIN", "SUM", "AVG"}


def alarm_queries(resources):
    for name, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items():
        yield name, alarm["Properties"]["Metrics"]


def test_alarm_math_has_no_constant_inside_a_series_array(resources):
    # MAX([m, 1]) is an array of time series: CloudWatch refuses a number in it
    # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html).
    for name, queries in alarm_queries(resources):
        for query in queries:
            expression = query.get("Expression", "")
            for array in re.findall(r"\[([^\]]*)\]", expression):
                assert not re.search(r"(^|,)\s*[0-9.]+\s*(,|$)", array), f"{name}: {expression}"


def test_alarm_math_refers_to_defined_series_and_returns_one(resources):
    for name, queries in alarm_queries(resources):
        ids = {query["Id"] for query in queries}
        returned = [query["Id"] for query in queries if query.get("ReturnData", True)]
        assert len(returned) == 1, f"{name} must return exactly one series: {returned}"
        for query in queries:
            used = set(METRIC_ID.findall(query.get("Expression", ""))) - {word.lower() for word in FUNCTIONS}
            assert used <= ids, f"{name}: {query['Id']} uses undefined {used - ids}"


def test_sparse_counts_are_filled_and_divisions_guarded(resources):
    for name, queries in alarm_queries(resources):
        stats = {query["Id"] for query in queries if "MetricStat" in query}
        for query in queries:
            expression = query.get("Expression", "")
            for metric in stats:
                bare = re.findall(rf"(?<![A-Za-z0-9_(]){metric}\b", expression)
                assert not bare, f"{name}: {metric} used without FILL({metric}, 0) in {expression}"
            if "/" in expression:
                assert expression.startswith("IF("), f"{name}: a division not guarded by IF: {expression}"


def resolve(value, partition: str, conditions: dict):
    """Just enough of CloudFormation for an output: Fn::If on partition conditions, Fn::Sub."""
    if isinstance(value, str):
        return value
    if "Fn::If" in value:
        condition, yes, no = value["Fn::If"]
        left, right = conditions[condition]["Fn::Equals"]
        chosen = yes if (partition if left == {"Ref": "AWS::Partition"} else left) == right else no
        return resolve(chosen, partition, conditions)
    if "Fn::Sub" in value:
        text, names = value["Fn::Sub"] if isinstance(value["Fn::Sub"], list) else (value["Fn::Sub"], {})
        for key, inner in names.items():
            text = text.replace("${" + key + "}", resolve(inner, partition, conditions))
        return text.replace("${AWS::Region}", "eu-west-1").replace("${Dashboard}", "media-prod-mediasync")
    raise AssertionError(f"unexpected {value}")


@pytest.mark.parametrize("partition,console", [
    ("aws", "console.aws.amazon.com"),
    ("aws-us-gov", "console.amazonaws-us-gov.com"),
    ("aws-cn", "console.amazonaws.cn"),
])
def test_dashboard_url_opens_the_console_of_the_stacks_partition(template, partition, console):
    url = resolve(template["Outputs"]["DashboardUrl"]["Value"], partition, template["Conditions"])
    assert url == f"https://{console}/cloudwatch/home?region=eu-west-1#dashboards:name=media-prod-mediasync"


def test_no_arn_of_the_aws_partition_is_built_in_code():
    """ARNs name their partition (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html):
    code that runs against AWS takes it from an ARN it was given, never writes arn:aws:.
    The local runtime and test servers (local/, testing/) emulate the aws partition."""
    shipped = [path for folder in ("src/mediasync", "functions", "worker", "deploy") for path in (ROOT / folder).rglob("*.py")
               if not {"local", "testing"} & set(path.relative_to(ROOT).parts)]
    offenders = [f"{path.relative_to(ROOT)}:{number}" for path in shipped
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "arn:aws:" in line]
    assert not offenders, offenders


def test_moving_and_object_lock_are_off_unless_the_stack_turns_them_on(template, resources):
    """A stack deployed with the defaults can delete no source and set no lock (IAM grants
    neither), and batch_invoke is told so, to refuse a job asking for them by name."""
    parameters, conditions = template["Parameters"], template["Conditions"]
    assert (parameters["AllowSourceDeletes"]["Default"], parameters["AllowSourceDeletes"]["AllowedValues"]) == (
        "false", ["false", "true"])
    assert parameters["ObjectLock"]["Default"] == "off"
    assert parameters["ObjectLock"]["AllowedValues"] == ["off", "allowed", "keep"]
    assert conditions["AllowsSourceDeletes"] == {"Fn::Equals": [{"Ref": "AllowSourceDeletes"}, "true"]}
    assert conditions["HasObjectLock"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "ObjectLock"}, "off"]}]}
    variables = resources["BatchInvokeFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["MEDIASYNC_SOURCE_DELETES_ALLOWED"] == {"Ref": "AllowSourceDeletes"}
    assert variables["MEDIASYNC_OBJECT_LOCK_ALLOWED"] == {"Fn::If": ["HasObjectLock", "true", "false"]}
    assert variables["MEDIASYNC_OBJECT_LOCK"] == {"Fn::If": ["KeepsObjectLock", KEEP, OFF]}
    assert conditions["KeepsObjectLock"] == {"Fn::Equals": [{"Ref": "ObjectLock"}, KEEP]}
    settings = Settings.from_env({"MEDIASYNC_SOURCE_DELETES_ALLOWED": "false", "MEDIASYNC_OBJECT_LOCK_ALLOWED": "false",
                                  "MEDIASYNC_OBJECT_LOCK": OFF})
    assert not settings.source_deletes_allowed and not settings.object_lock_allowed
    granting = {"s3:DeleteObject": "AllowsSourceDeletes", "s3:PutObjectRetention": "HasObjectLock",
                "s3:PutObjectLegalHold": "HasObjectLock", "s3:GetBucketObjectLockConfiguration": "HasObjectLock"}
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        for condition, statement in statements(role):
            on_sources = statement["Sid"].startswith("Source")
            for action in as_list(statement["Action"]):
                if action in granting and (action != "s3:DeleteObject" or on_sources):
                    assert condition == granting[action], f"{name}/{statement['Sid']} grants {action} unconditionally"
