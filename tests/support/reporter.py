"""Where a check logs its steps and reports a failure: a ``nox.Session`` in the sessions."""

from __future__ import annotations

from typing import NoReturn, Protocol

__all__ = ["Reporter"]


class Reporter(Protocol):
    """The two calls of ``nox.Session`` that checks need, so they run outside nox too."""

    def log(self, message: str, /) -> None:
        """Record one step that passed."""

    def error(self, message: str, /) -> NoReturn:
        """Fail with ``message``; never returns."""
