"""A report streamed into counts, bytes, size histogram, timeline and slowest objects (never the rows)."""

from __future__ import annotations

import heapq
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from mediasync.core.move import MOVED, SOURCE_KEPT
from mediasync.manifests.filters import LeftOut
from mediasync.manifests.locations import is_s3_url
from mediasync.manifests.reader import read_manifest
from mediasync.manifests.s3batch_csv import ManifestError
from mediasync.manifests.sync_plan import LEFT_OUT_BY_PLAN
from mediasync.model.workload import SIZE_BINS, size_bin
from mediasync.reports.rows import (
    SAMPLES_PER_CODE,
    SLOWEST,
    ReportRow,
    display_key,
    left_out_path,
    read_report,
    read_timings,
    timings_path,
)

# A job's finish times are kept one by one up to this many (16 bytes each), so a short
# job's timeline can have bins shorter than a second; longer jobs count by whole seconds.
FINE_TIMELINE_LIMIT = 100_000
TIMELINE_RESOLUTION = 0.001  # seconds: the shortest bin

# "... verified by checksum-CRC64NVME: ..." in Copied and AlreadyCopied messages (core/s3batch_task.py).
_VERIFIED_BY = re.compile(r"verified by ([\w-]+)")


def verification_method(message: str) -> str:
    """How a succeeded object was proven, from its message; "unstated" for reports that
    predate the method (or S3 Batch rows without our message)."""
    match = _VERIFIED_BY.search(message or "")
    return match.group(1) if match else "unstated"


@dataclass
class Timing:
    key: str
    bytes: int
    seconds: float
    status: str
    code: str


@dataclass
class ReportSummary:
    tasks: int = 0
    succeeded: int = 0
    failed: int = 0
    bytes: int = 0
    by_code: Counter = field(default_factory=Counter)  # outcome code -> tasks (successes too)
    failures: Counter = field(default_factory=Counter)  # failure code -> tasks
    samples: dict[str, list[str]] = field(default_factory=dict)  # failure code -> a few messages
    by_method: Counter = field(default_factory=Counter)  # verification method -> succeeded objects
    left_out: int = 0  # of the succeeded: left out of the jobs by their sync plan
    kept: int = 0  # of the succeeded, with move: copies whose source was kept (the row says why)
    filtered: LeftOut = field(default_factory=LeftOut)  # not in the report: what the filters of a listing left out
    sizes: list[int] = field(default_factory=lambda: [0] * len(SIZE_BINS))  # succeeded objects by size bin
    size_bytes: list[int] = field(default_factory=lambda: [0] * len(SIZE_BINS))  # their bytes, by the same bins
    # From timings only:
    timed: int = 0
    first_start: float = math.inf
    last_finish: float = 0.0
    timeline_bytes: Counter = field(default_factory=Counter)  # whole second finished -> bytes
    timeline_objects: Counter = field(default_factory=Counter)
    intervals: list[tuple[float, float, int]] = field(default_factory=list)  # (started, finished, bytes), up to the limit
    slowest_heap: list[tuple[float, int, Timing]] = field(default_factory=list)

    def add(self, result: ReportRow) -> None:
        self.tasks += 1
        if result.status == "succeeded":
            self.by_code[result.code or result.status] += 1
            self.succeeded += 1
            self.bytes += result.bytes
            self.sizes[size_bin(result.bytes)] += 1
            self.size_bytes[size_bin(result.bytes)] += result.bytes
            self.by_method[verification_method(result.message)] += 1
            self.kept += SOURCE_KEPT in result.message
        else:
            code = result.code or "Unknown"
            self.by_code[code] += 1
            self.failed += 1
            self.failures[code] += 1
            samples = self.samples.setdefault(code, [])
            if len(samples) < SAMPLES_PER_CODE:
                samples.append(f"{display_key(result.key)}: {result.message}")

    def add_timing(self, record: dict[str, Any]) -> None:
        started, finished = float(record.get("started") or 0), float(record.get("finished") or 0)
        if not finished:
            return
        self.timed += 1
        self.first_start = min(self.first_start, started or finished)
        self.last_finish = max(self.last_finish, finished)
        second = int(finished)
        copied = int(record.get("bytes") or 0) if record.get("status") == "succeeded" else 0
        self.timeline_objects[second] += 1
        self.timeline_bytes[second] += copied
        if len(self.intervals) < FINE_TIMELINE_LIMIT:
            self.intervals.append((started or finished, finished, copied))
        timing = Timing(str(record.get("key", "")), int(record.get("bytes") or 0), max(0.0, finished - started),
                        str(record.get("status", "")), str(record.get("code", "")))
        entry = (timing.seconds, self.timed, timing)
        if len(self.slowest_heap) < SLOWEST:
            heapq.heappush(self.slowest_heap, entry)
        elif entry[0] > self.slowest_heap[0][0]:
            heapq.heapreplace(self.slowest_heap, entry)

    @property
    def moved(self) -> int:
        """Succeeded objects whose source was deleted (core.move)."""
        return self.by_code[MOVED]

    @property
    def seconds(self) -> float:
        return max(0.0, self.last_finish - self.first_start) if self.timed else 0.0

    @property
    def slowest(self) -> list[Timing]:
        return [timing for _, _, timing in sorted(self.slowest_heap, key=lambda item: (-item[0], item[1]))]

    def timeline(self, max_bins: int = 60) -> list[tuple[float, float, float]]:
        """(seconds since start, bytes/s, objects/s) per bin, at most ``max_bins`` bins.

        Where every object's timing is kept (up to FINE_TIMELINE_LIMIT of them), bins may
        be as short as a millisecond, so a job of a fraction of a second gets a curve, not a
        dot, and each object's bytes are spread over the time it took, not all counted at
        its end (a master copied over four seconds is not a spike). Longer jobs count by
        whole seconds, at the second each object finished.
        """
        if not self.timed:
            return []
        if len(self.intervals) == self.timed:
            width = max(TIMELINE_RESOLUTION, self.seconds / max_bins)
            bins = max(1, math.ceil(self.seconds / width))
            objects, copied = [0.0] * bins, [0.0] * bins

            def bin_of(moment: float) -> int:
                return min(bins - 1, int((moment - self.first_start) / width))

            for started, finished, size in self.intervals:
                objects[bin_of(finished)] += 1
                first, last = bin_of(started), bin_of(finished)
                for index in range(first, last + 1):
                    low = max(started, self.first_start + index * width)
                    high = min(finished, self.first_start + (index + 1) * width)
                    share = (high - low) / (finished - started) if finished > started else 1.0
                    copied[index] += size * share
            return [(index * width + width / 2, copied[index] / width, objects[index] / width)
                    for index in range(bins)]
        start = int(self.first_start)
        span = max(1, int(self.last_finish) - start + 1)
        width = max(1, math.ceil(span / max_bins))
        bins = math.ceil(span / width)
        points = []
        for index in range(bins):
            seconds = range(start + index * width, start + (index + 1) * width)
            points.append((
                index * width + width / 2,
                sum(self.timeline_bytes[s] for s in seconds) / width,
                sum(self.timeline_objects[s] for s in seconds) / width,
            ))
        return points


def summarize(source: str | Sequence[str], s3: Any = None, timings: Path | None = None, *,
              left_out: Sequence[str | Path] = ()) -> ReportSummary:
    """Stream a report, or the reports of one sync plan's jobs, into a summary, with the
    local runner's timings beside a single local report if there are any. ``left_out``:
    the manifests of objects a sync plan left out of its jobs (``inventory
    --destination-bucket``'s SAME.csv), counted as succeeded, proved by the listings."""
    sources = [source] if isinstance(source, str) else list(source)
    summary = ReportSummary()
    for one in sources:
        for result in read_report(one, s3):
            summary.add(result)
    for manifest in left_out:
        for row in read_manifest(manifest):
            if row.error is not None:
                raise ManifestError(f"{manifest} line {row.line}: {row.error}; a plan's left-out list is written "
                                    "by inventory --destination-bucket, one bucket,key[,version] row an object")
            summary.add(ReportRow(row.bucket, row.raw_key, row.version_id or "", "succeeded", "", "200",
                                  LEFT_OUT_BY_PLAN))
            summary.left_out += 1
    if len(sources) == 1 and not is_s3_url(sources[0]):
        filters = left_out_path(Path(sources[0]))
        if filters.is_file():
            try:
                summary.filtered = LeftOut.from_json(json.loads(filters.read_text(encoding="utf-8")))
            except (ValueError, KeyError, TypeError) as err:
                raise ManifestError(f"{filters} is not what run writes beside a report: {err}") from err
    if timings is None and len(sources) == 1 and not is_s3_url(sources[0]):
        candidate = timings_path(Path(sources[0]))
        timings = candidate if candidate.is_file() else None
    if timings is not None:
        for record in read_timings(timings):
            summary.add_timing(record)
    return summary


