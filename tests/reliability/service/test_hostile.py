"""Hostile requests by hand: each is a 4xx in the error envelope and changes no row."""

from __future__ import annotations

import contextlib
import http.client
import json
import sqlite3
from typing import Any

import pytest

from tests.reliability.service.conftest import Running, cells

VALID = {"name": "widget", "price": "19.99", "in_stock": True}
SQL = "1; DROP TABLE products; --"
SQL_QUOTE = "' OR '1'='1"
TRAVERSAL = "../../../../etc/passwd"
NASTY_STRINGS = [SQL, SQL_QUOTE, TRAVERSAL, "%00", "\u0000", "..%2f..%2fetc%2fpasswd"]


def raw_request(running: Running, method: str, path: str, body: bytes | None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", running.service.port, timeout=15)
    try:
        connection.request(method, path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(payload) if payload else None
    except ValueError:
        return response.status, payload


def rows(running: Running) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(running.database)) as connection:
        return sorted(connection.execute("SELECT * FROM products").fetchall())


def body_cases() -> list[tuple[str, bytes]]:
    cases = [
        ("malformed", b'{"name": '),
        ("truncated", json.dumps(VALID).encode()[:-3]),
        ("not-json", b"name=widget&price=1"),
        ("empty", b""),
        ("array", b"[1, 2, 3]"),
        ("string", b'"widget"'),
        ("null", b"null"),
        ("invalid-utf8", b'{"name": "\xff\xfe"}'),
        ("deep-nesting", b"[" * 5000 + b"]" * 5000),
        ("unknown-field", json.dumps({**VALID, "is_admin": True}).encode()),
        ("id-field", json.dumps({**VALID, "id": 7}).encode()),
        ("huge-string", json.dumps({**VALID, "name": "x" * 1_000_000}).encode()),
        ("huge-number", json.dumps({**VALID, "price": "9" * 400}).encode()),
        ("huge-int-price", b'{"name": "w", "price": ' + b"9" * 5000 + b', "in_stock": true}'),
        ("nan-price", b'{"name": "w", "price": NaN, "in_stock": true}'),
        ("negative-scale", json.dumps({**VALID, "price": "1e400"}).encode()),
        ("too-many-decimals", json.dumps({**VALID, "price": "1.001"}).encode()),
        ("wrong-type-name", json.dumps({**VALID, "name": 5}).encode()),
        ("wrong-type-bool", json.dumps({**VALID, "in_stock": "yes please"}).encode()),
        ("list-name", json.dumps({**VALID, "name": ["a"]}).encode()),
        ("nul-in-name", json.dumps({**VALID, "name": "a\u0000b"}).encode()),
        ("missing-fields", b"{}"),
    ]
    for nasty in NASTY_STRINGS:
        for field in ("price", "in_stock"):
            cases.append((f"{field}={nasty!r}", json.dumps({**VALID, field: nasty}).encode()))
    return cases


BODIES = body_cases()
BAD_IDS = ["-1", "0", "abc", "1.5", "1e3", "9" * 40, "%20", SQL, SQL_QUOTE, TRAVERSAL, "..", "%00"]


@pytest.mark.parametrize("served", cells(), indirect=True)
def test_hostile_bodies_and_ids_are_4xx_envelopes_and_change_nothing(served: Running) -> None:
    status, created = raw_request(served, "POST", "/products", json.dumps(VALID).encode())
    assert status == 201
    item = created["result"]["id"]
    before = rows(served)
    from urllib.parse import quote

    requests: list[tuple[str, str, bytes | None]] = []
    for name, body in BODIES:
        requests.append((f"POST {name}", "/products", body))
        requests.append((f"PATCH {name}", f"/products/{item}", body))
    for raw_id in BAD_IDS:
        path = f"/products/{quote(raw_id, safe='')}"
        requests.append((f"GET id {raw_id!r}", path, None))
        requests.append((f"PATCH id {raw_id!r}", path, json.dumps(VALID).encode()))
        requests.append((f"DELETE id {raw_id!r}", path, None))
    for name, value in [
        ("limit", "-1"),
        ("limit", "abc"),
        ("limit", SQL),
        ("offset", "-5"),
        ("offset", TRAVERSAL),
        ("limit", "9" * 50),
        ("limit", "1000"),
    ]:
        requests.append((f"GET list {name}={value!r}", f"/products?{name}={quote(value)}", None))

    failures = []
    for what, path, body in requests:
        method = what.split()[0]
        if what.startswith("PATCH") and "missing-fields" in what:
            continue  # an empty PATCH is a valid no-op
        status, payload = raw_request(served, method, path, body)
        ok = (
            400 <= status < 500
            and isinstance(payload, dict)
            and {"type", "message"} <= set(payload.get("error", {}))
        )
        if not ok:
            failures.append((what, status, str(payload)[:200]))
    assert failures == []
    assert rows(served) == before


@pytest.mark.parametrize("served", cells(), indirect=True)
def test_sql_and_traversal_strings_in_text_fields_are_stored_verbatim(served: Running) -> None:
    """In a ``str`` field these are data: stored as sent, read back as sent, nothing else."""
    for nasty in NASTY_STRINGS[:3]:
        status, created = raw_request(
            served, "POST", "/products", json.dumps({**VALID, "name": nasty}).encode()
        )
        assert status == 201, created
        status, got = raw_request(served, "GET", f"/products/{created['result']['id']}", None)
        assert status == 200 and got["result"]["name"] == nasty
    assert len(rows(served)) == 3
