"""The ceiling of the load benchmark: Robyn and the raw database driver, no ORM.

The generated service's ``products`` endpoints (``GET /products/:id``, ``GET /products`` with
``limit``/``offset``, ``POST /products``) over the same table, the same envelope and the same
response bytes, with hand-written SQL: the stdlib ``sqlite3`` on one connection for SQLite,
an ``asyncpg`` pool for PostgreSQL. What is left is Robyn's and the driver's own cost.

The handlers are asynchronous, like the generated service's (which must await asyncpg from
the same code); ``HANDLERS=sync`` makes the SQLite ones synchronous, which Robyn calls without
its event loop: a figure beside the ceiling, not a ceiling the generated service could reach.

Run from the bench's reference environment: ``DATABASE_URL=... PORT=... python THIS``. It
creates the table when missing. Like any bare Robyn 0.88 app it ignores SIGTERM: the bench
stops it by killing its process group.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from robyn import Request, Response, Robyn
from robyn.argument_parser import Config

MAX_ID = 2**31 - 1
MAX_LIMIT = 100
CENT = Decimal("0.01")
PRICE_LIMIT = Decimal(10) ** 10  # Numeric(12, 2): ten digits before the point
FIELDS = {"name", "price", "in_stock"}
COLUMNS = "id, name, price, in_stock, created_at, updated_at"
JSON_HEADERS = {"Content-Type": "application/json"}

# The generated service's table, as its migration (or create-all) writes it.
SQLITE_DDL = """
CREATE TABLE IF NOT EXISTS products (
    id INTEGER NOT NULL,
    name VARCHAR(255) NOT NULL,
    price NUMERIC(12, 2) NOT NULL,
    in_stock BOOLEAN NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    CONSTRAINT pk_products PRIMARY KEY (id)
)
"""
POSTGRES_DDL = """
CREATE TABLE IF NOT EXISTS products (
    id SERIAL NOT NULL,
    name VARCHAR(255) NOT NULL,
    price NUMERIC(12, 2) NOT NULL,
    in_stock BOOLEAN NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_products PRIMARY KEY (id)
)
"""


class Invalid(Exception):
    """A request the API refuses: its status, type and message."""

    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(message)
        self.status, self.type, self.message = status, type_, message


def respond(status: int, body: Any) -> Response:
    return Response(status_code=status, headers=JSON_HEADERS, description=json.dumps(body))


def refusal(error: Invalid) -> Response:
    return respond(error.status, {"error": {"type": error.type, "message": error.message}})


def parse_product(body: str | bytes) -> tuple[str, Decimal, bool]:
    """The fields of a ``POST`` body; Invalid (400 malformed JSON, 422 fields) otherwise."""
    try:
        data = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except (ValueError, RecursionError):
        raise Invalid(400, "malformed_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict) or set(data) != FIELDS:
        raise Invalid(422, "validation_error", "body: name, price and in_stock, nothing else")
    name, price, in_stock = data["name"], data["price"], data["in_stock"]
    if not isinstance(name, str) or len(name) > 255 or "\x00" in name:
        raise Invalid(422, "validation_error", "name: a string of at most 255 characters")
    if not isinstance(in_stock, bool):
        raise Invalid(422, "validation_error", "in_stock: a boolean")
    try:
        if isinstance(price, bool) or not isinstance(price, str | int | float):
            raise InvalidOperation
        amount = Decimal(str(price))
        if not amount.is_finite() or abs(amount) >= PRICE_LIMIT or amount != amount.quantize(CENT):
            raise InvalidOperation
    except InvalidOperation:
        raise Invalid(422, "validation_error", "price: a decimal of 12 digits, 2 places") from None
    return name, amount.quantize(CENT), in_stock


def parse_id(raw: str) -> int:
    if raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_ID)) and 0 < int(raw) <= MAX_ID:
        return int(raw)
    raise Invalid(404, "not_found", f"No product with id {raw!r}.")


def query_int(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name, None)
    if raw is None:
        return default
    text = raw.strip()
    low = 1 if name == "limit" else 0
    if text.isascii() and text.isdigit() and len(text) <= len(str(high)):
        value = int(text)
        if low <= value <= high:
            return value
    raise Invalid(422, "validation_error", f"{name}: an integer from {low} to {high}")


def utc_text(value: datetime) -> str:
    """A datetime as the generated service writes it: ISO 8601, ``Z`` for UTC."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class SqliteStore:
    """One ``sqlite3`` connection in autocommit mode and WAL, one statement at a time."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # The fastest journal any generated cell uses (Tortoise's SQLite client sets WAL).
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute(SQLITE_DDL)
        self.lock = threading.Lock()

    @staticmethod
    def row(values: tuple[Any, ...]) -> dict[str, Any]:
        # SQLAlchemy's storage format on SQLite: numbers for NUMERIC, naive UTC text stamps.
        id_, name, price, in_stock, created, updated = values
        return {
            "id": id_,
            "name": name,
            "price": f"{price:.2f}",
            "in_stock": bool(in_stock),
            "created_at": created.replace(" ", "T") + "Z",
            "updated_at": updated.replace(" ", "T") + "Z",
        }

    def get(self, product_id: int) -> dict[str, Any] | None:
        with self.lock:
            values = self.connection.execute(
                f"SELECT {COLUMNS} FROM products WHERE id = ?", (product_id,)
            ).fetchone()
        return None if values is None else self.row(values)

    def page(self, limit: int, offset: int) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.connection.execute(
                f"SELECT {COLUMNS} FROM products ORDER BY id LIMIT ? OFFSET ?", (limit, offset)
            ).fetchall()
        return [self.row(values) for values in rows]

    def add(self, name: str, price: Decimal, in_stock: bool) -> dict[str, Any]:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        with self.lock:
            cursor = self.connection.execute(
                "INSERT INTO products (name, price, in_stock, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, str(price), in_stock, stamp, stamp),
            )
        return self.row((cursor.lastrowid, name, price, in_stock, stamp, stamp))


class PostgresStore:
    """An ``asyncpg`` pool (its default size), opened at start-up."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: Any = None

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.url)
        await self.pool.execute(POSTGRES_DDL)

    @staticmethod
    def row(values: Any) -> dict[str, Any]:
        return {
            "id": values["id"],
            "name": values["name"],
            "price": str(values["price"]),
            "in_stock": values["in_stock"],
            "created_at": utc_text(values["created_at"]),
            "updated_at": utc_text(values["updated_at"]),
        }

    async def get(self, product_id: int) -> dict[str, Any] | None:
        values = await self.pool.fetchrow(
            f"SELECT {COLUMNS} FROM products WHERE id = $1", product_id
        )
        return None if values is None else self.row(values)

    async def page(self, limit: int, offset: int) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            f"SELECT {COLUMNS} FROM products ORDER BY id LIMIT $1 OFFSET $2", limit, offset
        )
        return [self.row(values) for values in rows]

    async def add(self, name: str, price: Decimal, in_stock: bool) -> dict[str, Any]:
        now = datetime.now(UTC)
        values = await self.pool.fetchrow(
            "INSERT INTO products (name, price, in_stock, created_at, updated_at) "
            f"VALUES ($1, $2, $3, $4, $4) RETURNING {COLUMNS}",
            name,
            price,
            in_stock,
            now,
        )
        return self.row(values)


def found(product: dict[str, Any] | None, raw_id: str) -> dict[str, Any]:
    if product is None:
        raise Invalid(404, "not_found", f"No product with id {raw_id}.")
    return product


def page_of(request: Request) -> tuple[int, int]:
    return query_int(request, "limit", 20, MAX_LIMIT), query_int(request, "offset", 0, MAX_ID)


def as_async(handler: Callable[[Request], Response]) -> Callable[[Request], Any]:
    """``handler`` as a coroutine function: Robyn runs it on its event loop."""

    async def run(request: Request) -> Response:
        return handler(request)

    return run


def sqlite_routes(app: Robyn, store: SqliteStore, *, synchronous: bool) -> None:
    """``sqlite3`` is synchronous and local: each handler runs its statement inline."""

    def get_product(request: Request) -> Response:
        raw_id = request.path_params.get("id", "")
        try:
            return respond(200, {"result": found(store.get(parse_id(raw_id)), raw_id)})
        except Invalid as error:
            return refusal(error)

    def list_products(request: Request) -> Response:
        try:
            return respond(200, {"result": store.page(*page_of(request))})
        except Invalid as error:
            return refusal(error)

    def create_product(request: Request) -> Response:
        try:
            return respond(201, {"result": store.add(*parse_product(request.body))})
        except Invalid as error:
            return refusal(error)

    for method, route, handler in (
        ("GET", "/products/:id", get_product),
        ("GET", "/products", list_products),
        ("POST", "/products", create_product),
    ):
        app.add_route(method, route, handler if synchronous else as_async(handler))


def postgres_routes(app: Robyn, store: PostgresStore) -> None:
    """Asynchronous handlers on Robyn's event loop, as ``asyncpg`` needs."""

    async def get_product(request: Request) -> Response:
        raw_id = request.path_params.get("id", "")
        try:
            return respond(200, {"result": found(await store.get(parse_id(raw_id)), raw_id)})
        except Invalid as error:
            return refusal(error)

    async def list_products(request: Request) -> Response:
        try:
            return respond(200, {"result": await store.page(*page_of(request))})
        except Invalid as error:
            return refusal(error)

    async def create_product(request: Request) -> Response:
        try:
            return respond(201, {"result": await store.add(*parse_product(request.body))})
        except Invalid as error:
            return refusal(error)

    app.startup_handler(store.open)
    app.add_route("GET", "/products/:id", get_product)
    app.add_route("GET", "/products", list_products)
    app.add_route("POST", "/products", create_product)


def make_app(database_url: str) -> Robyn:
    config = Config()
    config.log_level = "INFO"  # what the generated service runs with under `make run`
    app = Robyn(__file__, config=config)
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        synchronous = os.environ.get("HANDLERS", "async") == "sync"
        # sqlite:///relative, sqlite:////absolute
        sqlite_routes(app, SqliteStore(parts.path[1:]), synchronous=synchronous)
    else:
        postgres_routes(app, PostgresStore(database_url))
    return app


if __name__ == "__main__":
    make_app(os.environ["DATABASE_URL"]).start(host="127.0.0.1", port=int(os.environ["PORT"]))
