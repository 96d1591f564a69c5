"""`mediasync run` stopped by Ctrl-C or SIGTERM, and two runs writing to one destination.

Stopped, a run reports its in-flight objects as Interrupted, aborts the multipart
uploads it opened and exits 128 + the signal's number. Started beside a live run on
the same destination, it leaves that run's uploads alone and says so; only the
uploads of a run that is gone are aborted as an interrupted run's.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import uuid
from dataclasses import asdict

import pytest

from mediasync.core.settings import MiB
from mediasync.local.run_registry import RunRecord
from mediasync.manifests.s3batch_csv import format_row
from tests.conftest import put_multipart
from tests.faults.cli import cli_env, mediasync_run, run_args
from tests.faults.proxy import FaultProxy, FaultRules
from tests.integration.test_resume import OPTIONS, copied, wait_for
from tests.invariants import report_rows


def one_line(text: str) -> str:
    return " ".join(text.split())


def buckets(s3) -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    source, destination = f"stop-src-{suffix}", f"stop-dst-{suffix}"
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=destination)
    return source, destination


@pytest.mark.parametrize(("sign", "exit_code", "line", "processes"), [
    (signal.SIGTERM, 143, "stopped by SIGTERM: 1 object in flight reported Interrupted, 1 multipart upload of its own aborted",
     "0"),
    (signal.SIGINT, 130, "stopped by Ctrl-C: 1 object in flight reported Interrupted, 1 multipart upload of its own aborted",
     "0"),
    # Copies running in sandbox processes stop with the run, not after they finish.
    (signal.SIGTERM, 143, "stopped by SIGTERM: 1 object in flight reported Interrupted, 1 multipart upload of its own aborted",
     "2"),
], ids=["SIGTERM", "Ctrl-C", "SIGTERM-sandboxes"])
def test_a_stopped_run_reports_its_objects_aborts_its_uploads_and_exits_128_plus_the_signal(
        moto_server, tmp_path, sign, exit_code, line, processes):
    s3 = moto_server.client()
    source, destination = buckets(s3)
    s3.put_object(Bucket=source, Key="small.mp4", Body=b"x" * 1000)
    put_multipart(s3, source, "big.mov", 6 * 5 * MiB, 5 * MiB)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(format_row(source, "small.mp4") + format_row(source, "big.mov"), encoding="utf-8")
    env = cli_env(moto_server, MEDIASYNC_STATE_DIR=str(tmp_path / "state"))

    slow = FaultRules(delay_seconds=0.5, delay_operations={"UploadPartCopy"})
    with FaultProxy(moto_server.endpoint_url, slow) as proxy:
        runner = subprocess.Popen(run_args(manifest, destination, tmp_path / "report.csv", proxy.endpoint_url,
                                           *OPTIONS, "--processes", processes),
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  start_new_session=True)
        try:
            wait_for(lambda: copied(s3, destination, ["small.mp4"]) and proxy.forwarded["UploadPartCopy"] >= 2,
                     "the small object to land and the large one to be mid-copy", runner)
            # Ctrl-C reaches the terminal's whole process group; SIGTERM (kill, a scheduler) the one process.
            os.killpg(runner.pid, sign) if sign == signal.SIGINT else runner.send_signal(sign)
            out, err = runner.communicate(timeout=60)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(runner.pid, signal.SIGKILL)

    assert runner.returncode == exit_code, out + err
    assert "Traceback" not in out + err
    assert line in one_line(err), err
    rows = {row["Key"]: (row["TaskStatus"], row["ErrorCode"]) for row in report_rows(tmp_path / "report.csv")}
    assert rows == {"small.mp4": ("succeeded", ""), "big.mov": ("failed", "Interrupted")}
    assert s3.list_multipart_uploads(Bucket=destination).get("Uploads", []) == []
    assert not copied(s3, destination, ["big.mov"])


def test_a_run_leaves_a_live_runs_uploads_alone_and_aborts_a_gone_runs(moto_server, tmp_path):
    s3 = moto_server.client()
    source, destination = buckets(s3)
    s3.put_object(Bucket=source, Key="take.mov", Body=b"y" * 2000)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(format_row(source, "take.mov"), encoding="utf-8")
    state = tmp_path / "state"
    env = cli_env(moto_server, MEDIASYNC_STATE_DIR=str(state))
    # Another run's live upload on the same key: a process that is running, registered as a run there.
    other = s3.create_multipart_upload(Bucket=destination, Key="take.mov")["UploadId"]
    sleeper = subprocess.Popen(["sleep", "120"])
    try:
        (state / "runs").mkdir(parents=True)
        record = RunRecord(moto_server.endpoint_url, destination, "", sleeper.pid, socket.gethostname(),
                           "2026-12-07T10:00:00+00:00")
        (state / "runs" / f"{sleeper.pid}.json").write_text(json.dumps(asdict(record)), encoding="utf-8")

        result = mediasync_run(moto_server, manifest, destination, tmp_path / "first.csv", moto_server.endpoint_url,
                               env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        output = one_line(result.stderr)
        assert f"another mediasync run is writing to s3://{destination}/ (pid {sleeper.pid}, started" in output
        assert "its open uploads are left alone, 1 of this manifest's keys among them" in output
        assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=destination).get("Uploads", [])] == [other]
    finally:
        sleeper.kill()
        sleeper.wait()

    # The other run is gone (killed): its upload is abandoned, and the next run aborts it.
    result = mediasync_run(moto_server, manifest, destination, tmp_path / "second.csv", moto_server.endpoint_url,
                           env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "aborted 1 multipart uploads left open by an interrupted run" in one_line(result.stderr)
    assert s3.list_multipart_uploads(Bucket=destination).get("Uploads", []) == []
    assert list(state.glob("runs/*.json")) == []
