"""The HTTP contract of one added entity, called over loopback like a client would."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from scaffold.generation.entity import INVALID_SAMPLES, SAMPLES, UPDATED_SAMPLES
from scaffold.generation.field_types import FIELD_TYPES, field_default
from scaffold.project.entities import Field, FieldType, parse_entity_name, parse_fields
from tests.support.reporter import Reporter

__all__ = ["EntityApi"]


class EntityApi:
    """The endpoints of one entity: create, list, get, patch, delete and their errors."""

    def __init__(
        self,
        reporter: Reporter,
        base_url: str,
        entity: str,
        fields: str,
        *,
        references: Mapping[str, tuple[int, int]] | None = None,
    ) -> None:
        """Address ``entity`` (as given to ``add``) with ``fields`` (``--fields``, may be empty).

        ``references`` maps the column of each reference field (``customer_id``) to the ids of
        two existing rows of its entity: the one items are created with and the one a patch
        moves them to.
        """
        self.reporter = reporter
        name = parse_entity_name(entity)
        self.url = base_url + name.route
        self.fields = parse_fields(fields or None)
        self.references = dict(references or {})
        missing = {f.column for f in self.fields if f.type is FieldType.REF} - set(self.references)
        if missing:
            reporter.error(f"{entity}: no existing rows given for the references {sorted(missing)}")

    def sample(self) -> dict[str, Any]:
        """A valid body of every field, by column; a reference holds its first row's id."""
        return {f.column: self._value(f, 0, SAMPLES) for f in self.fields}

    def changed(self) -> dict[str, Any]:
        """Another valid body of every field (for PATCH); a reference moves to its second row."""
        return {f.column: self._value(f, 1, UPDATED_SAMPLES) for f in self.fields}

    def _value(self, field: Field, which: int, samples: Mapping[FieldType, Any]) -> Any:
        if field.type is FieldType.REF:
            return self.references[field.column][which]
        return samples[field.type]

    def call(
        self, method: str, path: str = "", body: object = None, raw: bytes | None = None
    ) -> tuple[int, Any]:
        """Send ``body`` as JSON (or ``raw`` bytes); the status and the decoded answer."""
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
        """Call, require the ``expected`` status (and the error envelope for a 4xx/5xx)."""
        status, payload = self.call(method, path, **kwargs)
        if status != expected:
            self.reporter.error(
                f"{what}: {method} {self.url}{path} -> {status} {payload}, expected {expected}"
            )
        if status >= 400 and not (
            isinstance(payload, dict) and {"type", "message"} <= set(payload.get("error", {}))
        ):
            self.reporter.error(f"{what}: the error body is not the envelope: {payload}")
        self.reporter.log(f"{what}: {method} {self.url}{path} -> {status}")
        return payload

    def expect_error(
        self,
        what: str,
        expected: tuple[int, str],
        naming: str | None,
        method: str,
        path: str = "",
        **kwargs: Any,
    ) -> None:
        """Call, require the status and error type of ``expected``; the message names ``naming``."""
        status, kind = expected
        error = self.expect(what, status, method, path, **kwargs)["error"]
        if error["type"] != kind or (naming is not None and naming not in error["message"]):
            named = f" naming {naming!r}" if naming is not None else ""
            self.reporter.error(f"{what}: answered {error}, expected type {kind!r}{named}")

    @staticmethod
    def same(sent: object, got: object) -> bool:
        """Whether the service answered what was sent (decimals may come back as numbers)."""
        if isinstance(sent, str) and isinstance(got, str | int | float):
            try:
                return Decimal(sent) == Decimal(str(got))
            except ArithmeticError:
                return sent == got
        return sent == got

    def exercise(self) -> None:
        """Every endpoint once, each error case once, and the item gone at the end."""
        sample, changed = self.sample(), self.changed()
        first = self.fields[0].column
        created = self.create("create", sample)
        item = f"/{created['id']}"
        self.exercise_list(created)
        self.expect("get", 200, "GET", item)
        self.expect("patch", 200, "PATCH", item, body=changed)
        got = self.expect("get after patch", 200, "GET", item)["result"]
        if not self.same(changed[first], got.get(first)):
            self.reporter.error(f"patch did not change {first}: {got}")
        self.expect("get missing", 404, "GET", "/999999")
        self.expect("patch missing", 404, "PATCH", "/999999", body=changed)
        invalid = {first: INVALID_SAMPLES[self.fields[0].type]}
        self.expect("patch invalid field", 422, "PATCH", item, body=invalid)
        self.expect("post invalid field", 422, "POST", body={**sample, **invalid})
        self.expect("post malformed JSON", 400, "POST", raw=b'{"name": ')
        if any(field.unique for field in self.fields):
            # The item holds the patched values now.
            self.expect("post a unique value another item holds", 409, "POST", body=changed)
        self.expect("delete", 204, "DELETE", item)
        self.expect("get deleted", 404, "GET", item)
        self.expect("delete missing", 404, "DELETE", item)
        self.exercise_defaults(sample)

    def keep(self) -> dict[str, Any]:
        """Create one item from the samples and leave it there; the item answered."""
        return self.create("create an item to keep", self.sample())

    def create(self, what: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``body``, require 201 and the values sent; the item answered."""
        created = dict(self.expect(what, 201, "POST", body=dict(body))["result"])
        for key, value in body.items():
            if not self.same(value, created.get(key)):
                self.reporter.error(f"{what}: echoed {key}={created.get(key)!r}, sent {value!r}")
        return created

    def expect_defaults(self, item: dict[str, Any], added: str) -> None:
        """``item`` (made before the ``added`` fields existed) now answers their defaults."""
        got = self.expect("get the kept item", 200, "GET", f"/{item['id']}")["result"]
        for field in parse_fields(added):
            expected = None if field.default is None else field_default(field.default).answered
            if not self.same(expected, got.get(field.column)):
                self.reporter.error(
                    f"the kept item's new {field.column} is {got.get(field.column)!r}, "
                    f"expected {expected!r}"
                )
        for key, value in item.items():
            if key != "updated_at" and not self.same(value, got.get(key)):
                self.reporter.error(
                    f"the kept item's {key} changed: {got.get(key)!r}, was {value!r}"
                )

    def exercise_list(self, created: dict[str, Any]) -> None:
        """The list's envelope and meta, a filter on the id and on a field, a sort, a refusal."""
        listed = self.expect("list", 200, "GET", "?limit=5&offset=0")
        meta = listed.get("meta") or {}
        if set(listed) != {"result", "meta"} or (meta.get("limit"), meta.get("offset")) != (5, 0):
            self.reporter.error(f"list: not the envelope with its meta: {listed}")
        if not isinstance(meta.get("total"), int) or meta["total"] < len(listed["result"]):
            self.reporter.error(f"list: meta.total is not the number of rows: {meta}")
        if created["id"] not in [entry["id"] for entry in listed["result"]]:
            self.reporter.error(f"list does not contain the created item: {listed}")
        by_id = self.expect("list by id", 200, "GET", f"?id={created['id']}")
        if by_id.get("result") != [created] or by_id.get("meta", {}).get("total") != 1:
            self.reporter.error(f"list by id is not the created item alone: {by_id}")
        filterable = [f for f in self.fields if FIELD_TYPES[f.type].filter_parser]
        if filterable:
            name = filterable[0].column
            value = created[name]
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            rows = self.expect("list by a field", 200, "GET", f"?{name}={quote(text)}&limit=100")
            if created["id"] not in [row["id"] for row in rows["result"]] or any(
                row[name] != value for row in rows["result"]
            ):
                self.reporter.error(f"list by {name}={text!r} is not the rows equal to it: {rows}")
        newest = self.expect("list newest first", 200, "GET", "?sort=-id&limit=1")["result"]
        if [row["id"] for row in newest] != [created["id"]]:
            self.reporter.error(f"list sorted by -id does not start with the newest: {newest}")
        self.expect("list by an unknown field", 422, "GET", "?no_such_field=1")
        self.expect("list sorted by an unknown field", 422, "GET", "?sort=no_such_field")

    def exercise_defaults(self, sample: dict[str, Any]) -> None:
        """A create with only the required fields: the others answer their default or null."""
        required = {
            f.column: sample[f.column] for f in self.fields if f.default is None and not f.optional
        }
        created = self.expect("create with required fields only", 201, "POST", body=required)
        result = created["result"]
        for field in self.fields:
            if field.column in required:
                continue
            expected = None if field.default is None else field_default(field.default).answered
            if not self.same(expected, result.get(field.column)):
                self.reporter.error(
                    f"{field.column} left out answered {result.get(field.column)!r}, "
                    f"expected {expected!r}"
                )
        self.expect("delete the defaulted item", 204, "DELETE", f"/{result['id']}")
