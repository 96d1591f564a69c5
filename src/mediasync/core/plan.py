"""Part layout, grouping and routing: pure arithmetic, no I/O.

S3 limits (AWS documentation): at most 10,000 parts; parts of 5 MiB to 5 GiB
except the last, which may be smaller; CopyObject only up to 5 GiB.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from mediasync.core.errors import ObjectTooLarge
from mediasync.core.settings import MAX_PART_SIZE, MIN_PART_SIZE, CopyOptions, GiB, MiB

MAX_PARTS = 10_000
MAX_SINGLE_COPY = 5 * GiB
MAX_OBJECT_SIZE = MAX_PARTS * MAX_PART_SIZE
# Bytes one AWS Batch job may be given: its attempt may run 3,600 s (template.yaml),
# and 8 copies at a pessimistic 25 MiB/s each move 256 GiB in under half of that.
BATCH_GROUP_BYTE_BUDGET = 256 * GiB


# An uneven source layout travels through every state of the copy; past this many
# runs of equal parts it would crowd the 256 KiB state payload, and the copy uses
# its own equal parts instead.
MAX_PART_RUNS = 256

PartRuns = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class PartLayout:
    """Equal parts of ``part_size`` bytes, the last one possibly shorter; or, for a
    source whose parts differ in size, ``runs`` of (part size, count) in part order."""

    size: int
    part_size: int
    part_count: int
    runs: PartRuns | None = None

    def part_range(self, part_number: int) -> tuple[int, int]:
        """Inclusive byte range of a 1-based part, as CopySourceRange wants it."""
        if not 1 <= part_number <= self.part_count:
            raise ValueError(f"part {part_number} outside 1..{self.part_count}")
        if self.runs:
            start, first = 0, 1
            for length, count in self.runs:
                if part_number < first + count:
                    start += (part_number - first) * length
                    return start, start + length - 1
                start += length * count
                first += count
        start = (part_number - 1) * self.part_size
        end = min(start + self.part_size, self.size) - 1
        return start, end

    def part_length(self, part_number: int) -> int:
        start, end = self.part_range(part_number)
        return end - start + 1


def layout_fits(size: int, part_size: int, part_count: int) -> bool:
    """Whether equal parts of ``part_size`` cover ``size`` in exactly ``part_count`` parts."""
    if part_count < 1 or part_size < 1 or part_count > MAX_PARTS:
        return False
    if part_count > 1 and not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
        return False
    return (part_count - 1) * part_size < size <= part_count * part_size


def part_runs(sizes: list[int]) -> PartRuns:
    """[8, 8, 5, 8, 3] -> ((8, 2), (5, 1), (8, 1), (3, 1))."""
    runs: list[tuple[int, int]] = []
    for length in sizes:
        if runs and runs[-1][0] == length:
            runs[-1] = (length, runs[-1][1] + 1)
        else:
            runs.append((length, 1))
    return tuple(runs)


def uneven_layout(size: int, runs: PartRuns) -> PartLayout | None:
    """The layout of ``runs`` if S3 accepts it again for an object of ``size`` bytes:
    every part but the last within 5 MiB-5 GiB, at most 10,000 parts."""
    count = sum(n for _, n in runs)
    if not runs or len(runs) > MAX_PART_RUNS or count > MAX_PARTS or sum(s * n for s, n in runs) != size:
        return None
    last = runs[-1][0]
    others = [s for s, _ in runs[:-1]] + ([last] if runs[-1][1] > 1 else [])
    if count > 1 and not all(MIN_PART_SIZE <= s <= MAX_PART_SIZE for s in others):
        return None
    if last > MAX_PART_SIZE:
        return None
    largest = max(s for s, _ in runs)
    if layout_fits(size, largest, count) and all(s == largest for s, _ in runs[:-1]) and (
        len(runs) == 1 or runs[-1][1] == 1
    ):
        return PartLayout(size, largest, count)  # equal parts after all
    return PartLayout(size, largest, count, runs)


def plan_layout(
    size: int,
    part_size: int,
    *,
    source_part_size: int | None = None,
    source_part_count: int | None = None,
    source_part_runs: PartRuns | None = None,
) -> tuple[PartLayout, bool]:
    """Choose the part layout for copying ``size`` bytes.

    A multipart source's own layout, even or uneven, is reused when it fits S3's
    limits, so the copy gets the same ETag and the same composite checksum.
    Otherwise parts of ``part_size`` are used, grown until the object fits in
    10,000 parts. Returns the layout and whether it is the source's.
    """
    if size > MAX_OBJECT_SIZE:
        raise ObjectTooLarge(
            f"{size} bytes exceeds the multipart maximum of {MAX_PARTS} parts of 5 GiB"
        )
    if source_part_runs:
        layout = uneven_layout(size, tuple((int(length), int(count)) for length, count in source_part_runs))
        if layout is not None:
            return layout, True
    elif source_part_size and source_part_count and layout_fits(size, source_part_size, source_part_count):
        return PartLayout(size, source_part_size, source_part_count), True
    chosen = min(max(part_size, MIN_PART_SIZE), MAX_PART_SIZE)
    if math.ceil(size / chosen) > MAX_PARTS:
        # Grown to the smallest whole MiB that fits; never when the asked size fits already
        # (a 39,845,889-byte part fits 398,458,880,001 bytes in 10,000 parts; 38 MiB does not).
        chosen = math.ceil(math.ceil(size / MAX_PARTS) / MiB) * MiB
    count = max(1, math.ceil(size / chosen))
    return PartLayout(size, chosen, count), False


@dataclass(frozen=True)
class Grouping:
    parts_per_group: int
    group_count: int

    def parts(self, group: int, part_count: int) -> range:
        """1-based part numbers of a 0-based group."""
        if not 0 <= group < self.group_count:
            raise ValueError(f"group {group} outside 0..{self.group_count - 1}")
        first = group * self.parts_per_group + 1
        return range(first, min(first + self.parts_per_group, part_count + 1))


def plan_groups(layout: PartLayout, parts_per_group: int, group_byte_budget: int) -> Grouping:
    # part_size is the largest part, uneven layouts included: the budget holds.
    per_group = max(1, min(parts_per_group, group_byte_budget // layout.part_size))
    return Grouping(per_group, math.ceil(layout.part_count / per_group))


def choose_worker(mode: str, size: int, batch_threshold: int) -> str:
    if mode == "auto":
        return "batch" if size >= batch_threshold else "lambda"
    return mode


@dataclass(frozen=True)
class Plan:
    """How one object is copied; travels through the state machines as a dict."""

    route: str  # "single" (CopyObject) or "multipart" (UploadPartCopy)
    machine: str  # "express" or "standard"
    size: int
    part_size: int
    part_count: int
    parts_per_group: int
    group_count: int
    worker: str
    reuses_source_layout: bool
    # (part size, count) runs of an uneven source layout the copy reuses.
    part_runs: list[list[int]] | None = None
    # The checksum the copy asks S3 to compute (see copy_checksum), so it can be
    # compared with the source's whatever the encryption.
    checksum_algorithm: str | None = None
    checksum_type: str | None = None

    @property
    def layout(self) -> PartLayout:
        runs = tuple((length, count) for length, count in self.part_runs) if self.part_runs else None
        return PartLayout(self.size, self.part_size, self.part_count, runs)

    @property
    def grouping(self) -> Grouping:
        return Grouping(self.parts_per_group, self.group_count)

    def to_state(self) -> dict:
        state = asdict(self)
        # The Map state iterates over group indices only: never part or ETag lists,
        # which could exceed the 256 KiB payload limit.
        state["group_indices"] = list(range(self.group_count)) if self.route == "multipart" else []
        return state

    @classmethod
    def from_state(cls, state: dict) -> "Plan":
        return cls(**{name: state[name] for name in cls.__dataclass_fields__ if name in state})


# CRCs combine across parts, so S3 offers them as full-object checksums of a
# multipart upload; SHA digests only as composite ones (checksum-type docs:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
FULL_OBJECT_ALGORITHMS = frozenset({"CRC32", "CRC32C", "CRC64NVME"})


def copy_checksum(
    algorithm: str | None, checksum_type: str | None, *, route: str, reuses_source_layout: bool
) -> tuple[str | None, str | None]:
    """The checksum algorithm and type a copy asks for, so its checksum can equal the source's.

    A full-object checksum is the same for any part layout; a composite one only for
    the same parts. Where no request can reproduce the source's checksum, none is
    made and S3 applies its default.
    """
    if not algorithm:
        return None, None
    if checksum_type == "COMPOSITE":
        if route == "multipart" and reuses_source_layout:
            return algorithm, "COMPOSITE"
        return None, None
    if route == "single":
        return algorithm, None
    if algorithm in FULL_OBJECT_ALGORITHMS:
        return algorithm, "FULL_OBJECT"
    return None, None


def plan_copy(
    size: int,
    options: CopyOptions,
    *,
    source_part_size: int | None = None,
    source_part_count: int | None = None,
    source_part_runs: PartRuns | list[list[int]] | None = None,
    source_checksum_algorithm: str | None = None,
    source_checksum_type: str | None = None,
) -> Plan:
    """Route and lay out one copy.

    Single-part sources at or below the threshold use CopyObject. Multipart sources
    are copied part by part with their own layout even when small, so the ETag is
    kept; small ones still run on the EXPRESS machine (no Distributed Map: Map Runs
    are an account-wide quota).
    """
    multipart_source = bool(source_part_count)
    small = size <= options.multipart_threshold

    def single(reused: bool) -> Plan:
        algorithm, kind = copy_checksum(source_checksum_algorithm, source_checksum_type,
                                        route="single", reuses_source_layout=reused)
        return Plan("single", "express", size, size, 1, 1, 1, "lambda", reused,
                    checksum_algorithm=algorithm, checksum_type=kind)

    if size == 0 or (small and not multipart_source):
        return single(not multipart_source)
    layout, reused = plan_layout(
        size,
        options.part_size,
        source_part_size=source_part_size,
        source_part_count=source_part_count,
        source_part_runs=source_part_runs,
    )
    if small and not reused:
        # A multipart source whose layout S3 would not accept again (parts under
        # 5 MiB): a single CopyObject is the faithful option left.
        return single(False)
    algorithm, kind = copy_checksum(source_checksum_algorithm, source_checksum_type,
                                    route="multipart", reuses_source_layout=reused)
    worker = "lambda" if small else choose_worker(options.worker, size, options.batch_threshold)
    if worker == "batch":
        grouping = plan_groups(layout, options.batch_parts_per_group, BATCH_GROUP_BYTE_BUDGET)
    else:
        grouping = plan_groups(layout, options.parts_per_group, options.group_byte_budget)
    return Plan(
        route="multipart",
        machine="express" if small else "standard",
        size=size,
        part_size=layout.part_size,
        part_count=layout.part_count,
        parts_per_group=grouping.parts_per_group,
        group_count=grouping.group_count,
        worker=worker,
        reuses_source_layout=reused,
        part_runs=[list(run) for run in layout.runs] if layout.runs else None,
        checksum_algorithm=algorithm,
        checksum_type=kind,
    )
