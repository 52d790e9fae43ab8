"""remove on real created projects, then the project's own migration targets drop the table (slow).

One uv project per ORM (Alembic, Aerich) on SQLite: add product, ``make makemigration`` and
``make migrate`` create its table; ``robyn-config remove product`` gives back the files as
they were before add (the migration apart); then ``make makemigration`` writes a migration
that drops the table, ``make migrate`` applies it, and ``make check`` passes on what is left.
Then add of the same name works again.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.helpers import CONSOLE_SCRIPT, REPO_ROOT, assert_exit, git, run_program

pytestmark = pytest.mark.e2e

TIMEOUT = 900
CELLS = ["ddd-sqlalchemy-uv", "mvc-tortoise-uv"]
DROPS = {
    "sqlalchemy": 'op.drop_table("products")',
    "tortoise": 'DROP TABLE IF EXISTS "products"',
}


def tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}


def revisions(project: Path) -> set[Path]:
    return {
        path
        for path in (project / "migrations").rglob("*.py")
        if "__pycache__" not in path.parts and path.name != "env.py"
    }


def sources(project: Path) -> dict[str, bytes]:
    """Every file git would see (ignored ones apart: the environment, caches, the database),
    the migrations apart."""
    listed = git(project, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return {
        name: (project / name).read_bytes()
        for name in listed.split("\0")
        if name and not name.startswith("migrations/") and (project / name).is_file()
    }


@pytest.mark.parametrize("cell", CELLS)
def test_remove_then_the_migration_drops_the_table(
    cell: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    design, orm, _ = cell.split("-")
    env = dict(cli_env, VIRTUAL_ENV=str(REPO_ROOT / ".venv"))
    env.pop("DATABASE_URL", None)

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return assert_exit(run_program(*args, cwd=cwd, env=env, timeout=TIMEOUT))

    def commit(message: str) -> None:
        git(project, "add", "-A")
        git(project, "commit", "-q", "--allow-empty", "-m", message)

    project = tmp_path / "svc"
    run(str(CONSOLE_SCRIPT), "create", "svc", str(project), "--design", design, "--orm", orm,
        cwd=tmp_path)  # fmt: skip
    run("make", "makemigration", "MIGRATION_MESSAGE=init", cwd=project)  # Aerich's first one
    run("make", "migrate", cwd=project)
    commit("the migrations bootstrapped")
    before_add = sources(project)

    run(str(CONSOLE_SCRIPT), "add", "product", "--fields", "name:str price:decimal", cwd=project)
    made = revisions(project)
    run("make", "makemigration", "MIGRATION_MESSAGE=add_product", cwd=project)
    run("make", "migrate", cwd=project)
    assert "products" in tables(project / "app.db")
    commit("add product")
    added = sources(project)

    removed = run(str(CONSOLE_SCRIPT), "remove", "product", cwd=project)
    assert "MIGRATION_MESSAGE=remove_product" in removed.stdout
    assert sources(project) == before_add
    with_product = revisions(project)
    assert len(with_product - made) == 1  # the migration that created the table stays
    run("make", "makemigration", "MIGRATION_MESSAGE=remove_product", cwd=project)
    [drop] = revisions(project) - with_product
    assert DROPS[orm] in drop.read_text(), drop.read_text()
    run("make", "migrate", cwd=project)
    assert "products" not in tables(project / "app.db")
    run("make", "check", cwd=project)
    commit("remove product")

    # The same name again: the files add wrote the first time.
    run(str(CONSOLE_SCRIPT), "add", "product", "--fields", "name:str price:decimal", cwd=project)
    assert sources(project) == added
