"""The calibration kit's arithmetic: the fit of fixed cost and rate, percentiles, the plan's cost."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediasync.core.settings import GiB, MiB, parse_size
from mediasync.model.calibration import (
    BUDGET_DOLLARS,
    DEFAULT_COPY_OBJECT_SIZES,
    DEFAULT_SIZES,
    CalibrationPlan,
    FitError,
    Sample,
    fit_by_percentile,
    fit_copy_times,
    fit_per_part,
    percentile,
    summarize,
)
from mediasync.model.rates import load_rates, write_rates

SIZES = (5 * MiB, 64 * MiB, 256 * MiB, GiB, 5 * GiB)


def synthetic(fixed: float, rate: float, repeats: int = 5, noise: float = 0.0, seed: int = 1) -> list[tuple[int, float]]:
    rng = random.Random(seed)
    return [(size, fixed + size / rate + rng.uniform(-noise, noise)) for size in SIZES for _ in range(repeats)]


def test_exact_timings_give_back_the_fixed_cost_and_rate():
    fit = fit_copy_times(synthetic(0.2, 70 * MiB))
    assert fit.fixed == pytest.approx(0.2)
    assert fit.bytes_per_second == pytest.approx(70 * MiB)
    assert fit.residual_p90 == pytest.approx(0.0, abs=1e-9)
    assert fit.seconds(GiB) == pytest.approx(0.2 + GiB / (70 * MiB))


@settings(max_examples=100, deadline=None)
@given(fixed=st.floats(0.01, 2.0), rate_mib=st.floats(10, 500), seed=st.integers(0, 1000))
def test_noisy_timings_are_fitted_close_to_the_truth(fixed, rate_mib, seed):
    fit = fit_copy_times(synthetic(fixed, rate_mib * MiB, noise=0.05, seed=seed))
    assert fit.fixed == pytest.approx(fixed, abs=0.1)
    assert fit.bytes_per_second == pytest.approx(rate_mib * MiB, rel=0.05)


def test_a_fixed_cost_below_zero_from_noise_is_taken_as_zero():
    assert fit_copy_times([(MiB, 0.001), (2 * MiB, 0.03), (3 * MiB, 0.05)]).fixed == 0.0


def test_one_size_or_no_growth_with_size_cannot_be_fitted():
    with pytest.raises(FitError, match="two sizes"):
        fit_copy_times([(MiB, 0.1), (MiB, 0.2)])
    with pytest.raises(FitError, match="does not grow"):
        fit_copy_times([(MiB, 0.3), (GiB, 0.2)])


def test_percentiles_are_values_that_were_measured():
    values = [0.5, 0.1, 0.4, 0.2, 0.3]
    assert percentile(values, 50) == 0.3
    assert percentile(values, 90) == 0.5
    assert percentile(values, 10) == 0.1
    with pytest.raises(ValueError):
        percentile([], 50)


def test_slow_and_fast_fits_bracket_the_median_fit():
    points = [(size, seconds * factor) for size, seconds in synthetic(0.2, 70 * MiB, repeats=1)
              for factor in (0.8, 1.0, 1.3)]
    slow, best, fast = fit_by_percentile(points, 90), fit_copy_times(points), fit_by_percentile(points, 10)
    assert slow.bytes_per_second < best.bytes_per_second < fast.bytes_per_second


def test_complete_time_per_part_is_the_slope_over_part_counts():
    assert fit_per_part([(8, 0.1 + 8 * 0.002), (100, 0.1 + 100 * 0.002), (400, 0.1 + 400 * 0.002)]) \
        == pytest.approx(0.002)
    assert fit_per_part([(400, 0.8)]) == pytest.approx(0.002)  # one run: all of it per part
    assert fit_per_part([(8, 0.5), (400, 0.4)]) == 0.0  # faster with more parts: no per-part cost seen


def default_plan() -> CalibrationPlan:
    return CalibrationPlan(tuple(parse_size(s) for s in DEFAULT_SIZES.split(",")),
                           tuple(int(s) for s in DEFAULT_COPY_OBJECT_SIZES.split(",")), (8, 100, 400), 64 * MiB)


def test_the_default_run_builds_a_5_gib_source_and_costs_well_under_the_budget():
    plan = default_plan()
    assert plan.source_size == 5 * GiB  # the largest part size, built by ten doublings of 5 MiB
    assert plan.requests()["UploadPartCopy"] == 2 * 10 + 5 * plan.repeats + 508
    assert plan.dollars() < BUDGET_DOLLARS / 100
    assert plan.upload_bytes() < 200 * MiB  # nothing large crosses the user's network
    assert plan.expected_seconds() < 3600


def test_summary_takes_the_slower_rate_of_requests_under_load_and_writes_a_loadable_file(tmp_path):
    single = [Sample("UploadPartCopy", size, seconds) for size, seconds in synthetic(0.2, 70 * MiB)]
    loaded = [Sample("UploadPartCopy", 64 * MiB, 0.2 + 64 * MiB / (40 * MiB), 400) for _ in range(400)]
    heads = [Sample("HeadObject", 0, seconds) for seconds in (0.02, 0.03, 0.04)]
    completes = [Sample("CompleteMultipartUpload", 0, 0.1 + parts * 0.003, 1, parts) for parts in (8, 100, 400)]
    plan = CalibrationPlan(SIZES, (5_000_000, 150_000_000), (8, 100, 400), 64 * MiB)
    document = summarize(single + loaded + heads + completes, [], plan, {"region": "eu-west-1"})
    rates = document["rates"]
    assert rates["copy_call_latency"] == pytest.approx(0.2)
    assert rates["copy_bytes_per_second"] == pytest.approx(40 * MiB)
    assert "400 at once" in document["rate_basis"]
    assert rates["api_latency"] == 0.03
    assert rates["complete_seconds_per_part"] == pytest.approx(0.003)
    path = tmp_path / "rates.json"
    write_rates(path, document)
    loaded_rates, again = load_rates(path)
    assert loaded_rates.copy_bytes_per_second == pytest.approx(40 * MiB)
    assert again["measured"] == {"region": "eu-west-1"}
