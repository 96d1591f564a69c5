"""Sync plans over two S3 Inventory reports: time and peak memory at 1, 3 and 10 million rows.

Generates a source and a destination report (gzip CSV, every field quoted, keys laid
out like a film's frames) whose differences are known by construction, then runs
``mediasync plan`` on them in a child process and measures its wall time and peak
resident memory (the child's rusage). Every manifest the plan writes is checked row
by row against what the construction says it must hold.

Beside it, in one run, the way plans worked before (the destination held as a dict
of every key, the source streamed past it; manifests.sync_plan.plan_sync) over the
same reports, at the sizes it fits: the ratio shows what DuckDB's flat memory buys.

    .venv/bin/python bench/sync_plans.py                       # 1, 3, 10 million rows
    .venv/bin/python bench/sync_plans.py --rows 1000000 --json out.json

Not part of `make test`. docs/sync-plans.md has the numbers of a dated run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MiB = 1024 * 1024
ROWS_PER_FILE = 1_000_000
REPORT_TIME_MS = 1_796_000_400_000  # 2026-11-30 01:00 UTC: both reports of the same day
# By construction, object i of the source is, at the destination, by i % 100:
#   0-89 the same (same size and ETag, written later): left out
#   90-94 absent: copy; 95-96 another size: copy; 97-98 another ETag: check;
#   99 the same but written earlier than the source: check.
# The destination also holds one object in 100 that the source does not.
EXPECTED_SHARE = {"same": 90, "copy": 7, "check": 3}


def key_sql(index: str) -> str:
    """A frame of a film: titles/t00042/frames/f00001234.exr (170,000 frames a title)."""
    return (f"'titles/t' || lpad(CAST({index} // 170000 AS VARCHAR), 5, '0') || '/frames/f' || "
            f"lpad(CAST({index} AS VARCHAR), 8, '0') || '.exr'")


def write_report(folder: Path, bucket: str, rows: int, side: str) -> Path:
    """A CSV inventory report of ``rows`` source objects (the destination's derived from them)."""
    import duckdb

    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    files = []
    connection = duckdb.connect()
    connection.execute("SET preserve_insertion_order = false")
    for start in range(0, rows, ROWS_PER_FILE):
        stop = min(rows, start + ROWS_PER_FILE)
        if side == "source":
            select = (f"SELECT '{bucket}', {key_sql('i')}, 'true', CAST(1000 + i % 5000 AS VARCHAR), "
                      "'2026-11-20T10:00:00.000Z', md5(CAST(i AS VARCHAR)) "
                      f"FROM range({start}, {stop}) AS t(i)")
        else:
            select = (f"SELECT '{bucket}', {key_sql('i')}, 'true', "
                      "CAST(1000 + i % 5000 + CASE WHEN i % 100 IN (95, 96) THEN 1 ELSE 0 END AS VARCHAR), "
                      "CASE WHEN i % 100 = 99 THEN '2026-11-19T10:00:00.000Z' ELSE '2026-11-21T10:00:00.000Z' END, "
                      "CASE WHEN i % 100 IN (97, 98) THEN md5('other' || i) ELSE md5(CAST(i AS VARCHAR)) END "
                      f"FROM range({start}, {stop}) AS t(i) WHERE i % 100 NOT BETWEEN 90 AND 94 "
                      # Objects only the destination has (deleted at the source since, say).
                      f"UNION ALL SELECT '{bucket}', 'only-here/' || {key_sql('i')}, 'true', '10', "
                      "'2026-11-21T10:00:00.000Z', md5('x') "
                      f"FROM range({start}, {stop}) AS t(i) WHERE i % 100 = 0")
        name = f"{start // ROWS_PER_FILE:04d}.csv.gz"
        connection.execute(f"COPY ({select}) TO '{data / name}' "
                           "(FORMAT csv, HEADER false, FORCE_QUOTE *, COMPRESSION gzip)")
        body = (data / name).read_bytes()
        files.append({"key": f"{bucket}/all/data/{name}", "size": len(body), "MD5checksum": hashlib.md5(body).hexdigest()})
    connection.close()
    dated = folder / "2026-11-30T01-00Z"
    dated.mkdir(parents=True, exist_ok=True)
    manifest = dated / "manifest.json"
    manifest.write_text(json.dumps({
        "sourceBucket": bucket, "destinationBucket": "arn:aws:s3:::inventory", "version": "2016-11-30",
        "creationTimestamp": str(REPORT_TIME_MS), "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, IsLatest, Size, LastModifiedDate, ETag", "files": files,
    }))
    return manifest


def expected_action(index: int) -> str:
    share = index % 100
    return "same" if share < 90 else "copy" if share < 97 else "check"


def check_manifests(output: Path, rows: int) -> dict[str, int]:
    """Every source object in exactly the manifest its construction names; counts by action."""
    seen = bytearray(rows)
    counts = {}
    for action, path in (("copy", output), ("check", output.with_name(output.stem + ".check.csv")),
                         ("same", output.with_name(output.stem + ".same.csv"))):
        count = 0
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                index = int(line.rsplit("/f", 1)[1][:8])
                assert expected_action(index) == action, f"{line.strip()} in {action}, expected {expected_action(index)}"
                assert not seen[index], f"{line.strip()} twice"
                seen[index] = 1
                count += 1
        counts[action] = count
    assert all(seen), f"{rows - sum(seen)} source objects in no manifest"
    return counts


def measure(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) of a child process, and its output."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{output}")
    return elapsed, usage.ru_maxrss / 1024, output


DICT_PLAN = """
import sys
from mediasync.manifests.inventory_report import read_inventory_entries
from mediasync.manifests.listing import Listed
from mediasync.manifests.sync_plan import SyncCounts, decide
source, destination = sys.argv[1:3]
found = {}
for entry in read_inventory_entries(destination):
    found[entry.row.key] = Listed(entry.row.bucket, entry.row.key, entry.size or 0, None, entry.etag or "")
counts = SyncCounts()
for entry in read_inventory_entries(source):
    counts.add(Listed(entry.row.bucket, entry.row.key, entry.size or 0, None, entry.etag or ""),
               decide(Listed(entry.row.bucket, entry.row.key, entry.size or 0, None, entry.etag or ""),
                      found.get(entry.row.key)))
print(dict(counts.objects))
"""


def run_size(rows: int, folder: Path, python: str, dict_too: bool) -> dict:
    generated = time.monotonic()
    source = write_report(folder / "source", "media", rows, "source")
    destination = write_report(folder / "destination", "archive", rows, "destination")
    generated = time.monotonic() - generated
    output = folder / "plan" / "sync.csv"
    load_before = os.getloadavg()
    seconds, peak, text = measure([python, "-m", "mediasync.cli", "plan", "--source-inventory", str(source),
                                   "--destination-inventory", str(destination), "--output", str(output),
                                   "--work-dir", str(folder)])
    load_after = os.getloadavg()
    counts = check_manifests(output, rows)
    expected = {action: rows // 100 * share for action, share in EXPECTED_SHARE.items()}
    assert counts == expected, (counts, expected)
    data_bytes = sum(path.stat().st_size for side in ("source", "destination") for path in (folder / side / "data").iterdir())
    result = {"rows": rows, "seconds": round(seconds, 1), "peak_rss_mib": round(peak), "counts": counts,
              "inventory_gzip_bytes": data_bytes, "generate_seconds": round(generated, 1),
              "load_before": [round(value, 2) for value in load_before],
              "load_after": [round(value, 2) for value in load_after], "output": text.strip().splitlines()[:2]}
    if dict_too:
        dict_seconds, dict_peak, _ = measure([python, "-c", DICT_PLAN, str(source), str(destination)])
        result |= {"dict_seconds": round(dict_seconds, 1), "dict_peak_rss_mib": round(dict_peak)}
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, action="append", help="rows a side (repeatable) [1, 3 and 10 million]")
    parser.add_argument("--dict-up-to", type=int, default=3_000_000,
                        help="also time the in-memory dict plan up to this many rows [3 million]")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--work-dir", type=Path, default=None, help="where the reports are generated")
    args = parser.parse_args()
    sizes = args.rows or [1_000_000, 3_000_000, 10_000_000]
    if any(rows % 100 for rows in sizes):
        parser.error("--rows must be a multiple of 100 (the construction repeats every 100 objects)")
    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
               "machine": platform.machine(), "python": platform.python_version(), "runs": []}
    for rows in sizes:
        with tempfile.TemporaryDirectory(dir=args.work_dir, prefix="sync-plans-") as folder:
            result = run_size(rows, Path(folder), sys.executable, rows <= args.dict_up_to)
        results["runs"].append(result)
        print(json.dumps(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print("\n| rows a side | plan (DuckDB) | peak RSS | dict of every key | its peak RSS | load (1-min, before/after) |")
    print("|---:|---:|---:|---:|---:|---|")
    for run in results["runs"]:
        dict_part = (f"{run['dict_seconds']} s | {run['dict_peak_rss_mib']} MiB" if "dict_seconds" in run
                     else "not run | not run")
        print(f"| {run['rows']:,} | {run['seconds']} s | {run['peak_rss_mib']} MiB | {dict_part} | "
              f"{run['load_before'][0]} / {run['load_after'][0]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
