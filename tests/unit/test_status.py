"""`mediasync status`: an S3 Batch job's progress and its large objects, from stubbed AWS APIs."""

from __future__ import annotations

import datetime
import io
import json
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from click.testing import CliRunner

from mediasync.cli import main
from mediasync.core.s3batch_task import execution_name
from mediasync.stack.status import job_progress, running_copies

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
    """describe_job answers in turn; while the job runs, no large object is in flight.

    ``report`` is the completion report S3 Batch wrote ({key: csv text}), ``executions``
    the DescribeExecution answers for the executions its rows name, in order."""

    def __init__(self, responses: list, report: dict[str, str] | None = None,
                 executions: list[dict] | None = None) -> None:
        self.clients = {"s3control": session().client("s3control"), "stepfunctions": session().client("stepfunctions"),
                        "s3": session().client("s3")}
        self.stubs = [Stubber(client) for client in self.clients.values()]
        jobs, states, s3 = self.stubs
        for response in responses:
            if isinstance(response, dict):
                jobs.add_response("describe_job", response, {"AccountId": ACCOUNT, "JobId": JOB})
                if response["Job"]["Status"] not in ("Complete", "Failed", "Cancelled"):
                    states.add_response("list_executions", {"executions": []},
                                        {"stateMachineArn": MACHINE, "statusFilter": "RUNNING"})
            else:
                jobs.add_client_error("describe_job", *response)
        if report is not None:
            prefix = f"mediasync-reports/job-{JOB}/"
            results = [{"TaskExecutionStatus": "failed", "Bucket": "jobs", "MD5Checksum": "x", "Key": prefix + name}
                       for name in report]
            s3.add_response("get_object", body(json.dumps({"Format": "Report_CSV_20180820", "Results": results})),
                            {"Bucket": "jobs", "Key": prefix + "manifest.json"})
            for name, text in report.items():
                s3.add_response("get_object", body(text), {"Bucket": "jobs", "Key": prefix + name})
        for description in executions or []:
            states.add_response("describe_execution", description, {"executionArn": description["executionArn"]})
        for stub in self.stubs:
            stub.activate()

    def __call__(self, service: str, region: str | None = None) -> Any:
        return self.clients[service]  # a KeyError if status asks for a service not expected


def body(text: str) -> dict:
    data = text.encode()
    return {"Body": StreamingBody(io.BytesIO(data), len(data))}


def status(monkeypatch, responses: list, *extra: str, report: dict[str, str] | None = None,
           executions: list[dict] | None = None) -> Any:
    aws = FakeAws(responses, report, executions)
    monkeypatch.setattr("mediasync.stack.submit.aws_client", aws)
    monkeypatch.setattr("mediasync.cli.status.time.sleep", lambda seconds: None)
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
                    "--watch", "--interval", "1",
                    report={"results/r1.csv": 'src,gone.mov,,failed,404,PermanentFailure,"SourceMissing: no such key"\n'})

    assert result.exit_code == 1  # a task failed, as `run` would say
    assert "10/10" in result.output


@pytest.mark.parametrize("error", [("NotFoundException", "no such job", 404)])
def test_status_of_an_unknown_job_is_bad_usage(monkeypatch, error):
    result = status(monkeypatch, [error])

    assert result.exit_code == 2
    assert f"cannot read job {JOB}" in result.output and "no such job" in result.output


# -- tasks S3 Batch stopped redriving while their copy ran ----------------------------
def execution(name: str, status: str, **extra: Any) -> dict:
    return {"executionArn": f"{MACHINE.replace(':stateMachine:', ':execution:')}:{name}", "stateMachineArn": MACHINE,
            "status": status, "startDate": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc), **extra}


COPIED = execution("job-a-0", "SUCCEEDED", output=json.dumps({
    "destination": {"bucket": "archive", "key": "a.mov"}, "copy": {"etag": '"e-90"'}, "size": 900 * 2**30,
    "verification": {"method": "etag", "message": "ETag equals the source's"}}))
CHANGED = execution("job-b-0", "FAILED", error="SourceChanged",
                    cause=json.dumps({"errorType": "SourceChanged", "errorMessage": "s3://media/b.mov changed"}))


def gave_up_on(key: str, description: dict) -> str:
    """A report row as S3 Batch writes it after its last redrive of an InProgress task."""
    return f'media,{key},,failed,200,TemporaryFailure,"InProgress: copy still running: {description["executionArn"]}"\n'


def test_status_reconciles_tasks_s3_batch_gave_up_on_with_their_executions(monkeypatch):
    result = status(monkeypatch, [job("Complete", 8, 2)],
                    report={"results/r1.csv": gave_up_on("a.mov", COPIED) + gave_up_on("b%20c.mov", CHANGED)},
                    executions=[COPIED, CHANGED])

    assert result.exit_code == 1, result.output  # b.mov did fail in the end
    assert "SUCCEEDED Copied" in result.output and "SourceChanged" in result.output
    assert "b c.mov" in result.output
    assert "1 of the 2 failed tasks were copied" in result.output


def test_status_exits_0_when_every_task_s3_batch_gave_up_on_was_copied(monkeypatch):
    result = status(monkeypatch, [job("Complete", 9, 1)], report={"results/r1.csv": gave_up_on("a.mov", COPIED)},
                    executions=[COPIED])

    assert result.exit_code == 0, result.output
    assert "1 of the 1 failed tasks were copied" in result.output


def test_an_execution_that_never_started_is_reconciled_as_not_found():
    from mediasync.reports.rows import parse_report_lines
    from mediasync.stack.status import reconcile

    sfn = session().client("stepfunctions")
    with Stubber(sfn) as stub:
        stub.add_client_error("describe_execution", "ExecutionDoesNotExist", "no such execution")
        rows = reconcile(sfn, parse_report_lines([gave_up_on("a.mov", COPIED), "media,ok.mov,,succeeded,200,,Copied\n"]))

    assert [(row.key, row.status, row.copied) for row in rows.rows] == [("a.mov", "NOT_FOUND", False)]


def test_a_generator_jobs_manifest_is_named_once_s3_batch_has_written_it():
    """submit --source keeps the generated manifest; DescribeJob names it (GeneratedManifestDescriptor)."""
    described = job("Active", 1, 0)
    assert job_progress(described).generated_manifest == ""
    described["Job"]["GeneratedManifestDescriptor"] = {
        "Format": "S3InventoryReport_CSV_20211130",
        "Location": {"ObjectArn": "arn:aws:s3:::jobs/mediasync-manifests/job-1/manifest.json", "ETag": "e"}}

    assert job_progress(described).generated_manifest == "s3://jobs/mediasync-manifests/job-1/manifest.json"
