"""Part planning: every plan covers [0, size) exactly once and respects S3's limits."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mediasync.core.errors import ObjectTooLarge
from mediasync.core.plan import (
    BATCH_GROUP_BYTE_BUDGET,
    MAX_OBJECT_SIZE,
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    PartLayout,
    Plan,
    copy_checksum,
    part_runs,
    plan_copy,
    plan_groups,
    plan_layout,
    uneven_layout,
)
from mediasync.core.settings import CopyOptions, GiB, MiB, TiB

sizes = st.integers(min_value=1, max_value=MAX_OBJECT_SIZE)
part_sizes = st.integers(min_value=1, max_value=8 * GiB)


def assert_covers_exactly(layout: PartLayout) -> None:
    expected_start = 0
    for part in range(1, layout.part_count + 1):
        start, end = layout.part_range(part)
        assert start == expected_start
        assert end >= start
        expected_start = end + 1
    assert expected_start == layout.size


@settings(max_examples=400)
@given(size=sizes, part_size=part_sizes)
# Fits in 10,000 parts as asked; rounding the smallest fitting size up to whole MiB once grew it.
@example(size=398_458_880_001, part_size=39_845_889)
def test_planned_layout_covers_object_once_within_limits(size, part_size):
    layout, reused = plan_layout(size, part_size)
    assert not reused
    assert 1 <= layout.part_count <= MAX_PARTS
    assert layout.part_size <= MAX_PART_SIZE
    if layout.part_count > 1:
        assert layout.part_size >= MIN_PART_SIZE
    # Only the last part may be short.
    assert all(layout.part_length(n) == layout.part_size for n in range(1, layout.part_count))
    assert 0 < layout.part_length(layout.part_count) <= layout.part_size
    # The planner never raises the part size above what the part limit requires.
    if part_size >= MIN_PART_SIZE and part_size <= MAX_PART_SIZE and size <= part_size * MAX_PARTS:
        assert layout.part_size == part_size
    # Ranges as S3 wants them add up to the object.
    if layout.part_count <= 2000:
        assert_covers_exactly(layout)


@settings(max_examples=300)
@given(
    source_part=st.integers(min_value=MIN_PART_SIZE, max_value=64 * MiB),
    count=st.integers(min_value=2, max_value=MAX_PARTS),
    last=st.floats(min_value=0.0001, max_value=1.0),
    requested=part_sizes,
)
def test_multipart_source_layout_is_reproduced(source_part, count, last, requested):
    size = (count - 1) * source_part + max(1, int(source_part * last))
    layout, reused = plan_layout(size, requested, source_part_size=source_part, source_part_count=count)
    assert reused
    assert (layout.part_size, layout.part_count) == (source_part, count)
    assert layout.part_length(count) == size - (count - 1) * source_part


def test_source_layout_that_does_not_add_up_is_replanned():
    # 3 parts of 8 MiB cannot hold 30 MiB: not a uniform layout, so plan our own.
    layout, reused = plan_layout(30 * MiB, 16 * MiB, source_part_size=8 * MiB, source_part_count=3)
    assert not reused
    assert layout.part_size == 16 * MiB and layout.part_count == 2


def test_five_tebibyte_object_fits_in_ten_thousand_parts():
    layout, _ = plan_layout(5 * TiB, 64 * MiB)
    assert layout.part_count <= MAX_PARTS
    assert layout.part_size % MiB == 0


def test_object_beyond_multipart_limits_is_refused():
    with pytest.raises(ObjectTooLarge):
        plan_layout(MAX_OBJECT_SIZE + 1, 64 * MiB)


@given(size=st.integers(min_value=MIN_PART_SIZE, max_value=MAX_OBJECT_SIZE), per_group=st.integers(1, 64))
def test_groups_partition_the_parts(size, per_group):
    layout, _ = plan_layout(size, 64 * MiB)
    grouping = plan_groups(layout, per_group, 32 * GiB)
    seen = [n for g in range(grouping.group_count) for n in grouping.parts(g, layout.part_count)]
    assert seen == list(range(1, layout.part_count + 1))
    assert all(len(grouping.parts(g, layout.part_count)) * layout.part_size <= max(32 * GiB, layout.part_size)
               for g in range(grouping.group_count))


def test_routing_by_size_and_source_layout():
    options = CopyOptions(multipart_threshold=16 * MiB, part_size=8 * MiB, batch_threshold=1 * GiB, worker="auto")
    assert plan_copy(0, options).route == "single"
    assert plan_copy(16 * MiB, options).route == "single"
    small_multipart = plan_copy(12 * MiB, options, source_part_size=5 * MiB, source_part_count=3)
    assert (small_multipart.route, small_multipart.machine) == ("multipart", "express")
    large = plan_copy(17 * MiB, options)
    assert (large.route, large.machine, large.worker) == ("multipart", "standard", "lambda")
    assert plan_copy(2 * GiB, options).worker == "batch"
    # Parts under 5 MiB cannot be reproduced: a small such source is one CopyObject.
    assert plan_copy(6 * MiB, options, source_part_size=2 * MiB, source_part_count=3).route == "single"


def test_batch_jobs_carry_larger_groups_than_lambdas():
    options = CopyOptions(part_size=64 * MiB, parts_per_group=16, batch_parts_per_group=100, batch_threshold=1 * GiB,
                          worker="auto")
    on_lambda = plan_copy(1 * GiB - 1, options)
    on_batch = plan_copy(100 * GiB, options)
    assert (on_lambda.worker, on_lambda.parts_per_group) == ("lambda", 16)
    assert (on_batch.worker, on_batch.parts_per_group, on_batch.group_count) == ("batch", 100, 16)


def test_a_batch_group_stays_within_its_byte_budget():
    options = CopyOptions(worker="batch", batch_parts_per_group=10_000)
    plan = plan_copy(4 * TiB, options)  # 10,000 parts of 420 MiB
    assert plan.parts_per_group * plan.part_size <= BATCH_GROUP_BYTE_BUDGET < (plan.parts_per_group + 1) * plan.part_size


def test_plan_state_carries_group_indices_only():
    options = CopyOptions(multipart_threshold=16 * MiB, part_size=8 * MiB, parts_per_group=2)
    state = plan_copy(100 * MiB, options).to_state()
    assert state["group_indices"] == list(range(state["group_count"]))
    assert state["group_count"] == 7


def test_an_uneven_source_layout_is_reused_part_for_part():
    runs = part_runs([8 * MiB, 5 * MiB, 8 * MiB, 3 * MiB])
    plan = plan_copy(24 * MiB, CopyOptions(multipart_threshold=16 * MiB), source_part_size=8 * MiB,
                     source_part_count=4, source_part_runs=runs)
    assert plan.reuses_source_layout and plan.part_runs == [[8 * MiB, 1], [5 * MiB, 1], [8 * MiB, 1], [3 * MiB, 1]]
    ranges = [plan.layout.part_range(n) for n in range(1, 5)]
    assert ranges == [(0, 8 * MiB - 1), (8 * MiB, 13 * MiB - 1), (13 * MiB, 21 * MiB - 1), (21 * MiB, 24 * MiB - 1)]
    assert Plan.from_state(plan.to_state()).layout == plan.layout


def test_an_uneven_layout_s3_would_refuse_falls_back_to_equal_parts():
    assert uneven_layout(12 * MiB, part_runs([8 * MiB, 1 * MiB, 3 * MiB])) is None  # a middle part under 5 MiB
    assert uneven_layout(13 * MiB, part_runs([8 * MiB, 5 * MiB])).runs is None  # equal parts after all
    plan = plan_copy(40 * MiB, CopyOptions(multipart_threshold=16 * MiB, part_size=8 * MiB), source_part_size=8 * MiB,
                     source_part_count=3, source_part_runs=part_runs([8 * MiB, 1 * MiB, 31 * MiB]))
    assert not plan.reuses_source_layout and plan.part_runs is None and plan.part_size == 8 * MiB


@pytest.mark.parametrize("algorithm, kind, route, reused, expected", [
    (None, None, "single", True, (None, None)),
    ("CRC64NVME", "FULL_OBJECT", "single", True, ("CRC64NVME", None)),
    ("CRC64NVME", "FULL_OBJECT", "multipart", False, ("CRC64NVME", "FULL_OBJECT")),
    ("CRC32", "COMPOSITE", "multipart", True, ("CRC32", "COMPOSITE")),
    # A composite checksum belongs to its part layout; SHA digests are never full-object for multipart.
    ("CRC32", "COMPOSITE", "multipart", False, (None, None)),
    ("SHA256", "COMPOSITE", "single", False, (None, None)),
    ("SHA256", "FULL_OBJECT", "multipart", False, (None, None)),
])
def test_the_copy_asks_for_the_checksum_that_can_equal_the_sources(algorithm, kind, route, reused, expected):
    assert copy_checksum(algorithm, kind, route=route, reuses_source_layout=reused) == expected
