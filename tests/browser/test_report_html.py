"""The HTML report opened in a real headless Chromium: the charts lay out and paint.

Debian's chromium (`apt-get install -y chromium`). Without it the test is skipped
with the reason, except in CI (the CI variable set), where a missing browser fails.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from mediasync.reports.html import PALETTE, render_html
from mediasync.reports.summary import summarize
from tests.unit.test_report_view import job_rows, write_local_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("chromium is not installed (apt-get install -y chromium); the CI run installs it",
                allow_module_level=True)

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1"]


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    report = folder / "report.csv"
    write_local_report(report, job_rows())
    html = folder / "report.html"
    html.write_text(render_html(summarize(str(report)), source=str(report)), encoding="utf-8")
    return html


def chromium(page: Path, tmp_path: Path, *args: str) -> str:
    assert CHROMIUM is not None, "chromium is not installed: apt-get install -y chromium"
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args, page.as_uri()],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_every_chart_is_laid_out_with_its_marks_after_the_scripts_ran(page, tmp_path):
    dom = chromium(page, tmp_path, "--dump-dom")

    # data-* attributes are written by the page's own script from getBoundingClientRect().
    assert re.search(r'<body[^>]*data-charts-rendered="6"', dom), dom[:2000]
    charts = re.findall(r'<svg class="chart" data-chart="([^"]+)"[^>]*data-rendered="(\d+)x(\d+)" '
                        r'data-marks="(\d+)"', dom)
    assert {name for name, *_ in charts} == {"throughput", "objects-rate", "sizes", "size-bytes", "methods", "outcomes"}
    for name, width, height, marks in charts:
        # A horizontal bar chart of one category (one verification method) is 56 px tall.
        assert int(width) > 300 and int(height) > 50, (name, width, height)
        assert int(marks) > 0, name


def test_the_screenshot_shows_the_chart_colours(page, tmp_path):
    screenshot = tmp_path / "report.png"
    chromium(page, tmp_path, f"--screenshot={screenshot}", "--window-size=800,1200")

    pixels = png_pixels(screenshot.read_bytes())

    def painted(colour: str) -> int:
        rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
        return sum(1 for pixel in pixels if pixel == rgb)

    assert painted(PALETTE[0]) > 500  # the throughput line and its axis-to-line area outline
    assert painted(PALETTE[4]) > 500  # the size distribution bars
    assert len(set(pixels)) > 20  # not a blank page


def png_pixels(data: bytes) -> list[tuple[int, int, int]]:
    """RGB of every pixel of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat = 8, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        chunk = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and colour_type in (2, 6) and interlace == 0
        elif kind == b"IDAT":
            idat += chunk
        position += 12 + length
    channels = 4 if colour_type == 6 else 3
    stride = width * channels
    raw = zlib.decompress(idat)
    previous = bytearray(stride)
    pixels = []
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, up_left = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - up_left
                nearest = min((abs(estimate - left), 0, left), (abs(estimate - up), 1, up),
                              (abs(estimate - up_left), 2, up_left))[2]
                line[i] = (line[i] + nearest) & 0xFF
        pixels += [tuple(line[i:i + 3]) for i in range(0, stride, channels)]
        previous = line
    return pixels
