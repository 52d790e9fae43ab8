"""The safety net of commands that edit a project: git cleanliness, snapshot and restore.

Inside a git work tree the snapshot is `git stash create` (a commit of the tracked changes
that leaves the work tree untouched) plus the list of untracked files; restoring resets to
HEAD, re-applies that stash with its index, and removes only the files the command created.
Outside git the snapshot is a copy of just the files the command will touch.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from scaffold.errors import OperationFailed, UsageError

__all__ = ["Snapshot", "dirty_paths", "git_root", "refuse_dirty", "take_snapshot"]


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def git_root(path: Path) -> Path | None:
    """The top of the git work tree holding ``path``, or None outside git (or without git)."""
    try:
        completed = _git(path, "rev-parse", "--show-toplevel")
    except FileNotFoundError:
        return None
    if completed.returncode != 0:
        return None
    return Path(completed.stdout.strip())


def dirty_paths(root: Path) -> list[str]:
    """Paths with uncommitted changes (tracked or untracked), relative to the work tree."""
    completed = _git(root, "status", "--porcelain=v1", "--untracked-files=all")
    return [line[3:] for line in completed.stdout.splitlines() if line.strip()]


def refuse_dirty(root: Path) -> None:
    dirty = dirty_paths(root)
    if dirty:
        shown = ", ".join(dirty[:10]) + (f" and {len(dirty) - 10} more" if len(dirty) > 10 else "")
        raise UsageError(
            f"The work tree has uncommitted changes: {shown}. "
            "Commit or stash them, or pass --allow-dirty."
        )


@dataclass
class Snapshot:
    """What is needed to put the tree back exactly as it was before the command."""

    root: Path
    git_top: Path | None
    stash: str = ""
    untracked: frozenset[str] = frozenset()
    backups: dict[Path, bytes | None] = field(default_factory=dict)

    def restore(self, created: list[Path]) -> None:
        """Undo the command: tracked files back to the snapshot, created files removed."""
        if self.git_top is not None:
            self._restore_git()
        for path, content in self.backups.items():
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(content)
        for path in sorted(created, key=lambda p: len(p.parts), reverse=True):
            relative = self._relative(path)
            if relative in self.untracked:
                continue  # the operator's own untracked file: never ours to remove
            if path.is_dir() and not path.is_symlink():
                if not any(path.iterdir()):
                    path.rmdir()
            else:
                path.unlink(missing_ok=True)

    def _relative(self, path: Path) -> str:
        top = self.git_top or self.root
        try:
            return path.relative_to(top).as_posix()
        except ValueError:
            return path.as_posix()

    def _restore_git(self) -> None:
        assert self.git_top is not None
        reset = _git(self.git_top, "reset", "--hard", "-q", "HEAD")
        if reset.returncode != 0:
            raise OperationFailed(f"git reset failed while rolling back: {reset.stderr.strip()}")
        if self.stash:
            applied = _git(self.git_top, "stash", "apply", "--index", "-q", self.stash)
            if applied.returncode != 0:
                raise OperationFailed(
                    f"Re-applying your changes failed; they are safe in commit {self.stash}: "
                    f"run 'git stash apply --index {self.stash}'."
                )


def take_snapshot(root: Path, touched: list[Path]) -> Snapshot:
    """Snapshot before mutating; ``touched`` are the existing files the command will modify."""
    # The bytes of touched files are kept in git too: an untracked or ignored file the
    # command edits is in no stash.
    backups = {path: path.read_bytes() if path.exists() else None for path in touched}
    top = git_root(root)
    if top is None:
        return Snapshot(root=root, git_top=None, backups=backups)
    stash = _git(top, "stash", "create").stdout.strip()
    untracked = _git(top, "ls-files", "--others", "--exclude-standard", "-z").stdout
    return Snapshot(
        root=root,
        git_top=top,
        stash=stash,
        untracked=frozenset(item for item in untracked.split("\0") if item),
        backups=backups,
    )
