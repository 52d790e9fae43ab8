"""Optional positional arguments for invoke tasks (``create NAME [DEST]``).

Invoke treats every positional argument as required. A task lists its optional ones with
``@task(positional=[...])`` plus ``optional_positionals(...)``; this module teaches invoke's
parser to leave those unset instead of failing. It patches one parser method once, at
import, so the behaviour is the same from `invoke` in a checkout and from `robyn-config`.
"""

from __future__ import annotations

from invoke.parser.parser import ParseMachine

__all__ = ["optional_positionals"]

_optional_by_task: dict[str, frozenset[str]] = {}


def optional_positionals(task_name: str, *names: str) -> None:
    """Declare that ``names`` of the task ``task_name`` (its dotted name) may be omitted."""
    _optional_by_task[task_name] = frozenset(names)


_original_complete_context = ParseMachine.complete_context


def _complete_context(self: ParseMachine) -> None:
    context = self.context
    if context is not None:
        optional = _optional_by_task.get(context.name or "", frozenset())
        for argument in context.positional_args:
            if argument.name in optional and argument.value is None:
                # An empty string marks "not given"; tasks turn it back into None.
                argument.value = ""
    _original_complete_context(self)


if ParseMachine.complete_context is not _complete_context:  # pragma: no branch - import once
    ParseMachine.complete_context = _complete_context  # type: ignore[method-assign]
