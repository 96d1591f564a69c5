"""The Step Functions API as the strict engine answers it: the behaviour batch_invoke and
``mediasync status`` rely on.
https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html
"""

from __future__ import annotations

import datetime
import json
import threading

import boto3
import pytest
from botocore.exceptions import ClientError

from mediasync.local.asl.clock import RealClock
from mediasync.local.asl.service import Installed
from tests.unit.asl_harness import ApiError, Functions, Harness, function_arn, machine, task

WAITING = machine(("T", task("wait", End=True)))


def blocking_harness() -> tuple[Harness, threading.Event]:
    release = threading.Event()
    return Harness(Functions(wait=lambda event: release.wait(10)), clock=RealClock()), release


def test_a_second_start_of_a_running_execution_with_the_same_input_answers_the_same_execution():
    harness, release = blocking_harness()
    machine_arn = harness.deploy(WAITING)
    first = harness.service.start_execution(machine_arn, "copy-1", '{"a": 1}')
    again = harness.service.start_execution(machine_arn, "copy-1", '{"a": 1}')
    assert again == first
    with pytest.raises(ApiError) as refused:
        harness.service.start_execution(machine_arn, "copy-1", '{"a": 2}')
    assert refused.value.code == "ExecutionAlreadyExists"
    release.set()
    assert harness.service._find_execution(first["executionArn"]).done.wait(10)
    with pytest.raises(ApiError) as closed:
        harness.service.start_execution(machine_arn, "copy-1", '{"a": 1}')
    assert closed.value.code == "ExecutionAlreadyExists"
    assert len(harness.service.list_executions(stateMachineArn=machine_arn)["executions"]) == 1


def test_express_executions_may_share_a_name_and_cannot_be_described():
    harness = Harness()
    machine_arn = harness.deploy(machine(("P", {"Type": "Pass", "End": True})), "EXPRESS")
    first = harness.service.start_sync_execution(machine_arn, "same", "{}")
    second = harness.service.start_sync_execution(machine_arn, "same", "{}")
    assert first["executionArn"] != second["executionArn"] and ":express:" in first["executionArn"]
    with pytest.raises(ApiError) as refused:
        harness.service.describe_execution(first["executionArn"])
    assert refused.value.code == "InvalidArn"
    with pytest.raises(ApiError) as unlisted:
        harness.service.list_executions(stateMachineArn=machine_arn)
    assert unlisted.value.code == "StateMachineTypeNotSupported"


def test_start_sync_execution_is_for_express_machines_only():
    harness = Harness()
    with pytest.raises(ApiError) as refused:
        harness.service.start_sync_execution(harness.deploy(machine(("P", {"Type": "Pass", "End": True}))), "n", "{}")
    assert refused.value.code == "StateMachineTypeNotSupported"


def test_a_distributed_map_is_refused_in_an_express_machine():
    processor = machine(("I", {"Type": "Pass", "End": True}))
    processor["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    with pytest.raises(ApiError) as refused:
        Harness().deploy(machine(("M", {"Type": "Map", "ItemProcessor": processor, "End": True})), "EXPRESS")
    assert refused.value.code == "InvalidDefinition"


def test_execution_input_over_256_kib_is_refused_at_the_start():
    harness = Harness()
    with pytest.raises(ApiError) as refused:
        harness.service.start_execution(harness.deploy(WAITING), None, json.dumps({"s": "x" * 262_144}))
    assert refused.value.code == "ValidationException"


def test_describe_execution_answers_dates_output_text_and_errors_only_on_failure():
    harness = Harness(Functions(ok=lambda event: {"v": 1}))
    succeeded = harness.run(machine(("T", task("ok", OutputPath="$.Payload", End=True))), {"in": 1},
                            machine_type="STANDARD")
    assert isinstance(succeeded["startDate"], datetime.datetime) and isinstance(succeeded["stopDate"], datetime.datetime)
    assert succeeded["output"] == {"v": 1} and "error" not in succeeded and succeeded["input"] == '{"in": 1}'
    failed = harness.run(machine(("F", {"Type": "Fail", "Error": "E", "Cause": "C"})), machine_type="STANDARD")
    assert (failed["error"], failed["cause"]) == ("E", "C") and "output" not in failed


def test_stop_execution_aborts_a_running_execution():
    harness, release = blocking_harness()
    arn = harness.service.start_execution(harness.deploy(WAITING), "stopped", "{}")["executionArn"]
    harness.service.stop_execution(arn, error="Operator", cause="enough")
    described = harness.service.describe_execution(arn)
    assert (described["status"], described["error"], described["cause"]) == ("ABORTED", "Operator", "enough")
    release.set()


def test_boto3_clients_are_answered_while_the_service_is_installed():
    harness = Harness(Functions(ok=lambda event: event))
    with Installed(harness.service):
        sfn = boto3.client("stepfunctions", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
        arn = sfn.create_state_machine(name="boto", definition=json.dumps(machine(("T", task("ok", End=True)))),
                                       roleArn="arn:aws:iam::123456789012:role/r", type="EXPRESS")["stateMachineArn"]
        answer = sfn.start_sync_execution(stateMachineArn=arn, input='{"x": 1}')
        assert json.loads(answer["output"])["Payload"] == {"x": 1}
        with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
            sfn.start_execution(stateMachineArn=arn + "-gone", input="{}")
        with pytest.raises(ClientError, match="not answered by the local Step Functions engine"):
            sfn.list_activities()
    assert function_arn("ok").endswith(":function:ok")


def test_an_execution_history_is_kept_only_when_asked_for():
    definition = machine(("A", {"Type": "Pass", "Result": 1, "Next": "B"}), ("B", {"Type": "Succeed"}))
    quiet = Harness()
    arn = quiet.run(definition, machine_type="STANDARD")["executionArn"]
    with pytest.raises(ApiError, match="history=True"):
        quiet.service.get_execution_history(arn)
    recorded = Harness(history=True)
    arn = recorded.run(definition, machine_type="STANDARD")["executionArn"]
    events = recorded.service.get_execution_history(arn)["events"]
    assert [event["type"] for event in events] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                                   "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"]
    assert events[2]["stateExitedEventDetails"] == {"name": "A", "output": "1"}


def test_an_execution_stopped_before_its_thread_starts_never_runs():
    functions = Functions(f=lambda event: {})
    harness = Harness(functions)
    machine_arn = harness.deploy(machine(("T", task("f", End=True))))
    info = harness.service._machines[machine_arn]
    execution = harness.service._execution(info, "early", "{}", {}, express=False)
    harness.engine.stop(execution, "Stopped", "before it began")
    harness.engine.run(execution)
    assert (execution.status, execution.error) == ("ABORTED", "Stopped") and functions.calls == []
