"""docs/migration.md's examples, run as written: every ```sh block of the page, in order,
as one script against moto's server (as test_readme_local_s3.py runs the README's
walkthrough). Only the port changes and `$PWD/.venv/bin` points at this interpreter's
virtualenv; the script starts in an empty stand-in for the checkout, which it must leave
empty. What the page shows as output is checked against what the commands print and write.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.integration.doc_scripts import run_walkthrough

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "migration.md"


def blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)


def shown(block: str, after: str) -> list[str]:
    """The '# ' lines the page shows under the command line that starts with ``after``."""
    lines = block.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(after))
    output = []
    for line in lines[start + 1:]:
        if line.startswith("# "):
            output.append(line[2:])
        elif not line.startswith("    "):  # a continuation line of the command
            break
    return output


def test_every_example_of_the_migration_page_runs_as_written(tmp_path):
    page = blocks()
    script = "\n".join(page)
    assert "-p 5056" in script and "127.0.0.1:5056" in script, "the test rewrites port 5056; keep it in the page"
    assert page[0].startswith('BIN=$PWD/.venv/bin; cd "$(mktemp -d)"\n')
    ran = run_walkthrough(script, "5056", tmp_path, COLUMNS="400")
    output, work = ran.output, ran.work
    assert ran.returncode == 0, output
    assert not list(ran.checkout.iterdir()), "the examples wrote into the checkout"
    assert work is not None
    said = " ".join(output.split())

    text = "\n".join(page)
    assert (work / "movs.csv").read_text().splitlines() and \
        sorted((work / "movs.csv").read_text().splitlines()) == shown(text, "sort movs.csv")
    for line in shown(text, "$BIN/mediasync inventory --bucket media --prefix masters/ --exclude '*' --include"):
        assert " ".join(line.split()) in said, line
    assert "wrote 0 objects, 0 B, to nothing.csv" in said
    assert ("sync plan: 4 to copy, 8.0 KiB (4 absent at the destination); 0 to check object by object; 0 left out; "
            "1 left out by the filters, 10 B (1 --exclude '*.tmp')") in said
    dry_runs = [line for line in shown(text, "$BIN/mediasync run --source") if not line.startswith("  ...")]
    assert all(" ".join(line.split()) in said for line in dry_runs), dry_runs
    assert "would be copied: 2 objects, 4.9 KiB" in said
    assert "left out: the listings show the destination already holds them: 2 objects, 3.1 KiB" in said
    assert "left out by --exclude '2019/*' │ 2 (4.9 KiB), not in the report" in said

    for command in ("$BIN/mediasync run --source s3://media/dailies/ --destination-bucket archive --move --endpoint-url $S3 --dry-run",
                    "$BIN/mediasync run --source s3://media/dailies/ --destination-bucket archive --move --endpoint-url $S3 \\",
                    "$BIN/mediasync inventory --bucket media --prefix dailies/",
                    "$BIN/mediasync run --source s3://media/stills/ --destination-bucket archive --legal-hold on",
                    "$BIN/mediasync run --source s3://vault/stills/", "grep -o 'source kept", "$BIN/python -c 'import boto3, sys; h ="):
        lines = shown(text, command)
        assert lines, command
        for line in lines:
            assert " ".join(line.split()) in said, line
    moved = (work / "moved.csv").read_text()
    assert moved.count(",succeeded,Moved,") == 2 and "source s3://media/dailies/day1.mov deleted" in moved
    assert not (work / "refused.csv").exists(), "a refused run writes no report"

    generated = json.loads((work / "generated-job.json").read_text())
    assert generated["ManifestGenerator"]["S3JobManifestGenerator"]["Filter"] == {
        "KeyNameConstraint": {"MatchAnySuffix": [".mov"], "MatchAnyPrefix": ["masters/"]},
        "ObjectSizeGreaterThanBytes": 99}
    assert "Manifest" in json.loads((work / "listed-job.json").read_text())
    assert "listing s3://media/masters/ here instead" in said
    estimate = json.loads((work / "estimate.json").read_text())
    assert estimate["generated_manifest_objects"] == 5 and estimate["objects"] == 3
