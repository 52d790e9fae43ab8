"""makemigration, migrate and doctor through the console script on real created projects (slow).

One uv project per ORM goes through the operator's sequence: bootstrap, doctor, add, doctor
(models ahead), makemigration, no-change run, a failing run, migrate, PostgreSQL unreachable,
and doctor on an unregistered route module, a registry import of a missing module and a stale
lock file.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.helpers import CONSOLE_SCRIPT, REPO_ROOT, assert_exit, git, run_program
from tests.support.processes import free_port

pytestmark = pytest.mark.e2e

TIMEOUT = 900

CELLS = {
    # stack id: (models module, route package, registry)
    "ddd-sqlalchemy-uv": (
        "src/app/infrastructure/database/tables.py",
        "src/app/presentation",
        "src/app/presentation/__init__.py",
    ),
    "mvc-tortoise-uv": ("src/app/models/models.py", "src/app/views", "src/app/urls.py"),
}


def robyn_config(
    *args: str, cwd: Path, env: dict[str, str], code: int = 0
) -> subprocess.CompletedProcess[str]:
    completed = assert_exit(
        run_program(CONSOLE_SCRIPT, *args, cwd=cwd, env=env, timeout=TIMEOUT), code
    )
    # The caller's virtual environment (this checkout's) never leaks into the project's tools.
    detail = f"{completed.args}\n{completed.stdout}\n{completed.stderr}"
    assert "does not match the project environment" not in completed.stderr, detail
    return completed


def revisions(project: Path) -> set[str]:
    return {
        path.relative_to(project).as_posix()
        for path in (project / "migrations").rglob("*.py")
        if "__pycache__" not in path.parts and path.name != "env.py"
    }


def files_outside_venv(project: Path) -> dict[str, bytes]:
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in project.rglob("*")
        if path.is_file() and not {".venv", ".git"} & set(path.relative_to(project).parts)
    }


def problem_lines(completed: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in completed.stdout.splitlines() if line.startswith("problem  ")]


@pytest.mark.parametrize("stack_id", list(CELLS))
def test_migration_commands_and_doctor_on_a_real_project(
    stack_id: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    models, routes, registry = CELLS[stack_id]
    design, orm, _ = stack_id.split("-")
    env = dict(cli_env, VIRTUAL_ENV=str(REPO_ROOT / ".venv"))
    env.pop("DATABASE_URL", None)
    project = tmp_path / "svc"
    robyn_config(
        "create", "svc", str(project), "--design", design, "--orm", orm, cwd=tmp_path, env=env
    )

    # Bootstrap: Alembic has no tables to migrate yet; Aerich writes its initial migration.
    first = robyn_config("makemigration", "--message", "init", cwd=project, env=env)
    assert "Generating a migration with" in first.stdout
    if orm == "sqlalchemy":
        assert "No changes detected" in first.stdout
        assert revisions(project) == set()
    else:
        [initial] = revisions(project)
        assert initial.startswith("migrations/models/0_") and initial in first.stdout
    git(project, "add", "-A")
    git(project, "commit", "-q", "--allow-empty", "-m", "migration bootstrap")
    untouched = files_outside_venv(project)
    doctor = robyn_config("doctor", str(project), cwd=tmp_path, env=env)
    assert problem_lines(doctor) == []
    assert files_outside_venv(project) == untouched, "doctor changed the project"
    assert len(doctor.stdout.splitlines()) == 7

    # After add the models are ahead of the migrations.
    robyn_config("add", "product", "--fields", "name:str price:decimal", cwd=project, env=env)
    ahead = robyn_config("doctor", cwd=project, env=env, code=1)
    [line] = problem_lines(ahead)
    assert "migrations up to date" in line and "makemigration" in line

    before = revisions(project)
    made = robyn_config("makemigration", "--message", "add product", cwd=project, env=env)
    [new] = revisions(project) - before
    assert new in made.stdout
    assert problem_lines(robyn_config("doctor", cwd=project, env=env)) == []

    # migrate: the tables exist in the SQLite file.
    migrated = robyn_config("migrate", cwd=project, env=env)
    assert "Migrated the SQLite database ./app.db" in migrated.stdout
    with sqlite3.connect(project / "app.db") as database:
        tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master")}
    assert "products" in tables

    # No change (Alembic compares with the migrated database, as `make makemigration` does):
    # nothing written, exit 0.
    again = robyn_config("makemigration", ".", "--message", "again", cwd=project, env=env)
    assert "No changes detected" in again.stdout
    assert revisions(project) == before | {new}
    if orm == "sqlalchemy":
        # The Makefile's target writes no empty revision either: the project's env.py drops it.
        by_make = assert_exit(
            run_program("make", "makemigration", "MIGRATION_MESSAGE=again", cwd=project, env=env)
        )
        assert "No changes detected" in by_make.stdout
        assert revisions(project) == before | {new}

    # A failing makemigration: exit 1, one message, no new file.
    model_file = project / models
    original = model_file.read_text()
    model_file.write_text(original + "\nraise RuntimeError('broken model file')\n")
    broken = robyn_config("makemigration", "--message", "broken", cwd=project, env=env, code=1)
    assert "broken model file" in broken.stderr
    assert "no migration file was left behind" in broken.stderr
    assert revisions(project) == before | {new}
    model_file.write_text(original)

    # PostgreSQL unreachable: one sentence with host and port, never the password.
    port = free_port()  # nothing listens there
    pg_env = dict(env, DATABASE_URL=f"postgresql://u:secret@127.0.0.1:{port}/db")
    attempts: list[tuple[str, ...]] = [("migrate",)]
    if orm == "sqlalchemy":
        attempts.append(("makemigration", "--message", "pg"))
    for arguments in attempts:
        refused = robyn_config(*arguments, cwd=project, env=pg_env, code=1)
        assert f"127.0.0.1:{port}" in refused.stderr
        assert "secret" not in refused.stdout + refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    assert revisions(project) == before | {new}

    # doctor: an unregistered route module file, then a registry import of a missing module.
    extra = project / routes / "extra.py"
    extra.write_text("from robyn import Robyn\n\n\ndef register(app: Robyn) -> None:\n    pass\n")
    [line] = problem_lines(robyn_config("doctor", cwd=project, env=env, code=1))
    assert f"the route module {routes}/extra.py is not registered" in line
    extra.unlink()
    registry_file = project / registry
    registry_text = registry_file.read_text()
    package = routes.removeprefix("src/").replace("/", ".")
    registry_file.write_text(
        f"from {package} import ghost\n" + registry_text + "    ghost.register(app)  # noqa: F821\n"
    )
    [line] = problem_lines(robyn_config("doctor", cwd=project, env=env, code=1))
    assert f"registers {package}.ghost, which does not exist" in line
    registry_file.write_text(registry_text)

    # doctor: a lock file that no longer matches pyproject.toml.
    pyproject = project / "pyproject.toml"
    pyproject_text = pyproject.read_text()
    pyproject.write_text(pyproject_text.replace('"robyn>=0.88,<0.89"', '"robyn>=0.87,<0.89"'))
    [line] = problem_lines(robyn_config("doctor", cwd=project, env=env, code=1))
    assert line.startswith("problem  uv.lock in sync with pyproject.toml: uv.lock is out of date")
    assert "run 'uv lock'" in line
    pyproject.write_text(pyproject_text)
    assert problem_lines(robyn_config("doctor", cwd=project, env=env)) == []
