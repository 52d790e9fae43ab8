"""How the engine tells its caller what it is doing, without printing anything itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Protocol

__all__ = ["FileStatus", "Reporter", "SilentReporter", "shown"]


class FileStatus(StrEnum):
    """What happens (or would happen) to one path."""

    CREATE = "create"
    MODIFY = "modify"
    DELETE = "delete"
    WOULD_CREATE = "would create"  # --dry-run
    WOULD_MODIFY = "would modify"  # --dry-run
    WOULD_DELETE = "would delete"  # --dry-run
    IDENTICAL = "identical"
    CONFLICT = "conflict"


class Reporter(Protocol):
    def file(self, status: FileStatus, path: PurePosixPath) -> None:
        """One path's status line."""

    def note(self, message: str) -> None:
        """A sentence worth showing the operator."""

    def step(self, label: str) -> AbstractContextManager[None]:
        """A long step (locking, installing) during which progress is shown."""


class SilentReporter:
    """Reports nothing: for library callers and tests that only want the result."""

    def file(self, status: FileStatus, path: PurePosixPath) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        yield


def shown(path: Path, root: Path) -> str:
    """``path`` as the operator reads it: relative to the project when inside it."""
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return str(path)
