"""The local S3 Batch Operations emulation sends and reports what S3 Batch does.

- A TemporaryFailure is redriven a limited number of times, whatever it says (S3 Batch
  cannot tell a copy still running from any other); after the last, the task fails with
  that message (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html).
- A Lambda that runs past its timeout is a function error in the report
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-examples-reports.html).
- A row with an empty version ID (an all-versions S3 Inventory's null version) fails
  without an invocation (https://docs.aws.amazon.com/AmazonS3/latest/userguide/inventory-configure-bops.html).
"""

from __future__ import annotations

import threading
from dataclasses import replace

from mediasync.local.s3batch import S3BatchJob
from mediasync.manifests.s3batch_csv import parse_lines


def answer(code: str, text: str) -> dict:
    return {"results": [{"taskId": "t", "resultCode": code, "resultString": text}]}


def run(invoke, **options) -> list:
    rows = []
    S3BatchJob(invoke, user_arguments={}, concurrency=1, retry_delay=0.0, **options).run(
        parse_lines(["src,a.mov"]), rows.append)
    return rows


def test_every_temporary_failure_uses_up_a_redrive_and_the_last_message_is_reported():
    calls = []

    def still_running(event):
        calls.append(event)
        return answer("TemporaryFailure", f"InProgress: copy still running: arn ({len(calls)})")

    [row] = run(still_running, max_temporary_retries=3)

    assert len(calls) == 4, "the first invocation and three redrives"
    assert (row.status, row.code, row.message) == ("failed", "InProgress", "copy still running: arn (4)")


def test_a_lambda_past_its_timeout_is_a_function_error():
    release = threading.Event()

    def hangs(event):
        release.wait(10)
        return answer("Succeeded", "Copied: late")

    try:
        [row] = run(hangs, function_timeout=0.2)
    finally:
        release.set()

    assert (row.status, row.code) == ("failed", "LambdaFailed")
    assert row.message == 'Lambda returned function error: {"errorMessage": "Task timed out after 0.20 seconds"}'


def test_an_empty_version_id_fails_without_an_invocation():
    calls = []
    [manifest_row] = parse_lines(["src,a.mov"])
    rows = []
    S3BatchJob(calls.append, user_arguments={}).run([replace(manifest_row, version_id="")], rows.append)

    assert calls == []
    assert (rows[0].status, rows[0].code) == ("failed", "EmptyVersionId")
