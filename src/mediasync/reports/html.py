"""The completion report as one self-contained HTML page: inline SVG charts, no network."""

from __future__ import annotations

import html
import math

from mediasync.core.settings import format_size
from mediasync.model.workload import SIZE_BINS
from mediasync.reports.rows import display_key
from mediasync.reports.summary import ReportSummary

# -- HTML ------------------------------------------------------------------------------

PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
SUCCESS_COLOR = PALETTE[1]
FAILURE_PALETTE = (PALETTE[2], PALETTE[3], PALETTE[6], PALETTE[7], "#991b1b", "#92400e")
_E = html.escape
# Fewer points than this draw a dot or a segment, not a curve: the page says so instead.
MIN_TIMELINE_POINTS = 3


# Every chart is drawn this wide and scaled to the page's width by the browser (CSS), so
# its text keeps about the size of the page's.
WIDTH = 960


def _svg(name: str, width: int, height: int, body: str, label: str) -> str:
    return (f'<svg class="chart" data-chart="{name}" role="img" aria-label="{_E(label)}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
            f'{body}</svg>')


def tick_format(top: float) -> str:
    """Enough decimals that the five ticks of an axis from 0 to ``top`` read exactly
    (0.0, 0.0, 0.0... is what a slow or short job got with one decimal; 12 for 12.5)."""
    step = top / 4
    decimals = next((d for d in range(7) if round(step, d) == step), 6) if step > 0 else 0
    return f"{{:,.{decimals}f}}"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def bar_chart(name: str, labels: list[str], values: list[float], *, title: str, horizontal: bool = False,
              color: str = PALETTE[0], colors: list[str] | None = None, value_format: str = "{:,.0f}",
              y_label: str = "") -> str:
    """A bar chart as inline SVG (vertical bins, or horizontal bars for categories, one colour each)."""
    if horizontal:
        row, left, width = 26, 230, WIDTH
        height = 30 + row * max(1, len(labels))
        top = max(values, default=0) or 1
        parts = []
        for index, (label, value) in enumerate(zip(labels, values)):
            y = 20 + index * row
            length = (width - left - 80) * value / top
            parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" class="label">{_E(label[:34])}</text>')
            parts.append(f'<rect class="mark" x="{left}" y="{y + 3}" width="{max(length, 1):.1f}" height="{row - 8}" '
                         f'fill="{(colors or PALETTE)[index % len(colors or PALETTE)]}"><title>{_E(label)}: {value_format.format(value)}</title></rect>')
            parts.append(f'<text x="{left + length + 6:.1f}" y="{y + 15}" class="value">{value_format.format(value)}</text>')
        return _svg(name, width, height, "".join(parts), title)
    width, height, left, bottom, top_pad = WIDTH, 280, 64, 48, 24
    plot_w, plot_h = width - left - 16, height - bottom - top_pad
    top = _nice_max(max(values, default=0))
    slot = plot_w / max(1, len(values))
    parts = [_axes(left, top_pad, plot_w, plot_h, top, tick_format(top))]
    for index, (label, value) in enumerate(zip(labels, values)):
        # A bin of a few objects beside one of hundreds still shows: a sliver and its count.
        h = max(plot_h * value / top, 2.0) if value > 0 else 0.0
        x = left + index * slot + slot * 0.1
        parts.append(f'<rect class="mark" x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{slot * 0.8:.1f}" '
                     f'height="{h:.1f}" fill="{color}"><title>{_E(label)}: {value_format.format(value)}</title></rect>')
        if value > 0:
            parts.append(f'<text x="{x + slot * 0.4:.1f}" y="{top_pad + plot_h - h - 5:.1f}" text-anchor="middle" '
                         f'class="value">{value_format.format(value)}</text>')
        # Narrow bins: every other label one line lower, so neighbours do not overlap.
        below = 16 + (14 if slot < 90 and index % 2 else 0)
        parts.append(f'<text x="{x + slot * 0.4:.1f}" y="{height - bottom + below}" text-anchor="middle" class="tick">'
                     f'{_E(label)}</text>')
    parts.append(_y_label(y_label, top_pad + plot_h / 2))
    return _svg(name, width, height, "".join(parts), title)


def _y_label(text: str, middle: float) -> str:
    return (f'<text x="14" y="{middle:.1f}" text-anchor="middle" class="label" '
            f'transform="rotate(-90 14 {middle:.1f})">{_E(text)}</text>')


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
               color: str = PALETTE[0]) -> str:
    width, height, left, bottom, top_pad = WIDTH, 280, 72, 44, 16
    plot_w, plot_h = width - left - 16, height - bottom - top_pad
    top = _nice_max(max((y for _, y in points), default=0))
    value_format = tick_format(top)
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
        # Times need not land on round numbers, only differ: a decimal more than the step's magnitude.
        tick = f"{x:,.{max(0, 1 - math.floor(math.log10(span / 4)))}f}"
        parts.append(f'<text x="{left + plot_w * step / 4:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                     f'class="tick">{tick}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" class="label">{_E(x_label)}</text>')
    parts.append(_y_label(y_label, top_pad + plot_h / 2))
    return _svg(name, width, height, "".join(parts), title)


_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1000px;color:#111827;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.1rem;margin-top:2rem}
.sub{color:#6b7280;margin-top:0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:.75rem}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:.6rem .9rem}
.card b{display:block;font-size:1.2rem;white-space:nowrap}
.card.bad b{color:#dc2626}
table{border-collapse:collapse;width:100%;margin-top:.5rem}
td,th{border-bottom:1px solid #e5e7eb;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap}
.chart{width:100%;height:auto;display:block}
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
    if summary.moved or summary.kept:
        cards[2:2] = [("moved", f"{summary.moved:,}", False), ("sources kept", f"{summary.kept:,}", False)]
    if summary.seconds:
        cards += [("time", f"{summary.seconds:,.1f} s", False),
                  ("throughput", f"{format_size(int(summary.bytes / summary.seconds))}/s", False),
                  ("objects/s", f"{summary.tasks / summary.seconds:,.1f}", False)]
    sections = ['<div class="cards">' + "".join(
        f'<div class="card{" bad" if bad else ""}"><span>{_E(label)}</span><b>{_E(value)}</b></div>'
        for label, value, bad in cards) + "</div>"]

    sections.append("<h2>Throughput over time</h2>")
    timeline = summary.timeline()
    if len(timeline) >= MIN_TIMELINE_POINTS:
        sections.append(line_chart("throughput", [(t, b / (1024 * 1024)) for t, b, _ in timeline],
                                   title="MiB/s over time", x_label="seconds since the first task started",
                                   y_label="MiB/s"))
        sections.append(line_chart("objects-rate", [(t, o) for t, _, o in timeline], title="objects/s over time",
                                   x_label="seconds since the first task started", y_label="objects/s",
                                   color=PALETTE[1]))
    elif timeline:
        sections.append(f'<p class="note">The job took {summary.seconds:,.2f} s: too short for a curve.</p>')
    else:
        sections.append('<p class="note">No per-object timings in this report (S3 Batch Operations does not record '
                        'them; the local runner writes them beside its report as <code>*.timings.jsonl</code>).</p>')

    sections.append("<h2>Copied objects by size: how many, and their bytes</h2>")
    # Bins up to the largest object's and one more: eight bins of which six are empty
    # leave the ones that matter narrow.
    shown = min(len(SIZE_BINS), 1 + max((i for i, count in enumerate(summary.sizes) if count), default=0) + 1)
    labels = [label for label, _ in SIZE_BINS[:shown]]
    sections.append(bar_chart("sizes", labels, summary.sizes[:shown], title="objects by size", color=PALETTE[4],
                              y_label="objects"))
    # A few masters usually hold most of the bytes that hundreds of proxies do not.
    unit, scale = next((unit, scale) for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10), ("bytes", 1))
                       if max(summary.size_bytes) >= scale or scale == 1)
    sections.append(bar_chart("size-bytes", labels, [size / scale for size in summary.size_bytes[:shown]],
                              title=f"{unit} copied by object size", color=PALETTE[5],
                              value_format="{:,.1f} " + unit, y_label=unit))

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
