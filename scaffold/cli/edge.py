"""The one place where the engine's errors become what the operator sees and the exit status."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from invoke.exceptions import Exit

from scaffold.errors import ScaffoldError
from scaffold.safety.recovery import recover_for

__all__ = ["INTERRUPTED", "edge"]

F = TypeVar("F", bound=Callable[..., Any])

INTERRUPTED = 130


def edge(interrupted: str) -> Callable[[F], F]:
    """Wrap a task: recover a change killed half-way, then map errors to exit statuses.

    ``interrupted`` is the sentence shown on Ctrl-C (exit status 130).
    """

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                # A command killed half-way (SIGKILL) is undone before anything else runs.
                recovered = recover_for(kwargs)
                if recovered is not None:
                    print(recovered.message(), file=sys.stderr, flush=True)
                return function(*args, **kwargs)
            except ScaffoldError as error:
                raise Exit(error.message, code=error.exit_code) from None
            except KeyboardInterrupt:
                raise Exit(interrupted, code=INTERRUPTED) from None

        return wrapper  # type: ignore[return-value]

    return decorate
