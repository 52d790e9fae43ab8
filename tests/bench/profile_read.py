"""Where one read of a generated service's entity spends its time, layer by layer.

Run with the Python of a generated project that has ``robyn-config add product ... --fields
'name:str price:decimal in_stock:bool'`` (it creates the schema and one row when missing)::

    DATABASE_URL=... PYTHONPATH=PROJECT/src PROJECT/.venv/bin/python tests/bench/profile_read.py

It prints, for the raw driver (the bench ceiling's own query), the repository's ``get`` and
the use case or view's rendering of the result: the microseconds of one call in a loop, and
the calls per second of 32 concurrent tasks on the one event loop (as Robyn runs handlers),
so each layer's cost shows beside the driver's. Not a test: figures for docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

COLUMNS = "id, name, price, in_stock, created_at, updated_at"
WARM_UP = 300
CALLS = 3000
TASKS = 32
SECONDS = 2.0

Call = Callable[[], Awaitable[Any]]


def _module(*names: str) -> Any:
    """The first of ``names`` that imports (the DDD or the MVC layout)."""
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise SystemExit(f"None of {names} imports: is PYTHONPATH the project's src?")


SEED = (
    "INSERT INTO products (id, name, price, in_stock, created_at, updated_at) "
    "VALUES (1, 'seed', 2.5, true, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
)


async def _seed(url: str) -> None:
    """One row with id 1, unless there is one."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        with sqlite3.connect(parts.path[1:]) as connection:
            if connection.execute("SELECT 1 FROM products WHERE id = 1").fetchone() is None:
                connection.execute(SEED)
        return
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        if await connection.fetchval("SELECT 1 FROM products WHERE id = 1") is None:
            await connection.execute(SEED)
    finally:
        await connection.close()


async def _raw_driver(url: str) -> Call:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        connection = sqlite3.connect(parts.path[1:], check_same_thread=False)
        query = f"SELECT {COLUMNS} FROM products WHERE id = ?"

        async def sqlite_read() -> Any:
            return connection.execute(query, (1,)).fetchone()

        return sqlite_read
    import asyncpg

    pool = await asyncpg.create_pool(url)

    async def postgres_read() -> Any:
        return await pool.fetchrow(f"SELECT {COLUMNS} FROM products WHERE id = $1", 1)

    return postgres_read


async def _sequential(call: Call) -> float:
    for _ in range(WARM_UP):
        await call()
    started = time.perf_counter()
    for _ in range(CALLS):
        await call()
    return (time.perf_counter() - started) / CALLS * 1e6


async def _concurrent(call: Call) -> float:
    deadline = time.monotonic() + SECONDS
    done = 0

    async def task() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            await call()
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(task() for _ in range(TASKS)))
    return done / (time.monotonic() - started)


async def main() -> None:
    url = os.environ["DATABASE_URL"]
    connection = _module("app.infrastructure.database.connection", "app.models.database")
    await connection.create_schema(url)
    await _seed(url)
    await connection.init_database(url)
    repositories = _module("app.infrastructure.database.repository", "app.models.repository")
    repository = repositories.ProductRepository()
    routes = _module("app.presentation.product.routes", "app.views.product")
    responses = _module("app.presentation.responses", "app.views.responses")

    async def get() -> Any:
        return await repository.get(1)

    async def get_and_render() -> Any:
        return responses.ok(routes._result(await repository.get(1)))

    layers = [
        ("raw driver", await _raw_driver(url)),
        ("repository get", get),
        ("get + response", get_and_render),
    ]
    print(f"{'layer':<20} {'µs per call':>12} {f'calls/s, {TASKS} tasks':>20}")
    for label, call in layers:
        per_call = await _sequential(call)
        rate = await _concurrent(call)
        print(f"{label:<20} {per_call:>12.1f} {rate:>20.0f}")
    await connection.close_database()


if __name__ == "__main__":
    asyncio.run(main())
