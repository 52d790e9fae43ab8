"""Undo a journal path by path: the rollback of a failed command and the recovery of a killed one.

The rules, for each entry from the newest to the oldest:

* a path that holds what it held before is left alone: it is never rewritten;
* a path that holds what the command (or its tool) wrote is put back, or removed when it
  did not exist before;
* a path that holds anything else was changed by someone since: it is kept as it is, and
  named;
* a path that cannot be put back (the operating system refuses) is named with the reason,
  and undo goes on with the others.

Directories the command created are removed once empty. A folder a tool was allowed to add
to loses the entries it did not have before, except paths the journal accounts for itself.
A file or directory the command deleted is put back with its bytes and mode, unless
something else is at its path by then (kept, and named).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from scaffold.safety.journal import Entry, EntryKind, Journal

__all__ = [
    "NOT_A_FILE",
    "UndoOutcome",
    "delete_file",
    "digest",
    "listing",
    "partial_path",
    "read_file",
    "remove_empty_directories",
    "replace_file",
    "undo",
]

PARTIAL_SUFFIX = ".robyn-config-partial"


class _NotAFile:
    """What a path holds when it is a directory (or anything but a regular file)."""

    def __repr__(self) -> str:
        return "NOT_A_FILE"


NOT_A_FILE = _NotAFile()


def digest(content: bytes) -> str:
    """What tells the command's bytes from anyone else's: 128 bits of sha256 are plenty."""
    return hashlib.sha256(content).hexdigest()[:32]


def read_file(path: Path) -> bytes | _NotAFile | None:
    """The bytes of ``path``; None when it does not exist; NOT_A_FILE for a directory."""
    try:
        mode = path.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(mode):
        return NOT_A_FILE
    return path.read_bytes()


def partial_path(path: Path) -> Path:
    """The temporary sibling a file is written to before it is renamed into place."""
    return path.with_name(f".{path.name}{PARTIAL_SUFFIX}")


def _refuse_unwritable(path: Path) -> None:
    """Raise what a write to the existing file ``path`` would (EPERM, EACCES, ...).

    The folder may allow a rename or an unlink where the file itself is protected
    (immutable, read-only, another user's): the operator's protection is honoured.
    """
    os.close(os.open(path, os.O_WRONLY))


def replace_file(
    path: Path, content: bytes, *, executable: bool = False, mode: int | None = None
) -> None:
    """Write ``content`` to ``path`` through a temporary sibling and a rename.

    The path then holds its old bytes or the new ones, never a part of them. An existing file
    keeps its mode, and must be writable as it is: a file the operating system would not let
    us write (immutable, read-only, another user's) is refused with its own reason, even where
    the folder would allow the rename. ``mode`` is the mode of a file put back where it was
    deleted.
    """
    if path.exists() and not path.is_dir():
        mode = stat.S_IMODE(path.stat().st_mode)
        _refuse_unwritable(path)
    partial = partial_path(path)
    try:
        with partial.open("wb") as stream:
            stream.write(content)
        if mode is not None:
            partial.chmod(mode)
        elif executable:
            partial.chmod(partial.stat().st_mode | 0o111)
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        # The operator knows the path, not our temporary sibling of it.
        raise OSError(error.errno, error.strerror, str(path)) from error
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def delete_file(path: Path) -> None:
    """Delete the file ``path``; one the OS would not let us write is refused like a write."""
    try:
        _refuse_unwritable(path)
        path.unlink()
    except FileNotFoundError:
        return


def listing(folder: Path, *, recursive: bool) -> frozenset[str]:
    """The entries under ``folder`` (POSIX paths relative to it), symlinks not followed."""
    if not folder.is_dir():
        return frozenset()
    if not recursive:
        return frozenset(child.name for child in folder.iterdir())
    found: set[str] = set()
    for directory, subdirectories, files in os.walk(folder):
        base = Path(directory).relative_to(folder)
        found.update((base / name).as_posix() for name in [*subdirectories, *files])
    return frozenset(found)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def remove_empty_directories(paths: list[Path]) -> list[tuple[Path, str]]:
    """Remove each of ``paths`` (deepest first) that is an empty directory; return failures."""
    failed: list[tuple[Path, str]] = []
    for path in sorted(paths, key=lambda item: len(item.parts), reverse=True):
        try:
            if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
                path.rmdir()
        except OSError as error:
            failed.append((path, _reason(error)))
    return failed


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


@dataclass
class UndoOutcome:
    """What undo could not simply put back."""

    kept: list[Path] = field(default_factory=list)  # changed by someone since: left as is
    failed: list[tuple[Path, str]] = field(default_factory=list)  # refused by the OS, reason
    # Directories holding the journal itself: removed (when empty) once it is discarded.
    deferred: list[Path] = field(default_factory=list)
    # The folder the command created as its root is still there, holding others' paths.
    root_kept: bool = False

    @property
    def complete(self) -> bool:
        return not self.failed


class _Undo:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.outcome = UndoOutcome()
        home = journal.path.parent
        self.journal_homes = {home, *home.parents}
        # Paths the journal accounts for (and their folders): never a tool's stray output.
        self.accounted: set[Path] = set()
        for entry in journal.entries:
            if entry.kind is not EntryKind.TOOL_FOLDER:
                self.accounted.add(entry.path)
                self.accounted.update(entry.path.parents)

    def run(self) -> UndoOutcome:
        for entry in reversed(self.journal.entries):
            try:
                self._undo(entry)
            except OSError as error:
                self.outcome.failed.append((entry.path, _reason(error)))
        return self.outcome

    def _undo(self, entry: Entry) -> None:
        if entry.kind is EntryKind.FILE:
            partial_path(entry.path).unlink(missing_ok=True)
            self._put_back(entry, known=True)
        elif entry.kind is EntryKind.TOOL_PATH:
            self._put_back(entry, known=entry.after is not None)
        elif entry.kind is EntryKind.TOOL_FOLDER:
            self._clear_folder(entry)
        elif entry.kind is EntryKind.DELETED_FILE:
            self._put_back_deleted_file(entry)
        elif entry.kind is EntryKind.DELETED_DIRECTORY:
            self._put_back_deleted_directory(entry)
        elif entry.path in self.journal_homes:
            self.outcome.deferred.append(entry.path)
        else:
            self.outcome.failed.extend(remove_empty_directories([entry.path]))

    def _put_back(self, entry: Entry, *, known: bool) -> None:
        """Restore ``entry.before`` when the path holds what was written (or, unknown, anything)."""
        now = read_file(entry.path)
        if now == entry.before:
            return
        ours = isinstance(now, bytes) and digest(now) == entry.after
        if known and not ours:
            self.outcome.kept.append(entry.path)
            return
        if entry.before is None:
            _remove(entry.path)
        elif now is NOT_A_FILE:
            self.outcome.kept.append(entry.path)  # a tool never turns a file into a folder
        else:
            replace_file(entry.path, entry.before)

    def _put_back_deleted_file(self, entry: Entry) -> None:
        now = read_file(entry.path)
        if now == entry.before:
            return  # not deleted yet
        if now is not None or entry.before is None:
            self.outcome.kept.append(entry.path)  # someone put something else there since
            return
        # Its folder was deleted too and put back before it (newest entry first); a folder
        # someone removed since is made again so that the file has its place.
        entry.path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(entry.path, entry.before, mode=entry.mode)

    def _put_back_deleted_directory(self, entry: Entry) -> None:
        if entry.path.is_dir() and not entry.path.is_symlink():
            return
        if read_file(entry.path) is not None:
            self.outcome.kept.append(entry.path)
            return
        entry.path.mkdir(parents=True)
        if entry.mode is not None:
            entry.path.chmod(entry.mode)

    def _clear_folder(self, entry: Entry) -> None:
        now = listing(entry.path, recursive=entry.recursive)
        for relative in sorted(now - entry.listing, key=lambda item: item.count("/"), reverse=True):
            path = entry.path / relative
            if path in self.accounted:
                continue
            try:
                _remove(path)
            except OSError as error:
                self.outcome.failed.append((path, _reason(error)))


def undo(journal: Journal) -> UndoOutcome:
    """Put back everything ``journal`` records, by the rules of this module."""
    return _Undo(journal).run()
