"""The task namespace shared by the `robyn-config` console script and `invoke` in a checkout.

Tasks only parse options, call one engine function and report; errors become exit codes in
one place, `_edge`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from scaffold.cli_parsing import optional_positionals
from scaffold.console import ConsoleReporter
from scaffold.create import CreateResult, create_project
from scaffold.errors import ScaffoldError, UsageError
from scaffold.matrix import Design, Orm, PackageManager, Stack, parse_choice

__all__ = ["namespace"]

F = TypeVar("F", bound=Callable[..., Any])

INTERRUPTED = 130


def _edge(function: F) -> F:
    """Turn the engine's errors into one sentence on stderr and the contract's exit status."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ScaffoldError as error:
            raise Exit(error.message, code=error.exit_code) from None
        except KeyboardInterrupt:
            raise Exit(
                "Interrupted; what had been changed was rolled back.", code=INTERRUPTED
            ) from None

    return wrapper  # type: ignore[return-value]


def _positional(value: str | None, what: str) -> str | None:
    """Invoke hands over unknown options as positional values; refuse them clearly."""
    if value and value.startswith("-"):
        raise UsageError(f"Unknown option {value!r} (or {what} starting with '-').")
    return value or None


def _choices(enum: type[Any]) -> str:
    return "|".join(member.value for member in enum)


@task(
    positional=["name", "dest"],
    auto_shortflags=False,
    help={
        "name": "Project name (letters, digits, '-', '_'; starts with a letter).",
        "dest": "Directory to create the project in (default: ./NAME).",
        "design": f"Code layout: {_choices(Design)} (default: ddd).",
        "orm": f"ORM: {_choices(Orm)} (default: sqlalchemy).",
        "package-manager": f"Package manager: {_choices(PackageManager)} (default: uv).",
        "index-url": "Package index the project resolves and locks from (its primary index).",
        "git": "Make the project a git repository with an initial commit (default).",
        "dry-run": "Print the plan and write nothing.",
    },
)
@_edge
def create(
    c: Context,
    name: str,
    dest: str | None = None,
    design: str = Design.DDD.value,
    orm: str = Orm.SQLALCHEMY.value,
    package_manager: str = PackageManager.UV.value,
    index_url: str | None = None,
    git: bool = True,
    dry_run: bool = False,
) -> None:
    """Create a new Robyn service for one cell of the stack matrix."""
    stack = Stack(
        parse_choice(Design, design, "--design"),
        parse_choice(Orm, orm, "--orm"),
        parse_choice(PackageManager, package_manager, "--package-manager"),
    )
    name = _positional(name, "a NAME") or ""
    destination = _positional(dest, "a DEST")
    reporter = ConsoleReporter()
    if dry_run:
        reporter.note("Dry run: nothing will be written.")
    result = create_project(
        name=name,
        stack=stack,
        destination=Path(destination) if destination else None,
        index_url=index_url,
        git=git,
        dry_run=dry_run,
        reporter=reporter,
    )
    _report_create(reporter, result)


def _report_create(reporter: ConsoleReporter, result: CreateResult) -> None:
    if result.dry_run:
        reporter.note(f"Dry run: {result.destination} ({result.stack.id}) was not changed.")
        return
    commit = result.commit
    if commit is not None:
        reporter.note(f"Initial commit {commit.sha[:12]} made in {result.destination}.")
        if commit.fallback_identity:
            reporter.note(
                "git has no user.name/user.email configured, so the initial commit was made as "
                "'robyn-config <robyn-config@localhost>'; after configuring git, run "
                "'git commit --amend --reset-author --no-edit' to take it over."
            )
    reporter.note(f"Created {result.stack.id} service in {result.destination}.")
    reporter.note("Next: cd into it, then 'make install.dev', 'make check' and 'make run.dev'.")


optional_positionals("create", "dest")

namespace = Collection(create)
