"""manifests.filters: the aws CLI's --include/--exclude rule, and one definition evaluated
three ways that must agree: in memory, as SQL in DuckDB (the text Athena runs), and as
S3 Batch's ManifestGenerator filter (local.s3batch emulates the generator as AWS
documents it). Hypothesis draws the objects, the globs and the bounds.
"""

from __future__ import annotations

import datetime
import fnmatch
import os
from dataclasses import dataclass

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediasync.local.s3batch import generator_admits
from mediasync.manifests.filters import (
    EXCLUDE,
    INCLUDE,
    FilterError,
    Glob,
    ObjectFilter,
    Pattern,
    generator_filter,
    parse_pattern,
    parse_time,
)
from mediasync.manifests.sync_sql import DUCKDB_MACROS

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Obj:
    key: str
    size: int | None = 10
    last_modified: datetime.datetime | None = T0
    storage_class: str = "STANDARD"


def patterns(*pairs: tuple[str, str]) -> tuple[Pattern, ...]:
    return tuple(parse_pattern(kind, glob) for kind, glob in pairs)


def kept(selected: ObjectFilter, prefix: str, keys: list[str]) -> list[str]:
    bound = selected.under(prefix)
    return [key for key in keys if bound.left_out_by(Obj(key)) is None]


# -- the aws CLI's rule ---------------------------------------------------------------------------


def aws_cli_keeps(bucket: str, prefix: str, key: str, rules: tuple[tuple[str, str], ...]) -> bool:
    """awscli/customizations/s3/filters.py restated: each pattern joined onto the source's
    root ('bucket/prefix'), fnmatch'ed against 'bucket/key', the last match deciding."""
    root = f"{bucket}/{prefix}"
    keep = True
    for kind, pattern in rules:
        if fnmatch.fnmatch(f"{bucket}/{key}", os.path.join(root, pattern)):
            keep = kind == INCLUDE
    return keep


def test_the_last_matching_pattern_decides_as_in_the_aws_cli_documentation():
    keys = ["a.txt", "b.mov", "sub/c.txt", "sub/d.mov"]
    only_txt = ObjectFilter(patterns((EXCLUDE, "*"), (INCLUDE, "*.txt")))
    nothing = ObjectFilter(patterns((INCLUDE, "*.txt"), (EXCLUDE, "*")))

    assert kept(only_txt, "", keys) == ["a.txt", "sub/c.txt"]  # '*' crosses '/'
    assert kept(nothing, "", keys) == []
    assert kept(ObjectFilter(patterns((EXCLUDE, "sub/*"))), "", keys) == ["a.txt", "b.mov"]
    assert kept(ObjectFilter(patterns((EXCLUDE, "*.TXT"))), "", keys) == keys  # case-sensitive
    assert kept(ObjectFilter(patterns((EXCLUDE, "?.mov"))), "", keys) == ["a.txt", "sub/c.txt", "sub/d.mov"]
    assert kept(ObjectFilter(patterns((EXCLUDE, "[!a]*"))), "", keys) == ["a.txt"]


def test_patterns_match_below_the_prefix_and_a_prefix_without_slash_gets_one():
    keys = ["in/a.mov", "in/x/b.mov", "in-other/c.mov", "in"]
    only_top = ObjectFilter(patterns((EXCLUDE, "*"), (INCLUDE, "a.mov")))

    # in/x/b.mov is excluded; keys outside the root match no pattern, so they stay.
    assert kept(only_top, "in/", keys) == ["in/a.mov", "in-other/c.mov", "in"]
    assert kept(only_top, "in", keys) == kept(only_top, "in/", keys)
    assert kept(only_top, "", keys) == []  # nothing is "a.mov" below the bucket


KEY_PARTS = st.sampled_from(list("ab./-_ é") + ["x/", "日", ".mov", "\n"])
GLOB_PARTS = st.sampled_from(list("ab./*?[]!-^é\\") + ["*.mov", "[!a]", "[a-c]", "x/"])


def texts(parts, min_size: int = 0, max_size: int = 6):
    return st.lists(parts, min_size=min_size, max_size=max_size).map("".join)


KEYS = texts(KEY_PARTS)
GLOBS = texts(GLOB_PARTS, 1, 5)
PREFIXES = st.sampled_from(["", "a", "a/", "b/", "ab/x", "é/"])


@settings(max_examples=300, deadline=None)
@given(prefix=PREFIXES, keys=st.lists(KEYS, max_size=8),
       rules=st.lists(st.tuples(st.sampled_from([INCLUDE, EXCLUDE]), GLOBS),
                      max_size=4))
def test_keys_are_kept_exactly_as_the_aws_cli_keeps_them(prefix, keys, rules):
    rules = [(kind, glob) for kind, glob in rules if not glob.startswith("/")]
    selected = ObjectFilter(patterns(*rules))
    full_keys = [prefix + key for key in keys]
    expected = [key for key in full_keys if aws_cli_keeps("bucket", prefix, key, tuple(rules))]

    assert kept(selected, prefix, full_keys) == expected


# -- in memory and in SQL ---------------------------------------------------------------------------


_CONNECTION: list[duckdb.DuckDBPyConnection] = []


def sql_left_out(selected: ObjectFilter, objects: list[Obj]) -> list[str | None]:
    """The filter's SQL over the objects in DuckDB (one connection for the module: examples are many)."""
    if not _CONNECTION:
        connection = duckdb.connect()
        connection.execute("SET TimeZone = 'UTC'")
        for macro in DUCKDB_MACROS:
            connection.execute(macro)
        _CONNECTION.append(connection)
    connection = _CONNECTION[0]
    connection.execute('CREATE OR REPLACE TABLE objects (n INTEGER, "key" VARCHAR, size BIGINT, '
                       "last_modified TIMESTAMPTZ, storage_class VARCHAR)")
    connection.executemany("INSERT INTO objects VALUES (?, ?, ?, ?, ?)",
                           [(n, item.key, item.size, item.last_modified, item.storage_class)
                            for n, item in enumerate(objects)])
    return [row[0] for row in connection.execute(f"SELECT {selected.sql()} FROM objects ORDER BY n").fetchall()]


WHEN = st.sampled_from([T0, T0 + datetime.timedelta(milliseconds=1), T0 - datetime.timedelta(days=3), None])
CLASSES = st.sampled_from(["STANDARD", "", "GLACIER", "STANDARD_IA", "DEEP_ARCHIVE"])


@st.composite
def filters(draw, dated: bool = True):
    rules = draw(st.lists(st.tuples(st.sampled_from([INCLUDE, EXCLUDE]),
                                    GLOBS.filter(lambda g: g[0] != "/")),
                          max_size=3))
    low = draw(st.none() | st.integers(0, 12))
    high = draw(st.none() | st.integers(low or 0, 14))
    after = draw(st.none() | st.sampled_from([T0 - datetime.timedelta(days=1), T0])) if dated else None
    before = draw(st.none() | st.sampled_from([T0 + datetime.timedelta(milliseconds=1), T0 + datetime.timedelta(days=1)]))
    classes = tuple(draw(st.lists(st.sampled_from(["STANDARD", "GLACIER", "REDUCED_REDUNDANCY"]), unique=True,
                                  max_size=2)))
    return ObjectFilter(patterns(*rules), low, high, after, before if dated else None, classes)


@settings(max_examples=120, deadline=None)
@given(selected=filters(), prefix=PREFIXES,
       objects=st.lists(st.builds(Obj, KEYS, st.none() | st.integers(0, 14), WHEN, CLASSES),
                        min_size=1, max_size=8))
def test_sql_leaves_out_what_memory_leaves_out_by_the_same_flag(selected, prefix, objects):
    bound = selected.under(prefix)
    objects = [Obj(prefix + item.key, item.size, item.last_modified, item.storage_class) for item in objects]

    assert sql_left_out(bound, objects) == [bound.left_out_by(item) for item in objects]


def test_each_object_is_counted_once_by_the_first_gate_that_refuses_it():
    selected = ObjectFilter(patterns((EXCLUDE, "*.tmp")), min_size=5, storage_classes=("GLACIER",))
    objects = [Obj("a.tmp", 1, storage_class="STANDARD"), Obj("b.mov", 1), Obj("c.mov", 9), Obj("d.mov", 9, None, "GLACIER"),
               Obj("e.mov", None, None, "GLACIER")]

    assert [selected.left_out_by(item) for item in objects] == [
        "--exclude '*.tmp'", "--min-size 5", "--match-storage-class GLACIER", None, None]
    assert sql_left_out(selected, objects) == [selected.left_out_by(item) for item in objects]


# -- the generator ----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(selected=filters(), prefix=st.sampled_from(["", "a/", "b/", "ab/x/", "a.mov/"]),
       objects=st.lists(st.builds(Obj, KEYS, st.integers(0, 14),
                                  st.sampled_from([T0, T0 + datetime.timedelta(milliseconds=1),
                                                   T0 - datetime.timedelta(days=3)]), CLASSES),
                        min_size=1, max_size=8))
def test_what_the_generator_is_asked_for_is_what_the_filters_keep(selected, prefix, objects):
    """Every object of the bucket, under the prefix or not: the generator (emulated as AWS
    documents it) admits exactly those a listing of the prefix keeps."""
    found = generator_filter(selected, prefix)
    if found.document is None:
        assert found.reason
        return
    bound = selected.under(prefix)
    everywhere = objects + [Obj(prefix + item.key, item.size, item.last_modified, item.storage_class)
                            for item in objects]
    assert [generator_admits(item, found.document) for item in everywhere] == \
        [item.key.startswith(prefix) and bound.left_out_by(item) is None for item in everywhere]


@pytest.mark.parametrize("rules, prefix, constraint", [
    ([], "masters/", {"MatchAnyPrefix": ["masters/"]}),
    ([(INCLUDE, "*.tmp")], "", None),  # nothing excluded before it: no constraint at all
    ([(EXCLUDE, "*"), (INCLUDE, "*.mov")], "masters/", {"MatchAnySuffix": [".mov"], "MatchAnyPrefix": ["masters/"]}),
    ([(EXCLUDE, "*"), (INCLUDE, "2026/*")], "masters/", {"MatchAnyPrefix": ["masters/2026/"]}),
    ([(EXCLUDE, "*"), (INCLUDE, "*final*")], "", {"MatchAnySubstring": ["final"]}),
    ([(EXCLUDE, "*"), (INCLUDE, "*")], "a/", {"MatchAnyPrefix": ["a/"]}),
])
def test_the_shapes_the_generator_can_say(rules, prefix, constraint):
    document = generator_filter(ObjectFilter(patterns(*rules)), prefix).document
    assert document is not None
    assert document.get("KeyNameConstraint") == constraint


@pytest.mark.parametrize("selected, prefix, reason", [
    (ObjectFilter(patterns((EXCLUDE, "*.tmp"))), "", "one prefix, suffix or substring"),
    (ObjectFilter(patterns((EXCLUDE, "*"), (INCLUDE, "a/*.mov"))), "", "one prefix, suffix or substring"),
    (ObjectFilter(patterns((EXCLUDE, "*"), (INCLUDE, "*.mov"), (INCLUDE, "*.wav"))), "", "one prefix"),
    (ObjectFilter(patterns((EXCLUDE, "*"), (INCLUDE, "a.mov"))), "", "no exact-key match"),
    (ObjectFilter(patterns((EXCLUDE, "*"), (INCLUDE, "*ters/*"))), "masters/", "can occur in the prefix"),
    (ObjectFilter(patterns((EXCLUDE, "*"), (INCLUDE, "*.mov"))), "masters", "end the prefix with '/'"),
    (ObjectFilter(storage_classes=("REDUCED_REDUNDANCY",)), "", "cannot match the storage class"),
])
def test_what_the_generator_cannot_say_is_named(selected, prefix, reason):
    found = generator_filter(selected, prefix)
    assert found.document is None and reason in found.reason


def test_sizes_and_times_become_the_generators_strict_bounds():
    selected = ObjectFilter(min_size=1024, max_size=2048, modified_after=T0,
                            modified_before=T0 + datetime.timedelta(days=1), storage_classes=("GLACIER_IR",))
    assert generator_filter(selected, "").document == {
        "ObjectSizeGreaterThanBytes": 1023, "ObjectSizeLessThanBytes": 2049, "CreatedAfter": T0,
        "CreatedBefore": T0 + datetime.timedelta(days=1), "MatchAnyStorageClass": ["GLACIER_IR"]}


# -- the values a user types ------------------------------------------------------------------------


def test_times_are_iso_8601_utc_unless_zoned_and_at_most_milliseconds():
    assert parse_time("--modified-after", "2026-01-31") == datetime.datetime(2026, 1, 31, tzinfo=UTC)
    assert parse_time("--modified-after", "2026-01-31T18:00:00Z") == datetime.datetime(2026, 1, 31, 18, tzinfo=UTC)
    assert parse_time("--x", "2026-01-31T20:00:00+02:00") == datetime.datetime(2026, 1, 31, 18, tzinfo=UTC)
    with pytest.raises(FilterError, match="is not a time"):
        parse_time("--modified-after", "yesterday")
    with pytest.raises(FilterError, match="to the millisecond"):
        parse_time("--modified-after", "2026-01-31T18:00:00.000001")


def test_filters_that_keep_nothing_or_never_match_are_refused():
    with pytest.raises(FilterError, match="--min-size 10 is above --max-size 5"):
        ObjectFilter(min_size=10, max_size=5)
    with pytest.raises(FilterError, match="is not before --modified-before"):
        ObjectFilter(modified_after=T0, modified_before=T0)
    with pytest.raises(FilterError, match="without the leading '/'"):
        parse_pattern(EXCLUDE, "/tmp/*")


def test_an_unterminated_class_is_a_literal_bracket_as_in_fnmatch():
    assert Glob("a[b").matches("a[b") and not Glob("a[b").matches("ab")
    assert Glob("[]]").matches("]") and Glob("[!]]").matches("x") and not Glob("[!]]").matches("]")
