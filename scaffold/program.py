"""The `robyn-config` console script: an invoke Program over the engine's task namespace."""

from __future__ import annotations

import sys

from invoke.exceptions import Exit, ParseError
from invoke.program import Program

from scaffold import __version__
from scaffold.commands import namespace

__all__ = ["main", "program"]

USAGE_ERROR = 2


HELP_FLAGS = ("-h", "--help")


def normalise_argv(argv: list[str]) -> list[str]:
    """Let ``robyn-config TASK --help`` mean ``robyn-config --help TASK``.

    Invoke would otherwise take ``--help`` as the value of a missing positional argument.
    """
    binary, *tokens = argv
    task_names = set(namespace.task_names)
    for index, token in enumerate(tokens):
        if token in task_names:
            if any(flag in tokens[index + 1 :] for flag in HELP_FLAGS):
                return [binary, "--help", token]
            break
    return argv


class RobynConfigProgram(Program):
    """Invoke's Program with bad usage reported as exit status 2, as the contract requires."""

    def parse_core(self, argv: list[str] | None) -> None:
        try:
            super().parse_core(normalise_argv(argv or sys.argv))
        except ParseError as error:
            raise Exit(f"{error}; see 'robyn-config --help'.", code=USAGE_ERROR) from None

    def parse_tasks(self) -> None:
        try:
            super().parse_tasks()
        except ParseError as error:
            raise Exit(f"{error}; see 'robyn-config --help'.", code=USAGE_ERROR) from None


program = RobynConfigProgram(
    name="robyn-config", binary="robyn-config", namespace=namespace, version=__version__
)


def main() -> None:
    program.run(sys.argv)
