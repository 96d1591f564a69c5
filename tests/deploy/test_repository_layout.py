"""docs/development.md's "Repository" section names every package and module of the tree, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "mediasync"


def repository_block() -> str:
    text = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    section = text[text.index("## Repository\n"):]
    return re.search(r"```\n(.*?)```", section, re.S).group(1)


def test_every_package_and_module_is_in_the_readme_layout():
    block = repository_block()
    words = set(re.findall(r"[a-z_0-9]+", block))
    packages = sorted(path.parent.name for path in PACKAGE.glob("*/__init__.py"))
    assert all(f"  {name}/" in block for name in packages), packages
    missing = [f"{path.parent.name}/{path.stem}" for path in sorted(PACKAGE.glob("*/*.py"))
               if not path.stem.startswith("__") and path.stem not in words]
    assert not missing, f"docs/development.md's Repository section does not name {missing}"
    listed = set(re.findall(r"^  ([a-z_]+)/", block, re.M))
    assert listed == set(packages), listed ^ set(packages)
    top = {path.name for path in ROOT.iterdir() if path.is_dir() and not path.name.startswith(".")
           and path.name not in ("node_modules", "demo-output", "src")} - {p.name for p in ROOT.glob("*.egg-info")}
    assert all(re.search(rf"^{name}/", block, re.M) for name in top), top
