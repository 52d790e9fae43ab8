"""The one transaction every command that writes files goes through.

Intent first, then the change, then the commit: before the first write the transaction saves
a journal (`scaffold.safety.journal`) of every path it will write (its bytes before, a digest
of the new ones), every directory it will create, every file and directory it will delete
(their bytes and modes) and, before a tool runs, what that tool may create, change or add
to. Files are written through a temporary sibling and a rename; a file whose bytes would not
change is never written. Leaving the ``with`` block normally commits
(the journal is removed); leaving it with an exception undoes path by path
(`scaffold.safety.undo`) and turns the failure into one message: what failed, and that the
tree was restored, or exactly what could not be and the command that finishes the job. A
process killed outright leaves the journal for the next command (`scaffold.safety.recovery`).
"""

from __future__ import annotations

import errno
import os
import signal
import stat
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import cast

from scaffold.errors import Interrupted, OperationFailed, ScaffoldError
from scaffold.reporting import shown
from scaffold.safety.journal import Entry, EntryKind, Journal, journal_path
from scaffold.safety.undo import (
    NOT_A_FILE,
    UndoOutcome,
    delete_file,
    digest,
    listing,
    read_file,
    remove_empty_directories,
    replace_file,
    undo,
)

__all__ = [
    "CRASH_POINT_VARIABLE",
    "STOP_POINT_VARIABLE",
    "Transaction",
    "checkpoint",
    "describe_os_error",
    "undo_sentence",
]

# For the fault tests only: the process kills (or stops) itself at the named checkpoint.
CRASH_POINT_VARIABLE = "ROBYN_CONFIG_CRASH_AT"
STOP_POINT_VARIABLE = "ROBYN_CONFIG_STOP_AT"
_stopped: set[str] = set()


def checkpoint(name: str) -> None:
    """A named point of a writing command, where the fault tests kill or pause the process.

    With ``ROBYN_CONFIG_STOP_AT=name`` the process stops itself (SIGSTOP) so that a test can
    change the tree under it before it goes on (SIGCONT).
    """
    if os.environ.get(CRASH_POINT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get(STOP_POINT_VARIABLE) == name and name not in _stopped:
        _stopped.add(name)  # once: the test changes the tree, then lets the command go on
        os.kill(os.getpid(), signal.SIGSTOP)


def describe_os_error(error: OSError, root: Path, doing: str = "Writing") -> str:
    """One sentence for an OS error: what was being done to which path, and the OS's reason."""
    reason = error.strerror or str(error)
    if error.filename is None:
        return f"{doing} failed: {reason}."
    return f"{doing} {shown(Path(os.fsdecode(error.filename)), root)} failed: {reason}."


def undo_sentence(outcome: UndoOutcome, root: Path, undone: str) -> str:
    """The sentence saying how the rollback went: complete, kept paths, or what is left."""
    if outcome.failed:
        left = ", ".join(f"{shown(path, root)} ({reason})" for path, reason in outcome.failed)
        return (
            f"Rolling back failed on {left}; fix that, then run "
            f"'robyn-config recover {root}' to finish the rollback."
        )
    sentence = f"Rolled back: {undone}"
    if outcome.kept:
        names = ", ".join(shown(path, root) for path in outcome.kept)
        sentence += f", except {names}, changed meanwhile by someone else and kept as they are"
    return sentence + "."


class Transaction:
    """All the writes of one command, journaled first and undone together on failure.

    Args:
        root: the project the command works on (paths in messages are relative to it).
        name: the command, prefix of its checkpoints (``add:file-created``).
        description: what the journal says is in progress (``add product``).
        undone: the end of "Rolled back: ..." once everything is put back
            (``the project is as it was before add``).
        journal: where to keep the journal; default: in git, or in ``root``.
    """

    def __init__(
        self,
        *,
        root: Path,
        name: str,
        description: str,
        undone: str,
        journal: Path | None = None,
    ) -> None:
        self.root = root
        self.name = name
        self.undone = undone
        self.journal = Journal(
            path=journal or journal_path(root), description=description, root=root
        )
        self._saved = False
        self._doing = "Writing"

    # --- the context ------------------------------------------------------------------------

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is None:
            try:
                self.journal.discard()
            except OSError as stuck:
                # Left in place, the journal would make the next command undo this one.
                raise OperationFailed(
                    f"{self.name} finished, but its journal {self.journal.path} could not be "
                    f"removed ({stuck.strerror or stuck}); delete it before the next "
                    "robyn-config command, which would otherwise undo the changes."
                ) from None
            return
        outcome = self.rollback()
        undone = self.undone
        if outcome.root_kept:
            undone = f"removed what {self.name} had written in {self.root}"
        sentence = undo_sentence(outcome, self.root, undone)
        if isinstance(error, KeyboardInterrupt):
            raise Interrupted(f"Interrupted. {sentence}") from None
        if isinstance(error, ScaffoldError):
            separator = "\n" if "\n" in error.message else " "
            raise OperationFailed(f"{error.message}{separator}{sentence}") from error
        if isinstance(error, OSError):
            failure = describe_os_error(error, self.root, self._doing)
            raise OperationFailed(f"{failure} {sentence}") from error
        # Anything else is a bug of the toolkit: the tree is restored, the error stays loud.

    def revert(self) -> None:
        """Undo everything so far and carry on: the command found there is nothing to keep."""
        outcome = self.rollback()
        if not outcome.complete:
            raise OperationFailed(undo_sentence(outcome, self.root, self.undone))

    def rollback(self) -> UndoOutcome:
        """Undo everything journaled; keep the journal when a path could not be restored."""
        outcome = undo(self.journal)
        if outcome.complete:
            try:
                self.journal.discard()
            except OSError as error:
                outcome.failed.append((self.journal.path, error.strerror or str(error)))
                return outcome
            outcome.failed.extend(remove_empty_directories(outcome.deferred))
            if self.root in outcome.deferred and self.root.exists():
                # The folder it made holds something that is not the command's: say what.
                outcome.root_kept = True
                outcome.kept.extend(sorted(self.root.iterdir()))
        return outcome

    # --- recording intent -------------------------------------------------------------------

    def _record(self, entries: list[Entry]) -> None:
        self.journal.entries.extend(entries)
        self._doing = "Writing the journal"
        self.journal.save()
        if not self._saved:
            self._saved = True
            checkpoint(f"{self.name}:journal-written")

    def _missing_directories(self, path: Path) -> list[Entry]:
        """Entries for the folders above ``path`` that do not exist yet, outermost first."""
        recorded = {entry.path for entry in self.journal.entries}
        missing = [parent for parent in path.parents if not parent.exists()]
        return [
            Entry(EntryKind.DIRECTORY, parent)
            for parent in reversed(missing)
            if parent not in recorded
        ]

    def _create_parents(self, path: Path) -> None:
        # A folder removed since the plan was journaled is journaled again before it is made.
        unrecorded = self._missing_directories(path)
        if unrecorded:
            self._record(unrecorded)
        self._doing = "Creating"
        for parent in reversed([parent for parent in path.parents if not parent.exists()]):
            parent.mkdir()

    # --- writing ----------------------------------------------------------------------------

    def make_directory(self, directory: Path) -> None:
        """Create ``directory`` and its missing parents, recorded so that undo removes them.

        The journal is saved afterwards when it lives inside them (create in a new folder):
        a crash in between leaves empty folders only.
        """
        entries = self._missing_directories(directory / "_")
        if not entries:
            return
        self.journal.entries.extend(entries)
        self._doing = "Creating"
        for entry in entries:
            entry.path.mkdir()
        self._record([])

    def write_files(
        self, files: Mapping[Path, bytes], *, executable: Collection[Path] = ()
    ) -> list[Path]:
        """Write ``files`` (path -> bytes) all or nothing; return those actually written.

        A file that already holds its bytes is not written (nor journaled).
        """
        planned: list[tuple[Path, bytes, bool]] = []
        entries: list[Entry] = []
        self._doing = "Reading"
        for path, content in files.items():
            before = read_file(path)
            if before == content:
                continue
            if not isinstance(before, bytes | None):
                self._doing = "Writing"
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
            entries += [e for e in self._missing_directories(path) if e not in entries]
            entries.append(Entry(EntryKind.FILE, path, before=before, after=digest(content)))
            planned.append((path, content, before is None))
        if not planned:
            return []
        self._record(entries)
        for path, content, new in planned:
            self._create_parents(path)
            self._doing = "Writing"
            replace_file(path, content, executable=path in executable)
            checkpoint(f"{self.name}:{'file-created' if new else 'file-modified'}")
        return [path for path, _, _ in planned]

    def delete_files(
        self, files: Collection[Path], directories: Collection[Path] = ()
    ) -> list[Path]:
        """Delete ``files``, then ``directories`` once they are empty; return the files deleted.

        A file already gone is skipped. Each file's bytes and mode and each directory's mode
        are journaled first, so that undo puts them back; the directories are deleted deepest
        first, and one that is not empty by then fails the command (someone is using it).
        """
        entries: list[Entry] = []
        planned: list[Path] = []
        self._doing = "Reading"
        for path in files:
            before = read_file(path)
            if before is None:
                continue
            if not isinstance(before, bytes):
                self._doing = "Deleting"
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
            mode = stat.S_IMODE(path.lstat().st_mode)
            entries.append(Entry(EntryKind.DELETED_FILE, path, before=before, mode=mode))
            planned.append(path)
        folders = sorted(
            (folder for folder in directories if folder.is_dir() and not folder.is_symlink()),
            key=lambda folder: len(folder.parts),
            reverse=True,
        )
        for folder in folders:
            mode = stat.S_IMODE(folder.lstat().st_mode)
            entries.append(Entry(EntryKind.DELETED_DIRECTORY, folder, mode=mode))
        if not entries:
            return []
        self._record(entries)
        self._doing = "Deleting"
        for path in planned:
            delete_file(path)
            checkpoint(f"{self.name}:file-deleted")
        for folder in folders:
            folder.rmdir()
            checkpoint(f"{self.name}:directory-deleted")
        return planned

    @contextmanager
    def tool(
        self,
        label: str,
        *,
        step: str,
        creates: Sequence[Path] = (),
        changes: Sequence[Path] = (),
        adds_to: Sequence[Path] = (),
        adds_to_top: Sequence[Path] = (),
    ) -> Iterator[None]:
        """Run a tool (inside the ``with``) that writes paths only it knows in advance.

        Args:
            label: what the tool does, for a failure's message (``Locking with uv``).
            step: its checkpoint's name: ``<command>:<step>-done`` once it has run.
            creates: paths the tool may create (a lock file, ``.git``).
            changes: existing files the tool may change (git's index).
            adds_to: folders the tool may add entries to anywhere below them.
            adds_to_top: folders the tool may add entries to at their top level.
        """
        entries: list[Entry] = []
        paths = [Entry(EntryKind.TOOL_PATH, path, before=None) for path in creates]
        for path in changes:
            before = read_file(path)
            if before is NOT_A_FILE:
                continue  # tools may add to a folder (adds_to), never replace one
            paths.append(Entry(EntryKind.TOOL_PATH, path, before=cast(bytes | None, before)))
        for folders, recursive in ((adds_to, True), (adds_to_top, False)):
            for folder in folders:
                entries += self._missing_directories(folder / "_")
                entries.append(
                    Entry(
                        EntryKind.TOOL_FOLDER,
                        folder,
                        listing=listing(folder, recursive=recursive),
                        recursive=recursive,
                    )
                )
        self._record([*entries, *paths])
        self._doing = label
        yield
        # What the tool wrote is known now: recovery can tell it from the operator's edits.
        for entry in paths:
            now = read_file(entry.path)
            if isinstance(now, bytes):
                entry.after = digest(now)
        self._record([])
        checkpoint(f"{self.name}:{step}-done")
