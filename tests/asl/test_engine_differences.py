"""The probes of tests/engine_probes.py on both local engines, and the rules that need
Lambda tasks or the runtime's settings.

Each probe asserts AWS's documented answer, or, where an engine reads the rule
otherwise, the answer pinned for that engine (docs/local-engine.md lists them;
tests/localstack/test_engine_differences.py pins LocalStack's).
"""

from __future__ import annotations

import json
import time

import boto3
import pytest

from mediasync.core import clients
from mediasync.local.runtime import MOTO_ENGINE, STRICT_ENGINE, LocalRuntime
from tests.engine_probes import PROBES, matches, outcome


@pytest.mark.parametrize("probe", PROBES, ids=[probe.name for probe in PROBES])
def test_probe(runtime, probe):
    sfn = boto3.client("stepfunctions", region_name=runtime.region)
    answer = outcome(sfn, probe, runtime._role)
    expected = probe.expected_on(runtime.engine)
    assert matches(answer, expected), (
        f"{probe.name}: AWS answers {probe.expected} ({probe.doc}); {runtime.engine} was expected to answer "
        f"{expected} and answered {answer}")


def test_the_strict_engine_answers_as_aws_documents_every_probe():
    assert not [probe.name for probe in PROBES if STRICT_ENGINE in probe.differs]


# -- rules that need Lambda tasks --------------------------------------------------------
def probe_task(runtime, name: str, **fields) -> dict:
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": runtime.function_arn(name), "Payload.$": "$"}, **fields}


def run_probe(runtime, definition: dict, state_input: dict | None = None) -> dict:
    sfn = boto3.client("stepfunctions", region_name=runtime.region)
    arn = sfn.create_state_machine(name=f"probe-{time.monotonic_ns()}", definition=json.dumps(definition),
                                   roleArn=runtime._role)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(state_input or {}))["executionArn"]
    deadline = time.monotonic() + 60
    while (description := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return description


class Flaky:
    """A Lambda handler that raises ``error`` the first ``times`` calls."""

    def __init__(self, error: str, times: int) -> None:
        self.error, self.times, self.calls = error, times, 0

    def __call__(self, event, context):
        self.calls += 1
        if self.calls <= self.times:
            raise type(self.error, (Exception,), {})(f"call {self.calls}")
        return {"calls": self.calls}


def test_max_attempts_counts_retries_and_a_lambda_error_is_named_by_its_type(runtime):
    flaky = runtime.handlers["probe_flaky"] = Flaky("SourceChanged", 5)
    catch = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}]
    definition = {"StartAt": "T", "States": {
        "T": probe_task(runtime, "probe_flaky", Retry=[{"ErrorEquals": ["SourceChanged"], "MaxAttempts": 1}],
                        Catch=catch, End=True),
        "Caught": {"Type": "Pass", "End": True}}}
    description = run_probe(runtime, definition)
    error = json.loads(description["output"])["error"]
    assert flaky.calls == 2, "MaxAttempts 1: one retry"
    assert error["Error"] == "SourceChanged" and json.loads(error["Cause"])["errorMessage"] == "call 2"


def test_task_failed_does_not_retry_a_timeout(runtime):
    def slow(event, context):
        time.sleep(1.5)
        return {}

    runtime.handlers["probe_slow"] = slow
    catch = [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Caught"}]
    definition = {"StartAt": "T", "States": {
        "T": probe_task(runtime, "probe_slow", TimeoutSeconds=1, Catch=catch, End=True,
                        Retry=[{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 3}]),
        "Caught": {"Type": "Pass", "End": True}}}
    description = run_probe(runtime, definition)
    assert json.loads(description["output"])["error"]["Error"] == "States.Timeout"
    assert runtime.invocations["probe_slow"] == 1


@pytest.mark.parametrize("engine", [STRICT_ENGINE, MOTO_ENGINE])
def test_an_express_execution_ends_at_its_ceiling_without_catch(engine):
    """AWS: "Express Workflows ... Maximum duration: 5 minutes", and no Catch runs then
    (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-standard-vs-express.html).
    Shortened to 1 s here. moto has no ceiling of its own: the runtime stops its
    execution there (moto_engine._end_at_ceiling); the strict engine enforces it."""
    definition = {"StartAt": "W", "States": {
        "W": {"Type": "Parallel", "End": True,
              "Branches": [{"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 2, "End": True}}}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
        "Caught": {"Type": "Pass", "Result": "caught", "End": True}}}
    with LocalRuntime(engine=engine, express_ceiling_seconds=1) as runtime:
        sfn = boto3.client("stepfunctions", region_name=runtime.region)
        arn = sfn.create_state_machine(name="ceiling", definition=json.dumps(definition), roleArn=runtime._role,
                                       type="EXPRESS")["stateMachineArn"]
        answer = clients.sync_stepfunctions().start_sync_execution(stateMachineArn=arn, input="{}")
    assert answer["status"] == "TIMED_OUT"
    assert answer.get("output") != '"caught"'
