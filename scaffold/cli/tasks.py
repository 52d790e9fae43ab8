"""The task namespace shared by the `robyn-config` console script and `invoke` in a checkout.

Tasks only parse options, call one engine function and report; errors become exit codes in
one place, `scaffold.cli.edge`.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from scaffold.cli.console import ConsoleReporter
from scaffold.cli.edge import edge
from scaffold.cli.parsing import optional_positionals
from scaffold.cli.runbook_tasks import runbook_collection
from scaffold.errors import OperationFailed, UsageError
from scaffold.matrix import DEFAULT_STACK, Design, Orm, PackageManager, Stack, parse_choice
from scaffold.project.entities import FieldType

if TYPE_CHECKING:
    from scaffold.operations.create import CreateResult

__all__ = ["namespace"]

INTERRUPTED = "Interrupted; what had been changed was rolled back."
_edge = edge(interrupted=INTERRUPTED)


def _create_destination(arguments: dict[str, Any]) -> str | None:
    """create's project: DEST, else ./NAME."""
    return arguments.get("dest") or arguments.get("name")


def _positional(value: str | None, what: str) -> str | None:
    """Invoke hands over unknown options as positional values; refuse them clearly."""
    if value and value.startswith("-"):
        raise UsageError(f"Unknown option {value!r} (or {what} starting with '-').")
    return value or None


def _entity_command(
    entity: str, project: str | None, dry_run: bool
) -> tuple[str, Path, ConsoleReporter]:
    """The entity and project an entity command was given, and its reporter."""
    name = _positional(entity, "an ENTITY") or ""
    directory = Path(_positional(project, "a PROJECT") or ".")
    reporter = ConsoleReporter()
    if dry_run:
        reporter.note("Dry run: nothing will be written.")
    return name, directory, reporter


def _show_dry_run(reporter: ConsoleReporter, diffs: Mapping[Path, str], project: Path) -> None:
    for diff in diffs.values():
        reporter.note(diff.rstrip("\n"))
    reporter.note(f"Dry run: {project} was not changed.")


def _choices(enum: type[Any]) -> str:
    return "|".join(member.value for member in enum)


@task(
    positional=["name", "dest"],
    auto_shortflags=False,
    help={
        "name": "Project name (letters, digits, '-', '_'; starts with a letter).",
        "dest": "Directory to create the project in (default: ./NAME).",
        "design": f"Code layout: {_choices(Design)} (default: {DEFAULT_STACK.design}).",
        "orm": f"ORM: {_choices(Orm)} (default: {DEFAULT_STACK.orm}).",
        "package-manager": f"Package manager: {_choices(PackageManager)} "
        f"(default: {DEFAULT_STACK.package_manager}).",
        "index-url": "Package index the project resolves and locks from (its primary index).",
        "git": "Make the project a git repository with an initial commit (default).",
        "dry-run": "Print the plan and write nothing.",
    },
)
@edge(interrupted=INTERRUPTED, directory=_create_destination)
def create(
    c: Context,
    name: str,
    dest: str | None = None,
    design: str = DEFAULT_STACK.design.value,
    orm: str = DEFAULT_STACK.orm.value,
    package_manager: str = DEFAULT_STACK.package_manager.value,
    index_url: str | None = None,
    git: bool = True,
    dry_run: bool = False,
) -> None:
    """Create a new Robyn service for one cell of the stack matrix."""
    # Each task imports its engine when it runs: every command starts only as slow as it must.
    from scaffold.operations.create import create_project

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


@task(
    positional=["entity", "project"],
    auto_shortflags=False,
    help={
        "entity": "Entity name: order-item, order_item or OrderItem.",
        "project": "The service's directory (default: the current directory).",
        "fields": "Fields as 'name:type[?][:unique][:index][=default] ...'; types: "
        + " ".join(member.value for member in FieldType)
        + "; '?' makes a field optional; 'customer:ref' (or 'buyer:ref(customer)') refers to "
        "an entity of the service (default: 'name:str').",
        "allow-dirty": "Run even though the git work tree has uncommitted changes.",
        "dry-run": "Print the plan with unified diffs and write nothing.",
    },
)
@_edge
def add(
    c: Context,
    entity: str,
    project: str | None = None,
    fields: str | None = None,
    allow_dirty: bool = False,
    dry_run: bool = False,
) -> None:
    """Add an entity (table, repository, use cases, routes, tests) to an existing service."""
    entity, directory, reporter = _entity_command(entity, project, dry_run)
    from scaffold.operations.add import add_entity

    result = add_entity(
        project=directory,
        entity=entity,
        fields=fields,
        allow_dirty=allow_dirty,
        dry_run=dry_run,
        reporter=reporter,
    )
    if result.dry_run:
        _show_dry_run(reporter, result.diffs, result.project)
        return
    reporter.note(
        f"Added {result.entity.class_name} at {result.entity.route}; the changes are left "
        "uncommitted for review. Next: 'make makemigration MIGRATION_MESSAGE=add_"
        f"{result.entity.module}', 'make migrate' and 'make check'."
    )


@task(
    positional=["entity", "project"],
    auto_shortflags=False,
    help={
        "entity": "An entity added before: order-item, order_item or OrderItem.",
        "project": "The service's directory (default: the current directory).",
        "fields": "The new fields, 'name:type[?][:unique][:index][=default] ...' (required); "
        "each needs a default or '?', since the table may hold rows (a reference, '?').",
        "allow-dirty": "Run even though the git work tree has uncommitted changes.",
        "dry-run": "Print the plan with unified diffs and write nothing.",
    },
)
@_edge
def add_fields(
    c: Context,
    entity: str,
    project: str | None = None,
    fields: str | None = None,
    allow_dirty: bool = False,
    dry_run: bool = False,
) -> None:
    """Add fields to an existing entity (table, contracts, its tests); then makemigration."""
    entity, directory, reporter = _entity_command(entity, project, dry_run)
    from scaffold.operations.add_fields import add_fields as add_entity_fields

    result = add_entity_fields(
        project=directory,
        entity=entity,
        fields=fields,
        allow_dirty=allow_dirty,
        dry_run=dry_run,
        reporter=reporter,
    )
    merged = ", ".join(str(path.relative_to(result.project)) for path in result.merged)
    if result.dry_run:
        if merged:
            reporter.note(f"The new fields would be merged into your changes of {merged}.")
        _show_dry_run(reporter, result.diffs, result.project)
        return
    if merged:
        reporter.note(f"The new fields were merged into your changes of {merged}.")
    names = ", ".join(item.name for item in result.added)
    reporter.note(
        f"Added {names} to {result.entity.class_name}; the changes are left uncommitted for "
        f"review. Next: 'make makemigration MIGRATION_MESSAGE=add_{result.entity.module}_"
        "fields', 'make migrate' and 'make check'."
    )


@task(
    positional=["entity", "project"],
    auto_shortflags=False,
    help={
        "entity": "The entity to remove: order-item, order_item or OrderItem.",
        "project": "The service's directory (default: the current directory).",
        "force": "Delete the entity's files even where they were changed since add wrote them.",
        "allow-dirty": "Run even though the git work tree has uncommitted changes.",
        "dry-run": "Print the plan with unified diffs and write nothing.",
    },
)
@_edge
def remove(
    c: Context,
    entity: str,
    project: str | None = None,
    force: bool = False,
    allow_dirty: bool = False,
    dry_run: bool = False,
) -> None:
    """Remove an entity that add created: its files, its wiring and its entry; add's inverse."""
    entity, directory, reporter = _entity_command(entity, project, dry_run)
    from scaffold.operations.remove import remove_entity

    result = remove_entity(
        project=directory,
        entity=entity,
        force=force,
        allow_dirty=allow_dirty,
        dry_run=dry_run,
        reporter=reporter,
    )
    root = result.project
    if result.changed:
        names = ", ".join(path.relative_to(root).as_posix() for path in result.changed)
        verb = "Would delete" if result.dry_run else "Deleted"
        reporter.note(f"{verb} under --force, although changed since add wrote them: {names}.")
    if result.missing:
        names = ", ".join(path.relative_to(root).as_posix() for path in result.missing)
        reporter.note(f"Already gone, so not deleted: {names}.")
    if result.dry_run:
        _show_dry_run(reporter, result.diffs, root)
        return
    reporter.note(
        f"Removed {result.entity.class_name} ({result.entity.route}); the changes are left "
        "uncommitted for review. Next: 'make makemigration MIGRATION_MESSAGE=remove_"
        f"{result.entity.module}' (it drops the {result.entity.plural} table), 'make migrate' "
        "and 'make check'."
    )


@task(
    positional=["project"],
    auto_shortflags=False,
    help={
        "project": "The service's directory (default: the current directory).",
        "message": 'What the migration does, e.g. "add products" (required).',
    },
)
@_edge
def makemigration(c: Context, project: str | None = None, message: str | None = None) -> None:
    """Generate the next migration from the models (Alembic or Aerich), like the Makefile."""
    from scaffold.operations.migrations import NO_CHANGES, make_migration

    directory = _positional(project, "a PROJECT") or "."
    reporter = ConsoleReporter()
    result = make_migration(project=Path(directory), message=message, reporter=reporter)
    if result.revision is None:
        reporter.note(f"{NO_CHANGES}: the models match the migrations; no file was written.")
        return
    reporter.note(
        f"Wrote {result.revision.relative_to(result.project)}; review it, then "
        "'robyn-config migrate'."
    )


@task(
    positional=["project"],
    auto_shortflags=False,
    help={"project": "The service's directory (default: the current directory)."},
)
@_edge
def migrate(c: Context, project: str | None = None) -> None:
    """Apply the migrations to the project's DATABASE_URL (Alembic or Aerich)."""
    from scaffold.operations.migrations import migrate as apply_migrations

    directory = _positional(project, "a PROJECT") or "."
    reporter = ConsoleReporter()
    result = apply_migrations(project=Path(directory), reporter=reporter)
    if not result.applied:
        reporter.note(
            "No migrations yet, so nothing was applied; run "
            "'robyn-config makemigration --message init' first."
        )
        return
    reporter.note(f"Migrated {result.target.describe} to the latest migration.")


@task(
    positional=["project"],
    auto_shortflags=False,
    help={"project": "The service's directory (default: the current directory)."},
)
@_edge
def doctor(c: Context, project: str | None = None) -> None:
    """Check a service against the create baseline and what add keeps true; exit 1 on problems."""
    from scaffold.operations.doctor import run_doctor

    directory = _positional(project, "a PROJECT") or "."
    reporter = ConsoleReporter()
    result = run_doctor(project=Path(directory), reporter=ConsoleReporter(sys.stderr))
    for check in result.checks:
        reporter.note(check.line())
    if result.problems:
        count = len(result.problems)
        raise OperationFailed(f"doctor found {count} problem{'s' if count > 1 else ''}.")


@task(
    positional=["project"],
    auto_shortflags=False,
    help={"project": "The service's directory (default: the current directory)."},
)
@edge(interrupted=INTERRUPTED, recover=False)
def recover(c: Context, project: str | None = None) -> None:
    """Finish undoing a robyn-config command that was killed or could not roll back."""
    from scaffold.safety.recovery import recover_pending

    directory = _positional(project, "a PROJECT") or "."
    reporter = ConsoleReporter()
    recovered = recover_pending(Path(directory))
    for item in recovered:
        reporter.note(item.message())
    if not recovered:
        reporter.note(f"Nothing to recover in {Path(directory).absolute()}.")


optional_positionals("create", "dest")
optional_positionals("add", "project")
optional_positionals("add-fields", "project")
optional_positionals("remove", "project")
optional_positionals("makemigration", "project")
optional_positionals("migrate", "project")
optional_positionals("doctor", "project")
optional_positionals("recover", "project")

namespace = Collection(create, add, add_fields, remove, makemigration, migrate, doctor, recover)
namespace.add_collection(runbook_collection)
