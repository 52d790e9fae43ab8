"""The CLI's reporter: status lines, notes and progress, plain when not on a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import TextIO

from scaffold.reporting import FileStatus

__all__ = ["ConsoleReporter"]


class ConsoleReporter:
    """Prints what the engine reports; shows a spinner for long steps on a TTY."""

    def __init__(self, stream: TextIO | None = None, *, prefix: str = "") -> None:
        self.stream = stream or sys.stdout
        self.prefix = prefix

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def file(self, status: FileStatus, path: PurePosixPath) -> None:
        self._print(f"{self.prefix}{status.value:>12}  {path}")

    def note(self, message: str) -> None:
        self._print(message)

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        started = time.monotonic()
        if self.stream.isatty():
            from rich.console import Console  # only pay for rich on a terminal

            with Console(file=self.stream).status(f"{label} ..."):
                yield
        else:
            self._print(f"{label} ...")
            yield
        self._print(f"{label}: done in {time.monotonic() - started:.1f}s")
