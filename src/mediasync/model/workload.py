"""The workload: objects, bytes, size histogram, and how each object is routed by
core.plan.plan_copy, the very function the copy uses.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from mediasync.core.errors import ObjectTooLarge
from mediasync.core.plan import MAX_OBJECT_SIZE, MIN_PART_SIZE, plan_copy
from mediasync.core.settings import CopyOptions, GiB, MiB, TiB
from mediasync.core.timing import PATHS, TOO_LARGE, path_of, shape_of

# -- the workload ---------------------------------------------------------------------

# Upper bounds (inclusive) of the size histogram's bins; the last bin is open.
SIZE_BINS: tuple[tuple[str, int], ...] = (
    ("< 1 MiB", MiB - 1),
    ("1-16 MiB", 16 * MiB - 1),
    ("16-256 MiB", 256 * MiB - 1),
    ("256 MiB-5 GiB", 5 * GiB - 1),
    ("5-100 GiB", 100 * GiB - 1),
    ("100 GiB-1 TiB", TiB - 1),
    ("1-5 TiB", MAX_OBJECT_SIZE),
    ("> 5 TiB", -1),
)

# Distinct destination prefixes remembered for the per-prefix request rate (memory bound).
PREFIX_COUNT_CAP = 100_000


def size_bin(size: int) -> int:
    for index, (_, upper) in enumerate(SIZE_BINS):
        if upper < 0 or size <= upper:
            return index
    raise AssertionError("unreachable: the last bin is open")


def prefix_of(key: str) -> str:
    """The key up to its last '/': the unit S3 request rates are quoted for."""
    return key.rsplit("/", 1)[0] + "/" if "/" in key else ""


def infer_part_size(size: int, part_count: int) -> int:
    """The part size of a multipart object known only by size and ETag part count.

    An S3 Inventory lists size and ETag, not the part size HeadObject PartNumber=1
    would give. Uploaders use whole MiB part sizes of at least 5 MiB, so the smallest
    such size that gives exactly ``part_count`` parts is the likely one; otherwise
    the exact ceiling. The estimate then plans the copy as the copy itself would.
    """
    if part_count <= 1:
        return size
    exact = math.ceil(size / part_count)
    whole_mib = max(math.ceil(exact / MiB) * MiB, MIN_PART_SIZE)
    if (part_count - 1) * whole_mib < size <= part_count * whole_mib:
        return whole_mib
    return exact


@dataclass(frozen=True)
class ObjectSpec:
    """What the model needs to know of one source object (or ``count`` equal ones)."""

    size: int
    source_part_count: int | None = None
    source_part_size: int | None = None
    prefix: str = ""  # destination key up to its last '/'
    count: int = 1


@dataclass
class PathTally:
    objects: int = 0
    bytes: int = 0
    parts: int = 0
    groups: int = 0
    largest: int = 0


@dataclass
class Workload:
    objects: int = 0
    bytes: int = 0
    multipart_sources: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * len(SIZE_BINS))
    paths: dict[str, PathTally] = field(default_factory=lambda: {path: PathTally() for path in PATHS})
    # Multipart copies by shape -> objects. Bounded by the number of distinct
    # layouts, not by the number of objects.
    shapes: Counter = field(default_factory=Counter)
    # Multipart sources by path and by shape: each costs batch_invoke one more HEAD
    # (PartNumber=1).
    multipart_sources_by_path: Counter = field(default_factory=Counter)
    multipart_sources_by_shape: Counter = field(default_factory=Counter)
    prefixes: set[str] = field(default_factory=set)
    prefixes_capped: bool = False

    def add(self, spec: ObjectSpec, options: CopyOptions) -> str:
        """Count ``spec`` (``spec.count`` equal objects); returns the path it takes."""
        count = spec.count
        self.objects += count
        self.bytes += spec.size * count
        self.histogram[size_bin(spec.size)] += count
        if len(self.prefixes) < PREFIX_COUNT_CAP:
            self.prefixes.add(spec.prefix)
        elif spec.prefix not in self.prefixes:
            self.prefixes_capped = True
        try:
            plan = plan_copy(spec.size, options, source_part_size=spec.source_part_size,
                             source_part_count=spec.source_part_count)
            path = path_of(plan)
        except ObjectTooLarge:
            plan, path = None, TOO_LARGE
        if spec.source_part_count:
            self.multipart_sources += count
            self.multipart_sources_by_path[path] += count
        tally_ = self.paths[path]
        tally_.objects += count
        tally_.bytes += spec.size * count
        tally_.largest = max(tally_.largest, spec.size)
        if plan is not None and plan.route == "multipart":
            tally_.parts += plan.part_count * count
            tally_.groups += plan.group_count * count
            shape = shape_of(plan)
            self.shapes[shape] += count
            if spec.source_part_count:
                self.multipart_sources_by_shape[shape] += count
        return path

    @property
    def prefix_count(self) -> int:
        return max(1, len(self.prefixes))


def tally(specs: Iterable[ObjectSpec], options: CopyOptions) -> Workload:
    workload = Workload()
    for spec in specs:
        workload.add(spec, options)
    return workload


