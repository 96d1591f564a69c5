"""Faults on a real S3 server (SeaweedFS): nothing lost, nothing half-written, nothing orphaned."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import pytest

import mediasync.core.copy
import mediasync.local.runtime
from mediasync.core.awsbatch_worker import EXIT_INTERRUPTED, EXIT_OK, run_group
from mediasync.core.copy import complete_upload, create_upload
from mediasync.core.plan import plan_copy
from mediasync.core.settings import CopyOptions, MiB, reset_settings
from mediasync.core.source import ObjectRef, inspect_source
from mediasync.local.runner import JobRequest, run_job
from mediasync.local.runtime import LocalRuntime
from mediasync.manifests.s3batch_csv import format_row, parse_lines
from tests.conftest import batch_event, md5_of, put_multipart
from tests.faults.cli import cli_env, mediasync_run
from tests.faults.proxy import FaultProxy, FaultRules
from tests.integration.acceptance import check_copy, seed
from tests.invariants import assert_invariants, report_row_of


def credentials(server):
    return {"aws_access_key_id": server.access_key, "aws_secret_access_key": server.secret_key}


def test_twenty_percent_of_requests_failing_still_copies_everything_intact(seaweedfs, tmp_path):
    s3 = seaweedfs.client()
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(seed(s3, "fault-src", "fault-dst"), encoding="utf-8")
    # About 20% of all requests fail; copy calls also get 200-with-<Error> bodies, and a few
    # answers are lost after the server acted (the retry repeats what already happened;
    # test_upload_whose_create_answer_was_lost_... covers that case deterministically).
    rules = FaultRules(slow_down=0.14, internal_error=0.06, ok_with_error=0.25, answer_lost=0.05, seed=7,
                       answer_lost_operations={"CopyObject", "UploadPartCopy", "CompleteMultipartUpload",
                                               "CreateMultipartUpload"})
    with FaultProxy(seaweedfs.endpoint_url, rules) as proxy:
        result = mediasync_run(
            seaweedfs, manifest, "fault-dst", tmp_path / "report.csv", proxy.endpoint_url,
            "--multipart-threshold", "16MiB", "--part-size", "8MiB", "--parts-per-group", "2", "--concurrency", "8",
        )
    assert sum(proxy.injected.values()) >= 10, proxy.injected
    assert any(name.endswith("OkWithError") for name in proxy.injected), proxy.injected
    assert any(name.startswith(("UploadPartCopy", "CompleteMultipartUpload")) for name in proxy.injected), \
        proxy.injected
    assert result.returncode == 1, result.stdout + result.stderr  # only the missing key fails
    report = assert_invariants(s3, manifest, tmp_path / "report.csv", "fault-dst")
    check_copy(s3, "fault-src", "fault-dst", report, etags_reproducible=False)
    assert seaweedfs.secret_key not in result.stdout + result.stderr + (tmp_path / "report.csv").read_text()


@pytest.fixture
def seaweed_runtime(seaweedfs):
    with LocalRuntime(s3_endpoint_url=seaweedfs.endpoint_url, s3_credentials=credentials(seaweedfs)) as runtime:
        yield runtime


def test_source_overwritten_mid_copy_fails_with_412_and_leaves_nothing(seaweedfs, seaweed_runtime):
    s3 = seaweedfs.client()
    s3.create_bucket(Bucket="changed-src")
    s3.create_bucket(Bucket="changed-dst")
    put_multipart(s3, "changed-src", "master.mov", 3 * 8 * MiB, 8 * MiB)

    def overwrite_source(name, event):
        if name == "copy_parts" and event["group"] == 1:
            s3.put_object(Bucket="changed-src", Key="master.mov", Body=b"a new take")

    seaweed_runtime.before_invoke = overwrite_source
    args = {"destinationBucket": "changed-dst", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB),
            "partsPerGroup": "1", "maxConcurrency": "1"}
    result = seaweed_runtime.invoke("batch_invoke", batch_event("j", "t", "changed-src", "master.mov",
                                                                user_arguments=args))["results"][0]
    assert result["resultCode"] == "PermanentFailure"
    assert result["resultString"].startswith("SourceChanged:"), result
    assert "changed while it was being copied" in result["resultString"]
    manifest = list(parse_lines(["changed-src,master.mov\n"]))
    assert_invariants(s3, manifest, [report_row_of("changed-src", "master.mov", result)], "changed-dst")
    assert "Contents" not in s3.list_objects_v2(Bucket="changed-dst")


def seed_master(s3, name: str, tmp_path):
    """A 4-part master (three part groups of 2, 2 and 1 parts) and its manifest."""
    s3.create_bucket(Bucket=f"{name}-src")
    s3.create_bucket(Bucket=f"{name}-dst")
    put_multipart(s3, f"{name}-src", "master.mov", 4 * 5 * MiB + 123, 5 * MiB, ContentType="video/quicktime")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(format_row(f"{name}-src", "master.mov"), encoding="utf-8")
    return manifest


def run_manifest(runtime, manifest, destination: str, tmp_path, **options) -> None:
    options = CopyOptions(destination_bucket=destination, multipart_threshold=8 * MiB, part_size=5 * MiB,
                          parts_per_group=2, max_concurrency=1, **options)
    run_job(runtime, parse_lines(manifest.read_text().splitlines()), JobRequest(options, tmp_path / "report.csv", 1))


@pytest.mark.parametrize("error_type", ["Sandbox.Timedout", "Runtime.ExitError"])
def test_lambda_dying_mid_part_group_is_retried_and_the_object_completes(
    seaweedfs, seaweed_runtime, monkeypatch, tmp_path, error_type
):
    """A Lambda timeout or crash after part 3 of group 1 (parts 3-4) was copied."""
    s3 = seaweedfs.client()
    name = f"died-{error_type.split('.')[1].lower()}"
    manifest = seed_master(s3, name, tmp_path)
    copy_part = mediasync.core.copy.copy_part
    deaths: list[int] = []

    def copy_part_then_die(client, source, dest, upload_id, layout, part, options=None):
        etag = copy_part(client, source, dest, upload_id, layout, part, options)
        if part == 3 and not deaths:
            deaths.append(part)
            # What the Lambda service reports for the invocation: the error type by name.
            raise type(error_type, (Exception,), {})("Task timed out after 900.00 seconds")
        return etag

    monkeypatch.setattr(mediasync.core.copy, "copy_part", copy_part_then_die)
    run_manifest(seaweed_runtime, manifest, f"{name}-dst", tmp_path)
    assert deaths == [3]
    assert seaweed_runtime.invocations["copy_parts"] == 3 + 1, "group 1 ran again"
    rows = assert_invariants(s3, manifest, tmp_path / "report.csv", f"{name}-dst")
    assert [row["TaskStatus"] for row in rows] == ["succeeded"], rows
    assert s3.head_object(Bucket=f"{name}-dst", Key="master.mov")["ETag"].endswith('-5"')


def test_batch_worker_reclaimed_mid_group_exits_for_a_retry_and_the_object_completes(
    seaweedfs, seaweed_runtime, monkeypatch, tmp_path
):
    """Spot reclaim: SIGTERM (the stop event) while group 1 is between parts 3 and 4."""
    s3 = seaweedfs.client()
    manifest = seed_master(s3, "reclaim", tmp_path)
    monkeypatch.setenv("MEDIASYNC_PART_CONCURRENCY", "1")  # one part at a time: the stop lands mid-group
    reset_settings()
    stops: list[threading.Event] = []
    exit_codes: list[int] = []

    def worker_container(environment):
        stops.append(threading.Event())
        exit_codes.append(run_group(environment, stops[-1]))
        return exit_codes[-1]

    copy_part = mediasync.core.copy.copy_part

    def copy_part_then_reclaim(client, source, dest, upload_id, layout, part, options=None):
        etag = copy_part(client, source, dest, upload_id, layout, part, options)
        if part == 3 and EXIT_INTERRUPTED not in exit_codes:
            stops[-1].set()
        return etag

    monkeypatch.setattr(mediasync.local.runtime, "run_group", worker_container)
    monkeypatch.setattr(mediasync.core.copy, "copy_part", copy_part_then_reclaim)
    run_manifest(seaweed_runtime, manifest, "reclaim-dst", tmp_path, worker="batch", batch_parts_per_group=2)
    assert exit_codes == [EXIT_OK, EXIT_INTERRUPTED, EXIT_OK, EXIT_OK], "group 1 stopped, then run again"
    rows = assert_invariants(s3, manifest, tmp_path / "report.csv", "reclaim-dst")
    assert [row["TaskStatus"] for row in rows] == ["succeeded"], rows


def test_worker_process_stops_on_sigterm_mid_group_and_exits_for_batch_to_run_it_again(seaweedfs, tmp_path):
    """The Batch container itself (python -m mediasync.core.awsbatch_worker) receiving SIGTERM, as on a Spot reclaim."""
    s3 = seaweedfs.client()
    s3.create_bucket(Bucket="sigterm-src")
    s3.create_bucket(Bucket="sigterm-dst")
    put_multipart(s3, "sigterm-src", "master.mov", 4 * 5 * MiB, 5 * MiB)
    source = inspect_source(s3, ObjectRef("sigterm-src", "master.mov"))
    options = CopyOptions(destination_bucket="sigterm-dst", multipart_threshold=8 * MiB, part_size=5 * MiB,
                          parts_per_group=4, part_concurrency=1)
    plan = plan_copy(source.size, options, **source.plan_args())
    upload_id = s3.create_multipart_upload(Bucket="sigterm-dst", Key="master.mov")["UploadId"]
    state = {"group": 0, "source": source.to_state(), "destination": {"bucket": "sigterm-dst", "key": "master.mov"},
             "options": options.to_event(), "upload_id": upload_id, "plan": plan.to_state()}

    def worker(endpoint_url: str) -> subprocess.Popen:
        env = cli_env(seaweedfs, MEDIASYNC_GROUP_STATE=json.dumps(state), MEDIASYNC_S3_ENDPOINT_URL=endpoint_url)
        return subprocess.Popen([sys.executable, "-m", "mediasync.core.awsbatch_worker"], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    slow = FaultRules(delay_seconds=0.5, delay_operations={"UploadPartCopy"})
    with FaultProxy(seaweedfs.endpoint_url, slow) as proxy:
        container = worker(proxy.endpoint_url)
        deadline = time.monotonic() + 60
        while proxy.forwarded["UploadPartCopy"] < 1 and container.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        container.send_signal(signal.SIGTERM)
        out, err = container.communicate(timeout=60)
    assert container.returncode == EXIT_INTERRUPTED, out + err
    assert "interrupted" in out and "Traceback" not in err, out + err
    copied = s3.list_parts(Bucket="sigterm-dst", Key="master.mov", UploadId=upload_id).get("Parts", [])
    assert 1 <= len(copied) < 4, copied

    again = worker(seaweedfs.endpoint_url)
    out, err = again.communicate(timeout=120)
    assert again.returncode == EXIT_OK, out + err
    complete_upload(s3, ObjectRef("sigterm-dst", "master.mov"), upload_id, plan.layout)
    assert md5_of(s3, "sigterm-dst", "master.mov") == md5_of(s3, "sigterm-src", "master.mov")
    assert s3.list_multipart_uploads(Bucket="sigterm-dst").get("Uploads", []) == []


class AnswerLostOnce:
    """An S3 client whose first CreateMultipartUpload answer is lost: botocore's retry creates a second upload."""

    def __init__(self, s3):
        self.s3 = s3

    def __getattr__(self, name):
        return getattr(self.s3, name)

    def create_multipart_upload(self, **kwargs):
        self.lost = self.s3.create_multipart_upload(**kwargs)["UploadId"]
        response = self.s3.create_multipart_upload(**kwargs)
        response["ResponseMetadata"]["RetryAttempts"] = 1
        return response


def test_upload_whose_create_answer_was_lost_is_aborted_and_others_are_left_alone(seaweedfs):
    """On SeaweedFS: moto reports a fixed Initiated time for every upload."""
    s3 = seaweedfs.client()
    s3.create_bucket(Bucket="lost-src")
    s3.create_bucket(Bucket="lost-dst")
    s3.put_object(Bucket="lost-src", Key="a.mov", Body=b"x")
    source = inspect_source(s3, ObjectRef("lost-src", "a.mov"))
    other_key = s3.create_multipart_upload(Bucket="lost-dst", Key="a.mov.other")["UploadId"]
    client = AnswerLostOnce(s3)
    upload_id = create_upload(client, source, ObjectRef("lost-dst", "a.mov"))
    left = {(u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket="lost-dst")["Uploads"]}
    assert left == {("a.mov", upload_id), ("a.mov.other", other_key)} and client.lost != upload_id
    for key, upload in left:
        s3.abort_multipart_upload(Bucket="lost-dst", Key=key, UploadId=upload)
