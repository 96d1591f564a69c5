"""README's "Try it on a throwaway local S3" block, run as written after `make setup`.

The shell block is taken from README.md itself, so a command the README shows and
the set-up does not install (the aws CLI once was) fails here. Only the port is
changed (a free one on 127.0.0.1) and `$PWD/.venv/bin` points at this interpreter's
virtualenv; the block starts in an empty stand-in for the checkout, which it must leave
empty (its files go to the directory `mktemp -d` makes), bounded in time, and its
process group (moto's server included) is killed however it ends.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.doc_scripts import run_walkthrough

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## Try it on a throwaway local S3"


def readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(HEADING):]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, f"no ```sh block under {HEADING!r}"
    return match.group(1)


def test_readme_local_s3_walkthrough_runs_as_written(tmp_path):
    block = readme_block()
    assert "-p 5055" in block and "127.0.0.1:5055" in block, "the test rewrites port 5055; keep it in README"
    assert block.startswith("BIN=$PWD/.venv/bin; cd \"$(mktemp -d)\"\n"), "the block starts by leaving the checkout"
    assert "127.0.0.1" in block and "localhost" not in block
    ran = run_walkthrough(block, "5055", tmp_path)
    output, work = ran.output, ran.work
    assert ran.returncode == 0, output
    assert not list(ran.checkout.iterdir()), "the walkthrough wrote into the checkout"
    assert work is not None
    assert f"are in {work}" in output
    # The manifest the README shows, line for line; inventory lists prefixes in parallel
    # and writes each page as it arrives, so the order is not the README's to promise.
    shown = [line[2:] for line in block.splitlines() if line.startswith("# media,")]
    assert sorted((work / "manifest.csv").read_text().splitlines()) == sorted(shown)
    assert (work / "report.html").is_file()
    for report, rows in (("report.csv", 2), ("stills.csv", 1)):
        lines = (work / report).read_text().splitlines()
        assert len(lines) == rows and all(",succeeded," in line for line in lines), lines
