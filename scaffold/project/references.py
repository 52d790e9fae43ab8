"""References between the entities of a service, checked against what the service holds.

A field ``customer:ref`` (or ``buyer:ref(customer)``) refers to the entity ``customer``; the
entities a service holds are those in ``[tool.robyn-config.entities]``. `add` and
`add-fields` refuse a reference to anything else (a module of the app included), `remove`
refuses an entity that others refer to, and `doctor` reports a reference whose entity has
gone (docs/design.md §3).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from scaffold.errors import UsageError
from scaffold.project.config import ProjectConfig
from scaffold.project.entities import Field, FieldType

__all__ = [
    "Reference",
    "missing_targets",
    "references_of",
    "references_to",
    "refuse_bad_targets",
]


@dataclass(frozen=True)
class Reference:
    """The reference field ``field`` of the entity ``entity`` (a module name)."""

    entity: str
    field: Field

    @property
    def target(self) -> str:
        assert self.field.target is not None  # every reference names its entity
        return self.field.target

    def __str__(self) -> str:
        return f"{self.entity}.{self.field.name}"


def references_of(entity: str, fields: Iterable[Field]) -> list[Reference]:
    """The reference fields among ``fields`` of ``entity``, in their order."""
    return [Reference(entity, item) for item in fields if item.type is FieldType.REF]


def _known(config: ProjectConfig) -> str:
    return ", ".join(sorted(config.entities)) or "none yet"


def refuse_bad_targets(config: ProjectConfig, entity: str, fields: Iterable[Field]) -> None:
    """Refuse (exit 2) a reference of ``entity`` to an entity the service does not hold.

    ``entity`` may be the one being added: it may refer to itself, but only nullably (its
    first row has no other row to refer to).
    """
    for reference in references_of(entity, fields):
        item, target = reference.field, reference.target
        if target == entity:
            if not item.optional:
                nullable = dataclasses.replace(item, optional=True).spec
                raise UsageError(
                    f"Field {item.name!r} refers to {entity!r} itself and is required, so its "
                    f"first row could never be created; make it nullable ({nullable!r})."
                )
            continue
        if target not in config.entities:
            raise UsageError(
                f"Field {item.name!r} refers to {target!r}, which is not an entity of this "
                f"service (entities: {_known(config)}); add it first with "
                f"'robyn-config add {target}'."
            )


def references_to(config: ProjectConfig, target: str) -> list[Reference]:
    """The references of the service's other entities to ``target`` (its own do not count).

    Raises:
        UsageError: an entity's recorded fields no longer parse (naming the entry).
    """
    found: list[Reference] = []
    for entity in sorted(config.entities):
        if entity != target:
            found += [
                reference
                for reference in references_of(entity, config.entity_fields(entity))
                if reference.target == target
            ]
    return found


def missing_targets(config: ProjectConfig, entity: str) -> list[Reference]:
    """The references of ``entity`` whose entity the service no longer holds.

    Raises:
        UsageError: the entity's recorded fields no longer parse (naming the entry).
    """
    return [
        reference
        for reference in references_of(entity, config.entity_fields(entity))
        if reference.target not in config.entities
    ]
