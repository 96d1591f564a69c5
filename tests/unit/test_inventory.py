"""The parallel lister: one listing per common prefix, rows streamed, nothing left behind on failure."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from mediasync.manifests.listing import FileSink, write_inventory
from mediasync.manifests.reader import read_manifest


class FolderS3:
    """ListObjectsV2 with Delimiter='/' over a fixed key list, one page per 2 entries; can fail a prefix."""

    def __init__(self, keys: list[str], failing_prefix: str | None = None) -> None:
        self.keys, self.failing_prefix = keys, failing_prefix
        self.prefixes_listed: list[str] = []

    def get_paginator(self, operation: str) -> Any:
        assert operation == "list_objects_v2"
        return self

    def paginate(self, Bucket: str, Prefix: str, Delimiter: str) -> Iterator[dict]:
        self.prefixes_listed.append(Prefix)
        if Prefix == self.failing_prefix:
            raise ConnectionError(f"listing {Prefix} failed")
        below = [key[len(Prefix):] for key in self.keys if key.startswith(Prefix)]
        contents = [{"Key": Prefix + rest, "Size": len(rest)} for rest in below if Delimiter not in rest]
        folders = sorted({Prefix + rest.split(Delimiter)[0] + Delimiter for rest in below if Delimiter in rest})
        entries = [("Contents", item) for item in contents] + [("CommonPrefixes", {"Prefix": p}) for p in folders]
        for start in range(0, max(len(entries), 1), 2):
            page: dict = {"Contents": [], "CommonPrefixes": []}
            for kind, item in entries[start:start + 2]:
                page[kind].append(item)
            yield page


KEYS = ["top.txt", "a/1 + 1.txt", "a/b/2=2.txt", "a/b/c/3%.txt", "d/4.txt", "d/5.txt", "d/e/6.txt"]


def test_every_key_is_written_once_and_each_folder_is_its_own_listing(tmp_path):
    s3 = FolderS3(KEYS)
    output = tmp_path / "manifest.csv"

    listed = write_inventory(s3, "media", FileSink(output), workers=4)

    assert sorted(row.key for row in read_manifest(output)) == sorted(KEYS)
    assert sorted(s3.prefixes_listed) == ["", "a/", "a/b/", "a/b/c/", "d/", "d/e/"]
    assert (listed.objects, listed.bytes, listed.prefixes_pending) == (7, sum(len(k.rsplit("/", 1)[-1]) for k in KEYS), 0)


def test_a_failed_listing_leaves_no_manifest_behind(tmp_path):
    output = tmp_path / "manifest.csv"

    with pytest.raises(ConnectionError, match="listing a/b/ failed"):
        write_inventory(FolderS3(KEYS, failing_prefix="a/b/"), "media", FileSink(output), workers=4)

    assert list(tmp_path.iterdir()) == []
