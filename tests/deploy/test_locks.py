"""The locks in requirements/ are what a fresh machine and Lambda get: exact, hashed, within
pyproject.toml's ranges, and the Lambda layer's the same versions the tests ran."""

from __future__ import annotations

import os
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.conftest import ROOT

sys.path.insert(0, str(ROOT / "requirements"))
import locks  # requirements/locks.py is a script, not a package

LAYER_LOCK = next(lock for lock in locks.LOCKS if lock.path == "src/requirements.txt")


def locked(path: str, python: str) -> dict[str, locks.Entry]:
    """The entries of a lock that apply on one Python (a universal lock may pin a package twice)."""
    chosen = {}
    for entry in locks.entries(ROOT / path):
        assert entry.hashes, f"{path}: {entry.name} has no hashes"
        if entry.applies(environment_for(python)):
            assert entry.name not in chosen, f"{path} pins {entry.name} twice for Python {python}"
            chosen[entry.name] = entry
    return chosen


def project_requirements(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    return [Requirement(text) for text in wanted]


def environment_for(python: str) -> dict[str, str]:
    env = default_environment()
    env.update(python_version=python, python_full_version=f"{python}.0", sys_platform="linux",
               platform_system="Linux", implementation_name="cpython", extra="")
    return env


@pytest.mark.parametrize("lock", locks.LOCKS, ids=lambda lock: lock.path)
def test_every_lock_pins_each_requirement_within_its_range_with_hashes(lock):
    pinned = locked(lock.path, lock.python)
    env = environment_for(lock.python)
    for requirement in project_requirements(lock.extras):
        if requirement.marker and not requirement.marker.evaluate(env):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{lock.path} does not lock {requirement}: run make lock"
        version = pinned[name].version
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock.path} pins {name}=={version}, outside pyproject.toml's {requirement}: run make lock")


def test_the_lambda_layer_carries_the_tested_versions_of_the_runtime_dependencies(template):
    """src/requirements.txt (sam build installs it into the layer) holds the runtime
    dependencies and what they need, each at the version and with the artifacts of the
    development lock; and its Python is the functions' runtime."""
    layer = locked(LAYER_LOCK.path, LAYER_LOCK.python)
    tested = locked("requirements/dev.lock", LAYER_LOCK.python)
    for name, entry in layer.items():
        assert tested[name].version == entry.version, (
            f"the layer pins {name}=={entry.version}; the tests ran {tested[name].version}")
        assert entry.hashes <= tested[name].hashes, f"{name}: the layer's artifacts are not the ones the tests installed"
    env = environment_for(LAYER_LOCK.python)
    needed, todo = set(), [r for r in project_requirements(()) if not r.marker or r.marker.evaluate(env)]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in needed:
            continue
        needed.add(name)
        for text in metadata.requires(name) or []:
            child = Requirement(text)
            if not child.marker or child.marker.evaluate(env):
                todo.append(child)
    assert set(layer) == needed
    assert template["Globals"]["Function"]["Runtime"] == f"python{LAYER_LOCK.python}"
    assert template["Resources"]["MediaSyncLayer"]["Metadata"]["BuildMethod"] == f"python{LAYER_LOCK.python}"


def test_the_worker_image_installs_the_layer_lock_with_hashes():
    dockerfile = (ROOT / "worker" / "Dockerfile").read_text()
    assert "--require-hashes -r src/requirements.txt" in dockerfile
    assert "--no-deps" in dockerfile


def test_this_environment_holds_exactly_the_locked_versions():
    """make setup installed the lock, nothing newer: a release upstream changes nothing
    until `make lock` does. (make upgrade-check points this at its own lock.)"""
    lock = os.environ.get("MEDIASYNC_INSTALLED_LOCK", str(ROOT / "requirements/dev.lock"))
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    entries = locks.pins(Path(lock), python)
    env = environment_for(python)
    different = {}
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name in entries and dist.version != entries[name]:
            different[name] = (dist.version, entries[name])
    assert not different, f"installed != {lock} (installed, locked): {different}; run make setup"
    project = project_requirements(("cli", "test"))
    missing = [str(r) for r in project if (not r.marker or r.marker.evaluate(env))
               and canonicalize_name(r.name) not in entries]
    assert not missing
