"""The one place where the engine's errors become what the operator sees and the exit status."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from invoke.exceptions import Exit

from scaffold.errors import OperationFailed, ScaffoldError
from scaffold.safety.recovery import recover_pending
from scaffold.safety.transaction import describe_os_error

__all__ = ["INTERRUPTED", "edge", "project_argument"]

F = TypeVar("F", bound=Callable[..., Any])

INTERRUPTED = 130


def project_argument(arguments: dict[str, Any]) -> str:
    """The directory a task works on: its ``project`` (or ``dest``) argument, else the cwd."""
    directory = arguments.get("project") or arguments.get("dest") or "."
    return directory if isinstance(directory, str) else "."


def edge(
    interrupted: str,
    *,
    directory: Callable[[dict[str, Any]], str | None] = project_argument,
    recover: bool = True,
) -> Callable[[F], F]:
    """Wrap a task: recover a change killed half-way, then map errors to exit statuses.

    ``interrupted`` is the sentence shown on Ctrl-C (exit status 130) when the engine has none
    of its own; ``directory`` picks the task's project from its arguments.
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                target = directory(kwargs)
                # A command killed half-way (SIGKILL) is undone before anything else runs.
                if recover and target and not target.startswith("-"):
                    for recovered in recover_pending(Path(target)):
                        print(recovered.message(), file=sys.stderr, flush=True)
                return function(*args, **kwargs)
            except ScaffoldError as error:
                raise Exit(error.message, code=error.exit_code) from None
            except BrokenPipeError:
                raise  # the reader went away: the console script stops quietly
            except OSError as error:
                # Outside a transaction (reading the project, say): still one sentence.
                message = describe_os_error(error, Path.cwd(), "Accessing")
                raise Exit(message, code=OperationFailed.exit_code) from None
            except KeyboardInterrupt:
                raise Exit(interrupted, code=INTERRUPTED) from None

        return wrapper  # type: ignore[return-value]

    return decorate
