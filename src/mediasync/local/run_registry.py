"""Which `mediasync run`s on this machine are writing where, so one run never takes
another's live multipart uploads for an interrupted run's leftovers.

Each run leaves a small JSON file in the state folder while it runs (endpoint,
destination bucket and prefix, process id and the process's start time). A file
whose process is gone (kill -9, power loss) marks a run that ended without cleaning
up: its uploads are abandoned. A live one on the same destination means its
uploads may be in use, and are left alone. Runs on other machines are not seen.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_DIR_VARIABLE = "MEDIASYNC_STATE_DIR"


def state_dir() -> Path:
    """``$MEDIASYNC_STATE_DIR``, else ``$XDG_STATE_HOME/mediasync`` (``~/.local/state/mediasync``)."""
    if os.environ.get(STATE_DIR_VARIABLE):
        return Path(os.environ[STATE_DIR_VARIABLE])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "mediasync"


def _process_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (Linux), so a reused process id is not taken for the run."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def _alive(pid: int, process_start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: alive
    current = _process_start(pid)
    return process_start is None or current is None or current == process_start


@dataclass(frozen=True)
class RunRecord:
    endpoint: str
    bucket: str
    prefix: str
    pid: int
    host: str
    started: str  # ISO 8601, for the message
    process_start: str | None = None

    def describe(self) -> str:
        return f"pid {self.pid}, started {self.started[:19].replace('T', ' ')} UTC"


class RunRegistry:
    """This run's entry in the state folder, and the other live runs' entries."""

    def __init__(self, endpoint: str, bucket: str, prefix: str, folder: Path | None = None) -> None:
        self.folder = (folder or state_dir()) / "runs"
        pid = os.getpid()
        self.record = RunRecord(endpoint, bucket, prefix, pid, socket.gethostname(),
                                datetime.datetime.now(datetime.timezone.utc).isoformat(), _process_start(pid))
        self.path = self.folder / f"{pid}-{secrets.token_hex(4)}.json"

    def __enter__(self) -> "RunRegistry":
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(asdict(self.record)), encoding="utf-8")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.path.unlink(missing_ok=True)

    def others(self) -> list[RunRecord]:
        """Live runs on this machine writing where this one writes (same endpoint and
        bucket, prefixes that overlap); files of runs that are gone are removed."""
        found = []
        for path in sorted(self.folder.glob("*.json")):
            if path == self.path:
                continue
            try:
                record = RunRecord(**json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                continue  # being written, or not ours
            if record.host != self.record.host:
                continue
            if not _alive(record.pid, record.process_start):
                path.unlink(missing_ok=True)
                continue
            mine = self.record
            overlap = record.prefix.startswith(mine.prefix) or mine.prefix.startswith(record.prefix)
            if (record.endpoint, record.bucket) == (mine.endpoint, mine.bucket) and overlap:
                found.append(record)
        return found
