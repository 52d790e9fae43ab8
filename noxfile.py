"""Nox sessions: lint, typecheck, tests, and one end-to-end session per stack-matrix cell.

`nox -l` lists them; `nox --tags ci` runs everything CI runs (README's test command).
The heavy sessions (matrix, pg, runbook, reliability, bench) are `default=False`, so a bare
`nox` runs lint, typecheck and tests only. The sessions' work lives in `tests/support`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))

from scaffold.matrix import STACKS, PackageManager, Stack
from tests.support.postgres_cell import run_on_postgres
from tests.support.processes import free_port
from tests.support.project_env import git_identity
from tests.support.workflow import CellWorkflow

nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
CI_LOG = ROOT / "bench-results" / "ci-run.log"  # written by .ci/run
QUICK_CELL = STACKS[0].id
# PostgreSQL sessions: every design x ORM pair with uv, and this poetry cell (Aerich's
# SQLite-only DDL is the known portability trap, so the poetry cell is a Tortoise one).
POSTGRES_POETRY_CELL = "mvc-tortoise-poetry"
POSTGRES_STACKS = [
    stack
    for stack in STACKS
    if stack.package_manager is PackageManager.UV or stack.id == POSTGRES_POETRY_CELL
]


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
    project = Path(session.create_tmp()).absolute() / f"pg-{cell}"
    run_on_postgres(session, Stack.from_id(cell), project)


@nox.session(default=False, tags=["ci"])
def runbook(session: nox.Session) -> None:
    """`robyn-config runbook run workflow` for one cell (compose is skipped without Docker)."""
    install_toolkit(session)
    stack = Stack.from_id(QUICK_CELL)
    project = Path(session.create_tmp()).absolute() / f"runbook-{stack.id}"
    if project.exists():
        session.run("rm", "-rf", str(project), external=True)
    env = {
        "DESIGN": stack.design.value,
        "ORM": stack.orm.value,
        "PACKAGE_MANAGER": stack.package_manager.value,
        "PORT": str(free_port()),
        **git_identity("runbook"),
    }
    session.run("robyn-config", "runbook", "run", "workflow", "--project", str(project), env=env)


@nox.session(default=False, tags=["ci", "reliability", "alone"])
def reliability(session: nox.Session) -> None:
    """The generated service (one uv project per design x ORM, SQLite) under 30 s of load at
    64 connections, SIGTERM during load, hypothesis fuzzing and hostile requests."""
    from tests.reliability.service_kit import PROJECTS_VARIABLE, prepare_cells
    from tests.support.wrk import ensure_wrk

    install_toolkit(session)
    session.install("hypothesis")
    session.log(f"wrk: {ensure_wrk()}")
    root = Path(session.create_tmp()).absolute() / "reliability"
    toolkit = str(Path(session.bin) / "robyn-config")
    projects = prepare_cells(root, toolkit=toolkit, log=session.log)
    env = {PROJECTS_VARIABLE: json.dumps(projects)}
    session.run(
        "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/reliability/service", env=env
    )


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Timings of create and add, and the generated service under wrk beside its references.

    The references (tests/bench/references.py): Robyn + the raw driver (the ceiling), FastAPI
    + uvicorn + async SQLAlchemy, and a bare Robyn app; the issue 11 targets are printed met or
    missed. Prints the tables and writes bench-results/bench.{json,md}. Arguments after ``--``
    go to tests/bench/run_bench.py: ``--seconds N`` per load figure, ``--ci-log PATH`` (a
    .ci/run log: matrix wall times; default bench-results/ci-run.log, which .ci/run writes),
    ``--quick`` (one cell, SQLite only, references included). Installs wrk and PostgreSQL when
    they are missing.
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
