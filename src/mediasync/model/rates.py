"""The scale model's rates: their sources and ranges, either end of the evidence, and rates files.

Every rate in :class:`~mediasync.core.timing.Rates` has a best-supported default and a
(low, high) range (:data:`RATE_RANGES`), each cited in :data:`RATE_BASIS`. The
*slow end* puts every figure where the job takes longest (the high latency, the low
throughput), the *fast end* the other way: docs/performance.md shows the headline at
both ends and at the best, and which assumption moves each headline most
(``python -m mediasync.model.rates`` prints that block). The citations live here, not
beside ``Rates`` in core, because only the model and its docs read them.

A rates file (JSON, written by ``mediasync calibrate`` or by hand) overrides some
rates: ``mediasync estimate --rates FILE``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from mediasync.core.settings import CopyOptions, MiB, Settings
from mediasync.core.timing import Quotas, Rates, with_quota
from mediasync.model.estimate import Estimate, estimate
from mediasync.model.regions import regions_markdown
from mediasync.model.scale import MEDIA_MIX, MIX_PREFIXES, PB, TB, format_duration, media_mix_specs
from mediasync.model.wall_time import BATCH_DISPATCH
from mediasync.model.workload import ObjectSpec, tally

_S3_DESIGN_PATTERNS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance-design-patterns.html"
_COMPLETE_MPU = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html"
_MAP_RUN_REPOST = "https://repost.aws/questions/QUn5oKgcnjRTemt39V9hdtyw/why-is-step-function-s-distributed-map-slow"
_BATCH_JOB_STATES = "https://docs.aws.amazon.com/batch/latest/userguide/job_states.html"
_LAMBDA_COLD = "https://aws.amazon.com/blogs/compute/operating-lambda-performance-optimization-part-1/"
_LAMBDA_INIT_BILLING = "https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/"
_S3_503 = "https://repost.aws/knowledge-center/s3-503-within-request-rate-prefix"

RATE_BASIS = {
    "api_latency": f"{_S3_DESIGN_PATTERNS}: small requests' median latencies are \"in the tens of milliseconds\"",
    "copy_call_latency": "AutoMQ/automq#1082: UploadPartCopy of 8-32 MB parts p50 81-92 ms, p90 128-137 ms, "
                         "p99 up to 268 ms; awslabs/aws-c-s3#288: about 1.5 s fixed per multipart copy "
                         "(create, part, complete); the issue-15 review puts it near 0.2 s",
    "copy_bytes_per_second": "awslabs/aws-c-s3#288: 1 GiB as one 1,024 MiB part 15.6 s (66 MiB/s), 512 MiB parts "
                             "8.5-11.5 s (45-60 MiB/s), slope 73-86 MiB/s; s3fs-fuse/s3fs-fuse#940: 4 GB CopyObject "
                             "72 s (53 MiB/s); aws/aws-sdk-js-v3#2917: 250 MB CopyObject ~3 s (80 MiB/s)",
    "lambda_overhead": "assumed (no public measurement found): warm Lambda invoke from Step Functions; "
                       "calibrate from copy_parts Duration against the Map child's task time",
    "express_state_overhead": "assumed (no public measurement found)",
    "standard_state_overhead": "assumed (no public measurement found)",
    "map_run_start": f"{_MAP_RUN_REPOST}: over 7 s from MapRunStarted to MapRunSucceeded for 100 Pass items",
    "map_child_start": "assumed (no public measurement found)",
    "fargate_task_start": f"{_BATCH_JOB_STATES} (scheduler evaluation, then image pull in STARTING); "
                          "the issue-15 review: 90-120 s with Batch scheduling",
    "job_start": "assumed: S3 Batch Operations Preparing -> Active for a small manifest; "
                 "longer for manifests of millions of rows",
    "lambda_timeout": "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: the Lambda "
                      "maximum timeout (900 s), which template.yaml gives batch_invoke (a test compares)",
    "invoke_time_margin": "code: Settings.invoke_time_margin",
    "lambda_cold_start": f"{_LAMBDA_COLD} (cold start = environment and code set-up); {_LAMBDA_INIT_BILLING} "
                         "(INIT billed since 2025-08-01, at most 10 s); third-party Python zip measurements 150-800 ms",
    "complete_seconds_per_part": f"{_COMPLETE_MPU}: \"could take several minutes to finalize\"; assumed 20 s at "
                                 "10,000 parts, several minutes at the high end; `mediasync calibrate` measures it",
    "prefix_partition_seconds": "https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html: 3,500 PUT/COPY/POST/DELETE per second per partitioned prefix; "
                                f"{_S3_503}: capacity is not assigned when a prefix is created, S3 scales it "
                                "gradually; re:Post answers: 30-60 min",
    "batch_dispatch_per_second": "ASSUMED: S3 Batch Operations does not publish the rate at which it invokes "
                                 "Lambda for a job's tasks",
}

# (low, high) around each default: the range the sources above support. The slow end
# of a latency is its high value, of a rate its low one (value_at).
RATE_RANGES = {
    "api_latency": (0.01, 0.1),
    "copy_call_latency": (0.05, 0.5),
    "copy_bytes_per_second": (45 * MiB, 100 * MiB),
    "lambda_overhead": (0.02, 0.1),
    "express_state_overhead": (0.002, 0.02),
    "standard_state_overhead": (0.02, 0.2),
    "map_run_start": (1.0, 15.0),
    "map_child_start": (0.05, 0.5),
    "fargate_task_start": (60.0, 180.0),
    "job_start": (15.0, 300.0),
    "lambda_timeout": (900.0, 900.0),
    "invoke_time_margin": (Settings().invoke_time_margin, Settings().invoke_time_margin),
    "lambda_cold_start": (0.15, 1.5),
    "complete_seconds_per_part": (0.0001, 0.018),
    "prefix_partition_seconds": (900.0, 3600.0),
    "batch_dispatch_per_second": (250.0, 10_000.0),
}


ENDS = ("slow", "best", "fast")
# Rates where more is faster; for every other one (latencies, start-up times) less is.
THROUGHPUTS = ("copy_bytes_per_second", "batch_dispatch_per_second")
# Rates that may be zero: no cold start, no per-part cost, a destination already partitioned.
MAY_BE_ZERO = ("lambda_cold_start", "complete_seconds_per_part", "prefix_partition_seconds", "job_start",
               "lambda_overhead", "express_state_overhead", "standard_state_overhead", "map_run_start",
               "map_child_start", "fargate_task_start", "api_latency", "copy_call_latency", "invoke_time_margin")
RATE_NAMES = tuple(field.name for field in fields(Rates))


def value_at(name: str, end: str) -> float:
    """One rate at the ``slow`` end, ``best``, or the ``fast`` end of its range."""
    if end == "best":
        return getattr(Rates(), name)
    low, high = RATE_RANGES[name]
    slow_is_low = name in THROUGHPUTS
    return (low if slow_is_low else high) if end == "slow" else (high if slow_is_low else low)


def rates_at(end: str) -> Rates:
    return Rates(**{name: value_at(name, end) for name in RATE_NAMES})


def ranged_names() -> tuple[str, ...]:
    return tuple(name for name in RATE_NAMES if RATE_RANGES[name][0] != RATE_RANGES[name][1])


def format_rate(name: str, value: float) -> str:
    if name == "copy_bytes_per_second":
        return f"{value / MiB:,.0f} MiB/s"
    if name == "batch_dispatch_per_second":
        return f"{value:,.0f} tasks/s"
    if name == "complete_seconds_per_part":
        return f"{value * 1000:g} ms/part ({value * 10_000:,.0f} s at 10,000 parts)"
    if name == "prefix_partition_seconds":
        return f"{value / 60:,.0f} min"
    return f"{value:g} s"


# -- rates files ------------------------------------------------------------------------------

RATES_FORMAT = "mediasync-rates/1"


class RatesFileError(ValueError):
    """A rates file that cannot be used: the message says which value and why."""


def rates_from_values(values: dict[str, Any], base: Rates = Rates()) -> Rates:
    unknown = sorted(set(values) - set(RATE_NAMES))
    if unknown:
        raise RatesFileError(f"unknown rate(s) {', '.join(unknown)}; known: {', '.join(RATE_NAMES)}")
    checked = {}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise RatesFileError(f"{name}: {value!r} is not a number")
        if value < 0 or (value == 0 and name not in MAY_BE_ZERO):
            raise RatesFileError(f"{name}: {value!r} must be {'at least 0' if name in MAY_BE_ZERO else 'positive'}")
        checked[name] = float(value)
    rates = replace(base, **checked)
    if rates.invoke_window <= 0:
        raise RatesFileError("lambda_timeout must exceed invoke_time_margin")
    return rates


def load_rates(path: Path) -> tuple[Rates, dict[str, Any]]:
    """The rates a file sets (the rest keep their defaults), and the whole document."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RatesFileError(f"cannot read rates file {path}: {err}") from err
    if not isinstance(document, dict) or document.get("format") != RATES_FORMAT:
        raise RatesFileError(f"{path} is not a rates file (expected \"format\": \"{RATES_FORMAT}\")")
    values = document.get("rates")
    if not isinstance(values, dict):
        raise RatesFileError(f"{path}: \"rates\" must be an object of rate names to numbers")
    return rates_from_values(values), document


def rates_document(values: dict[str, float], **about: Any) -> dict[str, Any]:
    return {"format": RATES_FORMAT, "rates": values, **about}


def write_rates(path: Path, document: dict[str, Any]) -> None:
    rates_from_values(document["rates"])  # never write a file estimate would refuse
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


# -- the headline at both ends (docs/performance.md) -------------------------------------------

RANGES_BEGIN = "<!-- scale-ranges:begin (generated by `python -m mediasync.model.rates`) -->"
RANGES_END = "<!-- scale-ranges:end -->"
OPTIONS = CopyOptions()


@dataclass(frozen=True)
class Headline:
    name: str
    specs: tuple[ObjectSpec, ...]
    quotas: Quotas = Quotas()
    options: CopyOptions = OPTIONS

    def run(self, rates: Rates) -> Estimate:
        return estimate(tally(self.specs, self.options), self.options, rates=rates, quotas=self.quotas)


def headlines() -> list[Headline]:
    mix = tuple(media_mix_specs())
    return [
        Headline("5 TB, one object", (ObjectSpec(5 * TB, prefix="masters/"),)),
        Headline("1 PB mixed media", mix),
        Headline("1 PB, 10,000 concurrent Lambdas", mix, with_quota(Quotas(), "lambda_concurrency", 10_000)),
    ]


def shown_seconds(result: Estimate) -> float:
    """A single object's time is its copy (S3 Batch's job preparation aside), as in the scale table."""
    return result.wall.copy_seconds if result.workload.objects == 1 else result.wall.seconds


def sensitivity(headline: Headline, base: Rates = Rates()) -> list[tuple[str, float]]:
    """Each ranged rate alone at its slow end: the seconds it adds, largest first."""
    at_best = shown_seconds(headline.run(base))
    moves = []
    for name in ranged_names():
        seconds = shown_seconds(headline.run(replace(base, **{name: value_at(name, "slow")})))
        moves.append((name, seconds - at_best))
    return sorted(moves, key=lambda item: item[1], reverse=True)


def format_dollars(dollars: float) -> str:
    return f"${dollars:,.2f}" if dollars < 10 else f"${dollars:,.0f}"


def _cell(result: Estimate) -> str:
    binding = result.wall.binding.name
    return f"{format_duration(shown_seconds(result))} ({binding}), {format_dollars(result.dollars)}"


def headline_table() -> str:
    ends = {end: rates_at(end) for end in ENDS}
    lines = ["| workload | slow end | best-supported | fast end | moves it most (that rate alone at its slow end) |",
             "|---|---|---|---|---|"]
    for headline in headlines():
        cells = [_cell(headline.run(ends[end])) for end in ENDS]
        top = [f"{name} ({format_rate(name, value_at(name, 'slow'))}: +{format_duration(seconds)})"
               for name, seconds in sensitivity(headline)[:3] if seconds >= 0.5]
        lines.append(f"| {headline.name} | " + " | ".join(cells) + f" | {'; '.join(top) or 'none'} |")
    return "\n".join(lines) + "\n"


def rates_table() -> str:
    lines = ["| rate | slow end | best-supported (default) | fast end | source |", "|---|---|---|---|---|"]
    for name in RATE_NAMES:
        values = [format_rate(name, value_at(name, end)) for end in ENDS]
        lines.append(f"| {name} | " + " | ".join(values) + f" | {RATE_BASIS[name]} |")
    return "\n".join(lines) + "\n"


def _mix_with(options: CopyOptions, rates: Rates = Rates(), quotas: Quotas = Quotas(),
              prefixes: int = MIX_PREFIXES) -> Estimate:
    return estimate(tally(media_mix_specs(prefixes), options), options, rates=rates, quotas=quotas)


def levers_markdown() -> str:
    """What the settings a user controls buy on the 1 PB mix, at the best-supported rates."""
    slow_start = replace(Rates(), copy_call_latency=value_at("copy_call_latency", "slow"))
    lines = ["Part size (`--part-size`) against the fixed cost of each copy request, 1 PB mix, "
             "10,000 concurrent Lambdas:", "",
             f"| --part-size | best ({Rates().copy_call_latency:g} s a request) | "
             f"requests slow to start ({slow_start.copy_call_latency:g} s) | UploadPartCopy requests |",
             "|---|---|---|---|"]
    raised = with_quota(Quotas(), "lambda_concurrency", 10_000)
    for part_mib in (64, 128, 256, 512):
        options = replace(OPTIONS, part_size=part_mib * MiB)
        best, slow = _mix_with(options, quotas=raised), _mix_with(options, slow_start, raised)
        lines.append(f"| {part_mib} MiB | {_cell(best)} | {_cell(slow)} | "
                     f"{best.usage.requests['UploadPartCopy']:,} |")
    lines += ["", "Lambda concurrency to ask for (`--quota lambda_concurrency=N`), 1 PB mix:", "",
              "| concurrent Lambdas | wall time (binds) | next constraint |", "|---|---|---|"]
    for concurrency in (1_000, 3_000, 5_000, 10_000, 20_000):
        result = _mix_with(OPTIONS, quotas=with_quota(Quotas(), "lambda_concurrency", concurrency))
        following = result.wall.constraints[1]
        lines.append(f"| {concurrency:,} | {_cell(result)} | {following.name} "
                     f"{format_duration(following.seconds)} |")
    lines += ["", "Destination prefixes, 1 PB mix, 10,000 concurrent Lambdas (S3 COPY/PUT constraint; "
              "`--partitioned-destination` when S3 has already partitioned the destination):", "",
              "| destination prefixes | fresh destination | partitioned destination |", "|---|---|---|"]
    partitioned = replace(Rates(), prefix_partition_seconds=0.0)
    for prefixes in (1, 10, 100, 1_000):
        cells = []
        for rates in (Rates(), partitioned):
            result = _mix_with(OPTIONS, rates, raised, prefixes)
            writes = next(c for c in result.wall.constraints if c.name == "S3 COPY/PUT rate per prefix")
            cells.append(f"{format_duration(result.wall.seconds)} (writes alone {format_duration(writes.seconds)})")
        lines.append(f"| {prefixes:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def ranges_markdown() -> str:
    """The generated block of docs/performance.md with the headline at both ends, markers included."""
    return "\n".join([
        RANGES_BEGIN,
        "",
        headline_table(),
        f"Objects: {', '.join(f'{count:,} x {size / TB:g} TB' for _, count, size in MEDIA_MIX)} over "
        f"{MIX_PREFIXES:,} prefixes ({sum(count * size for _, count, size in MEDIA_MIX) / PB:.2f} PB); "
        f"defaults (`--worker lambda`), default quotas of us-east-1. `{BATCH_DISPATCH}` is S3 Batch "
        "Operations' own task rate, which AWS does not publish.",
        "",
        "Every rate, its range and its source:",
        "",
        rates_table(),
        levers_markdown(),
        "Step Functions quotas by Region:",
        "",
        regions_markdown(),
        RANGES_END,
    ]) + "\n"


if __name__ == "__main__":
    # docs/performance.md: the block between the scale-ranges markers.
    print(ranges_markdown(), end="")
