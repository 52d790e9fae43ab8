"""The suggested workflow for one stack-matrix cell, run the way an operator would run it.

create, ``make install.dev``, check, tests with coverage, the migration bootstrap, serve;
add the entities (a customer and its orders among them), check, makemigration, migrate, serve
and exercise every entity's API and the reference's; add fields to the customer while rows
refer to it, migrate, serve them; remove an entity and migrate its drop. The generated tests
run after each step. The ``matrix`` nox sessions run it as is; ``postgres_cell`` builds on it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from scaffold.matrix import PackageManager, Stack
from scaffold.project.entities import parse_entity_name, parse_fields
from tests.support.entity_api import EntityApi
from tests.support.index import index_url
from tests.support.processes import (
    free_port,
    kill_group,
    start_group,
    stop_group,
    wait_for_status,
)
from tests.support.project_env import path_without, project_tools_env
from tests.support.reference_api import KeptRows, ReferenceApi

if TYPE_CHECKING:
    import nox

__all__ = [
    "ENTITY_TABLES",
    "GROWN_ENTITY",
    "MATRIX_ENTITIES",
    "REFERENCE",
    "RETIRED_TABLE",
    "SQLITE_URL",
    "UUID_KEY_CELL",
    "CellWorkflow",
    "reference_columns",
    "sqlite_foreign_keys",
    "sqlite_tables",
]

SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 5.0
# What every matrix cell adds (entity, --fields), in this order: a catalog item with each
# modifier and defaults and a name of two words (retired later), a customer with a unique
# email, and its orders, which refer to it.
MATRIX_ENTITIES = (
    (
        "catalog-item",
        "name:str sku:str:unique price:decimal=9.99 in_stock:bool=true stock:int:index=0",
    ),
    ("customer", "name:str email:str:unique"),
    ("order", "customer:ref total:decimal=0 note:text?"),
)
# The reference among them: (the referenced entity, the referring one, its reference field).
REFERENCE = ("customer", "order", "customer")
# What the matrix then adds to the referenced entity while its table holds rows that others
# refer to (add-fields): an optional field and one with a default.
GROWN_ENTITY = "customer"
GROWN_FIELDS = "phone:str? visits:int=0"
# The entity the matrix removes after that (the migration then drops its table).
RETIRED_ENTITY = "catalog-item"
RETIRED_TABLE = "catalog_items"
# The tables of MATRIX_ENTITIES left in the end.
ENTITY_TABLES = ("customers", "orders")
# The cell whose service is created with `--id-type uuid`: its entities have UUID keys (in
# its pg session too), the other cells keep the default int keys.
UUID_KEY_CELL = "mvc-tortoise-poetry"
# The generated project's default database: the one `make makemigration` diffs against.
SQLITE_URL = "sqlite:///./app.db"


def reference_columns() -> tuple[str, str, str]:
    """``REFERENCE`` as the database holds it: (referring table, its column, referenced table)."""
    parent, child, reference = REFERENCE
    fields = parse_fields(dict(MATRIX_ENTITIES)[child])
    column = next(field.column for field in fields if field.name == reference)
    return parse_entity_name(child).plural, column, parse_entity_name(parent).plural


def sqlite_foreign_keys(path: Path, table: str) -> set[tuple[str, str, str, str]]:
    """The foreign keys of ``table`` in the SQLite database at ``path``:
    (column, referenced table, referenced column, ON DELETE action)."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        rows = connection.execute(f"PRAGMA foreign_key_list({table})").fetchall()
    # id, seq, table, from, to, on_update, on_delete, match
    return {(str(row[3]), str(row[2]), str(row[4]), str(row[6])) for row in rows}


def sqlite_tables(path: Path) -> set[str]:
    """The tables of the SQLite database at ``path``."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(name) for (name,) in rows}


class CellWorkflow:
    """The suggested workflow order for one cell, each step run and logged by a nox session."""

    def __init__(
        self,
        session: nox.Session,
        stack: Stack,
        project: Path,
        *,
        database_url: str | None = None,
        test_database: Callable[[], str] | None = None,
        checks: bool = True,
    ) -> None:
        """``database_url`` serves the app and receives the migrations (default: SQLite).

        Revisions are always generated on SQLite, as an operator does locally, and applied on
        SQLite first (Alembic diffs against it), then on ``database_url``.
        ``test_database`` makes an empty database for each run of the generated tests; its
        URL becomes their ``TEST_DATABASE_URL`` (they create its tables themselves).
        ``checks=False`` skips lint and the coverage run, which do not depend on the database.
        """
        self.session = session
        self.stack = stack
        self.project = project
        self.database_url = database_url
        self.test_database = test_database
        self.checks = checks
        # The project's entities as it stands (entity -> its fields, as --fields spells them).
        self.entities: dict[str, str] = {}
        # The rows of the reference the first exercise leaves for the later steps.
        self.kept: KeptRows | None = None
        self.port = free_port()
        # The generated project must use its own environment, never the nox session's.
        session_venv = str(session.virtualenv.location)
        self.env = {
            "PATH": path_without(session_venv, os.environ.get("PATH", "")),
            "VIRTUAL_ENV": "",
            **project_tools_env(project),
            "PORT": str(self.port),
            "DATABASE_URL": SQLITE_URL,
        }

    def make(self, *targets: str, env: dict[str, str] | None = None) -> None:
        """``make -C PROJECT TARGETS`` in the project's environment (plus ``env``)."""
        self.session.run(
            "make",
            "-C",
            str(self.project),
            *targets,
            env={**self.env, **(env or {})},
            external=True,
        )

    def migrate(self) -> None:
        """``make migrate`` on SQLite, then on the workflow's database if it has one."""
        self.session.log(f"migrate {SQLITE_URL} (the database makemigration diffs against)")
        self.make("migrate")
        if self.database_url:
            self.session.log(f"migrate {self.database_url}")
            self.make("migrate", env={"DATABASE_URL": self.database_url})

    def run(self) -> None:
        """Every step of the workflow, from a fresh project to the generated tests."""
        if self.project.exists():
            self.session.run("rm", "-rf", str(self.project), external=True)
        create = ["robyn-config", "create", self.project.name, str(self.project)]
        create += ["--design", self.stack.design.value, "--orm", self.stack.orm.value]
        create += ["--package-manager", self.stack.package_manager.value]
        if self.stack.package_manager is PackageManager.POETRY:
            create += ["--index-url", index_url()]
        if self.stack.id == UUID_KEY_CELL:
            create += ["--id-type", "uuid"]
        self.session.run(*create)
        self.make("install.dev")
        if self.checks:
            # `make check` is lint and the tests: the tests run once, with coverage.
            self.make("lint")
            self.make("tests.coverage")
        self.make("makemigration", "MIGRATION_MESSAGE=init")
        self.migrate()
        self.serve(lambda base_url: None)
        # add wants a clean work tree, as an operator who commits each step has.
        self.commit("Initial migration")
        for entity, fields in MATRIX_ENTITIES:
            self.add(entity, fields)
        self.check()
        self.make("makemigration", "MIGRATION_MESSAGE=entities")
        self.migrate()
        self.serve(self.exercise_and_keep)
        self.grow_an_entity()
        self.retire_an_entity()

    def check(self) -> None:
        """After each step: ``make check`` (lint and the generated tests), or without
        ``checks`` the generated tests alone, on a new ``test_database`` when there is one."""
        if self.checks:
            self.make("check")
            return
        tests_env = {"TEST_DATABASE_URL": self.test_database()} if self.test_database else {}
        self.make("tests", env=tests_env)

    def commit(self, message: str) -> None:
        """Commit the whole work tree (possibly nothing) as the ``matrix`` identity."""
        git = ["git", "-C", str(self.project)]
        self.session.run(*git, "add", "-A", external=True)
        identity = ["-c", "user.name=matrix", "-c", "user.email=matrix@localhost"]
        # Empty after the SQLAlchemy bootstrap: Alembic writes no revision without tables.
        self.session.run(
            *git, *identity, "commit", "-q", "--allow-empty", "-m", message, external=True
        )

    def add(self, entity: str, fields: str) -> None:
        """``robyn-config add ENTITY [--fields FIELDS]``, then commit it."""
        command = ["robyn-config", "add", entity, str(self.project)]
        self.session.run(*command, *(["--fields", fields] if fields else []))
        self.entities[entity] = fields
        self.commit(f"Add {entity}")

    def grow_an_entity(self) -> None:
        """add-fields on the referenced entity while rows exist, a referrer among them.

        The kept rows answer the new fields' defaults (null for the optional one), still refer
        to each other and are still protected from deletion; the grown contract passes.
        """
        self.commit("Migrate the entities")
        kept = self.kept
        if kept is None:
            self.session.error("the entities' exercise kept no rows to grow the table with")
        entity, added = GROWN_ENTITY, GROWN_FIELDS
        command = ["robyn-config", "add-fields", entity, str(self.project)]
        self.session.run(*command, "--fields", added)
        self.entities[entity] = f"{self.entities[entity]} {added}"
        self.commit(f"Add fields to {entity}")
        self.check()
        self.make("makemigration", "MIGRATION_MESSAGE=grow")
        self.migrate()

        def check_grown(base_url: str) -> None:
            EntityApi(self.session, base_url, entity, self.entities[entity]).expect_defaults(
                kept.parent, added
            )
            self.reference_api(base_url).expect_kept(kept)
            self.exercise_entities(base_url)

        self.serve(check_grown)

    def retire_an_entity(self) -> None:
        """remove an entity and migrate the drop of its table; the others' tables stay."""
        self.commit("Migrate the new fields")
        # The referenced entity cannot go while another refers to it: exit 2, nothing written.
        referenced = REFERENCE[0]
        self.session.run("robyn-config", "remove", referenced, str(self.project), success_codes=[2])
        status = ["git", "-C", str(self.project), "status", "--porcelain"]
        if self.session.run(*status, silent=True, external=True):
            self.session.error(f"the refused remove of {referenced} changed the work tree")
        entity = RETIRED_ENTITY
        self.session.run("robyn-config", "remove", entity, str(self.project))
        del self.entities[entity]
        self.commit(f"Remove {entity}")
        self.make("makemigration", f"MIGRATION_MESSAGE=remove_{entity}")
        self.migrate()
        self.commit(f"Migrate the removal of {entity}")
        tables = sqlite_tables(self.project / "app.db")
        if RETIRED_TABLE in tables or not set(ENTITY_TABLES) <= tables:
            self.session.error(f"after removing {entity}, app.db holds {sorted(tables)}")
        # After every migration so far (SQLite's table rebuilds among them), the reference
        # is still a foreign key that restricts deletes.
        table, column, target = reference_columns()
        expected = (column, target, "id", "RESTRICT")
        keys = sqlite_foreign_keys(self.project / "app.db", table)
        if expected not in keys:
            self.session.error(f"app.db's {table} lacks the foreign key {expected}: {keys}")
        self.session.log(f"app.db: {table}.{column} references {target}.id ON DELETE RESTRICT")
        self.check()

    def reference_api(self, base_url: str) -> ReferenceApi:
        """The reference of ``REFERENCE`` between the project's entities as they stand."""
        parent, child, field = REFERENCE
        return ReferenceApi(
            self.session,
            base_url,
            (parent, self.entities[parent]),
            (child, self.entities[child]),
            field,
            id_type="uuid" if self.stack.id == UUID_KEY_CELL else "int",
        )

    def exercise_entities(self, base_url: str) -> KeptRows:
        """Every entity's API on the server at ``base_url``, then the reference's contract.

        The referring entity's own contract runs with two rows of the referenced one; the
        reference's leaves one referenced row with its referrer, which this answers.
        """
        child = REFERENCE[1]
        for entity, fields in self.entities.items():
            if entity != child:
                EntityApi(self.session, base_url, entity, fields).exercise()
        references = self.reference_api(base_url)
        references.exercise_referrers()
        return references.exercise()

    def exercise_and_keep(self, base_url: str) -> None:
        """``exercise_entities``, keeping its rows for the later steps."""
        self.kept = self.exercise_entities(base_url)

    def serve(
        self,
        exercise: Callable[[str], None],
        *,
        start_script: bool = False,
        database_url: str | None = None,
    ) -> None:
        """Start the server, check /healthcheck, run ``exercise``, stop it with SIGTERM.

        The server is `make run.dev`, or with ``start_script`` the container's command
        `scripts/start.sh` (migrate, then serve) run on the host with the project's virtual
        environment first on PATH. It serves ``database_url`` or the workflow's database.
        """
        base_url = f"http://127.0.0.1:{self.port}"
        command = ["./scripts/start.sh"] if start_script else ["make", "run.dev"]
        env = {
            **os.environ,
            **self.env,
            "DATABASE_URL": database_url or self.database_url or SQLITE_URL,
        }
        if start_script:
            venv_bin = self.project / ".venv" / "bin"
            env["PATH"] = os.pathsep.join([str(venv_bin), self.env["PATH"]])
        log_path = self.project.parent / f"{self.project.name}-{command[-1].rsplit('/', 1)[-1]}.log"
        self.session.log(f"{' '.join(command)} in the background (log: {log_path})")
        server = start_group(command, cwd=self.project, env=env, log_path=log_path)
        try:
            status = wait_for_status(f"{base_url}/healthcheck", server, SERVER_START_TIMEOUT)
            if status != 200:
                self.session.error(f"GET /healthcheck answered {status}, expected 200")
            self.session.log("GET /healthcheck -> 200")
            exercise(base_url)
            self.session.log("sending SIGTERM to the server's process group")
            elapsed = stop_group(server, SERVER_STOP_TIMEOUT)
            if elapsed is None:
                self.session.error(f"the server still ran {SERVER_STOP_TIMEOUT}s after SIGTERM")
            self.session.log(f"server process group gone {elapsed:.2f}s after SIGTERM")
        finally:
            kill_group(server)
        output = log_path.read_text(errors="replace")
        for sign in ("panicked at", "Traceback (most recent call last)"):
            if sign in output:
                tail = "\n".join(output.splitlines()[-30:])
                self.session.error(f"the server did not stop cleanly ({sign!r}):\n{tail}")
