"""The AWS cost and time model: pure functions, checked against the code and the ASL they model."""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediasync.core import s3batch_task as batch
from mediasync.core.plan import MAX_OBJECT_SIZE, layout_fits, plan_copy
from mediasync.core.s3batch_task import TaskRunner
from mediasync.core.settings import CopyOptions, GiB, KiB, MiB, Settings, TiB
from mediasync.core.timing import (
    COPY_OBJECT,
    EXPRESS_COPY_STATES,
    EXPRESS_MAP_ITEM_STATES,
    EXPRESS_PARTS,
    EXPRESS_PARTS_STATES,
    FARGATE_MINIMUM_SECONDS,
    MAP_CHILD_STATES,
    PATHS,
    QUOTA_NAMES,
    STANDARD_BATCH,
    STANDARD_LAMBDA,
    STANDARD_PARENT_STATES,
    TOO_LARGE,
    Quotas,
    Rates,
    Resources,
    expected_execution_seconds,
    multipart_timing,
    path_of,
    with_quota,
)
from mediasync.model.cost import PRICES
from mediasync.model.estimate import estimate, raise_quota
from mediasync.model.requests import describe_polls
from mediasync.model.scale import SCALE_BEGIN, SCALE_END, scale_markdown
from mediasync.model.usage import usage
from mediasync.model.wall_time import lambda_ramp_seconds, wall_time
from mediasync.model.workload import ObjectSpec, infer_part_size, prefix_of, tally

ROOT = Path(__file__).resolve().parents[2]
OPTIONS = CopyOptions()

specs = st.builds(
    ObjectSpec,
    size=st.integers(min_value=0, max_value=MAX_OBJECT_SIZE + GiB),
    prefix=st.sampled_from(["", "a/", "b/c/"]),
    count=st.integers(min_value=1, max_value=1000),
)
options_ = st.builds(
    CopyOptions,
    multipart_threshold=st.integers(min_value=5 * MiB, max_value=5 * GiB),
    part_size=st.integers(min_value=5 * MiB, max_value=5 * GiB),
    parts_per_group=st.integers(min_value=1, max_value=64),
    max_concurrency=st.integers(min_value=1, max_value=2000),
    worker=st.sampled_from(["lambda", "batch", "auto"]),
)


# -- the workload ----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(items=st.lists(specs, min_size=1, max_size=8), options=options_)
def test_every_object_takes_the_path_plan_copy_gives_it_and_nothing_is_lost(items, options):
    workload = tally(items, options)
    assert workload.objects == sum(item.count for item in items)
    assert workload.bytes == sum(item.size * item.count for item in items)
    assert sum(workload.histogram) == workload.objects
    assert sum(t.objects for t in workload.paths.values()) == workload.objects
    assert sum(t.bytes for t in workload.paths.values()) == workload.bytes
    for item in items:
        if item.size > MAX_OBJECT_SIZE:
            assert workload.paths[TOO_LARGE].objects >= item.count
        else:
            path = path_of(plan_copy(item.size, options))
            assert workload.paths[path].objects >= item.count


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=256 * MiB), min_size=1, max_size=20),
    part_counts=st.lists(st.one_of(st.none(), st.integers(min_value=1, max_value=60)), min_size=20, max_size=20),
)
def test_objects_at_or_below_the_threshold_never_open_a_map_run(sizes, part_counts):
    items = []
    for size, parts in zip(sizes, part_counts):
        part_size = infer_part_size(size, parts) if parts and size else None
        items.append(ObjectSpec(size, parts if part_size else None, part_size, count=1000))
    used = usage(tally(items, OPTIONS), OPTIONS)
    assert used.map_runs == 0 and used.standard_executions == 0 and used.standard_transitions == 0
    assert used.express_executions == len(items) * 1000


def test_multipart_sources_below_the_threshold_keep_their_layout_on_the_express_machine():
    workload = tally([ObjectSpec(19 * MiB, 3, 7 * MiB)], OPTIONS)
    assert workload.paths[EXPRESS_PARTS].objects == 1 and workload.paths[EXPRESS_PARTS].parts == 3


def test_objects_over_5_tib_are_inspected_and_refused_without_copy_requests():
    result = estimate(tally([ObjectSpec(MAX_OBJECT_SIZE + 1, count=3)], OPTIONS), OPTIONS)
    assert result.workload.paths[TOO_LARGE].objects == 3
    assert result.usage.requests == {"HeadObject": 3 * 2}  # source and destination HEAD each
    assert result.usage.lambda_invocations == {"batch_invoke": 3}


@settings(max_examples=300)
@given(part_size_mib=st.integers(min_value=5, max_value=5 * 1024), parts=st.integers(min_value=2, max_value=10_000),
       short=st.integers(min_value=0, max_value=5 * MiB - 1))
def test_part_size_inferred_from_an_inventory_gives_the_etags_part_count(part_size_mib, parts, short):
    size = parts * part_size_mib * MiB - min(short, part_size_mib * MiB - 1)
    inferred = infer_part_size(size, parts)
    assert layout_fits(size, inferred, parts)
    assert inferred % MiB == 0


def test_prefix_is_the_key_up_to_its_last_slash():
    assert prefix_of("a/b/c.mov") == "a/b/"
    assert prefix_of("c.mov") == ""


# -- requests and states follow the code and the ASL ------------------------------------------


def walk(definition: dict, state: dict) -> list[str]:
    """The states a happy-path execution enters, choosing branches the way the ASL says."""

    def value(path: str):
        node = state
        for part in path.removeprefix("$.").split("."):
            if not isinstance(node, dict) or part not in node:
                return _ABSENT
            node = node[part]
        return node

    def matches(rule: dict) -> bool:
        if "And" in rule:
            return all(matches(r) for r in rule["And"])
        found = value(rule["Variable"])
        if "IsPresent" in rule:
            return (found is not _ABSENT) == rule["IsPresent"]
        if "StringEquals" in rule:
            return found == rule["StringEquals"]
        raise AssertionError(f"the walk does not know {rule}")

    entered, name = [], definition["StartAt"]
    while name:
        entered.append(name)
        node = definition["States"][name]
        if node["Type"] == "Choice":
            name = next((rule["Next"] for rule in node["Choices"] if matches(rule)), node.get("Default"))
        elif node.get("End") or node["Type"] in ("Succeed", "Fail"):
            name = None
        else:
            name = node["Next"]
    return entered


_ABSENT = object()


def asl(name: str) -> dict:
    return json.loads((ROOT / "statemachine" / name).read_text())


@pytest.mark.parametrize("worker", ["lambda", "batch"])
def test_standard_states_billed_per_object_and_per_group_are_those_the_asl_enters(worker):
    definition = asl("copy_large.asl.json")
    state = {"plan": {"route": "multipart", "machine": "standard", "worker": worker}}
    assert tuple(walk(definition, state)) == STANDARD_PARENT_STATES
    child = definition["States"]["CopyPartGroups"]["ItemProcessor"]
    assert definition["States"]["CopyPartGroups"]["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    entered = walk(child, {"plan": {"worker": worker}})
    assert len(entered) == len(MAP_CHILD_STATES) and entered[0] == MAP_CHILD_STATES[0]


def test_express_states_are_those_the_asl_enters_and_it_has_no_distributed_map():
    definition = asl("copy_small.asl.json")
    assert tuple(walk(definition, {"plan": {"route": "single", "machine": "express"}})) == EXPRESS_COPY_STATES
    assert tuple(walk(definition, {"plan": {"route": "multipart", "machine": "express"}})) == EXPRESS_PARTS_STATES
    inline = definition["States"]["CopyPartGroups"]["ItemProcessor"]
    assert inline["ProcessorConfig"]["Mode"] == "INLINE"
    assert tuple(walk(inline, {})) == EXPRESS_MAP_ITEM_STATES


def test_standard_transitions_count_parent_states_and_two_per_part_group():
    options = CopyOptions(parts_per_group=4)
    workload = tally([ObjectSpec(10 * GiB, count=7)], options)
    shape = next(iter(workload.shapes))
    used = usage(workload, options)
    assert used.standard_transitions == 7 * (len(STANDARD_PARENT_STATES) + 2 * shape.group_count)
    assert used.map_runs == used.standard_executions == 7
    assert used.requests["UploadPartCopy"] == 7 * shape.part_count
    assert used.lambda_invocations["copy_parts"] == 7 * shape.group_count


class _FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("expected_seconds", [0.0, 3.0, 61.0, 2500.0])
@pytest.mark.parametrize("execution_seconds", [0.0, 0.04, 0.3, 2.9, 7.5, 61.0, 889.0, 2000.0])
def test_describe_polls_follow_task_runner_wait(monkeypatch, execution_seconds, expected_seconds):
    rates = Rates(lambda_timeout=900.0)
    clock = _FakeClock()
    calls = []

    class FakeStates:
        def describe_execution(self, executionArn):
            calls.append(clock.now)
            return {"status": "RUNNING" if clock.now < execution_seconds else "SUCCEEDED", "output": "{}",
                    "executionArn": executionArn, "startDate": datetime.datetime.fromtimestamp(0, datetime.timezone.utc)}

    monkeypatch.setattr(batch.clients, "stepfunctions", lambda: FakeStates())
    runner = TaskRunner(Settings(invoke_time_margin=rates.invoke_time_margin), sleep=clock.sleep, clock=lambda: clock.now)
    invocations, started = 0, 0.0
    while True:
        invocations += 1
        clock.now, started_at = started, started
        outcome = runner._wait("arn", expected_seconds, lambda: int((rates.lambda_timeout - (clock.now - started_at)) * 1000),
                               started_at=0.0 if invocations == 1 else None)
        if outcome.code != batch.IN_PROGRESS:
            break
        started = clock.now
    assert describe_polls(execution_seconds, expected_seconds, rates) == (len(calls), invocations, pytest.approx(calls[-1], abs=0.01))


def test_a_copy_that_ends_when_expected_is_seen_with_one_call():
    assert describe_polls(7.5, 7.5, Rates())[:2] == (1, 1)


def test_a_copy_slower_than_expected_is_seen_soon_after_it_ends():
    polls, invocations, seen_at = describe_polls(20.0, 5.0, Rates())
    assert invocations == 1
    assert 20.0 <= seen_at <= 20.0 + 5.0  # at most one capped pause late
    # At the expected end, then pauses from an eighth of it, doubling up to 5 s: 0.625, 1.25, 2.5, 5, 5, 5.
    assert polls == 7


def test_a_long_copy_running_slow_is_not_polled_every_few_seconds():
    polls, _, seen_at = describe_polls(240.0, 60.0, Rates())
    assert polls <= 10
    assert seen_at - 240.0 <= 60.0 / 2


def test_a_copy_longer_than_batch_invokes_window_is_inspected_again_on_each_invocation():
    rates = Rates(copy_bytes_per_second=10 * MiB)  # a slow copy: groups take minutes
    options = CopyOptions(worker="lambda", max_concurrency=1)
    workload = tally([ObjectSpec(100 * GiB)], options)
    used = usage(workload, options, rates)
    shape = next(iter(workload.shapes))
    polls, invocations, _ = describe_polls(multipart_timing(shape, options, rates, Quotas()).execution_seconds,
                                           expected_execution_seconds(shape, options), rates)
    assert invocations > 1
    assert used.lambda_invocations["batch_invoke"] == invocations
    # The source and the destination per invocation, then create_upload's; Verify reads
    # nothing back when CompleteMultipartUpload's answer carries the copy's checksum.
    assert used.requests["HeadObject"] == 2 * invocations + 1


def test_batch_tasks_are_billed_at_least_a_minute_each():
    rates = Rates(fargate_task_start=0.0)
    options = CopyOptions(worker="batch", parts_per_group=1)
    workload = tally([ObjectSpec(1 * GiB)], options)
    groups = next(iter(workload.shapes)).group_count
    used = usage(workload, options, rates)
    assert used.batch_jobs == groups
    assert used.fargate_vcpu_hours == pytest.approx(groups * FARGATE_MINIMUM_SECONDS / 3600)


# -- cost ------------------------------------------------------------------------------------


def test_cost_is_each_usage_times_its_published_price():
    options = replace(OPTIONS, worker="auto")  # 5 TiB goes to Batch: Fargate is billed too
    result = estimate(tally([ObjectSpec(5 * TiB - GiB)], options), options)
    lines = {line.item: line for line in result.cost}
    tier1 = lines[PRICES["s3_tier1"].unit]
    assert tier1.quantity == result.usage.tier1_requests
    assert tier1.dollars == pytest.approx(result.usage.tier1_requests * 0.005 / 1000)
    assert lines[PRICES["batch_job"].unit].dollars == 0.25
    assert result.dollars == pytest.approx(sum(line.dollars for line in result.cost))
    assert PRICES["fargate_spot_vcpu_hour"].unit in lines


def test_cross_region_copies_pay_for_every_byte_moved():
    workload = tally([ObjectSpec(10**9, count=2)], OPTIONS)
    same, cross = estimate(workload, OPTIONS), estimate(workload, OPTIONS, cross_region=True)
    assert cross.dollars - same.dollars == pytest.approx(2 * 0.02)


def test_every_price_and_quota_names_its_source():
    # S3 DELETE requests are free (https://aws.amazon.com/s3/pricing/): the one price of 0.
    assert all(price.source.startswith("https://") and (price.amount > 0 or name == "s3_delete")
               for name, price in PRICES.items())
    quotas = Quotas()
    for name in QUOTA_NAMES:
        quota = getattr(quotas, name)
        assert quota.value > 0 and quota.source, name


# -- wall time ------------------------------------------------------------------------------


def test_lambda_ramp_reaches_full_concurrency_after_ten_seconds_per_thousand():
    assert lambda_ramp_seconds(0.0, 1000, 1000) == 0.0
    assert lambda_ramp_seconds(5000.0, 1000, 1000) == pytest.approx(10.0)  # the ramp's own area
    assert lambda_ramp_seconds(1_005_000.0, 1000, 1000) == pytest.approx(1010.0)


def test_many_small_objects_in_one_prefix_are_held_to_its_request_rate():
    options = CopyOptions(skip_existing=False)
    rates = Rates(batch_dispatch_per_second=1e9)  # S3 Batch's own (assumed) rate out of the way
    one = estimate(tally([ObjectSpec(KiB, prefix="p/", count=7_000_000)], options), options, rates=rates,
                   quotas=with_quota(Quotas(), "lambda_concurrency", 1e9))
    spread = estimate(tally([ObjectSpec(KiB, prefix=f"p{i}/", count=70_000) for i in range(100)], options), options,
                      rates=rates, quotas=with_quota(Quotas(), "lambda_concurrency", 1e9))
    # Each object: CopyObject (COPY) and the source's HEAD (CopyObjectResult's checksum
    # proves the copy, so Verify reads nothing back).
    constraints = {c.name: c.seconds for c in one.wall.constraints}
    assert constraints["S3 COPY/PUT rate per prefix"] == pytest.approx(7_000_000 / 3500)
    assert constraints["S3 GET/HEAD rate per prefix"] == pytest.approx(7_000_000 / 5500)
    spread_constraints = {c.name: c.seconds for c in spread.wall.constraints}
    assert spread_constraints["S3 GET/HEAD rate per prefix"] == pytest.approx(7_000_000 / 5500 / 100)


def test_open_map_runs_are_a_hard_limit_on_many_large_objects():
    workload = tally([ObjectSpec(6 * GiB, prefix=f"p{i}/", count=1000) for i in range(100)], OPTIONS)
    result = estimate(workload, OPTIONS, quotas=with_quota(with_quota(Quotas(), "lambda_concurrency", 1e9),
                                                           "describe_execution_per_second", 1e9))
    constraint = next(c for c in result.wall.constraints if c.name == "open Map Runs")
    assert constraint.seconds == pytest.approx(result.usage.map_run_seconds / 1000)
    assert result.usage.map_runs == 100_000
    assert not Quotas().open_map_runs.adjustable


def test_a_single_object_is_bound_by_its_own_critical_path():
    result = estimate(tally([ObjectSpec(5 * 10**12)], CopyOptions(worker="lambda")), CopyOptions(worker="lambda"))
    assert result.wall.binding.name == "longest object"
    assert raise_quota(result) is None


def test_group_width_is_capped_by_lambda_concurrency_and_map_child_limit():
    options = CopyOptions(worker="lambda", max_concurrency=10_000, parts_per_group=1)
    shape = next(iter(tally([ObjectSpec(5 * TiB)], options).shapes))
    assert multipart_timing(shape, options, Rates(), Quotas()).width == 1000
    raised = with_quota(Quotas(), "lambda_concurrency", 50_000)
    assert shape.group_count > 1000
    assert multipart_timing(shape, options, Rates(), raised).width == min(shape.group_count, 10_000)


@settings(max_examples=60, deadline=None)
@given(items=st.lists(specs, min_size=1, max_size=5), options=options_)
def test_raising_the_binding_quota_never_slows_the_job(items, options):
    result = estimate(tally(items, options), options)
    raised = raise_quota(result)
    if raised is not None:
        assert raised.wall.seconds <= result.wall.seconds + 1e-6


@settings(max_examples=60, deadline=None)
@given(items=st.lists(specs, min_size=1, max_size=5))
def test_wall_time_is_at_least_the_longest_object_and_every_constraint(items):
    workload = tally(items, OPTIONS)
    result = estimate(workload, OPTIONS)
    assert result.wall.seconds >= result.usage.longest_object_seconds
    assert all(result.wall.copy_seconds >= c.seconds - 1e-9 for c in result.wall.constraints)
    assert wall_time(workload, result.usage).binding == result.wall.binding


def test_every_path_has_a_label_and_appears_in_the_json():
    result = estimate(tally([ObjectSpec(10)], OPTIONS), OPTIONS)
    document = result.to_dict()
    assert set(document["paths"]) == set(PATHS)
    assert document["paths"][COPY_OBJECT]["objects"] == 1
    assert json.loads(json.dumps(document)) == document


def test_paths_are_those_of_the_design():
    assert {STANDARD_LAMBDA, STANDARD_BATCH, EXPRESS_PARTS, COPY_OBJECT, TOO_LARGE} == set(PATHS)


# -- docs cannot drift from the model ------------------------------------------------------------


def test_scale_table_in_docs_is_the_one_the_model_generates():
    text = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    match = re.search(re.escape(SCALE_BEGIN) + r".*?" + re.escape(SCALE_END) + "\n", text, re.DOTALL)
    assert match, "docs/performance.md lacks the generated scale table markers"
    assert match.group(0) == scale_markdown(), (
        "docs/performance.md is out of date: regenerate it with "
        "`python -m mediasync.cli.estimate --scale-table`")


def test_resources_are_those_template_yaml_deploys():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    # CloudFormation tags (!Ref, !Sub, ...) carry no sizes: read them as plain nodes.
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=Loader)
    function_defaults = template["Globals"]["Function"]
    resources = {name: body.get("Properties", {}) for name, body in template["Resources"].items()}
    model = Resources()
    assert function_defaults["Architectures"] == ["arm64"] and "Arm" in PRICES["lambda_gb_second"].unit
    assert function_defaults["MemorySize"] == model.batch_invoke_mb == model.copy_object_mb == model.control_mb
    assert resources["CopyPartsFunction"]["MemorySize"] == model.copy_parts_mb
    assert resources["BatchInvokeFunction"]["Timeout"] == Rates().lambda_timeout
    requirements = {item["Type"]: float(item["Value"]) for item in
                    resources["WorkerJobDefinition"]["ContainerProperties"]["ResourceRequirements"]}
    assert requirements == {"VCPU": model.worker_vcpus, "MEMORY": model.worker_memory_gb * 1024}
    assert template["Parameters"]["WorkerMaxVcpus"]["Default"] == model.worker_max_vcpus
    assert template["Parameters"]["BatchInvokeReservedConcurrency"]["Default"] == model.batch_invoke_concurrency


def test_a_generated_manifest_costs_its_listed_objects_and_one_listed_here_its_requests():
    """S3 Batch's ManifestGenerator bills each object it lists (the filters' left-outs
    too); listing here costs LIST pages at the PUT/LIST price and one PUT of the manifest."""
    from mediasync.model.usage import SourceListing

    options = CopyOptions(destination_bucket="archive")
    workload = tally([ObjectSpec(1 * MiB, count=1000)], options)
    plain = estimate(workload, options)
    generated = estimate(workload, options, listing=SourceListing(3_000_000, True))
    listed_here = estimate(workload, options, listing=SourceListing(3_000_000, False, list_requests=3_000))

    assert generated.dollars - plain.dollars == pytest.approx(3 * 0.015)
    assert generated.usage.requests == plain.usage.requests
    assert listed_here.usage.requests["ListObjectsV2"] == 3_000 and listed_here.usage.requests["PutObject"] == 1
    assert listed_here.dollars - plain.dollars == pytest.approx(3_001 * PRICES["s3_tier1"].amount)


def test_a_move_deletes_each_copied_source_for_free_and_a_lock_reads_every_copy_back():
    """DELETE requests are free (https://aws.amazon.com/s3/pricing/); a copy asked to carry an
    Object Lock is read back, since no answer to a copy shows its lock (core.steps.verify);
    batch_invoke asks GetObjectLockConfiguration once per execution environment."""
    options = CopyOptions(destination_bucket="archive")
    workload = tally([ObjectSpec(1 * MiB, count=1000), ObjectSpec(MAX_OBJECT_SIZE + 1)], options)
    plain = estimate(workload, options)
    moved = estimate(workload, replace(options, move=True))
    locked = estimate(workload, replace(options, legal_hold="ON"))

    assert moved.usage.requests - plain.usage.requests == {"DeleteObject": 1000}, "the refused object is not moved"
    assert moved.dollars == pytest.approx(plain.dollars)
    extra = locked.usage.requests - plain.usage.requests
    assert extra["HeadObject"] == 1000
    assert 1 <= extra["GetObjectLockConfiguration"] <= 1001 and set(extra) == {"HeadObject", "GetObjectLockConfiguration"}
    assert locked.dollars > plain.dollars
