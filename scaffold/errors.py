"""The one error hierarchy of the engine; only the CLI edge turns it into exit codes."""

from __future__ import annotations

__all__ = ["Interrupted", "OperationFailed", "ScaffoldError", "UsageError"]


class ScaffoldError(Exception):
    """Base error: its message is one sentence saying what happened and what to do."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(ScaffoldError):
    """Bad usage or bad input, found before anything was written (exit status 2)."""

    exit_code = 2


class OperationFailed(ScaffoldError):
    """The operation started and failed; what it had changed was rolled back (exit status 1)."""

    exit_code = 1


class Interrupted(ScaffoldError):
    """Ctrl-C: the operation stopped, and what it had changed was rolled back (exit status 130)."""

    exit_code = 130
