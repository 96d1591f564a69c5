"""moto's engine's hold on moto's internals (MEDIASYNC_LOCAL_ENGINE=moto): still there, and
the speed half optional."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mediasync.core.clients import s3 as process_s3
from mediasync.core.settings import MiB
from mediasync.local import moto_patches
from mediasync.local.moto_patches import FIDELITY, INTERNALS_USED, S3_FIDELITY, SPEED, speed_patches_enabled
from mediasync.local.runtime import LocalRuntime
from tests.conftest import batch_event, put_multipart

TARGETS = sorted({target for patch in FIDELITY + SPEED + S3_FIDELITY for target in patch.targets}
                 | set(INTERNALS_USED))


@pytest.mark.parametrize("target", TARGETS)
def test_every_moto_attribute_the_runtime_patches_or_reads_still_exists(target):
    module_name, _, path = target.partition(":")
    value = importlib.import_module(module_name)
    for part in path.split("."):
        assert hasattr(value, part), f"moto changed: {target} is gone (pyproject pins moto<5.3 for this list)"
        value = getattr(value, part)


def test_the_two_lists_are_labelled_and_disjoint():
    assert FIDELITY and SPEED
    assert not {p.name for p in FIDELITY} & {p.name for p in SPEED}
    assert not {t for p in FIDELITY for t in p.targets} & {t for p in SPEED for t in p.targets}


def test_speed_patches_switch(monkeypatch):
    monkeypatch.delenv(moto_patches.SPEED_PATCHES_VARIABLE, raising=False)
    assert speed_patches_enabled() is True
    monkeypatch.setenv(moto_patches.SPEED_PATCHES_VARIABLE, "0")
    assert speed_patches_enabled() is False
    assert speed_patches_enabled(True) is True


def test_copies_the_same_without_the_speed_patches(monkeypatch):
    """Small and multipart copies through both machines on moto's own, slower paths."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    monkeypatch.setenv(moto_patches.SPEED_PATCHES_VARIABLE, "0")
    unpatched = AmazonStateLanguageParser.parse
    with LocalRuntime(engine="moto") as runtime:
        assert AmazonStateLanguageParser.parse is unpatched, "a speed patch was applied"
        s3 = process_s3()
        s3.create_bucket(Bucket="src")
        s3.create_bucket(Bucket="dst")
        s3.put_object(Bucket="src", Key="small.txt", Body=b"x" * 100)
        etag = put_multipart(s3, "src", "large.mov", 17 * MiB, 6 * MiB)
        args = {"destinationBucket": "dst", "multipartThreshold": str(16 * MiB), "partSize": str(6 * MiB)}
        for task, key in (("t1", "small.txt"), ("t2", "large.mov")):
            result = runtime.invoke("batch_invoke", batch_event("job", task, "src", key, user_arguments=args))
            assert result["results"][0]["resultCode"] == "Succeeded", result
        assert s3.head_object(Bucket="dst", Key="large.mov")["ETag"] == etag
        assert runtime.invocations.get("copy_parts")  # the Distributed Map ran its part groups


START_THEN_COPY_ON_AWS_BATCH = """
import sys
import boto3
from mediasync.core.settings import MiB
from mediasync.local.runtime import LocalRuntime
from tests.conftest import batch_event, put_multipart

with LocalRuntime(engine="moto") as runtime:
    started_with = sorted(name for name in ("moto.ec2.models", "moto.batch.models") if name in sys.modules)
    s3 = boto3.client("s3", region_name=runtime.region)
    s3.create_bucket(Bucket="src")
    s3.create_bucket(Bucket="dst")
    put_multipart(s3, "src", "m.mov", 12 * MiB, 5 * MiB)
    arguments = {"destinationBucket": "dst", "multipartThreshold": str(8 * MiB), "worker": "batch"}
    result = runtime.invoke("batch_invoke", batch_event("j", "t", "src", "m.mov", user_arguments=arguments))
    print(started_with, result["results"][0]["resultCode"], "moto.batch.models" in sys.modules)
"""


def test_moto_batch_and_ec2_load_only_when_a_copy_uses_aws_batch():
    # About 1 s of start-up was moto importing its EC2 backend through the Step
    # Functions parser's Batch integration; a fresh interpreter shows what start-up loads.
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", START_THEN_COPY_ON_AWS_BATCH], cwd=root, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "MEDIASYNC_LOCAL_SPEED_PATCHES": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-3:] == ["[]", "Succeeded", "True"], result.stdout
