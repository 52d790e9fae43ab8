"""Crash recovery: a journal of the snapshot, written before a command mutates the tree.

``add`` restores its snapshot itself on any failure it sees, Ctrl-C included; a process that
is killed outright (SIGKILL, power loss, the OOM killer) sees nothing. So before it writes a
byte, it records what its rollback needs in a pending journal: inside git
``<git dir>/robyn-config/pending.json`` (never part of the work tree), outside git
``<project>/.robyn-config-pending.json``. The journal is removed once the command succeeded or
rolled back. Every command first looks for it: a journal left behind means a command died
half-way, and the tree is restored to the journal's snapshot before anything else runs.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import OperationFailed
from scaffold.git_safety import Snapshot

__all__ = [
    "CRASH_POINT_VARIABLE",
    "PendingChange",
    "Recovered",
    "begin",
    "checkpoint",
    "journal_path",
    "recover_for",
    "recover_pending",
]

JOURNAL_VERSION = 1
OUTSIDE_GIT_NAME = ".robyn-config-pending.json"
# For the crash tests only: the process kills itself with SIGKILL at the named checkpoint.
CRASH_POINT_VARIABLE = "ROBYN_CONFIG_CRASH_AT"


def _git_dir(path: Path) -> Path | None:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--absolute-git-dir"],
            cwd=path,
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (FileNotFoundError, NotADirectoryError):
        return None
    if completed.returncode != 0:
        return None
    return Path(completed.stdout.strip())


def journal_path(project: Path) -> Path:
    """Where the pending journal of ``project`` lives (inside git or in the project)."""
    git_dir = _git_dir(project)
    if git_dir is not None:
        return git_dir / "robyn-config" / "pending.json"
    return project / OUTSIDE_GIT_NAME


@dataclass
class PendingChange:
    """A journal on disk: discard it once the command succeeded or was rolled back."""

    path: Path

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        parent = self.path.parent
        if parent.name == "robyn-config" and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(partial, path)


def begin(snapshot: Snapshot, *, created: list[Path], description: str) -> PendingChange:
    """Record ``snapshot`` and the paths the command will create, before it mutates anything.

    ``created`` lists every file and directory the command may create, so that recovery
    removes them even when the process died before it could say which ones it had made.
    """
    document = {
        "version": JOURNAL_VERSION,
        "description": description,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "root": str(snapshot.root),
        "git_top": str(snapshot.git_top) if snapshot.git_top else None,
        "stash": snapshot.stash,
        "untracked": sorted(snapshot.untracked),
        "created": [str(path) for path in created],
        "backups": {
            str(path): None if content is None else base64.b64encode(content).decode("ascii")
            for path, content in snapshot.backups.items()
        },
    }
    path = journal_path(snapshot.root)
    _write_atomically(path, json.dumps(document, indent=1).encode("utf-8"))
    return PendingChange(path)


def checkpoint(name: str) -> None:
    """A named point of a mutating command; the crash tests kill the process here."""
    if os.environ.get(CRASH_POINT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Recovered:
    """A half-finished change that was found and undone."""

    description: str
    started: str
    root: Path

    def message(self) -> str:
        return (
            f"robyn-config: '{self.description}' in {self.root} was interrupted at "
            f"{self.started} before it finished; its changes were rolled back, the project "
            "is as it was before it."
        )


def _snapshot_from(document: dict[str, object]) -> tuple[Snapshot, list[Path]]:
    backups_raw = document["backups"]
    assert isinstance(backups_raw, dict)
    backups = {
        Path(path): None if content is None else base64.b64decode(content)
        for path, content in backups_raw.items()
    }
    git_top = document["git_top"]
    untracked = document["untracked"]
    created = document["created"]
    assert isinstance(untracked, list) and isinstance(created, list)
    snapshot = Snapshot(
        root=Path(str(document["root"])),
        git_top=Path(git_top) if isinstance(git_top, str) else None,
        stash=str(document["stash"] or ""),
        untracked=frozenset(str(item) for item in untracked),
        backups=backups,
    )
    return snapshot, [Path(str(item)) for item in created]


def recover_pending(project: Path) -> Recovered | None:
    """Undo a command that died half-way in ``project`` (or the git work tree holding it).

    Returns what was undone, or None when no journal was pending.

    Raises:
        OperationFailed: the journal is unreadable or the restore failed; the message says
            how to restore by hand.
    """
    if not project.is_dir():
        return None
    path = journal_path(project)
    if not path.is_file():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("version") != JOURNAL_VERSION:
            raise ValueError(f"unknown journal version {document.get('version')!r}")
        snapshot, created = _snapshot_from(document)
    except (OSError, ValueError, KeyError, AssertionError, TypeError) as error:
        raise OperationFailed(
            f"An interrupted robyn-config command left the journal {path} that cannot be read "
            f"({error}); restore the project with 'git reset --hard HEAD' (after saving your "
            f"own changes), then delete {path}."
        ) from None
    # Restore deletes only what exists; after a crash part of ``created`` never came to be.
    snapshot.restore([item for item in created if item.exists() or item.is_symlink()])
    PendingChange(path).discard()
    return Recovered(
        description=str(document.get("description", "a command")),
        started=str(document.get("started", "an unknown time")),
        root=snapshot.root,
    )


def recover_for(arguments: dict[str, object]) -> Recovered | None:
    """``recover_pending`` for the directory a task was given (``project``, ``dest`` or cwd)."""
    directory = arguments.get("project") or arguments.get("dest") or "."
    if not isinstance(directory, str) or directory.startswith("-"):
        return None
    return recover_pending(Path(directory))
