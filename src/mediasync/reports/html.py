"""Read a completion report, ours or S3 Batch Operations', and show it.

Both are CSV rows ``Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage``.
Our local runner writes the error code in the fifth column and the HTTP status in
the sixth; S3 Batch writes the HTTP status in the fifth and, for Lambda tasks, the
Lambda's result code in the sixth, with our ``resultString`` ("Code: message") as
the message. Columns are therefore told apart by content, and the cause of a
failure is our code wherever the message carries one.

S3 Batch's report is a ``manifest.json`` naming result CSVs; ours is one CSV, with
a sidecar ``<report>.timings.jsonl`` (written by the local runner) holding each
object's start and end, from which throughput over time is drawn.

Everything streams into a :class:`ReportSummary`: counts, bytes, a size histogram,
a per-second timeline and the slowest objects, never the rows themselves.
"""

from __future__ import annotations

import csv
import heapq
import html
import io
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .batch import copied_bytes, parse_result_string
from .estimate import SIZE_BINS, size_bin
from .inventory_manifest import is_s3_url, open_s3_object, split_s3_url
from .manifest import ManifestError, decode_key
from .settings import format_size

TIMINGS_SUFFIX = ".timings.jsonl"
GENERIC_CODES = {"", "PermanentFailure", "TemporaryFailure", "Succeeded"}
SLOWEST = 10
SAMPLES_PER_CODE = 3


def timings_path(report_path: Path) -> Path:
    """Where the local runner writes per-object timings beside a report."""
    return report_path.with_name(report_path.name + TIMINGS_SUFFIX)


def timing_record(row: Any) -> dict[str, Any]:
    """One sidecar line from a :class:`mediasync.local.s3batch.ReportRow`."""
    return {
        "bucket": row.bucket, "key": row.key, "version_id": row.version_id, "status": row.task_status,
        "code": row.error_code, "bytes": row.bytes_copied, "started": round(row.started, 6),
        "finished": round(row.finished, 6), "attempts": row.attempts,
    }


@dataclass(frozen=True)
class TaskResult:
    bucket: str
    key: str  # as in the manifest (URL-encoded)
    version_id: str
    status: str  # "succeeded" or "failed"
    code: str  # our outcome code ("Copied", "SourceMissing"...) or S3 Batch's
    http_status: str
    message: str
    bytes: int = 0


def parse_report_row(fields: list[str]) -> TaskResult | None:
    if len(fields) < 4:
        return None
    fields = fields + [""] * (7 - len(fields))
    bucket, key, version, status, fifth, sixth = fields[:6]
    message = ",".join(fields[6:]) if len(fields) > 7 else fields[6]
    if fifth.isdigit() and not sixth.isdigit():
        http_status, code = fifth, sixth  # S3 Batch Operations' layout
    else:
        code, http_status = fifth, sixth  # ours
    carried, text = parse_result_string(message)
    if carried and (code in GENERIC_CODES or not code):
        code, message = carried, text
    status = status.strip().lower()
    size = copied_bytes(message) if status == "succeeded" else 0
    return TaskResult(bucket, key, version, status, code, http_status, message, size)


def parse_report_lines(lines: Iterable[str]) -> Iterator[TaskResult]:
    for number, fields in enumerate(csv.reader(lines), 1):
        if not fields or (number == 1 and fields[:2] == ["Bucket", "Key"]):
            continue
        result = parse_report_row(fields)
        if result is None:
            raise ManifestError(f"report line {number} is not a completion report row: {fields!r}")
        yield result


# "... verified by checksum-CRC64NVME: ..." in Copied and AlreadyCopied messages (batch.py).
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
    sizes: list[int] = field(default_factory=lambda: [0] * len(SIZE_BINS))  # succeeded objects by size bin
    # From timings only:
    timed: int = 0
    first_start: float = math.inf
    last_finish: float = 0.0
    timeline_bytes: Counter = field(default_factory=Counter)  # whole second finished -> bytes
    timeline_objects: Counter = field(default_factory=Counter)
    slowest_heap: list[tuple[float, int, Timing]] = field(default_factory=list)

    def add(self, result: TaskResult) -> None:
        self.tasks += 1
        if result.status == "succeeded":
            self.by_code[result.code or result.status] += 1
            self.succeeded += 1
            self.bytes += result.bytes
            self.sizes[size_bin(result.bytes)] += 1
            self.by_method[verification_method(result.message)] += 1
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
        self.timeline_objects[second] += 1
        if record.get("status") == "succeeded":
            self.timeline_bytes[second] += int(record.get("bytes") or 0)
        timing = Timing(str(record.get("key", "")), int(record.get("bytes") or 0), max(0.0, finished - started),
                        str(record.get("status", "")), str(record.get("code", "")))
        entry = (timing.seconds, self.timed, timing)
        if len(self.slowest_heap) < SLOWEST:
            heapq.heappush(self.slowest_heap, entry)
        elif entry[0] > self.slowest_heap[0][0]:
            heapq.heapreplace(self.slowest_heap, entry)

    @property
    def seconds(self) -> float:
        return max(0.0, self.last_finish - self.first_start) if self.timed else 0.0

    @property
    def slowest(self) -> list[Timing]:
        return [timing for _, _, timing in sorted(self.slowest_heap, key=lambda item: (-item[0], item[1]))]

    def timeline(self, max_bins: int = 60) -> list[tuple[float, float, float]]:
        """(seconds since start, bytes/s, objects/s) per bin, at most ``max_bins`` bins."""
        if not self.timed:
            return []
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


def display_key(raw: str) -> str:
    try:
        return decode_key(raw)
    except (ValueError, UnicodeDecodeError):
        return raw


# -- reading ---------------------------------------------------------------------------


def _s3_text(s3: Any, bucket: str, key: str) -> io.TextIOBase:
    body = open_s3_object(s3, bucket, key)
    return io.TextIOWrapper(io.BufferedReader(body), encoding="utf-8", newline="")  # type: ignore[arg-type]


def _result_files(document: dict[str, Any], location: str, s3: Any) -> Iterator[io.TextIOBase]:
    """The CSVs an S3 Batch report manifest.json names: beside it on disk, or in S3."""
    results = document.get("Results")
    if not isinstance(results, list):
        raise ManifestError(f"{location} is not an S3 Batch Operations report manifest (no Results list)")
    for item in results:
        key = str(item["Key"])
        local = None
        if not is_s3_url(location):
            here = Path(location).resolve().parent
            candidates = [ancestor / key for ancestor in (here, *here.parents)]
            candidates += [here / "results" / key.rsplit("/", 1)[-1], here / key.rsplit("/", 1)[-1]]
            local = next((path for path in candidates if path.is_file()), None)
        if local is not None:
            yield local.open("r", encoding="utf-8", newline="")
        else:
            yield _s3_text(s3, item["Bucket"], key)


def read_report(source: str, s3: Any = None) -> Iterator[TaskResult]:
    """Rows of a report: a CSV or an S3 Batch ``manifest.json``, a local path or ``s3://bucket/key``."""
    if is_s3_url(source):
        try:
            bucket, key = split_s3_url(source)
        except ValueError as err:
            raise ManifestError(f"{source}: name the report object, s3://bucket/key") from err
        handle: io.TextIOBase = _s3_text(s3, bucket, key)
    else:
        try:
            handle = open(source, "r", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
        except OSError as err:
            raise ManifestError(f"cannot read report {source}: {err.strerror}") from err
    try:
        if source.lower().endswith(".json"):
            with handle:
                document = json.load(handle)
            for result_file in _result_files(document, source, s3):
                with result_file:
                    yield from parse_report_lines(result_file)
            return
        with handle:
            yield from parse_report_lines(handle)
    except UnicodeDecodeError as err:
        raise ManifestError(f"{source} is not a UTF-8 completion report ({err.reason})") from err
    except ValueError as err:  # json.JSONDecodeError
        raise ManifestError(f"{source} is not an S3 Batch report manifest.json: {err}") from err


def read_timings(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("r", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def summarize(source: str, s3: Any = None, timings: Path | None = None) -> ReportSummary:
    """Stream a report (and the local runner's timings beside it, if any) into a summary."""
    summary = ReportSummary()
    for result in read_report(source, s3):
        summary.add(result)
    if timings is None and not is_s3_url(source):
        candidate = timings_path(Path(source))
        timings = candidate if candidate.is_file() else None
    if timings is not None:
        for record in read_timings(timings):
            summary.add_timing(record)
    return summary


# -- terminal --------------------------------------------------------------------------


def summary_tables(summary: ReportSummary, source: str = "") -> Any:
    """The summary as rich tables: totals, outcomes by code with examples, slowest objects."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table

    totals = Table(title=f"completion report {source}".strip(), show_header=False, title_justify="left")
    totals.add_row("objects", f"{summary.tasks:,}")
    totals.add_row("succeeded", f"{summary.succeeded:,}")
    totals.add_row("failed", f"[red]{summary.failed:,}[/red]" if summary.failed else "0")
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
        outcomes.add_row(escape(code), f"{count:,}", escape("\n".join(summary.samples.get(code, []))))
    parts.append(outcomes)
    if summary.by_method:
        methods = Table(title="succeeded objects by verification", title_justify="left")
        methods.add_column("method")
        methods.add_column("objects", justify="right")
        for method, count in summary.by_method.most_common():
            methods.add_row(escape(method), f"{count:,}")
        parts.append(methods)
    if summary.slowest:
        slowest = Table(title="slowest objects", title_justify="left")
        for column in ("object", "size", "time", "outcome"):
            slowest.add_column(column, justify="left" if column in ("object", "outcome") else "right")
        for timing in summary.slowest:
            slowest.add_row(escape(display_key(timing.key)), format_size(timing.bytes), f"{timing.seconds:,.2f} s",
                            escape(timing.code or timing.status))
        parts.append(slowest)
    return Group(*parts)


# -- HTML ------------------------------------------------------------------------------

PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
SUCCESS_COLOR = PALETTE[1]
FAILURE_PALETTE = (PALETTE[2], PALETTE[3], PALETTE[6], PALETTE[7], "#991b1b", "#92400e")
_E = html.escape


def _svg(name: str, width: int, height: int, body: str, label: str) -> str:
    return (f'<svg class="chart" data-chart="{name}" role="img" aria-label="{_E(label)}" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
            f'{body}</svg>')


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def bar_chart(name: str, labels: list[str], values: list[float], *, title: str, horizontal: bool = False,
              color: str = PALETTE[0], colors: list[str] | None = None, value_format: str = "{:,.0f}") -> str:
    """A bar chart as inline SVG (vertical bins, or horizontal bars for categories, one colour each)."""
    if horizontal:
        row, left, width = 26, 190, 640
        height = 30 + row * max(1, len(labels))
        top = max(values, default=0) or 1
        parts = []
        for index, (label, value) in enumerate(zip(labels, values)):
            y = 20 + index * row
            length = (width - left - 80) * value / top
            parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" class="label">{_E(label[:28])}</text>')
            parts.append(f'<rect class="mark" x="{left}" y="{y + 3}" width="{max(length, 1):.1f}" height="{row - 8}" '
                         f'fill="{(colors or PALETTE)[index % len(colors or PALETTE)]}"><title>{_E(label)}: {value_format.format(value)}</title></rect>')
            parts.append(f'<text x="{left + length + 6:.1f}" y="{y + 15}" class="value">{value_format.format(value)}</text>')
        return _svg(name, width, height, "".join(parts), title)
    width, height, left, bottom, top_pad = 640, 260, 56, 48, 16
    plot_w, plot_h = width - left - 16, height - bottom - top_pad
    top = _nice_max(max(values, default=0))
    slot = plot_w / max(1, len(values))
    parts = [_axes(left, top_pad, plot_w, plot_h, top, value_format)]
    for index, (label, value) in enumerate(zip(labels, values)):
        h = plot_h * value / top
        x = left + index * slot + slot * 0.1
        parts.append(f'<rect class="mark" x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{slot * 0.8:.1f}" '
                     f'height="{max(h, 0):.1f}" fill="{color}"><title>{_E(label)}: {value_format.format(value)}</title></rect>')
        # Narrow bins: every other label one line lower, so neighbours do not overlap.
        below = 16 + (14 if slot < 90 and index % 2 else 0)
        parts.append(f'<text x="{x + slot * 0.4:.1f}" y="{height - bottom + below}" text-anchor="middle" class="tick">'
                     f'{_E(label)}</text>')
    return _svg(name, width, height, "".join(parts), title)


def _axes(left: float, top_pad: float, plot_w: float, plot_h: float, top: float, value_format: str) -> str:
    lines = [f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" class="axis"/>',
             f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" class="axis"/>']
    for step in range(5):
        value = top * step / 4
        y = top_pad + plot_h - plot_h * step / 4
        lines.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="grid"/>')
        lines.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{value_format.format(value)}</text>')
    return "".join(lines)


def line_chart(name: str, points: list[tuple[float, float]], *, title: str, x_label: str, y_label: str,
               color: str = PALETTE[0], value_format: str = "{:,.1f}") -> str:
    width, height, left, bottom, top_pad = 640, 260, 64, 44, 16
    plot_w, plot_h = width - left - 16, height - bottom - top_pad
    top = _nice_max(max((y for _, y in points), default=0))
    span = max((x for x, _ in points), default=1) or 1
    coords = [(left + plot_w * x / span, top_pad + plot_h - plot_h * y / top) for x, y in points]
    parts = [_axes(left, top_pad, plot_w, plot_h, top, value_format)]
    if coords:
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
        area = f"{path} L{coords[-1][0]:.1f},{top_pad + plot_h} L{coords[0][0]:.1f},{top_pad + plot_h} Z"
        parts.append(f'<path class="mark" d="{area}" fill="{color}" fill-opacity="0.18" stroke="none"/>')
        parts.append(f'<path class="mark" d="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for (x, y), (px, py) in zip(points, coords):
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{color}"><title>{x:.0f} s: '
                         f'{value_format.format(y)} {_E(y_label)}</title></circle>')
    for step in range(5):
        x = span * step / 4
        tick = f"{x:,.0f}" if span >= 20 or x == int(x) else f"{x:,.1f}"
        parts.append(f'<text x="{left + plot_w * step / 4:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                     f'class="tick">{tick}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" class="label">{_E(x_label)}</text>')
    parts.append(f'<text x="14" y="{top_pad + plot_h / 2:.1f}" text-anchor="middle" class="label" '
                 f'transform="rotate(-90 14 {top_pad + plot_h / 2:.1f})">{_E(y_label)}</text>')
    return _svg(name, width, height, "".join(parts), title)


_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1000px;color:#111827;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.1rem;margin-top:2rem}
.sub{color:#6b7280;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:.75rem}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:.6rem .9rem;min-width:120px}
.card b{display:block;font-size:1.3rem}
.card.bad b{color:#dc2626}
table{border-collapse:collapse;width:100%;margin-top:.5rem}
td,th{border-bottom:1px solid #e5e7eb;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap}
.chart{max-width:100%;height:auto;display:block}
.axis{stroke:#9ca3af}.grid{stroke:#f3f4f6}
.tick{font-size:11px;fill:#6b7280}.label{font-size:12px;fill:#374151}.value{font-size:11px;fill:#111827}
.note{color:#6b7280;font-style:italic}
code{font-size:12px;word-break:break-all}
"""

# Records, for a browser test or a curious reader, that every chart was laid out.
_SCRIPT = """
addEventListener("load",function(){var charts=document.querySelectorAll("svg.chart");
charts.forEach(function(svg){var box=svg.getBoundingClientRect();
svg.setAttribute("data-rendered",Math.round(box.width)+"x"+Math.round(box.height));
svg.setAttribute("data-marks",svg.querySelectorAll(".mark").length);});
document.body.setAttribute("data-charts-rendered",charts.length);});
"""


def render_html(summary: ReportSummary, *, title: str = "MediaSync completion report", source: str = "") -> str:
    cards = [
        ("objects", f"{summary.tasks:,}", False),
        ("succeeded", f"{summary.succeeded:,}", False),
        ("failed", f"{summary.failed:,}", summary.failed > 0),
        ("bytes copied", format_size(summary.bytes), False),
    ]
    if summary.seconds:
        cards += [("time", f"{summary.seconds:,.1f} s", False),
                  ("throughput", f"{format_size(int(summary.bytes / summary.seconds))}/s", False),
                  ("objects/s", f"{summary.tasks / summary.seconds:,.1f}", False)]
    sections = ['<div class="cards">' + "".join(
        f'<div class="card{" bad" if bad else ""}"><span>{_E(label)}</span><b>{_E(value)}</b></div>'
        for label, value, bad in cards) + "</div>"]

    sections.append("<h2>Throughput over time</h2>")
    timeline = summary.timeline()
    if timeline:
        sections.append(line_chart("throughput", [(t, b / (1024 * 1024)) for t, b, _ in timeline],
                                   title="MiB/s over time", x_label="seconds since the first task started",
                                   y_label="MiB/s"))
        sections.append(line_chart("objects-rate", [(t, o) for t, _, o in timeline], title="objects/s over time",
                                   x_label="seconds since the first task started", y_label="objects/s",
                                   color=PALETTE[1]))
    else:
        sections.append('<p class="note">No per-object timings in this report (S3 Batch Operations does not record '
                        'them; the local runner writes them beside its report as <code>*.timings.jsonl</code>).</p>')

    sections.append("<h2>Size distribution of copied objects</h2>")
    sections.append(bar_chart("sizes", [label for label, _ in SIZE_BINS], list(summary.sizes),
                              title="objects by size", color=PALETTE[4]))

    if summary.by_method:
        sections.append("<h2>How the copies were verified</h2>")
        methods = summary.by_method.most_common()
        sections.append(bar_chart("methods", [method for method, _ in methods], [count for _, count in methods],
                                  title="succeeded objects by verification method", horizontal=True,
                                  color=PALETTE[2]))

    sections.append("<h2>Outcomes and failures by cause</h2>")
    outcomes = summary.by_code.most_common()
    failure_colors = iter(FAILURE_PALETTE * (1 + len(outcomes) // len(FAILURE_PALETTE)))
    colors = [next(failure_colors) if code in summary.failures else SUCCESS_COLOR for code, _ in outcomes]
    sections.append(bar_chart("outcomes", [code for code, _ in outcomes], [count for _, count in outcomes],
                              title="tasks by outcome", horizontal=True, colors=colors))
    if summary.failures:
        rows = "".join(
            f'<tr><td>{_E(code)}</td><td class="n">{count:,}</td><td>'
            + "<br>".join(f"<code>{_E(sample)}</code>" for sample in summary.samples.get(code, [])) + "</td></tr>"
            for code, count in summary.failures.most_common())
        sections.append(f'<table><tr><th>cause</th><th class="n">tasks</th><th>examples</th></tr>{rows}</table>')
    else:
        sections.append('<p class="note">No failures.</p>')

    if summary.slowest:
        sections.append("<h2>Slowest objects</h2>")
        rows = "".join(
            f'<tr><td><code>{_E(display_key(t.key))}</code></td><td class="n">{format_size(t.bytes)}</td>'
            f'<td class="n">{t.seconds:,.2f} s</td>'
            f'<td class="n">{format_size(int(t.bytes / t.seconds)) + "/s" if t.seconds and t.bytes else "-"}</td>'
            f'<td>{_E(t.code or t.status)}</td></tr>'
            for t in summary.slowest)
        sections.append('<table><tr><th>object</th><th class="n">size</th><th class="n">time</th>'
                        f'<th class="n">rate</th><th>outcome</th></tr>{rows}</table>')

    subtitle = f"from <code>{_E(source)}</code>" if source else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{_E(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{_E(title)}</h1><p class=\"sub\">{subtitle}</p>"
        + "".join(sections)
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )
