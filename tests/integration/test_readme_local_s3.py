"""README's "Try it on a throwaway local S3" block, run as written after `make setup`.

The shell block is taken from README.md itself, so a command the README shows and
the set-up does not install (the aws CLI once was) fails here. Only the port is
changed (a free one on 127.0.0.1) and `$PWD/.venv/bin` points at this interpreter's
virtualenv; the block starts in an empty stand-in for the checkout, which it must leave
empty (its files go to the directory `mktemp -d` makes), bounded in time, and its
process group (moto's server included) is killed however it ends.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## Try it on a throwaway local S3"


def readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(HEADING):]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, f"no ```sh block under {HEADING!r}"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_readme_local_s3_walkthrough_runs_as_written(tmp_path):
    block = readme_block()
    assert "-p 5055" in block and "127.0.0.1:5055" in block, "the test rewrites port 5055; keep it in README"
    port = str(free_port())
    venv_bin = str(Path(sys.executable).parent)
    assert block.startswith("BIN=$PWD/.venv/bin; cd \"$(mktemp -d)\"\n"), "the block starts by leaving the checkout"
    script = block.replace("5055", port).replace("$PWD/.venv/bin", venv_bin)
    assert "127.0.0.1" in script and "localhost" not in script
    checkout, throwaway = tmp_path / "checkout", tmp_path / "tmp"
    checkout.mkdir()
    throwaway.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env["TMPDIR"] = str(throwaway)
    process = subprocess.Popen(["bash", "-euo", "pipefail", "-c", script], cwd=checkout, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=300)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert process.returncode == 0, output
    assert not list(checkout.iterdir()), "the walkthrough wrote into the checkout"
    (work,) = throwaway.iterdir()
    assert f"are in {work}" in output
    # The manifest the README shows, line for line; inventory lists prefixes in parallel
    # and writes each page as it arrives, so the order is not the README's to promise.
    shown = [line[2:] for line in block.splitlines() if line.startswith("# media,")]
    assert sorted((work / "manifest.csv").read_text().splitlines()) == sorted(shown)
    assert (work / "report.html").is_file()
    for report, rows in (("report.csv", 2), ("stills.csv", 1)):
        lines = (work / report).read_text().splitlines()
        assert len(lines) == rows and all(",succeeded," in line for line in lines), lines
