"""Run a command and measure its whole process tree: wall time, CPU seconds, peak RSS.

CPU comes from ``wait4``: the kernel adds every reaped descendant's user and system
time to the child's, so threads and subprocesses are all counted. Peak RSS is the
sum over the tree's processes of each one's high-water mark (VmHWM), sampled from
/proc every ``SAMPLE_SECONDS``: exact for one process, an upper bound for several.
(``wait4``'s ru_maxrss would count the benchmark's own memory from before exec.)
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.05


@dataclass
class Usage:
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss: int = 0  # bytes
    exit_code: int = 0

    def then(self, other: "Usage") -> "Usage":
        """Two commands run one after the other."""
        return Usage(self.seconds + other.seconds, self.cpu_seconds + other.cpu_seconds,
                     max(self.peak_rss, other.peak_rss), self.exit_code or other.exit_code)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _high_water_marks(root: int, peaks: dict[int, int]) -> None:
    """Record each live process of the tree's peak resident memory so far (bytes)."""
    tree = _children()
    todo = [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
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
