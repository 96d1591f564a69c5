"""The benchmark's judges: what it calls verified and preserved must be true; the
reference copiers must make the requests they stand for; the server's CPU and the
reference rows must be counted and shown as the table says.

The benchmark itself (`make bench`) is too long for the test suite; its judges are not.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import floor
import process_usage
from destinations import DestinationCheck, check_destination, empty_prefix
from process_usage import Usage
from results import Runs, markdown, row
from workloads import KiB, MiB, Workload, seed, source_facts

SMALL = Workload("small", "src-small", 6, 8 * KiB, None, prefixes=2)
LARGE = Workload("large", "src-large", 1, 12 * MiB, 5 * MiB)


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="dst")
        yield client


def _copy_all(s3, workload: Workload, prefix: str, **copy_args) -> None:
    for index in range(workload.objects):
        key = workload.key(index)
        s3.copy_object(Bucket="dst", Key=prefix + key, CopySource={"Bucket": workload.bucket, "Key": key}, **copy_args)


def test_faithful_copies_are_verified_with_everything_preserved(s3):
    seed(s3, SMALL)
    _copy_all(s3, SMALL, "run/")
    check = check_destination(s3, "dst", "run/", source_facts(s3, SMALL))
    assert check.verified and check.problems == []
    assert all(check.preserved().values()), check.kept


def test_dropped_metadata_and_tags_are_reported_as_not_preserved(s3):
    seed(s3, SMALL)
    _copy_all(s3, SMALL, "run/", MetadataDirective="REPLACE", TaggingDirective="REPLACE", ContentType="video/mp4")
    preserved = check_destination(s3, "dst", "run/", source_facts(s3, SMALL)).preserved()
    assert preserved == {"etag": True, "layout": True, "metadata": False, "content_type": True, "tags": False}


def test_a_missing_object_fails_verification(s3):
    seed(s3, SMALL)
    _copy_all(s3, SMALL, "run/")
    s3.delete_object(Bucket="dst", Key="run/" + SMALL.key(3))
    check = check_destination(s3, "dst", "run/", source_facts(s3, SMALL))
    assert not check.verified
    assert check.found == SMALL.objects - 1
    assert not any(check.preserved().values())


def test_a_single_part_copy_of_a_multipart_source_loses_its_etag_and_layout(s3):
    seed(s3, LARGE)
    facts = source_facts(s3, LARGE)
    assert facts[LARGE.key(0)].part_count == 3 and facts[LARGE.key(0)].part_size == 5 * MiB
    _copy_all(s3, LARGE, "run/")  # CopyObject: one part, the ETag of the whole body
    preserved = check_destination(s3, "dst", "run/", facts).preserved()
    assert not preserved["etag"] and not preserved["layout"]
    assert preserved["metadata"] and preserved["tags"]


def test_emptying_a_prefix_removes_objects_and_open_uploads(s3):
    seed(s3, SMALL)
    _copy_all(s3, SMALL, "run/")
    s3.create_multipart_upload(Bucket="dst", Key="run/half-done")
    empty_prefix(s3, "dst", "run/")
    assert s3.list_objects_v2(Bucket="dst", Prefix="run/").get("KeyCount") == 0
    assert s3.list_multipart_uploads(Bucket="dst", Prefix="run/").get("Uploads", []) == []


# --- the reference copiers (bench/floor.py) -------------------------------------


def _record_requests(s3) -> list[tuple[str, str, str]]:
    """(operation, bucket, the arguments that tell same-named calls apart) for every request."""
    calls: list[tuple[str, str, str]] = []

    def record(params, model, **_kwargs):
        marks = ",".join(name for name in ("PartNumber", "IfMatch", "CopySourceIfMatch") if name in params)
        calls.append((model.name, params.get("Bucket", ""), marks))

    s3.meta.events.register("before-parameter-build.s3", record)
    return calls


def test_the_copy_reference_makes_one_copy_object_per_object_and_keeps_them_verified(s3):
    seed(s3, SMALL)
    calls = _record_requests(s3)
    counts, problems = floor.copy_bucket(s3, SMALL.bucket, "dst", "run/", floor.copy_request, concurrency=4)
    assert problems == [] and counts == {"listed": SMALL.objects, "copied": SMALL.objects, "skipped": 0}
    assert [call for call in calls if call[0] != "ListObjectsV2"] == [("CopyObject", "dst", "")] * SMALL.objects
    check = check_destination(s3, "dst", "run/", source_facts(s3, SMALL))
    assert check.verified and all(check.preserved().values()), check.kept


def test_the_shape_reference_makes_mediasyncs_requests_in_its_order(s3):
    seed(s3, SMALL)
    small_key = SMALL.key(0)
    item = s3.head_object(Bucket=SMALL.bucket, Key=small_key)
    calls = _record_requests(s3)
    dest = floor.ObjectRef("dst", "run/" + small_key)
    assert floor.mediasync_requests(s3, SMALL.bucket, {"Key": small_key, "Size": item["ContentLength"]}, dest) == "copied"
    assert calls == [
        ("HeadObject", SMALL.bucket, ""),  # inspect the source
        ("HeadObject", "dst", ""),  # skip-existing
        ("CopyObject", "dst", "CopySourceIfMatch"),  # its answer's checksum proves it: no Verify HEAD
    ]
    calls.clear()
    assert floor.mediasync_requests(s3, SMALL.bucket, {"Key": small_key, "Size": item["ContentLength"]}, dest) == "skipped"
    assert calls == [("HeadObject", SMALL.bucket, ""), ("HeadObject", "dst", "")]
    calls.clear()
    # `run --source` listed the destination and did not find the key: no skip-existing HEAD.
    other = floor.ObjectRef("dst", "again/" + small_key)
    item_of = {"Key": small_key, "Size": item["ContentLength"]}
    assert floor.mediasync_requests(s3, SMALL.bucket, item_of, other, present=frozenset()) == "copied"
    assert calls == [("HeadObject", SMALL.bucket, ""), ("CopyObject", "dst", "CopySourceIfMatch")]


def test_the_shape_reference_copies_a_multipart_source_part_by_part_like_mediasync(s3):
    seed(s3, LARGE)
    calls = _record_requests(s3)
    counts, problems = floor.copy_bucket(s3, LARGE.bucket, "dst", "run/", floor.mediasync_requests, concurrency=2)
    assert problems == [] and counts["copied"] == 1
    assert calls[1:] == [  # after ListObjectsV2
        ("HeadObject", LARGE.bucket, ""),
        ("HeadObject", LARGE.bucket, "PartNumber"),  # the source's part size
        ("HeadObject", LARGE.bucket, "PartNumber"),  # its last part: equal parts, or uneven?
        ("HeadObject", "dst", ""),  # skip-existing
        ("HeadObject", LARGE.bucket, "IfMatch"),  # content headers for CreateMultipartUpload
        ("GetObjectTagging", LARGE.bucket, ""),
        ("CreateMultipartUpload", "dst", ""),
        *[("UploadPartCopy", "dst", "PartNumber,CopySourceIfMatch")] * 3,
        ("ListParts", "dst", ""),
        ("CompleteMultipartUpload", "dst", ""),
        ("HeadObject", "dst", ""),  # Verify
        ("HeadObject", "dst", "PartNumber"),
    ]
    check = check_destination(s3, "dst", "run/", source_facts(s3, LARGE))
    assert check.verified and all(check.preserved().values()), check.kept


def test_a_reference_run_exits_1_naming_the_failed_copies(s3, monkeypatch, capsys):
    seed(s3, SMALL)
    monkeypatch.setattr(floor, "make_client", lambda *_args: s3)
    args = [SMALL.bucket, "--requests", "shape", "--concurrency", "2"]
    assert floor.main(["http://unused", SMALL.bucket, "no-such-bucket", "run/", *args[1:]]) == 1
    assert "BucketMissing" in capsys.readouterr().err
    assert floor.main(["http://unused", SMALL.bucket, "dst", "run/", *args[1:]]) == 0


# --- the server's CPU and the table's reference rows ------------------------------

# Burns CPU in a thread (not the main one) of a grandchild that stays alive.
_BURN = ("import sys, threading, time\n"
         "def burn():\n"
         "    end = time.process_time() + 0.5\n"
         "    while time.process_time() < end: pass\n"
         "t = threading.Thread(target=burn); t.start(); t.join()\n"
         "print('burnt', flush=True); time.sleep(60)\n")


def test_server_cpu_counts_every_thread_of_every_live_process_of_the_tree():
    parent = subprocess.Popen(
        [sys.executable, "-c", f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {_BURN!r}]); "
                               "time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert parent.stdout.readline().strip() == "burnt"
        own = process_usage._stat_fields(parent.pid)
        assert (int(own[11]) + int(own[12])) / process_usage.CLOCK_TICKS < 0.3  # the parent itself idled
        assert 0.45 <= process_usage.tree_cpu_seconds(parent.pid) < 5
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()


def test_the_server_is_found_by_an_exact_argument_only():
    marker = f"-dir=/tmp/bench-test-{os.getpid()}/seaweedfs"
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker])
    try:
        deadline = time.monotonic() + 10
        while process_usage.find_process(marker) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process_usage.find_process(marker) == process.pid
        assert process_usage.find_process(marker[:-3]) is None  # "--data-dir=…" or a longer path is not it
    finally:
        process.kill()
        process.wait()


def _runs(tool: str, seconds: list[float], server: list[float], *, is_peer: bool = True, reference: str = "") -> Runs:
    runs = Runs(SMALL, tool, is_peer, reference)
    for wall, server_cpu in zip(seconds, server):
        runs.usages.append(Usage(seconds=wall, cpu_seconds=1.0, server_cpu_seconds=server_cpu))
        runs.checks.append(DestinationCheck(expected=SMALL.objects, found=SMALL.objects, complete=SMALL.objects))
    return runs


def test_reference_rows_are_never_the_fastest_peer_and_are_marked():
    all_runs = [_runs("s5cmd", [2.0, 3.0, 4.0], [1.0, 9.0, 2.0]),
                _runs("py-copy", [1.0, 1.0, 1.0], [0.5, 0.5, 0.5], is_peer=False, reference="python, one CopyObject"),
                _runs("mediasync", [30.0, 31.0, 32.0], [9.0, 9.5, 8.0], is_peer=False)]
    rows = [row(runs, all_runs) for runs in all_runs]
    assert [item["fastest_peer"] for item in rows] == ["s5cmd"] * 3
    assert [item["ratio_to_fastest_peer"] for item in rows] == [1.0, 0.33, 10.33]
    assert [item["server_cpu_seconds"] for item in rows] == [2.0, 0.5, 9.0]  # medians
    assert [item["is_peer"] for item in rows] == [True, False, False]
    table = markdown(rows, "machine", "method")
    assert "| py-copy † |" in table and "| s5cmd |" in table and "| mediasync |" in table
    assert "† reference, not a peer" in table and "py-copy: python, one CopyObject" in table
    assert "| 1.00 | 1.00 | 2.00 | 0 |" in table.splitlines()[4]  # s5cmd: ratio, CPU s, server CPU s, RSS
