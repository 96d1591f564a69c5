"""The calibration's arithmetic, pure: the least-squares fit of fixed cost and rate,
nearest-rank percentiles, what a run will request and cost, and timings to a rates file.

Pure and in the model so property tests can hammer it; the S3 measurements that feed it
are ``mediasync calibrate`` (mediasync.cli.calibrate), the only caller, which does I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Sequence

from mediasync.core.plan import MIN_PART_SIZE
from mediasync.core.timing import Rates
from mediasync.model.cost import PRICES
from mediasync.model.rates import RATE_RANGES, rates_document

SEED_SIZE = MIN_PART_SIZE  # every doubling copies whole objects as parts: each at least 5 MiB
DEFAULT_SIZES = "5MiB,64MiB,256MiB,1GiB,5GiB"
DEFAULT_COPY_OBJECT_SIZES = "5000000,150000000"  # the media mix's stills and proxies (decimal MB)
DEFAULT_CONCURRENCY = "8,100,400"
BUDGET_DOLLARS = 5.0
# S3 Standard storage, us-east-1, per GB-month (https://aws.amazon.com/s3/pricing/): the
# scratch objects exist for about the hour the command runs.
STORAGE_GB_MONTH = 0.023
HOURS_A_MONTH = 730
TIER1 = ("PutObject", "CreateMultipartUpload", "UploadPartCopy", "CompleteMultipartUpload", "CopyObject",
         "ListObjectsV2", "ListMultipartUploads")


# -- the fit -------------------------------------------------------------------------------------


class FitError(ValueError):
    """The timings do not determine a fixed cost and a rate."""


@dataclass(frozen=True)
class Fit:
    """``seconds = fixed + bytes / bytes_per_second`` fitted to ``samples`` timings."""

    fixed: float
    bytes_per_second: float
    samples: int
    residual_p90: float  # seconds: how far the slowest tenth sits from the line

    def seconds(self, size: int) -> float:
        return self.fixed + size / self.bytes_per_second


def fit_copy_times(points: Sequence[tuple[int, float]]) -> Fit:
    """Ordinary least squares of seconds on bytes. A fixed cost below zero (noise on
    tiny copies) is taken as zero; a time that does not grow with size is refused."""
    sizes = {size for size, _ in points}
    if len(sizes) < 2:
        raise FitError("need timings of at least two sizes to tell fixed cost from rate")
    n = len(points)
    mean_x = sum(size for size, _ in points) / n
    mean_y = sum(seconds for _, seconds in points) / n
    sxx = sum((size - mean_x) ** 2 for size, _ in points)
    sxy = sum((size - mean_x) * (seconds - mean_y) for size, seconds in points)
    slope = sxy / sxx
    if slope <= 0:
        raise FitError("copy time does not grow with size: no rate can be fitted")
    fixed = max(0.0, mean_y - slope * mean_x)
    residuals = [abs(seconds - (fixed + slope * size)) for size, seconds in points]
    return Fit(fixed, 1 / slope, n, percentile(residuals, 90))


def percentile(values: Iterable[float], pct: float) -> float:
    """Nearest-rank percentile: a value that was measured, never an interpolation."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def fit_by_percentile(points: Sequence[tuple[int, float]], pct: float) -> Fit:
    """The line through each size's ``pct`` percentile time: the slow (90) or fast (10) end."""
    by_size: dict[int, list[float]] = {}
    for size, seconds in points:
        by_size.setdefault(size, []).append(seconds)
    return fit_copy_times([(size, percentile(times, pct)) for size, times in by_size.items()])


def fit_per_part(points: Sequence[tuple[int, float]]) -> float:
    """CompleteMultipartUpload seconds per part: the slope of time on part count (at least 0)."""
    if len({parts for parts, _ in points}) < 2:
        parts, seconds = max(points)
        return seconds / parts
    try:
        return 1 / fit_copy_times(points).bytes_per_second
    except FitError:
        return 0.0


# -- what the run will do and cost ------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationPlan:
    sizes: tuple[int, ...]  # UploadPartCopy sweep
    copy_object_sizes: tuple[int, ...]
    concurrency: tuple[int, ...]
    concurrent_part_size: int
    repeats: int = 5
    head_repeats: int = 10

    @property
    def source_size(self) -> int:
        return SEED_SIZE * 2 ** self.doublings

    @property
    def doublings(self) -> int:
        needed = max(max(self.sizes), self.concurrent_part_size)
        return max(0, math.ceil(math.log2(needed / SEED_SIZE)))

    def requests(self) -> Counter:
        calls = Counter()
        calls["PutObject"] += 1 + len(self.copy_object_sizes)
        calls["CreateMultipartUpload"] += self.doublings + 1 + len(self.concurrency)
        calls["UploadPartCopy"] += 2 * self.doublings + len(self.sizes) * self.repeats + sum(self.concurrency)
        calls["CompleteMultipartUpload"] += self.doublings + len(self.concurrency)
        calls["CopyObject"] += len(self.copy_object_sizes) * self.repeats
        calls["HeadObject"] += self.head_repeats
        calls["ListObjectsV2"] += 2
        calls["ListMultipartUploads"] += 2
        return calls

    def peak_bytes(self) -> int:
        """Scratch bytes stored at once, at most: the source and its halves, the sweep's
        parts, the largest concurrent upload, the CopyObject sources and copies."""
        return (2 * self.source_size + sum(self.sizes) * self.repeats
                + max(self.concurrency) * self.concurrent_part_size
                + sum(self.copy_object_sizes) * (1 + self.repeats))

    def upload_bytes(self) -> int:
        return SEED_SIZE + sum(self.copy_object_sizes)

    def dollars(self, hours: float = 1.0) -> float:
        calls = self.requests()
        tier1 = sum(calls[name] for name in TIER1)
        tier2 = sum(count for name, count in calls.items() if name not in TIER1)
        storage = self.peak_bytes() / 1e9 * STORAGE_GB_MONTH * hours / HOURS_A_MONTH
        return tier1 * PRICES["s3_tier1"].amount + tier2 * PRICES["s3_tier2"].amount + storage

    def expected_seconds(self, rates: Rates = Rates()) -> float:
        """At the model's own rates: what the run should take."""
        build = sum(2 * rates.copy_seconds(SEED_SIZE * 2 ** k) for k in range(self.doublings))
        sweep = self.repeats * sum(rates.copy_seconds(size) for size in self.sizes)
        copies = self.repeats * sum(rates.copy_seconds(size) for size in self.copy_object_sizes)
        concurrent = len(self.concurrency) * rates.copy_seconds(self.concurrent_part_size)
        return build + sweep + copies + concurrent + self.head_repeats * rates.api_latency


# -- from samples to a rates file ----------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One timed request: ``parts`` for a CompleteMultipartUpload, ``concurrency`` requests at once."""

    api: str
    bytes: int
    seconds: float
    concurrency: int = 1
    parts: int = 0


def summarize(samples: Sequence[Sample], runs: Sequence[dict[str, Any]], plan: CalibrationPlan,
              about: dict[str, Any]) -> dict[str, Any]:
    """The rates document: fitted rates, their measured spread, and every sample."""
    values: dict[str, float] = {}
    measured_ranges: dict[str, list[float]] = {}
    fits: dict[str, Any] = {}
    warnings: list[str] = []
    rate_basis = ""
    single = [(s.bytes, s.seconds) for s in samples if s.api == "UploadPartCopy" and s.concurrency == 1]
    try:
        best, slow, fast = fit_copy_times(single), fit_by_percentile(single, 90), fit_by_percentile(single, 10)
    except FitError as err:
        # Sizes too close or too small for the noise (a local server, say): the
        # defaults stay, and the file says why rather than carry a made-up rate.
        warnings.append(f"copy_call_latency and copy_bytes_per_second not fitted ({err}); the defaults apply")
    else:
        fits.update({"UploadPartCopy": asdict(best), "UploadPartCopy_p90": asdict(slow),
                     "UploadPartCopy_p10": asdict(fast)})
        rate, rate_basis = best.bytes_per_second, "fit of single UploadPartCopy"
        loaded = [(s.bytes, s.seconds) for s in samples
                  if s.api == "UploadPartCopy" and s.concurrency == max(plan.concurrency)]
        if loaded:
            # A job copies many parts at once: if each request slows under load, that rate is the one to plan with.
            under_load = percentile([size / max(seconds - best.fixed, 1e-3) for size, seconds in loaded], 50)
            if under_load < rate:
                rate, rate_basis = under_load, f"median request among {max(plan.concurrency)} at once"
        values.update({"copy_call_latency": best.fixed, "copy_bytes_per_second": rate})
        # Sorted: with few repeats the p10 line may cross the p90 one.
        measured_ranges.update({"copy_call_latency": sorted([fast.fixed, slow.fixed]),
                                "copy_bytes_per_second": sorted([slow.bytes_per_second, fast.bytes_per_second])})
    copy_objects = [(s.bytes, s.seconds) for s in samples if s.api == "CopyObject"]
    if len({size for size, _ in copy_objects}) >= 2:
        try:
            fits["CopyObject"] = asdict(fit_copy_times(copy_objects))
        except FitError as err:
            fits["CopyObject"] = {"error": str(err)}
    heads = [s.seconds for s in samples if s.api == "HeadObject"]
    if heads:
        values["api_latency"] = percentile(heads, 50)
        measured_ranges["api_latency"] = [percentile(heads, 10), percentile(heads, 90)]
    completes = [(s.parts, s.seconds) for s in samples if s.api == "CompleteMultipartUpload"]
    if completes:
        values["complete_seconds_per_part"] = fit_per_part(completes)
    return rates_document(values, ranges=measured_ranges, rate_basis=rate_basis, warnings=warnings, measured=about,
                          fits=fits, concurrency=list(runs), samples=[asdict(sample) for sample in samples],
                          published_ranges={name: list(RATE_RANGES[name]) for name in values})
