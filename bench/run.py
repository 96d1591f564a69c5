"""MediaSync against s5cmd, rclone and aws cli, bucket to bucket on one local SeaweedFS.

    .venv/bin/python bench/run.py            # 1 GiB multipart, 2,000 x 64 KiB, and those resumed; median of 3
    .venv/bin/python bench/run.py --quick    # 256 MiB and 300 objects, one run each

Starts SeaweedFS on free loopback ports, seeds the workloads once, then for each
round runs every tool on every workload into a fresh destination prefix, times it
(process tree wall time, CPU seconds, peak RSS, and the server's CPU seconds), checks the destination object by
object against the source and deletes it. Prints the table and writes
``results.json``, ``results.md`` and each run's output (``logs/``) to --output-dir.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from destinations import check_destination, empty_prefix
from process_usage import Usage, find_process, run_measured, tree_cpu_seconds
from results import Runs, machine_description, print_table, row, write_results
from rich.console import Console
from tools import BIN, TOOLS, CopyJob, clean_env
from workloads import seed, source_facts, workloads

from mediasync.testing.servers import run_seaweedfs

DESTINATION_BUCKET = "bench-destination"
# A pause before each timed run, so the server's work from the last one (deletes) settles.
SETTLE_SECONDS = 2.0
console = Console()
if not console.is_terminal:
    console = Console(width=200)  # a log file or a pipe: keep the table's rows on one line


def tool_versions() -> dict[str, str]:
    def first_line(command: list[str]) -> str:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        return (result.stdout or result.stderr).strip().splitlines()[0] if (result.stdout or result.stderr) else "?"

    from importlib.metadata import version

    return {
        "mediasync": version("mediasync"),
        "s5cmd": first_line([str(BIN / "s5cmd"), "version"]),
        "rclone": first_line([str(BIN / "rclone"), "version"]),
        "aws-cli": first_line([str(BIN / "aws"), "--version"]),
        "seaweedfs": first_line([str(BIN / "weed"), "version"]),
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and one run: a check that it all works")
    parser.add_argument("--runs", type=int, default=None, help="runs per tool and workload (default 3, 1 with --quick)")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {','.join(TOOLS)}")
    parser.add_argument("--workloads", default="large,small,resumed", help="comma-separated subset of large,small,resumed")
    parser.add_argument("--output-dir", type=Path, default=Path(__file__).resolve().parent / "results",
                        help="where results.json and results.md go [default: bench/results]")
    parser.add_argument("--data-dir", type=Path, default=None, help="SeaweedFS data directory [default: a temporary one]")
    args = parser.parse_args(argv)
    args.runs = args.runs or (1 if args.quick else 3)
    unknown = set(args.tools.split(",")) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools {', '.join(sorted(unknown))}: choose from {', '.join(TOOLS)}")
    names = [workload.name for workload in workloads()]
    unknown = set(args.workloads.split(",")) - set(names)
    if unknown:
        parser.error(f"unknown workloads {', '.join(sorted(unknown))}: choose from {', '.join(names)}")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    chosen = [w for w in workloads(args.quick) if w.name in args.workloads.split(",")]
    tools = [TOOLS[name] for name in args.tools.split(",")]
    with tempfile.TemporaryDirectory(prefix="mediasync-bench-") as scratch:
        data_dir = args.data_dir or Path(scratch, "seaweedfs")
        console.print("starting SeaweedFS (about 4 s)")
        with run_seaweedfs(data_dir) as server:
            # run_seaweedfs names no pid; its process is the one given this data directory.
            server_pid = find_process(f"-dir={Path(data_dir).resolve()}")
            if server_pid is None:
                raise RuntimeError(f"no process runs SeaweedFS with -dir={Path(data_dir).resolve()}")
            s3 = server.client(max_pool_connections=32)
            env = clean_env(server.access_key, server.secret_key, Path(scratch))
            s3.create_bucket(Bucket=DESTINATION_BUCKET)
            facts: dict[str, dict] = {}
            seeded: dict[str, dict] = {}  # by bucket: the resumed workload reuses the small one's
            for workload in chosen:
                if workload.bucket not in seeded:
                    started = time.perf_counter()
                    with console.status(f"seeding {workload.describe()}"):
                        seed(s3, workload)
                        seeded[workload.bucket] = source_facts(s3, workload)
                    console.print(f"seeded {workload.describe()} in {time.perf_counter() - started:.1f} s")
                facts[workload.name] = seeded[workload.bucket]
            all_runs = [Runs(workload, tool.name, tool.is_peer, tool.reference) for workload in chosen for tool in tools
                        if tool.resume or not workload.resumed]
            for round_number in range(1, args.runs + 1):
                for workload in chosen:
                    # Each round starts with another tool, so none always runs first
                    # (just after seeding or another workload's clean-up).
                    of_workload = [runs for runs in all_runs if runs.workload == workload]
                    shift = (round_number - 1) % len(of_workload)
                    for runs in of_workload[shift:] + of_workload[:shift]:
                        run_one(runs, round_number, server.endpoint_url, server_pid, s3, env, facts,
                                args.output_dir / "logs")
        rows = [row(runs, all_runs) for runs in all_runs]
    title = f"bucket-to-bucket copy on SeaweedFS, median of {args.runs}"
    print_table(rows, console, title)
    method = (f"Median of {args.runs} run(s) per tool; every tool with its defaults; one SeaweedFS "
              f"`weed server` on loopback sharing the CPUs with the tool; MediaSync's time includes "
              f"listing the source into its manifest and starting its local runtime; server CPU s is "
              f"that `weed server` process's CPU seconds (user + system) during the tool's run.")
    meta = {"machine": machine_description(), "method": method, "runs": args.runs, "quick": args.quick,
            "versions": tool_versions(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    json_path, md_path = write_results(args.output_dir, rows, meta)
    console.print(f"results: {json_path} and {md_path}")
    return 0 if all(item["verified"] for item in rows) else 1


def run_steps(commands: list[list[str]], env: dict[str, str], log: Path) -> Usage:
    """Commands one after the other, up to the first that fails; their usage summed."""
    usage = Usage()
    for command in commands:
        step = run_measured(command, env=env, log=log)
        usage = usage.then(step)
        if step.exit_code:
            break
    return usage


def run_one(runs: Runs, round_number: int, endpoint_url: str, server_pid: int,
            s3, env: dict[str, str], facts: dict, logs: Path) -> None:
    prefix = f"{runs.tool}-{runs.workload.name}-{round_number}/"
    # Each run's output (and mediasync's manifest and report) is kept for a look afterwards.
    workdir = logs / prefix.rstrip("/")
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "output.log"
    log.unlink(missing_ok=True)
    time.sleep(SETTLE_SECONDS)
    job = CopyJob(endpoint_url, runs.workload.bucket, DESTINATION_BUCKET, prefix, workdir)
    tool = TOOLS[runs.tool]
    with console.status(f"round {round_number}: {runs.tool} on {runs.workload.describe()}"):
        commands = tool.commands(job)
        copied = Usage()
        if runs.workload.resumed and tool.resume:
            # The copy the resume starts from is not timed; if it fails, so does the run.
            copied = run_steps(commands, env, log)
            commands = tool.resume(job)
            time.sleep(SETTLE_SECONDS)
        server_cpu = tree_cpu_seconds(server_pid)
        usage = copied if copied.exit_code else run_steps(commands, env, log)
        usage.server_cpu_seconds = tree_cpu_seconds(server_pid) - server_cpu
        check = check_destination(s3, DESTINATION_BUCKET, prefix, facts[runs.workload.name])
        empty_prefix(s3, DESTINATION_BUCKET, prefix)
    runs.usages.append(usage)
    runs.checks.append(check)
    status = "verified" if check.verified and not usage.exit_code else f"[red]NOT verified[/red] {check.problems[:3]}"
    if usage.exit_code:
        tail = log.read_text(errors="replace").splitlines()[-5:]
        status += f" (exit {usage.exit_code}: {' | '.join(tail)})"
    console.print(f"round {round_number} {runs.workload.name:7} {runs.tool:9} {usage.seconds:7.2f} s "
                  f"cpu {usage.cpu_seconds:6.2f} s  server cpu {usage.server_cpu_seconds:6.2f} s  rss {usage.peak_rss / 2**20:6.0f} MiB  {status}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
