"""`mediasync status`: an S3 Batch job's progress and its large objects, from stubbed AWS APIs."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from mediasync.batch import execution_name
from mediasync.cli import main
from mediasync.status import job_progress, running_copies

ACCOUNT = "111122223333"
JOB = "3f6a2c1e-0b5d-4a39-9c1e-2b7d5e8f9a10"
MACHINE = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:mediasync-copy-large"


def session() -> Any:
    return boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")


def job(status: str, succeeded: int, failed: int, total: int = 10) -> dict:
    return {"Job": {
        "JobId": JOB, "Status": status, "Priority": 10, "Description": "mediasync copy to s3://archive/",
        "ProgressSummary": {"TotalNumberOfTasks": total, "NumberOfTasksSucceeded": succeeded,
                            "NumberOfTasksFailed": failed, "Timers": {"ElapsedTimeInActiveSeconds": 125}},
        "Report": {"Enabled": True, "Bucket": "arn:aws:s3:::jobs", "Prefix": "mediasync-reports",
                   "Format": "Report_CSV_20180820", "ReportScope": "AllTasks"},
    }}


def test_job_progress_reads_counts_and_where_the_report_goes():
    progress = job_progress(job("Active", 6, 1))

    assert (progress.succeeded, progress.failed, progress.remaining, progress.done) == (6, 1, 3, False)
    assert progress.report == f"s3://jobs/mediasync-reports/job-{JOB}/"


def test_running_copies_are_the_jobs_standard_executions_with_map_run_counts():
    sfn = session().client("stepfunctions")
    ours, other = execution_name(JOB, "00000001-task", 0), execution_name("another-job", "00000001-task", 0)
    arn = f"arn:aws:states:us-east-1:{ACCOUNT}:execution:mediasync-copy-large:{ours}"
    map_run = f"arn:aws:states:us-east-1:{ACCOUNT}:mapRun:mediasync-copy-large/{ours}:m1"
    with Stubber(sfn) as stub:
        stub.add_response("list_executions", {"executions": [
            {"executionArn": arn, "stateMachineArn": MACHINE, "name": ours, "status": "RUNNING", "startDate": 0},
            {"executionArn": arn + "x", "stateMachineArn": MACHINE, "name": other, "status": "RUNNING", "startDate": 0},
        ]}, {"stateMachineArn": MACHINE, "statusFilter": "RUNNING"})
        stub.add_response("describe_execution", {
            "executionArn": arn, "stateMachineArn": MACHINE, "status": "RUNNING", "startDate": 0,
            "input": json.dumps({"destination": {"bucket": "archive", "key": "masters/a b.mov"},
                                 "plan": {"size": 300 * 2**30, "group_count": 30}}),
        }, {"executionArn": arn})
        stub.add_response("list_map_runs", {"mapRuns": [{"executionArn": arn, "mapRunArn": map_run,
                                                         "stateMachineArn": MACHINE, "startDate": 0}]},
                          {"executionArn": arn})
        stub.add_response("describe_map_run", {
            "mapRunArn": map_run, "executionArn": arn, "status": "RUNNING", "startDate": 0, "maxConcurrency": 100,
            "toleratedFailurePercentage": 0, "toleratedFailureCount": 0,
            "itemCounts": {"pending": 10, "running": 8, "succeeded": 12, "failed": 0, "timedOut": 0, "aborted": 0,
                           "total": 30, "resultsWritten": 12},
            "executionCounts": {"pending": 10, "running": 8, "succeeded": 12, "failed": 0, "timedOut": 0,
                                "aborted": 0, "total": 30, "resultsWritten": 12},
        }, {"mapRunArn": map_run})

        copies, running = running_copies(sfn, MACHINE, JOB)

    assert running == 1
    assert [(c.key, c.size, c.groups_total, c.groups["succeeded"]) for c in copies] == [
        ("masters/a b.mov", 300 * 2**30, 30, 12)]


class FakeAws:
    """describe_job answers in turn; while the job runs, no large object is in flight."""

    def __init__(self, responses: list) -> None:
        self.clients = {"s3control": session().client("s3control"), "stepfunctions": session().client("stepfunctions")}
        self.stubs = [Stubber(client) for client in self.clients.values()]
        jobs, executions = self.stubs
        for response in responses:
            if isinstance(response, dict):
                jobs.add_response("describe_job", response, {"AccountId": ACCOUNT, "JobId": JOB})
                if response["Job"]["Status"] not in ("Complete", "Failed", "Cancelled"):
                    executions.add_response("list_executions", {"executions": []},
                                            {"stateMachineArn": MACHINE, "statusFilter": "RUNNING"})
            else:
                jobs.add_client_error("describe_job", *response)
        for stub in self.stubs:
            stub.activate()

    def __call__(self, service: str, region: str | None = None) -> Any:
        return self.clients[service]  # a KeyError if status asks for a service not expected


def status(monkeypatch, responses: list, *extra: str) -> Any:
    aws = FakeAws(responses)
    monkeypatch.setattr("mediasync.submit.aws_client", aws)
    monkeypatch.setattr("mediasync.cli.time.sleep", lambda seconds: None)
    result = CliRunner().invoke(main, ["status", JOB, "--account-id", ACCOUNT, "--state-machine-arn", MACHINE,
                                       *extra])
    for stub in aws.stubs:
        stub.assert_no_pending_responses()
    return result


def test_status_of_a_complete_job_without_failures_exits_0(monkeypatch):
    result = status(monkeypatch, [job("Complete", 10, 0)])

    assert result.exit_code == 0, result.output
    assert "Complete" in result.output and "10/10" in result.output


def test_status_watch_redraws_until_the_job_is_done_and_reports_failures(monkeypatch):
    result = status(monkeypatch, [job("Active", 2, 0), job("Active", 7, 1), job("Complete", 9, 1)],
                    "--watch", "--interval", "1")

    assert result.exit_code == 1  # a task failed, as `run` would say
    assert "10/10" in result.output


@pytest.mark.parametrize("error", [("NotFoundException", "no such job", 404)])
def test_status_of_an_unknown_job_is_bad_usage(monkeypatch, error):
    result = status(monkeypatch, [error])

    assert result.exit_code == 2
    assert f"cannot read job {JOB}" in result.output and "no such job" in result.output
