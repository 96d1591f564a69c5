"""The summary as rich tables for the terminal."""

from __future__ import annotations

import re
from typing import Any

from mediasync.core.settings import format_size
from mediasync.reports.rows import display_key
from mediasync.reports.summary import ReportSummary

# -- terminal --------------------------------------------------------------------------

# C0 and C1 controls, DEL, and the bidirectional overrides that reorder what follows them.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """``text`` with control characters shown as escapes (``\\x1b``, ``\\n``), as ``ls``
    shows such names: a key is data, and its bytes must not drive the terminal."""
    return _UNSAFE.sub(lambda match: match.group(0).encode("unicode_escape").decode("ascii"), text)


def shown(text: str) -> str:
    """Safe to print: control characters made visible, rich markup escaped."""
    from rich.markup import escape

    return escape(visible(text))


def summary_tables(summary: ReportSummary, source: str = "") -> Any:
    """The summary as rich tables: totals, outcomes by code with examples, slowest objects."""
    from rich.console import Group
    from rich.table import Table

    totals = Table(title=f"completion report {shown(source)}".strip(), show_header=False, title_justify="left")
    totals.add_row("objects", f"{summary.tasks:,}")
    totals.add_row("succeeded", f"{summary.succeeded:,}")
    if summary.left_out:
        totals.add_row("of which left out by the sync plan", f"{summary.left_out:,}")
    if summary.moved or summary.kept:
        totals.add_row("of which moved (source deleted)", f"{summary.moved:,}")
        totals.add_row("of which copied, source kept", f"{summary.kept:,} (each row says why)")
    totals.add_row("failed", f"[red]{summary.failed:,}[/red]" if summary.failed else "0")
    for flag, count in summary.filtered.objects.items():
        totals.add_row(f"left out by {shown(flag)}",
                       f"{count:,} ({format_size(summary.filtered.bytes.get(flag, 0))}), not in the report")
    totals.add_row("bytes copied", format_size(summary.bytes))
    if summary.seconds:
        totals.add_row("time", f"{summary.seconds:,.1f} s")
        totals.add_row("throughput", f"{format_size(int(summary.bytes / summary.seconds))}/s, "
                                     f"{summary.tasks / summary.seconds:,.1f} objects/s")
    parts: list[Any] = [totals]
    outcomes = Table(title="outcomes", title_justify="left")
    outcomes.add_column("code")
    outcomes.add_column("tasks", justify="right")
    outcomes.add_column("examples")
    for code, count in summary.by_code.most_common():
        outcomes.add_row(shown(code), f"{count:,}", "\n".join(shown(sample) for sample in summary.samples.get(code, [])))
    parts.append(outcomes)
    if summary.by_method:
        methods = Table(title="succeeded objects by verification", title_justify="left")
        methods.add_column("method")
        methods.add_column("objects", justify="right")
        for method, count in summary.by_method.most_common():
            methods.add_row(shown(method), f"{count:,}")
        parts.append(methods)
    if summary.slowest:
        slowest = Table(title="slowest objects", title_justify="left")
        for column in ("object", "size", "time", "outcome"):
            slowest.add_column(column, justify="left" if column in ("object", "outcome") else "right")
        for timing in summary.slowest:
            slowest.add_row(shown(display_key(timing.key)), format_size(timing.bytes), f"{timing.seconds:,.2f} s",
                            shown(timing.code or timing.status))
        parts.append(slowest)
    return Group(*parts)


