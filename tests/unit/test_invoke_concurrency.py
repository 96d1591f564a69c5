"""batch_invoke's reserved concurrency (template parameter BatchInvokeReservedConcurrency).

batch_invoke holds one Lambda execution for each object's whole copy: it waits for
the EXPRESS execution synchronously and polls the STANDARD one. With N reserved
slots at most N objects copy at a time, so a job needs about
objects x copy duration / N; the account's other functions share what is left
(at least 100 stays unreserved:
https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mediasync.cli import estimate as estimate_command
from mediasync.core.settings import CopyOptions, GiB, MiB
from mediasync.core.timing import INVOKE_CONCURRENCY, Resources
from mediasync.model.estimate import estimate
from mediasync.model.workload import ObjectSpec, tally

OPTIONS = CopyOptions()
SMALL = [ObjectSpec(100 * MiB, count=10_000, prefix="p/")]


def test_reserved_slots_bound_the_wall_time_by_objects_times_duration_over_n():
    workload = tally(SMALL, OPTIONS)
    capped = estimate(workload, OPTIONS, resources=Resources(batch_invoke_concurrency=10))
    held = capped.usage.lambda_seconds["batch_invoke"]  # objects x each one's time in batch_invoke

    assert capped.wall.binding.name == INVOKE_CONCURRENCY
    assert capped.wall.binding.seconds >= held / 10
    assert capped.wall.binding.seconds == pytest.approx(held / 10, rel=0.01)
    assert capped.wall.seconds > estimate(workload, OPTIONS).wall.seconds


def test_a_generous_reservation_changes_nothing_but_leaves_less_for_copy_parts():
    workload = tally([ObjectSpec(500 * GiB, count=4, prefix="m/")], OPTIONS)
    unreserved = estimate(workload, OPTIONS)
    reserved = estimate(workload, OPTIONS, resources=Resources(batch_invoke_concurrency=900))
    by_name = {item.name: item for item in reserved.wall.constraints}

    assert reserved.wall.binding.name != INVOKE_CONCURRENCY
    assert "over 100 concurrent unreserved" in by_name["Lambda concurrency"].detail
    assert by_name["Lambda concurrency"].seconds > {item.name: item for item in unreserved.wall.constraints}[
        "Lambda concurrency"].seconds


def test_no_reservation_adds_no_constraint():
    names = [item.name for item in estimate(tally(SMALL, OPTIONS), OPTIONS).wall.constraints]
    assert INVOKE_CONCURRENCY not in names


def test_estimate_command_shows_the_caps_effect(monkeypatch):
    def sized(manifest, options, threads):
        sizing = estimate_command.Sizing(options)
        for spec in SMALL:
            sizing.add(spec)
        return sizing

    monkeypatch.setattr(estimate_command, "_size", sized)
    result = CliRunner().invoke(estimate_command.estimate, ["--manifest", "m.csv", "--invoke-concurrency", "10"])
    text = " ".join(result.output.split())  # rich wraps lines

    assert result.exit_code == 0, result.output
    assert INVOKE_CONCURRENCY in text
    assert "10 reserved slots bind" in text and "without the reservation" in text
