"""Summaries of the runs: a rich table on the terminal, JSON and Markdown for the docs."""

from __future__ import annotations

import json
import platform
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from destinations import ATTRIBUTES, DestinationCheck
from process_usage import Usage
from rich.console import Console
from rich.table import Table
from workloads import MiB, Workload

LABELS = {"etag": "ETag", "layout": "parts", "metadata": "metadata", "content_type": "Content-Type", "tags": "tags"}


@dataclass
class Runs:
    workload: Workload
    tool: str
    is_peer: bool
    reference: str = ""  # set for the reference rows (floor.py), which are never peers
    usages: list[Usage] = field(default_factory=list)
    checks: list[DestinationCheck] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(check.verified and usage.exit_code == 0
                                         for check, usage in zip(self.checks, self.usages))

    @property
    def seconds(self) -> float:
        return statistics.median(usage.seconds for usage in self.usages)

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(usage.cpu_seconds for usage in self.usages)

    @property
    def server_cpu_seconds(self) -> float:
        return statistics.median(usage.server_cpu_seconds for usage in self.usages)

    @property
    def peak_rss(self) -> int:
        return max(usage.peak_rss for usage in self.usages)

    def preserved(self) -> dict[str, bool]:
        kept = [check.preserved() for check in self.checks]
        return {name: bool(kept) and all(item[name] for item in kept) for name in ATTRIBUTES}


def fastest_peer(all_runs: list[Runs], workload: Workload) -> Runs | None:
    peers = [runs for runs in all_runs
             if runs.workload == workload and runs.is_peer and not runs.reference and runs.verified]
    return min(peers, key=lambda runs: runs.seconds, default=None)


def row(runs: Runs, all_runs: list[Runs]) -> dict[str, Any]:
    fastest = fastest_peer(all_runs, runs.workload)
    seconds = runs.seconds
    return {
        "workload": runs.workload.name,
        "workload_description": runs.workload.describe(),
        "tool": runs.tool,
        "is_peer": runs.is_peer and not runs.reference,
        "reference": runs.reference or None,
        "runs": len(runs.usages),
        "seconds": round(seconds, 3),
        "all_seconds": [round(usage.seconds, 3) for usage in runs.usages],
        "objects_per_second": round(runs.workload.objects / seconds, 1),
        "mib_per_second": round(runs.workload.total_bytes / MiB / seconds, 1),
        "ratio_to_fastest_peer": round(seconds / fastest.seconds, 2) if fastest else None,
        "fastest_peer": fastest.tool if fastest else None,
        "cpu_seconds": round(runs.cpu_seconds, 2),
        "server_cpu_seconds": round(runs.server_cpu_seconds, 2),
        "all_server_cpu_seconds": [round(usage.server_cpu_seconds, 2) for usage in runs.usages],
        "peak_rss_mib": round(runs.peak_rss / MiB, 1),
        "verified": runs.verified,
        "preserved": runs.preserved(),
        "checks": [check.to_json() for check in runs.checks],
        "exit_codes": [usage.exit_code for usage in runs.usages],
    }


def _kept(preserved: dict[str, bool]) -> str:
    kept = [LABELS[name] for name, value in preserved.items() if value]
    lost = [LABELS[name] for name, value in preserved.items() if not value]
    return ", ".join(kept) + (f"; drops {', '.join(lost)}" if lost else "") if kept else "nothing"


REFERENCE_MARK = "†"


def tool_label(item: dict[str, Any]) -> str:
    return f"{item['tool']} {REFERENCE_MARK}" if item.get("reference") else item["tool"]


def reference_note(rows: list[dict[str, Any]]) -> str:
    """The footnote that says what the marked rows are, or nothing when there are none."""
    references = {item["tool"]: item["reference"] for item in rows if item.get("reference")}
    if not references:
        return ""
    named = "; ".join(f"{tool}: {what}" for tool, what in references.items())
    return f"{REFERENCE_MARK} reference, not a peer (bench/floor.py; never the fastest peer): {named}."


def print_table(rows: list[dict[str, Any]], console: Console, title: str) -> None:
    table = Table(title=title, caption=reference_note(rows) or None)
    for column, justify in (("workload", "left"), ("tool", "left"), ("seconds", "right"), ("objects/s", "right"),
                            ("MiB/s", "right"), ("x fastest peer", "right"), ("CPU s", "right"),
                            ("server CPU s", "right"), ("peak RSS MiB", "right"), ("verified", "center"),
                            ("preserved", "left")):
        table.add_column(column, justify=justify)
    for item in rows:
        ratio = item["ratio_to_fastest_peer"]
        style = "bold green" if item["tool"] == "mediasync" and ratio is not None and ratio <= 1.0 else (
            "bold red" if item["tool"] == "mediasync" else "")
        table.add_row(item["workload_description"], tool_label(item), f"{item['seconds']:.2f}",
                      f"{item['objects_per_second']:.1f}", f"{item['mib_per_second']:.1f}",
                      (f"[{style}]{ratio:.2f}[/]" if style else f"{ratio:.2f}") if ratio is not None else "-",
                      f"{item['cpu_seconds']:.2f}", f"{item['server_cpu_seconds']:.2f}", f"{item['peak_rss_mib']:.0f}",
                      "yes" if item["verified"] else "[red]NO[/red]", _kept(item["preserved"]))
    console.print(table)


def markdown(rows: list[dict[str, Any]], machine: str, method: str) -> str:
    lines = [f"Machine: {machine}. {method}", "",
             "| workload | tool | seconds (median) | objects/s | MiB/s | × fastest peer | CPU s | server CPU s "
             "| peak RSS MiB | verified | preserved |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for item in rows:
        ratio = item["ratio_to_fastest_peer"]
        lines.append(
            f"| {item['workload_description']} | {tool_label(item)} | {item['seconds']:.2f} "
            f"| {item['objects_per_second']:.1f} | {item['mib_per_second']:.1f} "
            f"| {'-' if ratio is None else f'{ratio:.2f}'} | {item['cpu_seconds']:.2f} "
            f"| {item['server_cpu_seconds']:.2f} | {item['peak_rss_mib']:.0f} | {'yes' if item['verified'] else 'NO'} "
            f"| {_kept(item['preserved'])} |"
        )
    note = reference_note(rows)
    return "\n".join(lines + ([f"\n{note}"] if note else [])) + "\n"


def machine_description() -> str:
    import os

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total_kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {total_kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}){memory}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def write_results(output_dir: Path, rows: list[dict[str, Any]], meta: dict[str, Any]) -> tuple[Path, Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path = output_dir / "results.json"
    md_path = output_dir / "results.md"
    json_path.write_text(json.dumps({**meta, "results": rows}, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(rows, meta["machine"], meta["method"]), encoding="utf-8")
    return json_path, md_path
