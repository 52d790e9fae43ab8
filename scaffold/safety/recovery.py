"""Crash recovery: the next command undoes a command that was killed half-way.

A transaction that is killed outright (SIGKILL, power loss, the OOM killer) cannot roll
itself back; its journal stays. Every command first looks for such a journal in the project
it is given and undoes it by the same rules as an in-process rollback
(`scaffold.safety.undo`): only what the killed command wrote is put back, and a file changed
since is kept as it is and named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import OperationFailed
from scaffold.reporting import shown
from scaffold.safety.journal import Journal, JournalUnreadable, find_journals
from scaffold.safety.transaction import undo_sentence
from scaffold.safety.undo import remove_empty_directories, undo

__all__ = ["Recovered", "recover_pending"]


@dataclass(frozen=True)
class Recovered:
    """A half-finished command that was found and undone (but for files edited since)."""

    description: str
    started: str
    root: Path
    kept: tuple[Path, ...] = ()

    def message(self) -> str:
        head = (
            f"robyn-config: '{self.description}' in {self.root} was interrupted at "
            f"{self.started} before it finished; its changes were rolled back"
        )
        if not self.kept:
            return head + ", the project is as it was before it."
        names = ", ".join(shown(path, self.root) for path in self.kept)
        return f"{head} except in {names}, changed since the interruption and kept as they are."


def _recover(path: Path) -> Recovered:
    try:
        journal = Journal.load(path)
    except JournalUnreadable as error:
        raise OperationFailed(
            f"An interrupted robyn-config command left the journal {path}, which cannot be read "
            f"({error}); check the project ('git status' shows what changed) and put back what "
            f"that command wrote, then delete {path}."
        ) from None
    outcome = undo(journal)
    if not outcome.complete:
        sentence = undo_sentence(outcome, journal.root, "")
        raise OperationFailed(
            f"The interrupted '{journal.description}' in {journal.root} could not be undone. "
            f"{sentence}"
        )
    journal.discard()
    remove_empty_directories(outcome.deferred)
    return Recovered(
        description=journal.description,
        started=journal.started,
        root=journal.root,
        kept=tuple(sorted(outcome.kept)),
    )


def recover_pending(directory: Path) -> list[Recovered]:
    """Undo every command that died half-way in ``directory`` (or the work tree holding it).

    Raises:
        OperationFailed: a journal is unreadable or a path could not be put back; the
            message says how to finish by hand or with 'robyn-config recover'.
    """
    return [_recover(path) for path in find_journals(directory.absolute())]
