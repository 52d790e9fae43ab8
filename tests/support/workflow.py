"""The suggested workflow for one stack-matrix cell, run the way an operator would run it.

create, ``make install.dev``, check, tests with coverage, the migration bootstrap, serve,
add the entities, check, makemigration, migrate, serve and exercise the entity API, the
generated tests. The ``matrix`` nox sessions run it as is; ``postgres_cell`` builds on it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from scaffold.matrix import PackageManager, Stack
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

if TYPE_CHECKING:
    import nox

__all__ = [
    "ENTITY_TABLES",
    "MATRIX_ENTITIES",
    "RETIRED_TABLE",
    "SQLITE_URL",
    "UUID_KEY_CELL",
    "CellWorkflow",
    "sqlite_tables",
]

SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 5.0
# What every matrix cell adds (entity, --fields): one with typed fields, one with the default.
MATRIX_ENTITIES = (
    ("product", "name:str sku:str:unique price:decimal=9.99 in_stock:bool=true stock:int:index=0"),
    ("order-item", ""),
)
# What the matrix then adds to the first entity while its table holds a row (add-fields).
GROWN_FIELDS = "phone:str? reorder_level:int=5"
# An entity the matrix adds, migrates and removes again (the migration then drops its table).
RETIRED_ENTITY = ("coupon", "code:str:unique")
RETIRED_TABLE = "coupons"
# The tables of MATRIX_ENTITIES.
ENTITY_TABLES = ("products", "order_items")
# The cell whose service is created with `--id-type uuid`: its entities have UUID keys (in
# its pg session too), the other cells keep the default int keys.
UUID_KEY_CELL = "mvc-tortoise-poetry"
# The generated project's default database: the one `make makemigration` diffs against.
SQLITE_URL = "sqlite:///./app.db"


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
        test_database_url: str | None = None,
        checks: bool = True,
    ) -> None:
        """``database_url`` serves the app and receives the migrations (default: SQLite).

        Revisions are always generated on SQLite, as an operator does locally, and applied on
        SQLite first (Alembic diffs against it), then on ``database_url``.
        ``test_database_url`` becomes the generated tests' ``TEST_DATABASE_URL``.
        ``checks=False`` skips lint and the coverage run, which do not depend on the database.
        """
        self.session = session
        self.stack = stack
        self.project = project
        self.database_url = database_url
        self.test_database_url = test_database_url
        self.checks = checks
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
            self.make("check")
            self.make("tests.coverage")
        self.make("makemigration", "MIGRATION_MESSAGE=init")
        self.migrate()
        self.serve(lambda base_url: None)
        # add wants a clean work tree, as an operator who commits each step has.
        self.commit("Initial migration")
        for entity, fields in MATRIX_ENTITIES:
            self.add(entity, fields)
        if self.checks:
            self.make("check")
        self.make("makemigration", "MIGRATION_MESSAGE=entities")
        self.migrate()
        self.serve(self.exercise_entities)
        self.grow_first_entity()
        self.retire_an_entity()
        tests_env = {"TEST_DATABASE_URL": self.test_database_url} if self.test_database_url else {}
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
        self.commit(f"Add {entity}")

    def grow_first_entity(self) -> None:
        """add-fields on the first entity while a row exists; the row gets the new defaults."""
        self.commit("Migrate the entities")
        entity, fields = MATRIX_ENTITIES[0]
        kept: list[dict[str, object]] = []
        self.serve(
            lambda base_url: kept.append(EntityApi(self.session, base_url, entity, fields).keep())
        )
        command = ["robyn-config", "add-fields", entity, str(self.project)]
        self.session.run(*command, "--fields", GROWN_FIELDS)
        self.commit(f"Add fields to {entity}")
        if self.checks:
            self.make("check")
        self.make("makemigration", "MIGRATION_MESSAGE=grow")
        self.migrate()
        grown = f"{fields} {GROWN_FIELDS}"

        def check_grown(base_url: str) -> None:
            api = EntityApi(self.session, base_url, entity, grown)
            api.expect_defaults(kept[0], GROWN_FIELDS)
            # It holds the samples' unique values, which the full exercise posts again.
            api.expect("delete the kept item", 204, "DELETE", f"/{kept[0]['id']}")
            api.exercise()

        self.serve(check_grown)

    def retire_an_entity(self) -> None:
        """add, migrate, then remove an entity and migrate its drop; the others still serve."""
        self.commit("Migrate the new fields")
        entity, fields = RETIRED_ENTITY
        self.add(entity, fields)
        self.make("makemigration", f"MIGRATION_MESSAGE=add_{entity}")
        self.migrate()
        self.commit(f"Migrate {entity}")
        self.session.run("robyn-config", "remove", entity, str(self.project))
        self.commit(f"Remove {entity}")
        self.make("makemigration", f"MIGRATION_MESSAGE=remove_{entity}")
        self.migrate()
        self.commit(f"Migrate the removal of {entity}")
        tables = sqlite_tables(self.project / "app.db")
        if RETIRED_TABLE in tables or not set(ENTITY_TABLES) <= tables:
            self.session.error(f"after removing {entity}, app.db holds {sorted(tables)}")
        if self.checks:
            self.make("check")

    def exercise_entities(self, base_url: str) -> None:
        """The entity API of every entity in ``MATRIX_ENTITIES`` on the server at ``base_url``."""
        for entity, fields in MATRIX_ENTITIES:
            EntityApi(self.session, base_url, entity, fields).exercise()

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
