"""Peak memory of a large manifest streamed through the local runner.

Every row goes through the S3 Batch emulation and the real ``batch_invoke``
handler: a few thousand tiny objects are copied through the EXPRESS state
machine and verified, the other rows name keys that do not exist and end as
``SourceMissing`` rows of the report. Memory must stay flat however long the
manifest is: rows are streamed, never held.

    .venv/bin/python bench/memory.py                # 100,000 rows, 2,000 real objects
    .venv/bin/python bench/memory.py --rows 20000   # a quicker look

Prints the resident set size as the job advances and the peak; exits 1 when the
peak exceeds --limit-mib (300).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import boto3

from mediasync.core.settings import CopyOptions
from mediasync.local.runner import JobRequest, run_job
from mediasync.local.runtime import LocalRuntime
from mediasync.manifests.reader import read_manifest
from mediasync.manifests.s3batch_csv import format_row

MiB = 1024 * 1024


def rss_mib() -> float:
    """Resident set size now (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_manifest(path: Path, rows: int, objects: int) -> None:
    """``objects`` real keys spread evenly through ``rows`` rows; the rest do not exist."""
    every = max(1, rows // max(objects, 1))
    with path.open("w", encoding="utf-8") as handle:
        for row in range(rows):
            real = row % every == 0 and row // every < objects
            key = f"proxies/{row // every:06d}.mp4" if real else f"missing/{row:07d}.mp4"
            handle.write(format_row("memory-src", key))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--objects", type=int, default=2_000, help="rows whose object exists and is copied")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--limit-mib", type=float, default=300.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mediasync-memory-") as tmp, LocalRuntime() as runtime:
        work = Path(tmp)
        s3 = boto3.client("s3", region_name=runtime.region)
        s3.create_bucket(Bucket="memory-src")
        s3.create_bucket(Bucket="memory-dst")
        for n in range(args.objects):
            s3.put_object(Bucket="memory-src", Key=f"proxies/{n:06d}.mp4", Body=b"proxy %06d" % n)
        manifest = work / "manifest.csv"
        write_manifest(manifest, args.rows, args.objects)
        baseline = rss_mib()
        print(f"{args.rows} rows ({args.objects} objects to copy), concurrency {args.concurrency}; "
              f"RSS before the job {baseline:.0f} MiB", flush=True)

        started = time.monotonic()
        done = 0
        step = max(1, args.rows // 10)

        def progress(_row: object) -> None:
            nonlocal done
            done += 1
            if done % step == 0:
                print(f"  {done:>7} rows  {time.monotonic() - started:6.0f} s  RSS {rss_mib():5.0f} MiB", flush=True)

        options = CopyOptions(destination_bucket="memory-dst")
        summary = run_job(runtime, read_manifest(manifest), JobRequest(options, work / "report.csv", args.concurrency),
                          progress)
        seconds = time.monotonic() - started
        report_rows = sum(1 for _ in (work / "report.csv").open(encoding="utf-8"))

    peak = peak_rss_mib()
    print(f"rows {summary.tasks} (report {report_rows}), succeeded {summary.succeeded}, failed {summary.failed} "
          f"{dict(summary.failures_by_code)}; {seconds:.0f} s, {summary.tasks / seconds:.0f} rows/s")
    print(f"peak RSS {peak:.0f} MiB (limit {args.limit_mib:.0f} MiB)")
    ok = summary.tasks == args.rows == report_rows and summary.succeeded == args.objects and peak <= args.limit_mib
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
