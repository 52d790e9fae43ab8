"""Crash recovery: a journal of the snapshot, written before a command mutates the tree.

``add`` restores its snapshot itself on any failure it sees, Ctrl-C included; a process that
is killed outright (SIGKILL, power loss, the OOM killer) sees nothing. So before it writes a
byte, it records what its rollback needs in a pending journal: inside git
``<git dir>/robyn-config/pending.json`` (never part of the work tree), outside git
``<project>/.robyn-config-pending.json``. The journal is removed once the command succeeded or
rolled back. Every command first looks for it: a journal left behind means a command died
half-way, and its changes are undone before anything else runs.

Recovery undoes exactly what the command wrote and nothing else: it does not reset the work
tree, since the operator may have edited files between the crash and the next command. A
file is put back (or removed, if the command created it) only while it still holds the
bytes it had before, or what the command was writing (a killed write leaves a prefix of it);
a file changed since is kept as it is and named in the message.
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
from scaffold.safety.git_safety import Snapshot

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

JOURNAL_VERSION = 2
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


def _encode(content: bytes | None) -> str | None:
    return None if content is None else base64.b64encode(content).decode("ascii")


def _decode(content: object) -> bytes | None:
    return None if content is None else base64.b64decode(str(content))


def begin(
    snapshot: Snapshot, *, created: list[Path], planned: dict[Path, bytes], description: str
) -> PendingChange:
    """Record ``snapshot`` and what the command will write, before it mutates anything.

    ``created`` lists every file and directory the command may create, so that recovery
    removes them even when the process died before it could say which ones it had made;
    ``planned`` is the content of every file it will write, new or modified, so that
    recovery can tell its writes from the operator's later edits.
    """
    document = {
        "version": JOURNAL_VERSION,
        "description": description,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "root": str(snapshot.root),
        "stash": snapshot.stash,
        "created": [str(path) for path in created],
        "backups": {str(path): _encode(content) for path, content in snapshot.backups.items()},
        "planned": {str(path): _encode(content) for path, content in planned.items()},
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
    """A half-finished change that was found and undone (but for files edited since)."""

    description: str
    started: str
    root: Path
    kept: tuple[Path, ...] = ()
    before: str = "HEAD"

    def message(self) -> str:
        head = (
            f"robyn-config: '{self.description}' in {self.root} was interrupted at "
            f"{self.started} before it finished; its changes were rolled back"
        )
        if not self.kept:
            return head + ", the project is as it was before it."
        names = ", ".join(_shown(path, self.root) for path in self.kept)
        return (
            f"{head} except in {names}, changed since the interruption and kept as they are "
            f"(the project before it is in git commit {self.before})."
        )


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class _Pending:
    """A journal read back from disk."""

    description: str
    started: str
    root: Path
    stash: str
    backups: dict[Path, bytes | None]
    planned: dict[Path, bytes | None]
    created: list[Path]

    @classmethod
    def parse(cls, document: dict[str, object]) -> _Pending:
        if document.get("version") != JOURNAL_VERSION:
            raise ValueError(f"unknown journal version {document.get('version')!r}")
        backups, planned, created = document["backups"], document["planned"], document["created"]
        assert isinstance(backups, dict) and isinstance(planned, dict)
        assert isinstance(created, list)
        return cls(
            description=str(document.get("description", "a command")),
            started=str(document.get("started", "an unknown time")),
            root=Path(str(document["root"])),
            stash=str(document.get("stash") or ""),
            backups={Path(path): _decode(content) for path, content in backups.items()},
            planned={Path(path): _decode(content) for path, content in planned.items()},
            created=[Path(str(item)) for item in created],
        )

    def _written_by_us(self, path: Path, now: bytes) -> bool:
        """Whether ``now`` is what the command wrote to ``path``, or a killed write's prefix."""
        planned = self.planned.get(path)
        return planned is not None and planned.startswith(now)

    def undo(self) -> list[Path]:
        """Put back every file the command touched; return those changed since, left alone."""
        kept: list[Path] = []
        for path, before in self.backups.items():
            now = _read(path)
            if now == before:
                continue
            if now is not None and not self._written_by_us(path, now):
                kept.append(path)
            elif before is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(before)
        # Deepest first, so that a directory is empty once its files are gone.
        for path in sorted(self.created, key=lambda item: len(item.parts), reverse=True):
            if path.is_dir() and not path.is_symlink():
                if not any(path.iterdir()):
                    path.rmdir()
                continue
            now = _read(path)
            if now is None:
                continue  # the crash came before the command wrote it
            if self._written_by_us(path, now):
                path.unlink()
            else:
                kept.append(path)
        return sorted(kept)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


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
        pending = _Pending.parse(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, AssertionError, TypeError) as error:
        raise OperationFailed(
            f"An interrupted robyn-config command left the journal {path} that cannot be read "
            f"({error}); restore the project with 'git reset --hard HEAD' (after saving your "
            f"own changes), then delete {path}."
        ) from None
    try:
        kept = pending.undo()
    except OSError as error:
        raise OperationFailed(
            f"Rolling back the interrupted '{pending.description}' failed ({error}); fix that, "
            "then run any robyn-config command again to finish the rollback."
        ) from None
    PendingChange(path).discard()
    return Recovered(
        description=pending.description,
        started=pending.started,
        root=pending.root,
        kept=tuple(kept),
        before=pending.stash or "HEAD",
    )


def recover_for(arguments: dict[str, object]) -> Recovered | None:
    """``recover_pending`` for the directory a task was given (``project``, ``dest`` or cwd)."""
    directory = arguments.get("project") or arguments.get("dest") or "."
    if not isinstance(directory, str) or directory.startswith("-"):
        return None
    return recover_pending(Path(directory))
