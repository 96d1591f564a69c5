"""The rates behind the scale model: cited, ranged, the defaults the best-supported, and
the parts of a job the model used to leave out (cold starts, CompleteMultipartUpload, a
fresh destination, S3 Batch's own rate, smaller Regions)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from mediasync.core.settings import CopyOptions, MiB
from mediasync.core.timing import (
    Quotas,
    Rates,
    complete_upload_seconds,
    expected_execution_seconds,
    multipart_timing,
    with_quota,
)
from mediasync.model.estimate import estimate
from mediasync.model.rates import (
    ENDS,
    RANGES_BEGIN,
    RANGES_END,
    RATE_BASIS,
    RATE_NAMES,
    RATE_RANGES,
    RatesFileError,
    headlines,
    load_rates,
    ranges_markdown,
    rates_at,
    sensitivity,
    shown_seconds,
    value_at,
)
from mediasync.model.regions import quotas_for_region
from mediasync.model.requests import describe_polls
from mediasync.model.scale import TB
from mediasync.model.wall_time import BATCH_DISPATCH, destination_write_seconds
from mediasync.model.workload import ObjectSpec, tally

ROOT = Path(__file__).resolve().parents[2]


def test_every_rate_names_its_source_and_a_range_that_holds_its_default():
    for name in RATE_NAMES:
        low, high = RATE_RANGES[name]
        assert low <= getattr(Rates(), name) <= high, name
        assert RATE_BASIS[name], name
        # A rate without public evidence says so; the others cite a page, an issue or a PR.
        assert ("assumed" in RATE_BASIS[name].lower() or "https://" in RATE_BASIS[name]
                or re.search(r"[\w-]+/[\w-]+#\d+", RATE_BASIS[name]) or "code:" in RATE_BASIS[name]), name


def test_defaults_are_the_best_supported_values_of_the_review():
    rates = Rates()
    assert rates == rates_at("best")
    assert rates.copy_bytes_per_second == 70 * MiB  # aws-c-s3#288, s3fs-fuse#940
    assert rates.copy_call_latency == 0.2
    assert rates.map_run_start == 7.0  # re:Post, 100 do-nothing items
    assert 90 <= rates.fargate_task_start <= 120
    assert "ASSUMED" in RATE_BASIS["batch_dispatch_per_second"]


def test_the_slow_end_is_never_faster_than_the_best_nor_the_best_than_the_fast_end():
    for headline in headlines():
        slow, best, fast = (shown_seconds(headline.run(rates_at(end))) for end in ENDS)
        assert slow > best >= fast, headline.name


def test_headlines_at_the_best_supported_rates_match_the_review():
    five_tb, petabyte, raised = (shown_seconds(h.run(Rates())) for h in headlines())
    assert 100 < five_tb < 180  # ~1.8 min in the review, plus cold starts and CompleteMultipartUpload
    assert 75 * 60 < petabyte < 90 * 60  # ~80 min: an hour is missed at default quotas
    result = headlines()[2].run(Rates())
    assert raised < 35 * 60 and result.wall.binding.name == "S3 COPY/PUT rate per prefix"


def test_each_headline_names_the_rates_that_move_it_most():
    moves = dict(sensitivity(headlines()[0]))
    assert moves["copy_bytes_per_second"] > 60  # 45 MiB/s instead of 70 costs the 5 TB object minutes
    assert moves["fargate_task_start"] == 0  # no Batch on the default path


def test_ranges_block_in_docs_is_the_one_the_model_generates():
    text = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    match = re.search(re.escape(RANGES_BEGIN) + r".*?" + re.escape(RANGES_END) + "\n", text, re.DOTALL)
    assert match, "docs/performance.md lacks the generated ranges block"
    assert match.group(0) == ranges_markdown(), (
        "docs/performance.md is out of date: regenerate it with `python -m mediasync.model.rates`")


# -- what batch_invoke expects follows the same rates -------------------------------------------


def test_batch_invoke_expects_what_the_model_times_at_the_default_rates():
    options = CopyOptions()
    shape = next(iter(tally([ObjectSpec(5 * TB)], options).shapes))
    timing = multipart_timing(shape, options, Rates(), Quotas())
    assert expected_execution_seconds(shape, options) == timing.execution_seconds
    # Cold starts and CompleteMultipartUpload's time are in it, so the one poll lands at the end.
    assert timing.cold == 4 * Rates().lambda_cold_start
    assert timing.complete >= shape.part_count * Rates().complete_seconds_per_part
    assert describe_polls(timing.execution_seconds, expected_execution_seconds(shape, options), Rates())[:2] == (1, 1)


# -- what the model used to leave out --------------------------------------------------------------


def test_complete_upload_at_the_slow_end_fits_the_complete_upload_timeout():
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=Loader)
    timeout = template["Resources"]["CompleteUploadFunction"]["Properties"]["Timeout"]
    assert complete_upload_seconds(10_000, rates_at("slow")) < timeout


def test_a_fresh_destination_takes_3500_writes_a_second_in_all_until_partitioned():
    assert destination_write_seconds(3500 * 60, 100, 3500, 1800) == 60  # inside the ramp: one partition
    assert destination_write_seconds(3500 * 1800 + 3500 * 100 * 10, 100, 3500, 1800) == 1810
    assert destination_write_seconds(3500 * 100 * 10, 100, 3500, 0) == 10  # already partitioned


def test_the_partitioned_destination_lever_shortens_a_write_bound_job():
    specs = [ObjectSpec(1000, prefix=f"p{i}/", count=100_000) for i in range(100)]
    options = CopyOptions(skip_existing=False)
    quotas = Quotas()
    for name in ("lambda_concurrency", "express_starts_per_second", "sync_express_concurrency"):
        quotas = with_quota(quotas, name, 1e9)
    fast_dispatch = Rates(batch_dispatch_per_second=1e9)
    fresh = estimate(tally(specs, options), options, rates=fast_dispatch, quotas=quotas)
    ready = estimate(tally(specs, options), options, rates=replace(fast_dispatch, prefix_partition_seconds=0),
                     quotas=quotas)
    assert fresh.wall.binding.name == "S3 COPY/PUT rate per prefix"
    assert ready.wall.seconds < fresh.wall.seconds / 4  # then the Lambda ramp binds


def test_s3_batch_dispatch_is_a_flagged_constraint():
    result = estimate(tally([ObjectSpec(1000, count=1_000_000)], CopyOptions()), CopyOptions(),
                      rates=Rates(batch_dispatch_per_second=100), quotas=with_quota(Quotas(), "lambda_concurrency", 1e6))
    assert result.wall.binding.name == BATCH_DISPATCH
    assert result.wall.binding.seconds == pytest.approx(10_000)
    assert "not publish" in result.wall.binding.detail


def test_cold_starts_are_billed_once_per_environment_not_per_invocation():
    options = CopyOptions()
    workload = tally([ObjectSpec(1000, count=100_000)], options)
    warm = estimate(workload, options, rates=Rates(lambda_cold_start=0.0))
    cold = estimate(workload, options)
    extra = cold.usage.lambda_gb_seconds_total - warm.usage.lambda_gb_seconds_total
    # batch_invoke, copy_object, verify_copy: 1,000 environments each (the account's concurrency), 256 MB.
    assert extra == pytest.approx(3 * 1000 * 0.5 * 256 / 1024)


def test_smaller_regions_start_lower_on_step_functions_rates():
    other, large = quotas_for_region("eu-central-1"), quotas_for_region("us-west-2")
    assert large == Quotas()
    assert (other.state_transitions_per_second.value, other.state_transitions_per_second.burst) == (500, 800)
    assert (other.standard_starts_per_second.value, other.standard_starts_per_second.burst) == (150, 800)
    assert other.describe_execution_per_second.value == 10
    assert other.express_starts_per_second == Quotas().express_starts_per_second
    lowered = with_quota(Quotas(), "state_transitions_per_second", 100)  # a new account's, say
    assert quotas_for_region("ap-south-1", lowered).state_transitions_per_second.value == 100
    with pytest.raises(ValueError):
        quotas_for_region("moon-base")


# -- rates files ------------------------------------------------------------------------------------


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "rates.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_rates_file_sets_the_rates_it_names_and_keeps_the_others(tmp_path):
    rates, _ = load_rates(write(tmp_path, {"format": "mediasync-rates/1",
                                           "rates": {"copy_bytes_per_second": 50 * MiB, "prefix_partition_seconds": 0}}))
    assert rates == replace(Rates(), copy_bytes_per_second=50 * MiB, prefix_partition_seconds=0.0)


@pytest.mark.parametrize("document,message", [
    ({"format": "mediasync-rates/1", "rates": {"copy_speed": 1}}, "unknown rate"),
    ({"format": "mediasync-rates/1", "rates": {"copy_bytes_per_second": 0}}, "positive"),
    ({"format": "mediasync-rates/1", "rates": {"api_latency": -1}}, "at least 0"),
    ({"format": "mediasync-rates/1", "rates": {"api_latency": "fast"}}, "not a number"),
    ({"format": "mediasync-rates/1", "rates": {"invoke_time_margin": 901}}, "lambda_timeout"),
    ({"rates": {}}, "not a rates file"),
    ({"format": "mediasync-rates/1", "rates": [1]}, "must be an object"),
])
def test_a_rates_file_that_cannot_be_used_says_why(tmp_path, document, message):
    with pytest.raises(RatesFileError, match=message):
        load_rates(write(tmp_path, document))


def test_value_at_puts_latencies_high_and_throughputs_low_at_the_slow_end():
    assert value_at("copy_call_latency", "slow") == RATE_RANGES["copy_call_latency"][1]
    assert value_at("copy_bytes_per_second", "slow") == RATE_RANGES["copy_bytes_per_second"][0]
    assert value_at("copy_bytes_per_second", "fast") == RATE_RANGES["copy_bytes_per_second"][1]
