"""Run a command and measure its whole process tree: wall time, CPU seconds, peak RSS;
and the S3 server's CPU seconds over the same run.

CPU comes from ``wait4``: the kernel adds every reaped descendant's user and system
time to the child's, so threads and subprocesses are all counted. Peak RSS is the
sum over the tree's processes of each one's high-water mark (VmHWM), sampled from
/proc every ``SAMPLE_SECONDS``: exact for one process, an upper bound for several.
(``wait4``'s ru_maxrss would count the benchmark's own memory from before exec.)

The server is not our child, so its CPU is read from /proc before and after a run:
the copier's requests cost the server CPU too, on the same cores.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.05
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Usage:
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss: int = 0  # bytes
    exit_code: int = 0
    server_cpu_seconds: float = 0.0  # the S3 server's, over the run

    def then(self, other: "Usage") -> "Usage":
        """Two commands run one after the other."""
        return Usage(self.seconds + other.seconds, self.cpu_seconds + other.cpu_seconds,
                     max(self.peak_rss, other.peak_rss), self.exit_code or other.exit_code,
                     self.server_cpu_seconds + other.server_cpu_seconds)


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat from field 3 on: the command name before it may hold spaces and parentheses."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            parent = int(_stat_fields(int(entry.name))[1])
        except OSError:
            continue
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _tree(root: int) -> list[int]:
    """The process and its live descendants."""
    children = _children()
    pids: list[int] = []
    todo = [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU so far of a process (every thread: stat fields 14 and 15) and its live descendants."""
    ticks = 0
    for pid in _tree(root):
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def find_process(argument: str) -> int | None:
    """The process (not this one) whose command line holds exactly this argument."""
    wanted = argument.encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            arguments = Path(entry.path, "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in arguments:
            return int(entry.name)
    return None


def _high_water_marks(root: int, peaks: dict[int, int]) -> None:
    """Record each live process of the tree's peak resident memory so far (bytes)."""
    for pid in _tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]) * 1024)
                break


def run_measured(command: list[str], *, env: dict[str, str], log: Path) -> Usage:
    with log.open("ab") as output:
        output.write(f"$ {' '.join(command)}\n".encode())
        output.flush()
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
    peaks: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        _high_water_marks(process.pid, peaks)
        while not done.wait(SAMPLE_SECONDS):
            _high_water_marks(process.pid, peaks)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, rusage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    return Usage(
        seconds=seconds,
        cpu_seconds=rusage.ru_utime + rusage.ru_stime,
        peak_rss=sum(peaks.values()),
        exit_code=process.returncode,
    )
