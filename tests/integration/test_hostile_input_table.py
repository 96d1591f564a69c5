"""docs/hostile-input.md is what the commands print: every row of its tables is run.

The command-line table runs in order, in one folder, against moto's S3 server
(tests/integration/hostile_world.py); the S3 Batch table through
functions/batch_invoke/app.py. A row whose exit status or message drifts fails here.
"""

from __future__ import annotations

import copy
import csv
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mediasync.local.runtime import LocalLambdaContext, load_handler
from tests.integration.hostile_world import make_world, one_line, run_row

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "hostile-input.md"
CODE = re.compile(r"^``\s?(.*?)\s?``$")


def cells(line: str) -> list[str]:
    """A markdown table row's cells; ``\\|`` is a literal bar."""
    parts = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [part.strip().replace("\\|", "|") for part in parts]


def table(header: str) -> list[list[str]]:
    """The rows of the table whose header row starts with ``header``."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(cells(line))
    return rows


def unquoted(cell: str) -> str:
    """The text of a ``code`` cell, as written."""
    match = CODE.match(cell) or re.match(r"^`(.*)`$", cell)
    assert match, f"not a code cell: {cell!r}"
    return match.group(1)


def report_lines(folder: Path, command: str) -> list[str]:
    """The report the command names, each row as Key,TaskStatus,ErrorCode,ResultMessage."""
    report = folder / re.search(r"--report (\S+)", command).group(1)
    if not report.is_file():
        return []
    with report.open(encoding="utf-8", newline="") as handle:
        return [",".join((row[1], row[3], row[4], row[6])) for row in csv.reader(handle)]


def test_every_command_line_row_prints_what_the_table_says(moto_server, tmp_path):
    rows = table("| hostile input | command | exit | message |")
    assert len(rows) >= 30
    env = make_world(moto_server, tmp_path)

    def check(row: list[str]) -> str | None:
        name, command_cell, exit_cell, message_cell = row
        command = unquoted(command_cell)
        message = unquoted(message_cell).replace("$ENDPOINT", moto_server.endpoint_url)
        result = run_row(command, tmp_path, env)
        output = result.stdout + result.stderr
        if message.startswith("report: "):
            found = any(line.startswith(message.removeprefix("report: ")) for line in report_lines(tmp_path, command))
        else:
            found = message in one_line(output)
        report = re.search(r"--report (\S+)", command)
        # Refused input writes nothing: no report beside it (these rows' reports are their inputs).
        written = (result.returncode == 2 and report is not None and (tmp_path / report.group(1)).exists()
                   and report.group(1) not in ("manifest.csv", "link.csv", "done.csv", "page.csv", "folder"))
        if result.returncode != int(exit_cell) or not found or "Traceback" in output or written:
            return f"{name}: exit {result.returncode}{', report written' if written else ''}\n{output[-3000:]}"
        return None

    # The rows are independent (their own files and keys): a few at a time keeps the table quick.
    with ThreadPoolExecutor(max_workers=4) as pool:
        drifted = [problem for problem in pool.map(check, rows) if problem]
    assert not drifted, "\n\n".join(drifted)
    assert (tmp_path / "manifest.csv").read_text(encoding="utf-8") == "hostile-src,a.mov\n", "the manifest was written"


def test_rows_checked_elsewhere_are_asserted_there_verbatim():
    for name, _, message_cell, test_cell in table("| hostile input | exit | message | test |"):
        message, test = unquoted(message_cell), ROOT / unquoted(test_cell)
        assert message in test.read_text(encoding="utf-8"), f"{name}: {test} does not assert {message!r}"


BASE_EVENT = json.loads(re.search(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL).group(1))


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


@pytest.mark.parametrize("row", table("| hostile event | change | answer"), ids=lambda row: row[0])
def test_every_event_row_is_answered_as_the_table_says(row, monkeypatch):
    _, change, answer = row
    monkeypatch.setattr("mediasync.core.clients.s3", lambda: pytest.fail("an S3 request was made"))
    handler = load_handler(ROOT, "batch_invoke")
    event = merge_patch(copy.deepcopy(BASE_EVENT), json.loads(unquoted(change)))

    response = handler(event, LocalLambdaContext("batch_invoke", 900.0))

    results = [f"{result['resultCode']} {result['resultString']}" for result in response["results"]]
    task_ids = [task["taskId"] for task in event["tasks"]]
    assert [result["taskId"] for result in response["results"]] == task_ids
    assert results == [unquoted(answer)] * len(task_ids)
