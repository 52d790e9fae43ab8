"""The HTTP contract of a reference between two added entities (``order`` -> ``customer``).

A referring row must name an existing row (422 otherwise); the list filters and sorts on the
reference; the referenced entity has a nested list of its referrers (404 for a missing row);
deleting a referenced row is refused with 409 (restrict) until its referrers are gone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from scaffold.project.entities import Field, FieldType, parse_entity_name, parse_fields
from tests.support.entity_api import EntityApi
from tests.support.reporter import Reporter

__all__ = ["KeptRows", "ReferenceApi"]

# An id no row has, by the service's key type.
MISSING_IDS: dict[str, int | str] = {"int": 999999, "uuid": "00000000-0000-7000-8000-000000000000"}
CONFLICT = (409, "conflict")
INVALID = (422, "validation_error")
NOT_FOUND = (404, "not_found")


@dataclass(frozen=True)
class KeptRows:
    """A referenced row and its one referrer, left in place by ``ReferenceApi.exercise``."""

    parent: dict[str, Any]
    child: dict[str, Any]


class ReferenceApi:
    """A child entity's reference field to its parent entity, over HTTP.

    ``parent`` and ``child`` are (entity, --fields) as given to ``add``; the child's field
    ``reference`` (``customer``) refers to the parent. The parent needs a unique field, whose
    duplicate is checked too; the child a decimal field to sort on besides the reference.
    """

    def __init__(
        self,
        reporter: Reporter,
        base_url: str,
        parent: tuple[str, str],
        child: tuple[str, str],
        reference: str,
        id_type: str = "int",
    ) -> None:
        self.reporter = reporter
        self.missing_id = MISSING_IDS[id_type]
        self.base_url, self.child = base_url, child
        self.parents = EntityApi(reporter, base_url, *parent)
        self.field = self._field(child[1], reference)
        self.column = self.field.column
        # Bodies name their row explicitly; the samples' own references are never sent.
        placeholder = {self.column: (self.missing_id, self.missing_id)}
        self.children = EntityApi(reporter, base_url, *child, references=placeholder)
        # /customers/{id}/orders; for a reference named unlike its entity (buyer:ref(customer))
        # /customers/{id}/buyer-orders.
        plural = parse_entity_name(child[0]).route.removeprefix("/")
        named_apart = reference != self.field.target
        self.nested = f"/{reference.replace('_', '-')}-{plural}" if named_apart else f"/{plural}"
        self.unique = next(f for f in self.parents.fields if f.unique)
        self.amount = next(f for f in self.children.fields if f.type is FieldType.DECIMAL)
        # Unique values of this run's rows: a later run on the same database makes new ones.
        self.run = uuid.uuid4().hex[:8]

    def _field(self, fields: str, reference: str) -> Field:
        for field in parse_fields(fields):
            if field.name == reference and field.type is FieldType.REF:
                return field
        self.reporter.error(f"{reference!r} is not a reference field of {fields!r}")

    def parent_body(self, label: str) -> dict[str, Any]:
        """A parent row's body whose unique field holds a value of its own (``label``)."""
        return {**self.parents.sample(), self.unique.column: f"{label}-{self.run}@example.test"}

    def child_body(self, parent: dict[str, Any], amount: str) -> dict[str, Any]:
        """A child row of ``parent`` with ``amount`` in its decimal field."""
        return {**self.children.sample(), self.column: parent["id"], self.amount.column: amount}

    def ids(self, what: str, answer: dict[str, Any]) -> list[int | str]:
        """The ids of a list answer, in order; its envelope checked."""
        if set(answer) != {"result", "meta"} or not isinstance(answer["result"], list):
            self.reporter.error(f"{what}: not a list envelope: {answer}")
        return [row["id"] for row in answer["result"]]

    def expect_list(
        self,
        what: str,
        api: EntityApi,
        path: str,
        expected: list[int | str],
        meta: dict[str, int],
    ) -> None:
        """GET ``path`` of ``api`` answers the rows ``expected``, in order, and ``meta``."""
        answer = api.expect(what, 200, "GET", path)
        got = self.ids(what, answer)
        if got != expected or {k: answer["meta"].get(k) for k in meta} != meta:
            self.reporter.error(
                f"{what}: GET {api.url}{path} answered ids {got} and meta {answer['meta']}, "
                f"expected ids {expected} and meta {meta}"
            )

    def exercise_referrers(self) -> None:
        """The referring entity's own contract, its rows referring to two new parent rows."""
        parents = [
            self.parents.create(f"create a parent row for the referrers ({n})", self.parent_body(n))
            for n in ("a", "b")
        ]
        references = {self.column: (parents[0]["id"], parents[1]["id"])}
        api = EntityApi(self.reporter, self.base_url, *self.child, references=references)
        api.exercise()
        for row in parents:
            self.parents.expect("delete a parent row", 204, "DELETE", f"/{row['id']}")

    def exercise(self) -> KeptRows:
        """The reference's whole contract; one parent with one child is left for later steps."""
        parents, children = self.parents, self.children
        first = parents.create("create a parent row", self.parent_body("first"))
        second = parents.create("create another parent row", self.parent_body("second"))
        parents.expect_error(
            f"create a parent row with another's {self.unique.column}",
            CONFLICT,
            self.unique.column,
            "POST",
            body=self.parent_body("first"),
        )
        missing = {"id": self.missing_id}
        children.expect_error(
            f"create with a {self.column} that names no row",
            INVALID,
            self.column,
            "POST",
            body=self.child_body(missing, "1.00"),
        )
        small = children.create("create a referrer", self.child_body(first, "10.00"))
        large = children.create("create a larger referrer", self.child_body(first, "30.00"))
        other = children.create("create the other row's referrer", self.child_body(second, "20.00"))
        children.expect_error(
            f"patch to a {self.column} that names no row",
            INVALID,
            self.column,
            "PATCH",
            f"/{small['id']}",
            body={self.column: self.missing_id},
        )
        self.exercise_lists(first, second, [small, large, other])
        self.exercise_restrict(first, [small, large])
        return KeptRows(parent=second, child=other)

    def exercise_lists(
        self, first: dict[str, Any], second: dict[str, Any], rows: list[dict[str, Any]]
    ) -> None:
        """The filter and sort on the reference, and the nested list of each parent."""
        small, large, other = (row["id"] for row in rows)
        children, column, amount = self.children, self.column, self.amount.column
        ids = [small, large]
        self.expect_list(
            f"filter by {column}", children, f"?{column}={first['id']}", ids, {"total": 2}
        )
        # Every row (others may be there): by the reference, then the amount, largest first.
        path = f"?sort={column},-{amount}&limit=100"
        listed = children.expect(f"sort by {column},-{amount}", 200, "GET", path)
        keys = [(row[column], -Decimal(str(row[amount])), row["id"]) for row in listed["result"]]
        mine = [row_id for (*_, row_id) in keys if row_id in (small, large, other)]
        in_order = [key[:2] for key in keys] == sorted(key[:2] for key in keys)
        if not in_order or mine != [large, small, other]:
            self.reporter.error(f"sort={column},-{amount} answered {listed['result']}")
        nested = f"/{first['id']}{self.nested}"
        self.expect_list("nested list", self.parents, nested, ids, {"total": 2})
        self.expect_list(
            "nested list, sorted and paged",
            self.parents,
            f"{nested}?sort=-{amount}&limit=1&offset=1",
            [small],
            {"total": 2, "limit": 1, "offset": 1},
        )
        self.expect_list(
            "nested list, filtered",
            self.parents,
            f"{nested}?{amount}=30.00",
            [large],
            {"total": 1},
        )
        self.expect_list(
            "nested list of the other",
            self.parents,
            f"/{second['id']}{self.nested}",
            [other],
            {"total": 1},
        )
        self.parents.expect_error(
            "nested list of a missing row",
            NOT_FOUND,
            None,
            "GET",
            f"/{self.missing_id}{self.nested}",
        )
        self.parents.expect(
            "nested list by an unknown field", 422, "GET", f"{nested}?no_such_field=1"
        )

    def exercise_restrict(self, parent: dict[str, Any], referrers: list[dict[str, Any]]) -> None:
        """A referenced row cannot be deleted (409) until its referrers are gone."""
        item = f"/{parent['id']}"
        self.expect_referenced(parent)
        for row in referrers:
            self.children.expect("delete a referrer", 204, "DELETE", f"/{row['id']}")
        self.parents.expect("delete the row without referrers", 204, "DELETE", item)
        self.parents.expect_error(
            "nested list of the deleted row", NOT_FOUND, None, "GET", f"{item}{self.nested}"
        )

    def expect_referenced(self, parent: dict[str, Any]) -> None:
        """Deleting ``parent``, which rows refer to, is 409 ``conflict``; it is still there."""
        item = f"/{parent['id']}"
        self.parents.expect_error("delete a referenced row", CONFLICT, None, "DELETE", item)
        self.parents.expect("get the referenced row after the refusal", 200, "GET", item)

    def expect_kept(self, kept: KeptRows) -> None:
        """The kept rows still answer, refer to each other, and the parent is still protected."""
        got = self.children.expect("get the kept referrer", 200, "GET", f"/{kept.child['id']}")
        if got["result"].get(self.column) != kept.parent["id"]:
            self.reporter.error(f"the kept referrer lost its {self.column}: {got['result']}")
        nested = f"/{kept.parent['id']}{self.nested}"
        rows = [kept.child["id"]]
        self.expect_list("nested list of the kept row", self.parents, nested, rows, {"total": 1})
        self.expect_referenced(kept.parent)
