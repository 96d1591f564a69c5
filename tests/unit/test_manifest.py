"""Manifest rows: URL-decoding, per-row errors, whole-file rejection."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediasync.manifests.reader import probe_manifest, read_manifest
from mediasync.manifests.s3batch_csv import ManifestError, format_row, parse_lines


def rows(text: str):
    return list(parse_lines(text.splitlines(keepends=True)))


@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60))
def test_any_key_survives_encoding_round_trip(key):
    [row] = rows(format_row("my-bucket", key))
    assert row.error is None
    assert row.key == key


def test_awkward_keys_decode_exactly():
    nfd = unicodedata.normalize("NFD", "café.mov")
    text = "".join(format_row("b-1", k) for k in ["a b.mov", "a+b.mov", "100%.mov", nfd])
    assert [r.key for r in rows(text)] == ["a b.mov", "a+b.mov", "100%.mov", nfd]
    # '+' in a manifest means a space; a literal plus is %2B.
    assert rows("b-1,a+b%2Bc\n")[0].key == "a b+c"


def test_version_column_and_blank_lines_and_bom():
    parsed = rows("\ufeffbkt,key1,v123\n\n  \nbkt,key2\n")
    assert [(r.line, r.key, r.version_id, r.error) for r in parsed] == [(1, "key1", "v123", None), (4, "key2", None, None)]


@pytest.mark.parametrize(
    "line, fragment",
    [
        ("bkt\n", "expected 2 or 3 columns"),
        ("bkt,a,b,c\n", "expected 2 or 3 columns"),
        ("Not A Bucket!,key\n", "not a valid bucket name"),
        ("bkt,\n", "empty key"),
        ("bkt,bad%zzkey\n", "not valid URL encoding"),
        ("bkt,%ff%fe\n", "not valid URL encoding"),
    ],
)
def test_bad_rows_get_a_clear_error_naming_the_line(line, fragment):
    [row] = rows("bkt,fine\n" + line)[1:]
    assert row.error and fragment in row.error and "line 2" in row.error


def test_a_file_that_is_not_a_manifest_is_rejected(tmp_path):
    binary = tmp_path / "movie.mov"
    binary.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(ManifestError, match="not a UTF-8"):
        probe_manifest(binary)
    prose = tmp_path / "notes.txt"
    prose.write_text("this is just\nsome text\n")
    with pytest.raises(ManifestError, match="not an S3 Batch Operations manifest"):
        probe_manifest(prose)
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n")
    with pytest.raises(ManifestError, match="no rows"):
        probe_manifest(empty)
    with pytest.raises(ManifestError, match="cannot read"):
        list(read_manifest(tmp_path / "absent.csv"))


def test_manifest_with_some_bad_rows_is_still_a_manifest(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("bkt\nbkt,ok\n")
    probe_manifest(path)
    assert [r.error is None for r in read_manifest(path)] == [False, True]


def test_keys_keep_their_spaces_exactly_as_written():
    # Keys are opaque bytes: "a.mov " and " a.mov" are other objects than "a.mov".
    parsed = rows("bkt,a.mov \nbkt, a.mov\nbkt,a.mov\r\nbkt,a.mov%20\n")
    assert [(r.key, r.error) for r in parsed] == [("a.mov ", None), (" a.mov", None), ("a.mov", None),
                                                  ("a.mov ", None)]
    # A space around the bucket cannot be part of a bucket name: the row fails alone, it is not trimmed into another.
    [row] = rows("bkt ,a.mov\n")
    assert row.error and "not a valid bucket name" in row.error
