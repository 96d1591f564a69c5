"""`make demo`, the README's first command: the sample job end to end, leaving a report and
its page with charts, and printing commands that run as printed."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEDIASYNC = Path(sys.executable).parent / "mediasync"


def test_make_demo_needs_only_the_main_virtualenv():
    """LocalStack's virtualenv (Python 3.13, 244 MB) is for make test; the demo never uses it."""
    plan = subprocess.run(["make", "--no-print-directory", "-n", "-W", "pyproject.toml", "demo"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert plan.returncode == 0, plan.stderr
    assert ".venv-localstack" not in plan.stdout
    assert "mediasync demo --output-dir demo-output" in plan.stdout


def test_the_demo_copies_the_sample_media_and_leaves_a_report_with_charts(tmp_path):
    result = subprocess.run([str(MEDIASYNC), "demo", "--output-dir", "demo-output"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout + result.stderr

    output = tmp_path / "demo-output"
    with (output / "report.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 308 and {row[3] for row in rows} == {"succeeded"}
    page = (output / "report.html").read_text(encoding="utf-8")
    assert len(re.findall(r'<svg class="chart"', page)) == 6

    printed = re.search(r"summary again\s*│\s*(.+?)\s*│", result.stdout).group(1)
    again = subprocess.run(["bash", "-c", printed], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, f"{printed!r}: {again.stderr}"
    assert "308" in again.stdout
