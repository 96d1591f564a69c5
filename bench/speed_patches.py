"""What the local engines cost per small object: the strict engine (local/asl, the
default), and moto's (``MEDIASYNC_LOCAL_ENGINE=moto``) with each of its speed patches
(local/moto_patches.py SPEED) left out in turn.

Copies the same small objects through the real EXPRESS machine and handlers on the
embedded S3, in a fresh interpreter per run: on the strict engine, and on moto's with
every speed patch, with each one left out in turn, and with none. Prints the median
CPU seconds per object of the job (after start-up), the start-up itself, and each
variant against moto's with every patch. Every copy is verified by the job, and a run
whose report has a failure counts as a failed run.

    .venv/bin/python bench/speed_patches.py               # 300 objects, median of 3
    .venv/bin/python bench/speed_patches.py --objects 100 --runs 1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ALL, NONE, STRICT = "all", "none", "strict"


def one_run(variant: str, objects: int) -> dict[str, float]:
    """In this process: the job's CPU and wall seconds with the speed patches ``variant`` names."""
    import boto3

    from mediasync.core.settings import CopyOptions
    from mediasync.local import moto_patches
    from mediasync.local.runner import JobRequest, run_job
    from mediasync.local.runtime import LocalRuntime
    from mediasync.manifests.reader import read_manifest
    from mediasync.manifests.s3batch_csv import format_row

    if variant not in (ALL, NONE, STRICT):
        moto_patches.SPEED = tuple(patch for patch in moto_patches.SPEED if patch.name != variant)
    engine = "mediasync" if variant == STRICT else "moto"
    started, started_cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as scratch, \
            LocalRuntime(engine=engine, speed_patches=variant != NONE) as runtime:
        startup, startup_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        s3 = boto3.client("s3", region_name=runtime.region)
        s3.create_bucket(Bucket="speed-src")
        s3.create_bucket(Bucket="speed-dst")
        manifest = Path(scratch, "manifest.csv")
        with manifest.open("w") as handle:
            for n in range(objects):
                key = f"proxies/clip_{n:05d}.mp4"
                s3.put_object(Bucket="speed-src", Key=key, Body=os.urandom(64 * 1024), Metadata={"n": str(n)})
                handle.write(format_row("speed-src", key))
        cpu, wall = time.process_time(), time.perf_counter()
        summary = run_job(runtime, read_manifest(manifest),
                          JobRequest(CopyOptions(destination_bucket="speed-dst"), Path(scratch, "report.csv")))
        return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, "startup": startup,
                "startup_cpu": startup_cpu,
                "failed": summary.failed, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(one_run(args.child, args.objects)))
        return 0
    from mediasync.local.moto_patches import SPEED

    variants = [STRICT, ALL, *(patch.name for patch in SPEED), NONE]
    results: dict[str, list[dict[str, float]]] = {variant: [] for variant in variants}
    for round_number in range(args.runs):
        for variant in variants:  # interleaved, so a slow moment of the machine is shared
            child = subprocess.run([sys.executable, __file__, "--objects", str(args.objects), "--child", variant],
                                   capture_output=True, text=True, check=True)
            result = json.loads(child.stdout.strip().splitlines()[-1])
            results[variant].append(result)
            print(f"round {round_number + 1} {variant:55} cpu {result['cpu']:6.2f} s  wall {result['wall']:6.2f} s"
                  f"  failed {result['failed']:.0f}", file=sys.stderr)
    base = statistics.median(run["cpu"] for run in results[ALL]) / args.objects * 1000
    print(f"\n{args.objects} objects of 64 KiB, embedded S3, one process, median of {args.runs}\n")
    print("| engine | CPU ms per object | × moto, all patches | wall s | start-up s (CPU s) |")
    print("|---|---:|---:|---:|---:|")
    for variant in variants:
        cpu = statistics.median(run["cpu"] for run in results[variant]) / args.objects * 1000
        wall = statistics.median(run["wall"] for run in results[variant])
        startup = statistics.median(run["startup"] for run in results[variant])
        startup_cpu = statistics.median(run["startup_cpu"] for run in results[variant])
        label = {STRICT: "strict (local/asl)", ALL: "moto, all speed patches",
                 NONE: "moto, no speed patch"}.get(variant, f"moto, all but: {variant}")
        print(f"| {label} | {cpu:.1f} | {cpu / base:.2f} | {wall:.1f} | {startup:.2f} ({startup_cpu:.2f}) |")
    failed = sum(run["failed"] for runs in results.values() for run in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
