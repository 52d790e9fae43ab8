"""CPU time of one list request of a generated service, from the parsed request to its Response.

Run with the Python of a generated project that has ``robyn-config add product ... --fields
'name:str price:decimal in_stock:bool'`` and at least 50 products in the database at
``DATABASE_URL``::

    DATABASE_URL=sqlite:///./app.db PYTHONPATH=PROJECT/src PROJECT/.venv/bin/python \\
        tests/bench/profile_list.py

It calls the list route's handler with a stand-in request (its query parameters only) and
prints the fastest of several batches, in CPU time, for a full page (page and count), the
last page (no count) and a filtered, sorted page: the figures in docs/benchmarks.md, which a
busy machine's wrk runs cannot give. A project made before lists had filters ignores them.
Not a test.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import time
from typing import Any

BATCHES = 7
CALLS = 1000
QUERIES = {
    "?limit=20 (page and count)": {"limit": ["20"]},
    "?limit=20&offset=40 (no count)": {"limit": ["20"], "offset": ["40"]},
    "?in_stock=true&sort=-price&limit=20": {
        "in_stock": ["true"],
        "sort": ["-price"],
        "limit": ["20"],
    },
}


def _module(*names: str) -> Any:
    """The first of ``names`` that imports (the DDD or the MVC layout)."""
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise SystemExit(f"None of {names} imports: is PYTHONPATH the project's src?")


class _QueryParams:
    """Robyn's query parameters as both the old (``get``) and new (``to_dict``) parsers read."""

    def __init__(self, pairs: dict[str, list[str]]) -> None:
        self.pairs = pairs

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.pairs.get(key, [default])[-1]

    def to_dict(self) -> dict[str, list[str]]:
        return self.pairs


class _Request:
    def __init__(self, pairs: dict[str, list[str]]) -> None:
        self.query_params = _QueryParams(pairs)
        self.path_params: dict[str, str] = {}


async def main() -> None:
    connection = _module("app.infrastructure.database.connection", "app.models.database")
    routes = _module("app.presentation.product.routes", "app.views.product")
    await connection.init_database(os.environ["DATABASE_URL"])
    try:
        for label, pairs in QUERIES.items():
            request = _Request(pairs)
            response = await routes.list_products(request)
            assert response.status_code == 200, response.description
            batches = []
            for _ in range(BATCHES):
                started = time.process_time()
                for _ in range(CALLS):
                    await routes.list_products(request)
                batches.append((time.process_time() - started) / CALLS * 1e6)
            print(f"{label:<40} {min(batches):>8.0f} µs per call")
    finally:
        await connection.close_database()


if __name__ == "__main__":
    asyncio.run(main())
