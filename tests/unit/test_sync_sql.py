"""The sync plan's SQL (manifests.sync_sql) in DuckDB decides as manifests.sync_plan.decide does.

One rule, two evaluations: ``decide`` object by object in memory (``run --source``),
and the SQL text Athena runs on AWS, run here by DuckDB over S3 Inventory reports
written as S3 writes them. Hypothesis draws both sides (awkward keys, NFC and NFD
spellings, sizes, ETags and dates that tie) and every decision must agree, row for
row, with each manifest line decoding to the exact source key.
"""

from __future__ import annotations

import datetime
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mediasync.manifests.inventory_report import FORMATS, load_inventory_manifest
from mediasync.manifests.listing import Listed
from mediasync.manifests.plan_engine import InventorySide, write_plan
from mediasync.manifests.s3batch_csv import ManifestError, parse_lines
from mediasync.manifests.sync_plan import (
    ABSENT,
    CHECK,
    COPY,
    ETAG_DIFFERS,
    KEY_NOT_MAPPED,
    SAME,
    SAME_CONTENT,
    SIZE_DIFFERS,
    SOURCE_NEWER,
    Destination,
    decide,
)
from mediasync.manifests.sync_sql import plan_sql
from mediasync.testing.inventory_reports import REPORT_TIME, InventoryRow, write_inventory_report

NFD_E = unicodedata.normalize("NFD", "é")


class MemorySink:
    def __init__(self) -> None:
        self.text, self.state = "", "open"

    def write(self, text: str) -> None:
        self.text += text

    def close(self) -> None:
        self.state = "closed"

    def abort(self) -> None:
        self.state = "aborted"


def run_plan(tmp_path: Path, source_rows, destination_rows, target: Destination, *, file_format: str = "CSV",
             source_prefix: str = "", destination_created: datetime.datetime = REPORT_TIME, source_bucket: str = "src"):
    """The plan of two reports written under ``tmp_path``: (result, {action: [(bucket, key, version)]})."""
    source = write_inventory_report(tmp_path / "source", source_bucket, source_rows, file_format=file_format)
    destination = write_inventory_report(tmp_path / "destination", target.bucket, destination_rows,
                                         file_format=file_format, created=destination_created)
    sinks = {action: MemorySink() for action in (COPY, CHECK, SAME)}
    result = write_plan(None, InventorySide(load_inventory_manifest(source, formats=FORMATS)),
                        InventorySide(load_inventory_manifest(destination, formats=FORMATS)), target, sinks,
                        source_prefix=source_prefix, work_dir=tmp_path, threads=1)
    assert all(sink.state == "closed" for sink in sinks.values())
    rows = {action: [(row.bucket, row.key, row.version_id) for row in parse_lines(sink.text.splitlines(True))]
            for action, sink in sinks.items()}
    return result, rows


def as_listed(bucket: str, row: InventoryRow) -> Listed:
    """The row as a listing shows it (ETags quoted, as ListObjectsV2 gives them)."""
    return Listed(bucket, row.key, row.size, row.version_id or None, f'"{row.etag}"' if row.etag else "",
                  row.last_modified)


def decided_in_memory(source_rows, destination_rows, target: Destination, source_prefix: str = ""):
    """decide() object by object, as plan_sync does: {(action, reason): [keys]}."""
    found = {row.key: as_listed(target.bucket, row) for row in destination_rows
             if row.is_latest and not row.is_delete_marker}
    decided: dict[tuple[str, str], list[str]] = {}
    for row in source_rows:
        if not row.is_latest or row.is_delete_marker or not row.key.startswith(source_prefix):
            continue
        key = target.key_of(row.key)
        decision = decide(as_listed("src", row), found.get(key) if key is not None else None, mapped=key is not None)
        decided.setdefault((decision.action, decision.reason), []).append(row.key)
    return decided


# -- each rule, on fixtures that name it -------------------------------------------------

EARLY = REPORT_TIME - datetime.timedelta(days=2)
CASES = [  # (source row, destination row or None, action, reason)
    (InventoryRow("absent.mov", 5), None, COPY, ABSENT),
    (InventoryRow("resized.mov", 5), InventoryRow("resized.mov", 4), COPY, SIZE_DIFFERS),
    (InventoryRow("changed.mov", 5, etag="aa"), InventoryRow("changed.mov", 5, etag="bb"), CHECK, ETAG_DIFFERS),
    (InventoryRow("no-etag.mov", 5, etag=""), InventoryRow("no-etag.mov", 5, etag=""), CHECK, ETAG_DIFFERS),
    (InventoryRow("rewritten.mov", 5, last_modified=REPORT_TIME), InventoryRow("rewritten.mov", 5, last_modified=EARLY),
     CHECK, SOURCE_NEWER),
    (InventoryRow("undated.mov", 5, last_modified=None), InventoryRow("undated.mov", 5), CHECK, SOURCE_NEWER),
    (InventoryRow("tie.mov", 5, last_modified=EARLY), InventoryRow("tie.mov", 5, last_modified=EARLY), SAME, SAME_CONTENT),
    (InventoryRow("same.mov", 5, last_modified=EARLY), InventoryRow("same.mov", 5), SAME, SAME_CONTENT),
    # Keys are opaque: a space is not a plus, NFD is not NFC, nothing is trimmed.
    (InventoryRow("a b.mov", 5), InventoryRow("a+b.mov", 5), COPY, ABSENT),
    (InventoryRow(f"caf{NFD_E}.mov", 5), InventoryRow("café.mov", 5), COPY, ABSENT),
    (InventoryRow(" padded .mov ", 5), InventoryRow("padded .mov", 5), COPY, ABSENT),
    (InventoryRow(" padded2 ", 5), InventoryRow(" padded2 ", 5), SAME, SAME_CONTENT),
]


@pytest.mark.parametrize("file_format", ["CSV", "PARQUET"])
def test_every_rule_decides_in_sql_as_in_memory_csv_and_parquet(tmp_path, file_format):
    source = [case[0] for case in CASES]
    destination = [case[1] for case in CASES if case[1] is not None]
    target = Destination("dst")

    result, rows = run_plan(tmp_path, source, destination, target, file_format=file_format)

    expected: dict[tuple[str, str], list[str]] = {}
    for row, _, action, reason in CASES:
        expected.setdefault((action, reason), []).append(row.key)
    assert decided_in_memory(source, destination, target) == expected
    assert dict(result.counts.objects) == \
        {reason: len(keys) for reason, keys in expected.items()}
    for action in (COPY, CHECK, SAME):
        assert sorted(key for _, key, _ in rows[action]) == \
            sorted(key for (taken, _), keys in expected.items() if taken == action for key in keys)
    assert result.counts.bytes_of(COPY) == 5 * 5 and result.as_of == REPORT_TIME


def test_an_all_versions_report_plans_only_current_versions_and_pins_them(tmp_path):
    """Noncurrent versions are not objects to copy; a key whose current version is a
    delete marker is not at the source any more; at the destination it is absent."""
    source = [InventoryRow("kept.mov", 5, version_id="v2"), InventoryRow("kept.mov", 9, version_id="v1", is_latest=False),
              InventoryRow("deleted.mov", 0, version_id="d1", is_delete_marker=True),
              InventoryRow("deleted.mov", 5, version_id="v0", is_latest=False),
              InventoryRow("gone-there.mov", 5, version_id="v3")]
    destination = [InventoryRow("kept.mov", 5, version_id="x1"),
                   InventoryRow("gone-there.mov", 0, version_id="x2", is_delete_marker=True),
                   InventoryRow("gone-there.mov", 5, version_id="x3", is_latest=False)]

    result, rows = run_plan(tmp_path, source, destination, Destination("dst"))

    assert rows == {COPY: [("src", "gone-there.mov", "v3")], CHECK: [], SAME: [("src", "kept.mov", "v2")]}
    assert dict(result.counts.objects) == {(COPY, ABSENT): 1, (SAME, SAME_CONTENT): 1}


def test_keys_map_with_the_prefix_to_strip_and_the_source_prefix_narrows(tmp_path):
    source = [InventoryRow("in/a.mov", 5), InventoryRow("in/sub/b.mov", 5), InventoryRow("in/", 0),
              InventoryRow("elsewhere/c.mov", 5)]
    destination = [InventoryRow("out/a.mov", 5), InventoryRow("in/sub/b.mov", 5)]

    _, rows = run_plan(tmp_path, source, destination, Destination("dst", "out/", "in/"))
    _, narrowed = run_plan(tmp_path / "narrow", source, destination, Destination("dst", "", "in/"),
                           source_prefix="in/")

    assert sorted(key for _, key, _ in rows[COPY]) == ["elsewhere/c.mov", "in/", "in/sub/b.mov"]
    assert [key for _, key, _ in rows[SAME]] == ["in/a.mov"]
    # "in/" less "in/" leaves no destination key: the job gets it and reports it, as a listing plan does.
    assert sorted(key for _, key, _ in narrowed[COPY]) == ["in/", "in/a.mov", "in/sub/b.mov"]
    assert decided_in_memory(source, destination, Destination("dst", "", "in/"), "in/")[COPY, KEY_NOT_MAPPED] == ["in/"]


# -- agreement on drawn objects ----------------------------------------------------------

KEY_PARTS = st.sampled_from(["a", "b", " ", "+", "%", "%2B", "=", "&", "é", NFD_E, "日", "/", "in/", "~", "*", "'", '"',
                             ",", "\t", "\u00a0", "\U0001f3ac"])
KEYS = st.lists(KEY_PARTS, min_size=1, max_size=6).map("".join)
WHEN = st.sampled_from([EARLY, EARLY + datetime.timedelta(milliseconds=1), REPORT_TIME, None])


@st.composite
def sides(draw):
    keys = draw(st.lists(KEYS, min_size=1, max_size=12, unique=True))
    source = [InventoryRow(key, draw(st.integers(0, 3)), draw(st.sampled_from(["", "aa", "bb"])), draw(WHEN))
              for key in keys]
    # The destination holds some of the same keys (mapped or not), some others.
    destination_keys = draw(st.lists(st.sampled_from(keys) | KEYS, max_size=12, unique=True))
    destination = [InventoryRow(key, draw(st.integers(0, 3)), draw(st.sampled_from(["", "aa", "bb"])), draw(WHEN))
                   for key in destination_keys]
    target = Destination("dst", draw(st.sampled_from(["", "in/", "é/"])), draw(st.sampled_from(["", "in/", "a"])))
    return source, destination, target


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=sides())
def test_sql_and_memory_agree_on_drawn_objects(tmp_path_factory, drawn):
    source, destination, target = drawn
    tmp_path = tmp_path_factory.mktemp("drawn")

    result, rows = run_plan(tmp_path, source, destination, target)

    expected = decided_in_memory(source, destination, target)
    assert dict(result.counts.objects) == \
        {reason: len(keys) for reason, keys in expected.items()}
    for action in (COPY, CHECK, SAME):
        assert sorted(key for _, key, _ in rows[action]) == \
            sorted(key for (taken, _), keys in expected.items() if taken == action for key in keys)


# -- what an inventory must have ---------------------------------------------------------


def test_a_report_without_sizes_is_refused_and_without_etags_leaves_nothing_out(tmp_path):
    rows = [InventoryRow("a.mov", 5)]
    no_size = write_inventory_report(tmp_path / "no-size", "src", rows, columns=("Bucket", "Key", "ETag"))
    with pytest.raises(ManifestError, match="has no size column"):
        InventorySide(load_inventory_manifest(no_size, formats=FORMATS)).schema()

    bare = ("Bucket", "Key", "Size")
    source = write_inventory_report(tmp_path / "s", "src", rows, columns=bare)
    destination = write_inventory_report(tmp_path / "d", "dst", rows, columns=bare)
    sinks = {action: MemorySink() for action in (COPY, CHECK, SAME)}
    result = write_plan(None, InventorySide(load_inventory_manifest(source, formats=FORMATS)),
                        InventorySide(load_inventory_manifest(destination, formats=FORMATS)), Destination("dst"), sinks,
                        work_dir=tmp_path)
    assert dict(result.counts.objects) == {(CHECK, ETAG_DIFFERS): 1}
    assert any("has no e_tag or last_modified_date" in note for note in result.notes), result.notes


def test_the_sql_text_names_every_rule_once():
    """The CASE is RULES rendered: each reason appears in it once, in order."""
    from mediasync.manifests.sync_plan import RULES

    text = plan_sql("SOURCE", "DESTINATION", Destination("dst"))
    reasons = [rule.reason for rule in RULES]
    positions = [text.index(f"THEN '{reason}'") for reason in reasons]
    assert positions == sorted(positions) and all(text.count(f"THEN '{reason}'") == 1 for reason in reasons)
