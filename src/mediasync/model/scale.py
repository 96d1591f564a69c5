"""The scale table of docs/performance.md, generated from the model:
``python -m mediasync.model.scale`` prints the block between its markers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from mediasync.core.settings import CopyOptions, MiB
from mediasync.core.timing import (
    COPY_OBJECT,
    EXPRESS_PARTS,
    PATH_LABELS,
    QUOTA_NAMES,
    QUOTAS_READ,
    STANDARD_BATCH,
    STANDARD_LAMBDA,
    Quotas,
    Rates,
)
from mediasync.model.cost import PRICES, PRICES_AS_OF, PRICES_REGION
from mediasync.model.estimate import Estimate, Raise, estimate, raise_quota
from mediasync.model.requests import copy_object_requests, inspect_requests, multipart_requests
from mediasync.model.workload import ObjectSpec, tally

# -- the scale table (docs/performance.md is generated from this) -----------------------------

GB, TB, PB = 10**9, 10**12, 10**15  # the tool we replace quotes decimal units
# Single-object times of the tool we replace, same Region (its README), and 1 PB.
SEED_SINGLE_SECONDS = ((1 * GB, 24), (5 * GB, 32), (10 * GB, 40), (100 * GB, 120), (500 * GB, 450),
                       (1 * TB, 660), (5 * TB, 1620))
SEED_PETABYTE_SECONDS = 3 * 3600
GOAL_5TB_SECONDS = 180
GOAL_1PB_SECONDS = 3600
# 1 PB of mixed media: (what, objects, bytes each), spread over MIX_PREFIXES folders.
MEDIA_MIX = (
    ("camera masters", 500, 1 * TB),
    ("mezzanine files", 3_000, 100 * GB),
    ("deliverables", 20_000, 8 * GB),
    ("proxies", 200_000, 150 * 10**6),
    ("stills and sidecars", 2_000_000, 5 * 10**6),
)
MIX_PREFIXES = 1_000
# The configurations the table compares: the defaults (every part group on Lambda), and
# AWS Batch for objects of 500 GiB and more.
SCALE_CONFIGS = (("defaults (--worker lambda)", CopyOptions()), ("--worker auto", CopyOptions(worker="auto")))


def media_mix_specs(prefixes: int = MIX_PREFIXES) -> list[ObjectSpec]:
    specs = []
    for _, count, size in MEDIA_MIX:
        for index in range(prefixes):
            share = count // prefixes + (1 if index < count % prefixes else 0)
            if share:
                specs.append(ObjectSpec(size, prefix=f"media/{index:04d}/", count=share))
    return specs


@dataclass(frozen=True)
class ScaleRow:
    workload: str
    seed_seconds: float
    results: tuple[Estimate, ...]  # one per SCALE_CONFIGS entry
    raised: tuple[Raise | None, ...]
    goal_seconds: float | None = None


def scale_rows(rates: Rates = Rates(), quotas: Quotas = Quotas()) -> list[ScaleRow]:
    workloads = [(f"{size // GB:,} GB" if size < TB else f"{size // TB} TB", [ObjectSpec(size, prefix="masters/")],
                  seconds, GOAL_5TB_SECONDS if size == 5 * TB else None)
                 for size, seconds in SEED_SINGLE_SECONDS]
    workloads.append(("1 PB mixed media", media_mix_specs(), SEED_PETABYTE_SECONDS, GOAL_1PB_SECONDS))
    rows = []
    for name, specs, seed, goal in workloads:
        results = tuple(estimate(tally(specs, options), options, rates=rates, quotas=quotas)
                        for _, options in SCALE_CONFIGS)
        rows.append(ScaleRow(name, seed, results, tuple(raise_quota(result) for result in results), goal))
    return rows


def format_duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def scale_table_markdown(rows: list[ScaleRow]) -> str:
    """The table in docs/performance.md (a test regenerates it and compares)."""
    head = ["workload", "tool we replace"]
    for label, _ in SCALE_CONFIGS:
        head += [f"MediaSync, {label}", "binds", "cost"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row.workload + (f" (goal <= {format_duration(row.goal_seconds)})" if row.goal_seconds else ""),
                 format_duration(row.seed_seconds)]
        for result, raised in zip(row.results, row.raised):
            seconds = result.wall.copy_seconds if result.workload.objects == 1 else result.wall.seconds
            binds = result.wall.binding.name
            if raised is not None:
                seconds_raised = raised.wall.copy_seconds if result.workload.objects == 1 else raised.wall.seconds
                binds += f"; x10 ({raised.label} {raised.value:,.0f}): {format_duration(seconds_raised)}"
            cells += [format_duration(seconds), binds, f"${result.dollars:,.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def scale_details_markdown(rows: list[ScaleRow]) -> str:
    """Per workload and configuration: the path, the layout, and the top constraints."""
    out = []
    for row in rows:
        for (label, _), result in zip(SCALE_CONFIGS, row.results):
            paths = ", ".join(f"{PATH_LABELS[path]}: {tally_.objects:,}" for path, tally_ in result.workload.paths.items()
                              if tally_.objects)
            top = "; ".join(f"{c.name} {format_duration(c.seconds)}" for c in result.wall.constraints[:3])
            out.append(f"- **{row.workload}, {label}** -- {paths}. Longest object: {result.usage.longest_object}. "
                       f"Top constraints: {top}.")
    return "\n".join(out) + "\n"


SLOW_COPY_RATES = Rates(copy_bytes_per_second=25 * MiB)
SCALE_BEGIN = "<!-- scale-model:begin (generated by `python -m mediasync.model.scale`) -->"
SCALE_END = "<!-- scale-model:end -->"


def reference_markdown() -> str:
    """The quotas, prices, rates and per-object calls the model uses, as tables."""
    quotas = Quotas()
    lines = [f"Quotas (defaults for us-east-1, us-west-2, eu-west-1, read {QUOTAS_READ}):", "",
             "| quota | value | burst | adjustable | source |", "|---|---|---|---|---|"]
    for name in QUOTA_NAMES:
        quota = getattr(quotas, name)
        lines.append(f"| {quota.unit} | {quota.value:,.0f} | {quota.burst:,.0f} | "
                     f"{'yes' if quota.adjustable else 'no'} | {quota.source} |")
    lines += ["", f"Prices ({PRICES_REGION} list prices, read {PRICES_AS_OF}):", "",
              "| item | US dollars | source |", "|---|---|---|"]
    for price in PRICES.values():
        lines.append(f"| {price.unit} | {price_text(price.amount)} | {price.source} |")
    rates = Rates()
    lines += ["", "Rates (the best-supported defaults; their ranges and sources are in the table above):", "",
              "| rate | value |", "|---|---|"]
    for name, value in asdict(rates).items():
        shown = f"{value / MiB:,.0f} MiB/s" if name == "copy_bytes_per_second" else f"{value:g}"
        lines.append(f"| {name} | {shown} |")
    lines += ["", "S3 calls per object (a test counts them on real copies):", "",
              "| path | calls |", "|---|---|"]
    per_path = {
        f"{COPY_OBJECT} (single-part source)": inspect_requests(False, True) + copy_object_requests(),
        f"{EXPRESS_PARTS}, {STANDARD_LAMBDA}, {STANDARD_BATCH} (multipart source; two HEADs fewer "
        "for a single-part one)": inspect_requests(True, True) + multipart_requests(1),
    }
    for path, calls in per_path.items():
        shown = ", ".join(f"{name} {count}" for name, count in sorted(calls.items()))
        shown = shown.replace("UploadPartCopy 1", "UploadPartCopy 1 per part").replace(
            "ListParts 1", "ListParts 1 per 1,000 parts")
        lines.append(f"| {path} | {shown} |")
    lines += ["", "With --skip-existing (the default) each object costs one HEAD of the destination, "
              "counted above; every invocation of batch_invoke inspects the source again."]
    return "\n".join(lines) + "\n"


def scale_markdown() -> str:
    """The generated part of docs/performance.md, markers included."""
    rows = scale_rows()
    slow = scale_rows(rates=SLOW_COPY_RATES)
    return "\n".join([
        SCALE_BEGIN,
        "",
        scale_table_markdown(rows),
        f"If one server-side copy request moves {SLOW_COPY_RATES.copy_bytes_per_second / MiB:.0f} MiB/s instead of "
        f"{Rates().copy_bytes_per_second / MiB:.0f} MiB/s:",
        "",
        scale_table_markdown(slow),
        "How each row is copied, and the constraints that come next:",
        "",
        scale_details_markdown(rows),
        reference_markdown(),
        SCALE_END,
    ]) + "\n"


if __name__ == "__main__":
    # docs/performance.md: the block between the scale-model markers.
    print(scale_markdown(), end="")


def price_text(amount: float) -> str:
    """A unit price in as many decimals as it needs: 0.0000004, 0.25, 0 (a free request)."""
    return f"{amount:.10f}".rstrip("0").rstrip(".") or "0"
