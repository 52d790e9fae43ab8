"""The stack matrix, declared once: choices, validation, nox sessions, test ids derive from it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import TypeVar

from scaffold.errors import UsageError

__all__ = ["DEFAULT_STACK", "STACKS", "Design", "Orm", "PackageManager", "Stack", "parse_choice"]

E = TypeVar("E", bound=Enum)


class Design(StrEnum):
    DDD = "ddd"
    MVC = "mvc"


class Orm(StrEnum):
    SQLALCHEMY = "sqlalchemy"
    TORTOISE = "tortoise"


class PackageManager(StrEnum):
    UV = "uv"
    POETRY = "poetry"


@dataclass(frozen=True)
class Stack:
    """One cell of the matrix."""

    design: Design
    orm: Orm
    package_manager: PackageManager

    @property
    def id(self) -> str:
        return f"{self.design.value}-{self.orm.value}-{self.package_manager.value}"

    @classmethod
    def from_id(cls, stack_id: str) -> Stack:
        for stack in STACKS:
            if stack.id == stack_id:
                return stack
        known = ", ".join(stack.id for stack in STACKS)
        raise UsageError(f"Unknown stack {stack_id!r}; expected one of: {known}.")


STACKS: tuple[Stack, ...] = tuple(
    Stack(design, orm, manager)
    for design, orm, manager in itertools.product(Design, Orm, PackageManager)
)


# What `create` makes when no choice is given (and the first cell of the matrix).
DEFAULT_STACK = Stack(Design.DDD, Orm.SQLALCHEMY, PackageManager.UV)


def parse_choice(enum: type[E], value: str, option: str) -> E:
    """Return the member of ``enum`` named by ``value`` or raise a one-sentence UsageError."""
    for member in enum:
        if member.value == value:
            return member
    choices = ", ".join(str(member.value) for member in enum)
    raise UsageError(f"Unknown {option} {value!r}; choose one of: {choices}.")
