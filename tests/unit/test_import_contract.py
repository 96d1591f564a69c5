"""The package's layers, as imports: what AWS runs (core) stands alone.

Read from the source with ``ast`` (function-level imports included, imports under
``if TYPE_CHECKING:`` left out): a test, not a convention, keeps the deploy
boundary where docs/development.md's "Repository" section draws it.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "mediasync"

# Which packages each package may import. core is what the Lambda layer and the
# worker image run; local (moto, S3 Batch emulation) is for cli and tests only;
# nothing imports cli. mediasync.testing is test support (server launchers,
# LocalStack's engine, inventory reports to read), so it may use local and manifests as tests do.
ALLOWED = {
    "core": {"core"},
    "model": {"core", "model"},
    "manifests": {"core", "manifests"},
    "reports": {"core", "manifests", "model", "reports"},
    "stack": {"core", "manifests", "reports", "stack"},
    "local": {"core", "manifests", "reports", "local"},
    "testing": {"core", "manifests", "local", "testing"},
    "cli": {"core", "model", "manifests", "reports", "stack", "local", "cli"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports_of(path: Path) -> set[str]:
    """mediasync modules ``path`` imports (absolute; relative imports are not used)."""
    tree = ast.parse(path.read_text(), str(path))
    skipped = {id(child) for node in ast.walk(tree) if isinstance(node, ast.If) and _type_checking_only(node)
               for stmt in node.body for child in ast.walk(stmt)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import; write mediasync.<package>.<module>"
            if node.module and node.module.split(".")[0] == "mediasync":
                for alias in node.names:
                    candidate = f"{node.module}.{alias.name}"
                    found.add(candidate if (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists()
                              else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "mediasync")
    return found


GRAPH = {module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else ""


def test_every_module_lives_in_a_layer():
    loose = [name for name in GRAPH if name != "mediasync" and layer(name) not in ALLOWED]
    assert not loose, f"modules outside the layers {sorted(ALLOWED)}: {loose}"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_layer_imports_only_what_it_may(package):
    wrong = {
        module: sorted(target for target in targets if layer(target) not in ALLOWED[package])
        for module, targets in GRAPH.items() if layer(module) == package
    }
    wrong = {module: targets for module, targets in wrong.items() if targets}
    assert not wrong, f"{package} may import only {sorted(ALLOWED[package])}: {wrong}"


def test_nothing_outside_cli_imports_cli_or_local():
    for module, targets in GRAPH.items():
        if layer(module) not in ("cli", "local", "testing"):
            assert not {layer(t) for t in targets} & {"cli", "local"}, module
        if layer(module) != "cli":
            assert not any(layer(t) == "cli" for t in targets), module


def test_no_import_cycles():
    # Module level: a package's __init__ is its own node, so cli/__init__ -> cli.app is not a cycle.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(GRAPH.get(node, ())):
            if state.get(target) == 1:
                cycle = stack[stack.index(target):] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target in GRAPH and not state.get(target):
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(GRAPH):
        if not state.get(node):
            visit(node)


LOADED = """
import importlib.util, json, sys
path, name = sys.argv[1], sys.argv[2]
if path.endswith(".py"):
    sys.path.insert(0, path.rsplit("/", 1)[0])
    spec = importlib.util.spec_from_file_location(name, path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
else:
    importlib.import_module(path)
print(json.dumps(sorted(m for m in sys.modules if m == "mediasync" or m.startswith("mediasync."))))
"""

HANDLERS = sorted((ROOT / "functions").glob("*/app.py"))


@pytest.mark.parametrize("entry", [*HANDLERS, "mediasync.core.awsbatch_worker"],
                         ids=[*(path.parent.name for path in HANDLERS), "awsbatch_worker"])
def test_what_aws_runs_loads_nothing_outside_core(entry):
    """Each Lambda handler and the Batch worker, imported in a fresh interpreter, loads core only."""
    result = subprocess.run([sys.executable, "-c", LOADED, str(entry), "handler"], capture_output=True, text=True,
                            timeout=120, check=True)
    loaded = json.loads(result.stdout)
    assert any(name.startswith("mediasync.core.") for name in loaded)
    outside = [name for name in loaded if name not in ("mediasync", "mediasync.core") and not name.startswith("mediasync.core.")]
    assert not outside, f"{entry} loads {outside}"
