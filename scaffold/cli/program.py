"""The `robyn-config` console script: an invoke Program over the engine's task namespace."""

from __future__ import annotations

import os
import re
import sys

from invoke.exceptions import Exit, ParseError
from invoke.program import Program

from scaffold import __version__
from scaffold.cli.tasks import namespace

__all__ = ["main", "program", "report_task_usage_errors"]

USAGE_ERROR = 2


HELP_FLAGS = ("-h", "--help")

# Invoke's parser speaks of its own objects ("Flag <Argument: index_url> needed value ...");
# the operator typed "--index-url", so name the option as typed.
_NEEDS_VALUE = re.compile(r"Flag <Argument: (?P<name>[\w-]+)[^>]*> needed value.*")
_UNKNOWN_TOKEN = re.compile(r"No idea what (?P<token>'.*') is!")


def usage_message(error: ParseError) -> str:
    """One sentence for a parse error, naming the option or argument as the operator typed it."""
    text = str(error)
    if match := _NEEDS_VALUE.fullmatch(text):
        option = "--" + match["name"].replace("_", "-")
        return f"The option {option} needs a value; see 'robyn-config --help'."
    if match := _UNKNOWN_TOKEN.fullmatch(text):
        return f"Unexpected argument {match['token']}; see 'robyn-config --help'."
    return f"{text}; see 'robyn-config --help'."


def _join_subcommands(tokens: list[str]) -> list[str]:
    """``runbook list`` → ``runbook.list``; a bare ``runbook`` lists its subcommands."""
    for index, token in enumerate(tokens):
        if token in namespace.collections:
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if following in namespace.collections[token].task_names:
                return [*tokens[:index], f"{token}.{following}", *tokens[index + 2 :]]
            if following is None or following in HELP_FLAGS:
                return [*tokens[:index], "--list", token]
            choices = ", ".join(sorted(namespace.collections[token].task_names))
            raise Exit(
                f"Unknown subcommand {token} {following!r}; use one of: {choices}.",
                code=USAGE_ERROR,
            )
        if not token.startswith("-"):
            break
    return tokens


def normalise_argv(argv: list[str]) -> list[str]:
    """Let ``robyn-config TASK --help`` mean ``robyn-config --help TASK``.

    Invoke would otherwise take ``--help`` as the value of a missing positional argument.
    Subcommands are typed with a space (``runbook run NAME``) and joined into invoke's
    dotted task names here.
    """
    binary, *tokens = argv
    tokens = _join_subcommands(tokens)
    argv = [binary, *tokens]
    task_names = set(namespace.task_names)
    for index, token in enumerate(tokens):
        if token in task_names:
            if any(flag in tokens[index + 1 :] for flag in HELP_FLAGS):
                return [binary, "--help", token]
            break
    return argv


def _parse_tasks_reporting_usage(program: Program) -> None:
    """Program.parse_tasks, with a bad task option reported as one sentence and exit 2."""
    try:
        _invoke_parse_tasks(program)
    except ParseError as error:
        raise Exit(usage_message(error), code=USAGE_ERROR) from None


_invoke_parse_tasks = Program.parse_tasks


def report_task_usage_errors() -> None:
    """Have ``invoke`` report a bad task option like ``robyn-config``: one sentence, exit 2.

    From a checkout ``invoke`` runs its own Program, which would exit 1.
    """
    Program.parse_tasks = _parse_tasks_reporting_usage  # type: ignore[method-assign,assignment]


class RobynConfigProgram(Program):
    """Invoke's Program with bad usage reported as exit status 2, as the contract requires."""

    def parse_core(self, argv: list[str] | None) -> None:
        try:
            super().parse_core(normalise_argv(argv or sys.argv))
        except ParseError as error:
            raise Exit(usage_message(error), code=USAGE_ERROR) from None

    def parse_tasks(self) -> None:
        _parse_tasks_reporting_usage(self)


program = RobynConfigProgram(
    name="robyn-config", binary="robyn-config", namespace=namespace, version=__version__
)


def main() -> None:
    try:
        program.run(sys.argv)
    except BrokenPipeError:
        # The reader went away (`robyn-config --help | head`): stop quietly, no traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
