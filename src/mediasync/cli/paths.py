"""Local files a command reads and writes, checked before anything is written: an output
never names an input, an output can be written, and an input that cannot be read twice
(a pipe, /dev/stdin, a FIFO) is read once into a temporary file.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Mapping

from rich.markup import escape

from mediasync.cli.common import console, fail
from mediasync.manifests.locations import is_s3_url


def same_file(one: str | Path, other: str | Path) -> bool:
    """Whether two local paths name one file (links and ``..`` included); S3 URLs never do."""
    if is_s3_url(one) or is_s3_url(other):
        return False
    try:
        return os.path.samefile(one, other)
    except OSError:  # one of them does not exist yet: compare where they would be
        return Path(one).resolve() == Path(other).resolve()


def refuse_overwriting_inputs(outputs: Mapping[str, str | Path], inputs: Mapping[str, str | Path]) -> None:
    """Exit 2 when an output would be written over an input (``--report`` naming the manifest)."""
    for output_name, output in outputs.items():
        for input_name, source in inputs.items():
            if same_file(output, source):
                fail(f"{output_name} {output} is the {input_name}: writing it would destroy what is read; "
                     f"name another file for {output_name}")


def check_writable(option: str, path: Path) -> None:
    """Exit 2 unless ``path`` can be written (its folder is made as the write would);
    a file that did not exist is not left behind."""
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as err:
        fail(f"cannot write {option} {path}: {err.strerror or err}")
    if not existed:
        path.unlink(missing_ok=True)


def read_once(path: str, stack: ExitStack) -> str:
    """``path`` itself when it is a file that reads the same every time; else (a pipe,
    /dev/stdin, a FIFO, a device) its bytes read once into a temporary file that
    ``stack`` removes, since a job reads its manifest more than once."""
    if is_s3_url(path):
        return path
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return path  # the manifest's own read says what is wrong
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return path
    if path.lower().endswith(".json"):
        fail(f"{path} is not a regular file: an S3 Inventory manifest.json is read from disk beside its "
             "data files (or from s3://); save it to a file first")
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mediasync-manifest-")))
    copy = folder / "manifest.csv"
    with console.status(f"reading {escape(path)} (waits for a writer, as a pipe does)"):
        try:
            with open(path, "rb") as source, copy.open("wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
        except OSError as err:
            fail(f"cannot read manifest {path}: {err.strerror or err}")
    console.print(f"read {escape(path)} once into a temporary file: a pipe cannot be read twice")
    return str(copy)
