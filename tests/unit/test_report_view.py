"""Completion reports (ours and S3 Batch's) summarized, and drawn as HTML charts."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from mediasync.cli import main
from mediasync.local.s3batch import ReportWriter
from mediasync.reports.html import SUCCESS_COLOR, render_html
from mediasync.reports.rows import ReportRow, parse_report_row, timing_record, timings_path
from mediasync.reports.summary import summarize

MiB = 1024 * 1024


def ok(key: str, size: int, started: float, seconds: float, method: str = "etag") -> ReportRow:
    message = f's3://dst/{key} ETag "e", {size} bytes; verified by {method}: the proof'
    return ReportRow("src", key, "", "succeeded", "", "200", message, size, started, started + seconds)


def failed(key: str, code: str, started: float) -> ReportRow:
    return ReportRow("src", key, "", "failed", code, "404", f"s3://src/{key} does not exist", 0, started, started + 0.1)


def write_local_report(path, rows: list[ReportRow]) -> None:
    """As the local runner writes it: the CSV and the timings beside it."""
    with path.open("w", encoding="utf-8", newline="") as handle, timings_path(path).open("w") as timings:
        writer = ReportWriter(handle)
        for report_row in rows:
            writer.write(report_row)
            timings.write(json.dumps(timing_record(report_row)) + "\n")


def job_rows() -> list[ReportRow]:
    start = 1_764_000_000.0
    rows = [ok(f"proxy+{n}.mp4", 100 * 1024, start + n * 0.05, 0.2, "checksum-CRC64NVME" if n % 4 else "etag")
            for n in range(40)]
    rows.append(ok("master%201.mov", 300 * MiB, start, 9.5, "composite-etag"))
    rows += [failed("gone.txt", "SourceMissing", start + 1), failed("gone2.txt", "SourceMissing", start + 2),
             failed("cold.mov", "SourceArchived", start + 3)]
    return rows


def test_our_rows_and_s3_batch_rows_give_the_same_cause():
    ours = parse_report_row(["src", "a+b", "", "failed", "SourceMissing", "404", "s3://src/a b does not exist"])
    theirs = parse_report_row(["src", "a+b", "", "failed", "404", "PermanentFailure",
                               "SourceMissing: s3://src/a b does not exist"])
    succeeded = parse_report_row(["src", "a+b", "", "succeeded", "200", "",
                                  'Copied: s3://dst/a b ETag "e", 2048 bytes; verified by etag'])

    assert (ours.code, ours.http_status, ours.message) == ("SourceMissing", "404", "s3://src/a b does not exist")
    assert (theirs.code, theirs.http_status, theirs.message) == (ours.code, ours.http_status, ours.message)
    assert (succeeded.status, succeeded.code, succeeded.bytes) == ("succeeded", "Copied", 2048)


def test_summary_counts_outcomes_bytes_and_the_slowest_objects(tmp_path):
    report = tmp_path / "report.csv"
    write_local_report(report, job_rows())

    summary = summarize(str(report))

    assert (summary.tasks, summary.succeeded, summary.failed) == (44, 41, 3)
    assert summary.bytes == 40 * 100 * 1024 + 300 * MiB
    assert dict(summary.failures) == {"SourceMissing": 2, "SourceArchived": 1}
    assert summary.slowest[0].key == "master%201.mov" and summary.slowest[0].seconds == 9.5
    assert summary.timed == 44 and summary.seconds > 9


def test_html_has_a_chart_per_view_with_marks_for_the_data(tmp_path):
    report = tmp_path / "report.csv"
    write_local_report(report, job_rows())

    page = render_html(summarize(str(report)), source=str(report))

    charts = {m.group(1): m.group(0) for m in re.finditer(r'<svg class="chart" data-chart="([^"]+)".*?</svg>', page, re.S)}
    assert set(charts) == {"throughput", "objects-rate", "sizes", "size-bytes", "methods", "outcomes"}
    assert all('class="mark"' in svg for svg in charts.values())
    assert "SourceArchived" in charts["outcomes"] and "master 1.mov" in page  # keys shown decoded
    assert "<script src" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_report_command_exit_status_follows_failures(tmp_path):
    clean, mixed = tmp_path / "clean.csv", tmp_path / "mixed.csv"
    write_local_report(clean, [ok("a.mov", 10, 1.0, 1.0)])
    write_local_report(mixed, job_rows())
    html = tmp_path / "out" / "mixed.html"

    assert CliRunner().invoke(main, ["report", "--report", str(clean)]).exit_code == 0
    result = CliRunner().invoke(main, ["report", "--report", str(mixed), "--html", str(html)])
    assert result.exit_code == 1
    assert "SourceMissing" in result.output and "master 1.mov" in result.output
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_command_refuses_a_file_that_is_not_a_report(tmp_path):
    bogus = tmp_path / "notes.csv"
    bogus.write_text("just,one\n")
    missing = tmp_path / "missing.csv"

    result = CliRunner().invoke(main, ["report", "--report", str(bogus)])
    assert result.exit_code == 2 and "not a completion report row" in result.output
    result = CliRunner().invoke(main, ["report", "--report", str(missing)])
    assert result.exit_code == 2 and "cannot read report" in result.output


def test_successes_are_drawn_green_and_each_failure_cause_in_a_warning_colour(tmp_path):
    report = tmp_path / "report.csv"
    write_local_report(report, job_rows())

    page = render_html(summarize(str(report)))

    outcomes = re.search(r'data-chart="outcomes".*?</svg>', page, re.S).group(0)
    fills = {label: colour for colour, label in re.findall(r'fill="(#[0-9a-f]{6})"><title>([^:]+):', outcomes)}
    assert fills["succeeded"] == SUCCESS_COLOR
    assert SUCCESS_COLOR not in (fills["SourceMissing"], fills["SourceArchived"])
    assert fills["SourceMissing"] != fills["SourceArchived"]


def test_succeeded_objects_are_counted_by_how_they_were_verified(tmp_path):
    from rich.console import Console

    from mediasync.reports.html import render_html
    from mediasync.reports.summary import summarize
    from mediasync.reports.terminal import summary_tables

    report = tmp_path / "report.csv"
    report.write_text(
        'src,a,,succeeded,Copied,200,"s3://dst/a ETag ""e"", 10 bytes; verified by checksum-CRC64NVME: full-object '
        'CRC64NVME checksum equals the source\'s"\n'
        'src,b,,succeeded,Copied,200,"s3://dst/b ETag ""e"", 10 bytes; verified by checksum-CRC64NVME: same"\n'
        'src,c,,succeeded,AlreadyCopied,200,"s3://dst/c already holds this object (10 bytes, same metadata); '
        'verified by etag: ETag equals the source\'s; not copied again"\n'
        'src,d,,succeeded,Copied,200,"s3://dst/d ETag ""e"", 10 bytes; verified by size-and-layout: content not '
        'provable"\n'
        'src,e,,failed,SourceMissing,404,"gone"\n', encoding="utf-8")
    summary = summarize(str(report))
    assert summary.by_method == {"checksum-CRC64NVME": 2, "etag": 1, "size-and-layout": 1}
    console = Console(record=True, width=120)
    console.print(summary_tables(summary))
    text = console.export_text()
    assert "checksum-CRC64NVME │       2" in text and "size-and-layout    │       1" in text
    assert 'data-chart="methods"' in render_html(summary)


def test_a_left_out_list_with_a_bad_row_is_refused_naming_the_line(tmp_path):
    report = tmp_path / "report.csv"
    write_local_report(report, [ok("a.mov", 10, 100.0, 1.0)])
    left_out = tmp_path / "sync.same.csv"
    left_out.write_text("src,b.mov\nsrc\n")
    result = CliRunner().invoke(main, ["report", "--report", str(report), "--left-out", str(left_out)])
    assert result.exit_code == 2, result.output
    assert f"{left_out} line 2:" in " ".join(result.output.split())


def test_left_out_objects_count_as_succeeded_and_proved_by_the_listings(tmp_path):
    report = tmp_path / "report.csv"
    write_local_report(report, [ok("a.mov", 10, 100.0, 1.0), failed("c.mov", "SourceMissing", 100.0)])
    left_out = tmp_path / "sync.same.csv"
    left_out.write_text("src,b.mov\nsrc,d+e.mov,v1\n")
    summary = summarize([str(report)], left_out=[left_out])
    assert (summary.tasks, summary.succeeded, summary.failed, summary.left_out) == (4, 3, 1, 2)
    assert summary.by_method == {"etag": 1, "listing-etag": 2}


def test_keys_cannot_drive_the_terminal_their_escapes_are_shown(tmp_path):
    # A key is data: "\x1b[2J" would clear the screen, "\x1b]0;..." retitle the window, U+202E reverse the line.
    hostile = "clip\x1b[2J\x1b]0;pwned\x07\u202evom.exe\nnext.mov"
    report = tmp_path / "report.csv"
    write_local_report(report, [failed(hostile, "SourceMissing", 1.0), ok(hostile + "2", 10, 1.0, 5.0)])

    result = CliRunner().invoke(main, ["report", "--report", str(report)], terminal_width=400)

    assert result.exit_code == 1
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e]", result.output), repr(result.output)
    assert "clip\\x1b[2J\\x1b]0;pwned\\x07\\u202evom.exe\\nnext.mov" in result.output


def test_a_short_job_gets_a_curve_of_sub_second_bins_and_axes_of_distinct_numbers(tmp_path):
    start = 1_764_000_000.0
    report = tmp_path / "report.csv"
    write_local_report(report, [ok(f"p{n}", 64 * 1024, start + n * 0.1, 0.05) for n in range(20)])

    summary = summarize(str(report))
    timeline = summary.timeline()
    page = render_html(summary)

    assert len(timeline) >= 10 and timeline[1][0] - timeline[0][0] < 1
    throughput = re.search(r'data-chart="throughput".*?</svg>', page, re.S).group(0)
    ticks = re.findall(r'class="tick">([^<]+)</text>', throughput)
    y_ticks = ticks[:5]
    assert len(set(y_ticks)) == 5, y_ticks


def test_a_job_too_short_for_a_curve_says_so_instead_of_drawing_a_dot(tmp_path):
    report = tmp_path / "report.csv"
    write_local_report(report, [ok("only.mov", 2048, 1_764_000_000.0, 0.0)])

    page = render_html(summarize(str(report)))

    assert 'data-chart="throughput"' not in page and "too short for a curve" in page


def test_a_few_large_objects_beside_hundreds_of_small_ones_still_show_with_their_counts(tmp_path):
    start = 1_764_000_000.0
    rows = [ok(f"proxy{n}", 64 * 1024, start, 0.1) for n in range(300)]
    rows += [ok(f"master{n}", 300 * MiB, start, 2.0) for n in range(8)]
    report = tmp_path / "report.csv"
    write_local_report(report, rows)

    page = render_html(summarize(str(report)))

    sizes = re.search(r'data-chart="sizes".*?</svg>', page, re.S).group(0)
    heights = [float(h) for h in re.findall(r'<rect class="mark"[^>]*height="([\d.]+)"', sizes)]
    assert sorted(h for h in heights if h > 0)[0] >= 2.0   # the 8 masters are not a hairline
    assert re.findall(r'class="value">([^<]+)</text>', sizes) == ["300", "8"]
    size_bytes = re.search(r'data-chart="size-bytes".*?</svg>', page, re.S).group(0)
    assert "GiB copied by object size" in size_bytes
