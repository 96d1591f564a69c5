"""The lock files: how each is made from pyproject.toml's ranges, and what upgrading them would change.

    .venv/bin/python requirements/locks.py compile              # make lock: refresh, keeping the pins that still fit
    .venv/bin/python requirements/locks.py compile --upgrade    # make lock UPGRADE=1: the newest versions the ranges allow
    .venv/bin/python requirements/locks.py upgrade-check        # make upgrade-check: those versions, tested in a throwaway place

One lock per environment, each made by ``uv pip compile`` with hashes: ``make setup``
installs them with ``pip --require-hashes --no-deps``, so a fresh machine gets exactly
what was tested and a release upstream changes nothing until a lock does. The Lambda
layer's ``src/requirements.txt`` (``sam build`` installs it) is compiled under the
development lock as a constraint, so Lambda runs the versions the tests ran.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = "requirements/tools.in"


@dataclass(frozen=True)
class Lock:
    path: str
    python: str
    extras: tuple[str, ...]
    # Installed into a virtualenv by make setup with pip, the build tools included.
    with_tools: bool = True
    # Versions taken from this lock where both have a package.
    constraint: str | None = None
    # A universal lock resolves for every Python the project supports (markers decide).
    universal: bool = True


LOCKS = (
    Lock("requirements/dev.lock", "3.11", ("cli", "test")),
    Lock("requirements/bench.lock", "3.11", ("cli", "test", "bench"), constraint="requirements/dev.lock"),
    # localstack-core needs Python 3.13 and pins its own boto3: its own virtualenv.
    Lock("requirements/localstack.lock", "3.13", ("localstack",), universal=False),
    # The Lambda layer: the runtime dependencies only, for template.yaml's Runtime.
    Lock("src/requirements.txt", "3.12", (), with_tools=False, constraint="requirements/dev.lock", universal=False),
)


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not found:
        sys.exit("uv is not installed: run make setup (requirements/tools.in locks it)")
    return found


def compile_lock(lock: Lock, output: Path, *, upgrade: bool, constraint_dir: Path) -> None:
    command = [uv(), "pip", "compile", "--quiet", "--generate-hashes", "--custom-compile-command", "make lock",
               "--python-version", lock.python, "-o", str(output), "pyproject.toml"]
    if lock.universal:
        command.append("--universal")
    if lock.with_tools:
        command.append(TOOLS)
    for extra in lock.extras:
        command += ["--extra", extra]
    if lock.constraint:
        command += ["-c", str(constraint_dir / lock.constraint)]
    if upgrade:
        command.append("--upgrade")
    subprocess.run(command, cwd=ROOT, check=True)


def compile_all(into: Path, *, upgrade: bool) -> None:
    """Every lock, in order (a constraint is made before the locks that follow it)."""
    for lock in LOCKS:
        output = into / lock.path
        output.parent.mkdir(parents=True, exist_ok=True)
        compile_lock(lock, output, upgrade=upgrade, constraint_dir=into)


@dataclass(frozen=True)
class Entry:
    name: str       # normalized
    version: str
    marker: str     # "" when the entry applies everywhere
    hashes: frozenset[str]

    def applies(self, environment: dict[str, str]) -> bool:
        from packaging.markers import Marker  # pip's own dependency; imported only where needed

        return not self.marker or Marker(self.marker).evaluate(environment)


ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)\s*(?:;\s*([^\\]+?))?\s*$")


def entries(path: Path) -> list[Entry]:
    """Every entry of a lock: name, version, environment marker and artifact hashes.

    A universal lock may pin one package twice, for different Pythons (markers)."""
    found = []
    for logical in path.read_text().replace("\\\n", " ").splitlines():
        words = logical.split(" --hash=")
        match = ENTRY.match(words[0].strip())
        if match:
            name, version, marker = match.groups()
            hashes = frozenset(word.strip().removeprefix("sha256:") for word in words[1:])
            found.append(Entry(re.sub(r"[-_.]+", "-", name).lower(), version, marker or "", hashes))
    return found


def pins(path: Path, python: str | None = None) -> dict[str, str]:
    """Package name (normalized) -> version, as a lock pins them (for one Python: markers applied)."""
    if python is None:
        return {entry.name + (f" ; {entry.marker}" if entry.marker else ""): entry.version for entry in entries(path)}
    environment = {"python_version": python, "python_full_version": f"{python}.0", "sys_platform": "linux",
                   "platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython",
                   "platform_python_implementation": "CPython", "platform_machine": "x86_64", "extra": ""}
    return {entry.name: entry.version for entry in entries(path) if entry.applies(environment)}


def version_changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    lines = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if before != after:
            lines.append(f"  {name}: {before or '(absent)'} -> {after or '(removed)'}")
    return lines


def make_env(python: str, where: Path, lock: Path, *, install_project: bool = True) -> Path:
    """A virtualenv of ``lock``, with the project installed editable, or (as the Makefile
    does for LocalStack's, whose plux breaks setuptools' editable build) src/ on its path."""
    subprocess.run([python, "-m", "venv", str(where)], check=True)
    env_python = where / "bin" / "python"
    pip = [str(env_python), "-m", "pip", "install", "--quiet"]
    subprocess.run(pip + ["--require-hashes", "--no-deps", "-r", str(lock)], check=True)
    if install_project:
        subprocess.run(pip + ["--no-deps", "--no-build-isolation", "-e", str(ROOT)], check=True)
    else:
        purelib = subprocess.run([str(env_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 check=True, capture_output=True, text=True).stdout.strip()
        Path(purelib, "mediasync-src.pth").write_text(f"{ROOT / 'src'}\n")
    return env_python


def failed_tests(junit: Path) -> list[str]:
    if not junit.exists():
        return ["(no test report: the run stopped before pytest wrote one)"]
    failed = []
    for case in ET.parse(junit).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f"{case.get('classname')}::{case.get('name')}")
    return failed


def upgrade_check(python313: str | None, pytest_args: list[str], keep: bool) -> int:
    work = Path(tempfile.mkdtemp(prefix="mediasync-upgrade-check-"))
    print(f"upgrade-check: the newest versions pyproject.toml allows, in {work}")
    compile_all(work, upgrade=True)
    changed = False
    for lock in LOCKS:
        lines = version_changes(pins(ROOT / lock.path), pins(work / lock.path))
        changed |= bool(lines)
        print(f"{lock.path}: " + (f"{len(lines)} change(s)" if lines else "unchanged"))
        for line in lines:
            print(line)
    env = dict(os.environ, MEDIASYNC_INSTALLED_LOCK=str(work / "requirements/dev.lock"))
    env_python = make_env(sys.executable, work / "venv", work / "requirements/dev.lock")
    if python313:
        env["MEDIASYNC_LOCALSTACK_PYTHON"] = str(make_env(python313, work / "venv-localstack",
                                                          work / "requirements/localstack.lock",
                                                          install_project=False))
    else:
        print("no python3.13 given: the LocalStack scenarios run on nothing newer (skipped)")
    junit = work / "junit.xml"
    print(f"running the suite on them: {env_python} -m pytest {' '.join(pytest_args)}", flush=True)
    status = subprocess.run([str(env_python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             f"--junitxml={junit}", *pytest_args], cwd=ROOT, env=env).returncode
    failures = failed_tests(junit)
    print(f"\nupgrade-check: pytest exit {status}; {len(failures)} failed on the upgraded versions")
    for failure in failures:
        print(f"  {failure}")
    print("to take them: make lock UPGRADE=1, fix what failed, commit the locks" if changed
          else "the locks already hold the newest versions")
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    compile_parser = commands.add_parser("compile", help="write every lock from pyproject.toml's ranges")
    compile_parser.add_argument("--upgrade", action="store_true", help="take the newest versions the ranges allow")
    check = commands.add_parser("upgrade-check", help="test the newest versions in a throwaway place; print what changed")
    check.add_argument("--python313", help="a Python 3.13 for LocalStack's engine (tests/localstack)")
    check.add_argument("--keep", action="store_true", help="keep the throwaway directory")
    check.add_argument("pytest_args", nargs="*", help="arguments for pytest (default: the whole suite)")
    args = parser.parse_args(argv)
    if args.command == "compile":
        compile_all(ROOT, upgrade=args.upgrade)
        return 0
    return upgrade_check(args.python313, args.pytest_args, args.keep)


if __name__ == "__main__":
    sys.exit(main())
