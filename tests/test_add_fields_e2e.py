"""add-fields on a real project whose table holds rows, in every design-ORM pair with uv (slow).

The operator's sequence: create, add product, makemigration and migrate, rows written through
the running server, commit, `add-fields` (issue 12's fields and an optional unique one),
`make makemigration`, `make migrate` on that database, then `make check` (whose generated
tests now cover the new fields), the rows served with the new fields' defaults and the unique
field answering 409.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CONSOLE_SCRIPT, assert_exit, git, run_program
from tests.support.processes import free_port, kill_group, start_group, stop_group, wait_for_status
from tests.support.project_env import project_env

pytestmark = pytest.mark.e2e

TIMEOUT = 900
CELLS = ["ddd-sqlalchemy-uv", "ddd-tortoise-uv", "mvc-sqlalchemy-uv", "mvc-tortoise-uv"]
# The fields of issue 12, and a unique one: optional, so the rows hold null (never a collision).
NEW_FIELDS = "phone:str? stock:int=0 sku:str:index=none code:str?:unique"
ROWS = [{"name": "lamp", "price": "19.99"}, {"name": "desk", "price": "120.00"}]


def call(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return assert_exit(run_program(*args, cwd=cwd, env=env, timeout=TIMEOUT))


def commit(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "-q", "--allow-empty", "-m", message)


@contextmanager
def serving(project: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """The project's server on a free port (its own process group); its base URL."""
    port = free_port()
    server = start_group(
        ["uv", "run", "--frozen", "python", "-m", "app"],
        cwd=project,
        env={**env, "PORT": str(port)},
        log_path=log,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_status(f"{base_url}/healthcheck", server, 60, expected=200)
        yield base_url
    finally:
        try:
            stop_group(server, 10)
        finally:
            kill_group(server)


def request(url: str, body: dict[str, object] | None = None) -> dict[str, Any]:
    """The ``result`` of a GET (or, with ``body``, a POST) of ``url``."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=10) as answer:
        result: dict[str, Any] = json.loads(answer.read())["result"]
        return result


@pytest.mark.parametrize("stack_id", CELLS)
def test_add_fields_migrates_a_table_that_holds_rows(
    stack_id: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    design, orm, manager = stack_id.split("-")
    project = tmp_path / "svc"
    create = ["create", "svc", str(project), "--design", design, "--orm", orm]
    call(str(CONSOLE_SCRIPT), *create, "--package-manager", manager, cwd=tmp_path, env=cli_env)
    env = project_env(project, cli_env)
    env.pop("DATABASE_URL", None)  # the project's default: ./app.db
    call("make", "install.dev", cwd=project, env=env)
    call("make", "makemigration", "MIGRATION_MESSAGE=init", cwd=project, env=env)
    commit(project, "bootstrap")
    call(
        str(CONSOLE_SCRIPT),
        "add",
        "product",
        "--fields",
        "name:str price:decimal",
        cwd=project,
        env=env,
    )
    commit(project, "add product")
    call("make", "makemigration", "MIGRATION_MESSAGE=add_product", cwd=project, env=env)
    call("make", "migrate", cwd=project, env=env)
    with serving(project, env, tmp_path / "before.log") as base_url:
        ids = [request(f"{base_url}/products", row)["id"] for row in ROWS]
    commit(project, "migrate products")

    added = call(
        str(CONSOLE_SCRIPT), "add-fields", "product", "--fields", NEW_FIELDS, cwd=project, env=env
    )
    assert "Added phone, stock, sku, code to Product" in added.stdout
    call("make", "makemigration", "MIGRATION_MESSAGE=add_product_fields", cwd=project, env=env)
    call("make", "migrate", cwd=project, env=env)

    with sqlite3.connect(project / "app.db") as database:
        rows = database.execute(
            "SELECT id, name, phone, stock, sku, code FROM products ORDER BY id"
        )
        assert [tuple(row) for row in rows] == [
            (ids[0], "lamp", None, 0, "none", None),
            (ids[1], "desk", None, 0, "none", None),
        ]
        indexes = database.execute("SELECT sql FROM sqlite_master WHERE type = 'index'")
        assert any('"sku"' in str(sql) or "(sku)" in str(sql) for (sql,) in indexes)
    with serving(project, env, tmp_path / "after.log") as base_url:
        first = request(f"{base_url}/products/{ids[0]}")
        assert first == {**first, "name": "lamp", "phone": None, "stock": 0, "sku": "none"}
        chair = {"name": "chair", "price": "5", "phone": "555", "code": "C-1"}
        new = request(f"{base_url}/products", chair)
        assert new == {**new, "phone": "555", "stock": 0, "sku": "none", "code": "C-1"}
        with pytest.raises(urllib.error.HTTPError) as taken:
            request(f"{base_url}/products", {**chair, "name": "stool"})
        assert taken.value.code == 409
    # The generated tests cover the new fields; lint, formatting and types pass.
    test_file = (project / "tests/test_product_api.py").read_text()
    assert '"sku": ' in test_file and '"stock": 0' in test_file
    call("make", "check", cwd=project, env=env)


# --- a new reference on a table that holds rows (docs/decisions.md) --------------------------


def referring_project(stack_id: str, tmp_path: Path, cli_env: dict[str, str]) -> Path:
    """``customer`` and ``order`` added, migrated, and a row in each table."""
    design, orm, manager = stack_id.split("-")
    project = tmp_path / "svc"
    create = ["create", "svc", str(project), "--design", design, "--orm", orm]
    call(str(CONSOLE_SCRIPT), *create, "--package-manager", manager, cwd=tmp_path, env=cli_env)
    env = project_env(project, cli_env)
    env.pop("DATABASE_URL", None)
    for entity, fields in (("customer", "name:str"), ("order", "total:int=0")):
        call(str(CONSOLE_SCRIPT), "add", entity, "--fields", fields, cwd=project, env=env)
        commit(project, f"add {entity}")
    call(str(CONSOLE_SCRIPT), "migrate", cwd=project, env=env)
    call(str(CONSOLE_SCRIPT), "makemigration", "--message", "init", cwd=project, env=env)
    call(str(CONSOLE_SCRIPT), "migrate", cwd=project, env=env)
    with sqlite3.connect(project / "app.db") as database:
        database.execute(
            "INSERT INTO customers (name, created_at, updated_at) "
            "VALUES ('ann', '2024-01-31 00:00:00', '2024-01-31 00:00:00')"
        )
        database.execute(
            "INSERT INTO orders (total, created_at, updated_at) "
            "VALUES (7, '2024-01-31 00:00:00', '2024-01-31 00:00:00')"
        )
    commit(project, "migrated")
    return project


def test_a_new_reference_migrates_a_table_that_holds_rows_with_alembic(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    project = referring_project("ddd-sqlalchemy-uv", tmp_path, cli_env)
    env = project_env(project, cli_env)
    env.pop("DATABASE_URL", None)
    fields = "buyer:ref(customer)?:set-null"
    call(str(CONSOLE_SCRIPT), "add-fields", "order", "--fields", fields, cwd=project, env=env)
    call(str(CONSOLE_SCRIPT), "makemigration", "--message", "order_buyer", cwd=project, env=env)
    call(str(CONSOLE_SCRIPT), "migrate", cwd=project, env=env)
    with sqlite3.connect(project / "app.db") as database:
        assert list(database.execute("SELECT total, buyer_id FROM orders")) == [(7, None)]
        keys = list(database.execute("PRAGMA foreign_key_list(orders)"))
        assert [(key[2], key[3], key[4], key[6]) for key in keys] == [
            ("customers", "buyer_id", "id", "SET NULL")
        ]


def test_aerich_still_cannot_add_a_foreign_key_to_an_sqlite_table(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """Why add-fields refuses a reference in a Tortoise service: when this test fails, Aerich
    has learnt it, and the refusal (operations/add_fields.py) can go."""
    project = referring_project("ddd-tortoise-uv", tmp_path, cli_env)
    env = project_env(project, cli_env)
    env.pop("DATABASE_URL", None)
    refused = run_program(
        str(CONSOLE_SCRIPT), "add-fields", "order", "--fields", "customer:ref?",
        cwd=project, env=env, timeout=TIMEOUT,
    )  # fmt: skip
    assert_exit(refused, 2)
    assert "ADD CONSTRAINT" in refused.stderr
    # The field by hand, as add-fields would write it: Aerich's revision does not apply.
    tables = project / "src/app/infrastructure/database/tables.py"
    docstring = '    """The ``orders`` table."""\n'
    foreign_key = (
        '    customer = fields.ForeignKeyField("models.CustomerTable", null=True, '
        "on_delete=fields.RESTRICT)\n"
    )
    tables.write_text(tables.read_text().replace(docstring, docstring + foreign_key))
    call(str(CONSOLE_SCRIPT), "makemigration", "--message", "order_customer", cwd=project, env=env)
    failed = run_program(str(CONSOLE_SCRIPT), "migrate", cwd=project, env=env, timeout=TIMEOUT)
    assert_exit(failed, 1)
    assert 'near "CONSTRAINT": syntax error' in failed.stderr
