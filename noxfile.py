"""Nox sessions: lint, typecheck, tests, and one end-to-end session per stack-matrix cell.

`nox -l` lists them; `nox --tags ci` runs everything CI runs (README's test command).
Matrix sessions are `default=False` so a bare `nox` stays quick.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import nox

sys.path.insert(0, str(Path(__file__).parent))

from scaffold.generation.entity import INVALID_SAMPLES, SAMPLES, UPDATED_SAMPLES
from scaffold.matrix import STACKS, Orm, PackageManager, Stack
from scaffold.project.entities import parse_entity_name, parse_fields
from tests.support.index import index_url
from tests.support.postgres import PostgresServer, running_postgres
from tests.support.processes import free_port, group_alive, wait_for_status, wait_group_gone

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
CI_LOG = ROOT / "bench-results" / "ci-run.log"  # written by .ci/run
QUICK_CELL = STACKS[0].id
SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 5.0
# What every matrix cell adds (entity, --fields): one with typed fields, one with the default.
MATRIX_ENTITIES = (("product", "name:str price:decimal in_stock:bool"), ("order-item", ""))
# The generated project's default database: the one `make makemigration` diffs against.
SQLITE_URL = "sqlite:///./app.db"
# PostgreSQL sessions: every design x ORM pair with uv, and this poetry cell (Aerich's
# SQLite-only DDL is the known portability trap, so the poetry cell is a Tortoise one).
POSTGRES_POETRY_CELL = "mvc-tortoise-poetry"
POSTGRES_STACKS = [
    stack
    for stack in STACKS
    if stack.package_manager is PackageManager.UV or stack.id == POSTGRES_POETRY_CELL
]
# The tables of MATRIX_ENTITIES, and each migration tool's own table.
ENTITY_TABLES = ("products", "order_items")
MIGRATION_TABLES = {Orm.SQLALCHEMY: "alembic_version", Orm.TORTOISE: "aerich"}


def install_toolkit(session: nox.Session) -> None:
    """Install the toolkit and its dev group from the lock file into the session's venv."""
    session.run_install(
        "uv",
        "sync",
        "--frozen",
        # Compiled once here, as pip does for an installed wheel: every console-script run
        # would otherwise compile the dependencies (PYTHONDONTWRITEBYTECODE=1 on these machines).
        "--compile-bytecode",
        f"--python={session.virtualenv.location}",
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )


@nox.session(tags=["ci", "quick"])
def lint(session: nox.Session) -> None:
    install_toolkit(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(tags=["ci", "quick"])
def typecheck(session: nox.Session) -> None:
    install_toolkit(session)
    session.run("mypy")


@nox.session(tags=["ci"])
def tests(session: nox.Session) -> None:
    """The toolkit's own unit and end-to-end tests."""
    install_toolkit(session)
    # nox's uv backend exports these pointing at this session's venv; the end-to-end tests'
    # generated projects would then `uv sync` into it and remove the toolkit mid-run.
    unset: dict[str, str | None] = {"UV_PROJECT_ENVIRONMENT": None, "UV_PYTHON": None}
    session.run("pytest", "-n", "2", "-q", *session.posargs, env=unset)


def _cell_params(stacks: list[Stack], kind: str) -> list[object]:
    return [
        nox.param(
            stack.id,
            id=stack.id,
            tags=[
                "ci",
                kind,
                stack.design.value,
                stack.orm.value,
                stack.package_manager.value,
                *(["quick"] if kind == "matrix" and stack.id == QUICK_CELL else []),
            ],
        )
        for stack in stacks
    ]


@nox.session(default=False)
@nox.parametrize("cell", _cell_params(list(STACKS), "matrix"))
def matrix(session: nox.Session, cell: str) -> None:
    """One cell end to end: create, install, check, test, migrate, serve, stop."""
    install_toolkit(session)
    stack = Stack.from_id(cell)
    project = Path(session.create_tmp()).absolute() / f"svc-{cell}"
    CellWorkflow(session, stack, project).run()


@nox.session(default=False)
@nox.parametrize("cell", _cell_params(POSTGRES_STACKS, "postgres"))
def pg(session: nox.Session, cell: str) -> None:
    """One cell against a real PostgreSQL 15 on 127.0.0.1 that the session starts and stops.

    Migrations are generated on SQLite and applied on PostgreSQL (then one the other way
    round); the server, the entity API, the generated tests (``TEST_DATABASE_URL``) and the
    container's start script (on an empty database) all use it.
    """
    install_toolkit(session)
    stack = Stack.from_id(cell)
    project = Path(session.create_tmp()).absolute() / f"pg-{cell}"
    database = project.name.replace("-", "_")
    with running_postgres() as postgres:
        session.log(f"PostgreSQL on 127.0.0.1:{postgres.port} (data in {postgres.root})")
        workflow = CellWorkflow(
            session,
            stack,
            project,
            database_url=postgres.create_database(database),
            test_database_url=postgres.create_database(f"{database}_tests"),
            checks=False,
        )
        workflow.run()
        migrated = {*ENTITY_TABLES, MIGRATION_TABLES[stack.orm]}
        expect_tables(session, postgres, database, migrated)
        # The generated tests' server created its tables in TEST_DATABASE_URL.
        expect_tables(session, postgres, f"{database}_tests", set(ENTITY_TABLES))
        expect_portable_migrations(session, project, stack)
        # The other way round: a revision generated against PostgreSQL applies on SQLite.
        workflow.commit("Migrate the entities")
        workflow.add("tag", "label:str")
        on_postgres = {"DATABASE_URL": postgres.url(database)}
        workflow.make("makemigration", "MIGRATION_MESSAGE=tags", env=on_postgres)
        workflow.make("migrate", env=on_postgres)
        workflow.make("migrate")
        migrated.add("tags")
        expect_tables(session, postgres, database, migrated)
        expect_sqlite_tables(session, project / "app.db", {*ENTITY_TABLES, "tags"})
        # The container's command on a fresh database: it migrates from zero, then serves.
        fresh = postgres.create_database(f"{database}_start")
        workflow.serve(workflow.exercise_entities, start_script=True, database_url=fresh)
        expect_tables(session, postgres, f"{database}_start", migrated)


def expect_tables(
    session: nox.Session, postgres: PostgresServer, database: str, expected: set[str]
) -> None:
    """``database`` on the session's PostgreSQL has (at least) the ``expected`` tables."""
    tables = postgres.tables(database)
    if not expected <= tables:
        session.error(f"PostgreSQL database {database} lacks {sorted(expected - tables)}: {tables}")
    session.log(f"PostgreSQL {database} has {sorted(tables)}")


def expect_sqlite_tables(session: nox.Session, path: Path, expected: set[str]) -> None:
    """The project's SQLite database (``SQLITE_URL``) has (at least) the ``expected`` tables."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {str(name) for (name,) in rows}
    if not expected <= tables:
        session.error(f"SQLite {path.name} lacks {sorted(expected - tables)}: {tables}")
    session.log(f"SQLite {path.name} has {sorted(tables)}")


def expect_portable_migrations(session: nox.Session, project: Path, stack: Stack) -> None:
    """Aerich's SQLite trap is present and defused: each revision picks its SQL by dialect.

    Aerich writes ``AUTOINCREMENT`` for SQLite, which PostgreSQL rejects; the entities'
    revision must carry it for SQLite only, with ``SERIAL`` for PostgreSQL.
    """
    if stack.orm is not Orm.TORTOISE:
        return
    revisions = sorted((project / "migrations" / "models").glob("*.py"))
    for revision in revisions:
        source = revision.read_text()
        if "AUTOINCREMENT" in source and "db.capabilities.dialect" not in source:
            session.error(f"{revision.name} has SQLite-only DDL for every dialect")
    entities = next((path for path in revisions if path.stem.endswith("_entities")), None)
    source = entities.read_text() if entities else ""
    # upgrade(): the SQLite branch is indented under the `if`, PostgreSQL's return is not.
    sqlite_sql, _, postgres_sql = source.partition("\n    return ")
    if not ("AUTOINCREMENT" in sqlite_sql and "SERIAL" in postgres_sql):
        session.error(f"the entities revision does not split SQLite and PostgreSQL DDL: {entities}")
    session.log("Aerich revisions pick their SQL by dialect (AUTOINCREMENT for SQLite only)")


@nox.session(default=False, tags=["ci"])
def runbook(session: nox.Session) -> None:
    """`robyn-config runbook run workflow` for one cell (compose is skipped without Docker)."""
    install_toolkit(session)
    stack = Stack.from_id(QUICK_CELL)
    project = Path(session.create_tmp()).absolute() / f"runbook-{stack.id}"
    if project.exists():
        session.run("rm", "-rf", str(project), external=True)
    identity = {
        f"GIT_{who}_{what}": value
        for who in ("AUTHOR", "COMMITTER")
        for what, value in (("NAME", "runbook"), ("EMAIL", "runbook@localhost"))
    }
    env = {
        "DESIGN": stack.design.value,
        "ORM": stack.orm.value,
        "PACKAGE_MANAGER": stack.package_manager.value,
        "PORT": str(free_port()),
        **identity,
    }
    session.run("robyn-config", "runbook", "run", "workflow", "--project", str(project), env=env)


@nox.session(tags=["ci", "reliability"])
def reliability(session: nox.Session) -> None:
    """The generated service (one uv project per design x ORM, SQLite) under 30 s of load at
    64 connections, SIGTERM during load, hypothesis fuzzing and hostile requests."""
    from tests.reliability.service_kit import CELLS, PROJECTS_VARIABLE, prepare_project
    from tests.support.wrk import ensure_wrk

    install_toolkit(session)
    session.install("hypothesis")
    session.log(f"wrk: {ensure_wrk()}")
    root = Path(session.create_tmp()).absolute() / "reliability"
    toolkit = str(Path(session.bin) / "robyn-config")
    projects = {}
    for cell in CELLS:
        session.log(f"{cell}: create, add product, make install")
        projects[cell] = str(prepare_project(cell, root / f"rel-{cell}", toolkit=toolkit))
    env = {PROJECTS_VARIABLE: json.dumps(projects)}
    session.run(
        "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/reliability/service", env=env
    )


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Timings of create and add, and the generated service under wrk beside a bare Robyn app.

    Prints one table and writes bench-results/bench.{json,md}. Arguments after ``--`` go to
    tests/bench/run_bench.py: ``--seconds N`` per load figure, ``--ci-log PATH`` (a .ci/run
    log: matrix wall times; default bench-results/ci-run.log, which .ci/run writes),
    ``--quick`` (one cell, SQLite only). Installs wrk and PostgreSQL when they are missing.
    """
    from tests.support.postgres import ensure_bin_dir
    from tests.support.wrk import ensure_wrk

    install_toolkit(session)
    session.log(f"wrk: {ensure_wrk()}")
    session.log(f"PostgreSQL: {ensure_bin_dir()}")
    toolkit = str(Path(session.bin) / "robyn-config")
    out = ROOT / "bench-results"
    arguments = list(session.posargs)
    # .ci/run keeps its log there: the matrix sessions' wall times of the last CI run.
    if "--ci-log" not in arguments and CI_LOG.is_file():
        arguments += ["--ci-log", str(CI_LOG)]
    session.run("python", "tests/bench/run_bench.py", str(out), "--toolkit", toolkit, *arguments)


class CellWorkflow:
    """The suggested workflow order for one cell, as the operator would run it."""

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
        path = os.pathsep.join(
            entry
            for entry in os.environ.get("PATH", "").split(os.pathsep)
            if not entry.startswith(str(session.virtualenv.location))
        )
        self.env = {
            "PATH": path,
            "VIRTUAL_ENV": "",
            # nox's uv backend points uv at the session's venv; the project syncs its own.
            "UV_PROJECT_ENVIRONMENT": str(project / ".venv"),
            "UV_PYTHON": str(Path(sys.base_prefix) / "bin" / "python3"),
            "POETRY_VIRTUALENVS_IN_PROJECT": "true",
            "PORT": str(self.port),
            "DATABASE_URL": SQLITE_URL,
        }

    def make(self, *targets: str, env: dict[str, str] | None = None) -> None:
        self.session.run(
            "make",
            "-C",
            str(self.project),
            *targets,
            env={**self.env, **(env or {})},
            external=True,
        )

    def migrate(self) -> None:
        self.session.log(f"migrate {SQLITE_URL} (the database makemigration diffs against)")
        self.make("migrate")
        if self.database_url:
            self.session.log(f"migrate {self.database_url}")
            self.make("migrate", env={"DATABASE_URL": self.database_url})

    def run(self) -> None:
        if self.project.exists():
            self.session.run("rm", "-rf", str(self.project), external=True)
        create = ["robyn-config", "create", self.project.name, str(self.project)]
        create += ["--design", self.stack.design.value, "--orm", self.stack.orm.value]
        create += ["--package-manager", self.stack.package_manager.value]
        if self.stack.package_manager is PackageManager.POETRY:
            create += ["--index-url", index_url()]
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
        tests_env = {"TEST_DATABASE_URL": self.test_database_url} if self.test_database_url else {}
        self.make("tests", env=tests_env)

    def commit(self, message: str) -> None:
        git = ["git", "-C", str(self.project)]
        self.session.run(*git, "add", "-A", external=True)
        identity = ["-c", "user.name=matrix", "-c", "user.email=matrix@localhost"]
        # Empty after the SQLAlchemy bootstrap: Alembic writes no revision without tables.
        self.session.run(
            *git, *identity, "commit", "-q", "--allow-empty", "-m", message, external=True
        )

    def add(self, entity: str, fields: str) -> None:
        command = ["robyn-config", "add", entity, str(self.project)]
        self.session.run(*command, *(["--fields", fields] if fields else []))
        self.commit(f"Add {entity}")

    def exercise_entities(self, base_url: str) -> None:
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
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                command,
                cwd=self.project,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            status = wait_for_status(f"{base_url}/healthcheck", server, SERVER_START_TIMEOUT)
            if status != 200:
                self.session.error(f"GET /healthcheck answered {status}, expected 200")
            self.session.log("GET /healthcheck -> 200")
            exercise(base_url)
            self.session.log("sending SIGTERM to the server's process group")
            os.killpg(server.pid, signal.SIGTERM)
            elapsed = wait_group_gone(server, SERVER_STOP_TIMEOUT)
            if elapsed is None:
                self.session.error(f"the server still ran {SERVER_STOP_TIMEOUT}s after SIGTERM")
            self.session.log(f"server process group gone {elapsed:.2f}s after SIGTERM")
        finally:
            if group_alive(server.pid):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        output = log_path.read_text(errors="replace")
        for sign in ("panicked at", "Traceback (most recent call last)"):
            if sign in output:
                tail = "\n".join(output.splitlines()[-30:])
                self.session.error(f"the server did not stop cleanly ({sign!r}):\n{tail}")


class EntityApi:
    """The HTTP contract of one added entity, called over loopback like a client would."""

    def __init__(self, session: nox.Session, base_url: str, entity: str, fields: str) -> None:
        self.session = session
        name = parse_entity_name(entity)
        self.url = base_url + name.route
        self.fields = parse_fields(fields or None)

    def call(
        self, method: str, path: str = "", body: object = None, raw: bytes | None = None
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, payload = int(response.status), response.read()
        except urllib.error.HTTPError as error:
            status, payload = int(error.code), error.read()
        return status, json.loads(payload) if payload else None

    def expect(self, what: str, expected: int, method: str, path: str = "", **kwargs: Any) -> Any:
        status, payload = self.call(method, path, **kwargs)
        if status != expected:
            self.session.error(
                f"{what}: {method} {self.url}{path} -> {status} {payload}, expected {expected}"
            )
        if status >= 400 and not (
            isinstance(payload, dict) and {"type", "message"} <= set(payload.get("error", {}))
        ):
            self.session.error(f"{what}: the error body is not the envelope: {payload}")
        self.session.log(f"{what}: {method} {self.url}{path} -> {status}")
        return payload

    def same(self, sent: object, got: object) -> bool:
        if isinstance(sent, str) and isinstance(got, str | int | float):
            try:
                return Decimal(sent) == Decimal(str(got))
            except ArithmeticError:
                return sent == got
        return sent == got

    def exercise(self) -> None:
        sample = {f.name: SAMPLES[f.type] for f in self.fields}
        changed = {f.name: UPDATED_SAMPLES[f.type] for f in self.fields}
        first = self.fields[0]
        created = self.expect("create", 201, "POST", body=sample)["result"]
        for key, value in sample.items():
            if not self.same(value, created.get(key)):
                self.session.error(f"create echoed {key}={created.get(key)!r}, sent {value!r}")
        item = f"/{created['id']}"
        listed = self.expect("list", 200, "GET", "?limit=5&offset=0")["result"]
        if created["id"] not in [entry["id"] for entry in listed]:
            self.session.error(f"list does not contain the created item: {listed}")
        self.expect("get", 200, "GET", item)
        self.expect("patch", 200, "PATCH", item, body=changed)
        got = self.expect("get after patch", 200, "GET", item)["result"]
        if not self.same(changed[first.name], got.get(first.name)):
            self.session.error(f"patch did not change {first.name}: {got}")
        self.expect("get missing", 404, "GET", "/999999")
        self.expect("patch missing", 404, "PATCH", "/999999", body=changed)
        invalid = {first.name: INVALID_SAMPLES[first.type]}
        self.expect("patch invalid field", 422, "PATCH", item, body=invalid)
        self.expect("post invalid field", 422, "POST", body={**sample, **invalid})
        self.expect("post malformed JSON", 400, "POST", raw=b'{"name": ')
        self.expect("delete", 204, "DELETE", item)
        self.expect("get deleted", 404, "GET", item)
        self.expect("delete missing", 404, "DELETE", item)
