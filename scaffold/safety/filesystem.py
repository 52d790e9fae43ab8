"""Writing planned files with a journal, so a failed command can undo exactly what it did."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Journal"]


@dataclass
class Journal:
    """Records every path a command created under ``root`` and removes them on rollback.

    Only what the command itself created is recorded; pre-existing files are never touched,
    so rolling back inside an operator's directory leaves their files byte-identical.
    """

    root: Path
    root_created: bool = False
    created_files: list[Path] = field(default_factory=list)
    created_dirs: list[Path] = field(default_factory=list)
    top_level_before: frozenset[str] = frozenset()
    created_ancestors: list[Path] = field(default_factory=list)
    preserved: dict[Path, bytes | None] = field(default_factory=dict)

    @classmethod
    def start(cls, root: Path) -> Journal:
        if root.exists():
            return cls(root=root, top_level_before=frozenset(p.name for p in root.iterdir()))
        return cls(root=root)

    def ensure_root(self) -> None:
        if not self.root.exists():
            # Remember the missing parents too: a failure must not leave them behind.
            missing = [p for p in self.root.parents if not p.exists()]
            self.root.mkdir(parents=True)
            self.root_created = True
            self.created_ancestors = missing

    def make_dirs(self, directory: Path) -> None:
        missing: list[Path] = []
        current = directory
        while not current.exists():
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            path.mkdir()
            self.created_dirs.append(path)

    def write(self, path: Path, content: bytes, *, executable: bool = False) -> None:
        self.make_dirs(path.parent)
        # Record before writing: a write interrupted half-way still gets removed.
        self.created_files.append(path)
        path.write_bytes(content)
        if executable:
            path.chmod(path.stat().st_mode | 0o111)

    def adopt(self, path: Path) -> None:
        """Record a path some tool created (a lock file, `.git`) as ours to remove."""
        if path.is_dir():
            self.created_dirs.append(path)
        else:
            self.created_files.append(path)

    def preserve(self, path: Path) -> None:
        """Keep the bytes of a pre-existing file a tool may change (git's index) for rollback."""
        self.preserved.setdefault(path, path.read_bytes() if path.is_file() else None)

    def rollback(self) -> None:
        """Remove everything recorded, newest first; with a root we created, remove the root."""
        if self.root_created:
            shutil.rmtree(self.root, ignore_errors=True)
            for parent in self.created_ancestors:  # deepest first
                try:
                    parent.rmdir()
                except OSError:
                    break  # something else put files there meanwhile: leave it
            return
        for path in reversed(self.created_files):
            path.unlink(missing_ok=True)
        for directory in reversed(self.created_dirs):
            shutil.rmtree(directory, ignore_errors=True)
        for path, content in self.preserved.items():
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(content)
        # Tools run by the command (lockers, git) may leave new top-level entries behind.
        if self.root.exists():
            for entry in self.root.iterdir():
                if entry.name not in self.top_level_before:
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        entry.unlink(missing_ok=True)
