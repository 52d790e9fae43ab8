"""Entity names and field specs for `add`: parsed, normalised and validated once."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from enum import StrEnum

import inflection

from scaffold.errors import UsageError

__all__ = [
    "DEFAULT_FIELDS",
    "MAX_ENTITY_NAME",
    "RESERVED_FIELDS",
    "SHADOWING_FIELDS",
    "EntityName",
    "Field",
    "FieldType",
    "parse_entity_name",
    "parse_fields",
]

RESERVED_FIELDS = frozenset({"id", "created_at", "updated_at"})
# Field names the generated code cannot carry: Python types it annotates with, attributes of
# pydantic models, SQLAlchemy's declarative base and Tortoise models (a field named `filter`
# would replace the ORM's own method).
SHADOWING_FIELDS = frozenset(
    {
        *("str", "int", "float", "bool", "dict", "list", "date", "datetime", "decimal", "uuid"),
        *("copy", "json", "schema", "schema_json", "construct", "validate", "parse_obj"),
        *("parse_raw", "parse_file", "from_orm", "update_forward_refs", "dict"),
        *("metadata", "registry"),
        *("pk", "all", "filter", "exclude", "get", "get_or_none", "first", "create", "save"),
        *("delete", "clone", "update_from_dict", "fetch_related", "refresh_from_db"),
        *("describe", "exists", "annotate", "bulk_create", "bulk_update", "get_or_create"),
        *("update_or_create", "select_for_update", "in_bulk", "raw", "check", "fields", "models"),
    }
)
# Longer names make generated lines that no longer fit the projects' 100 columns.
MAX_ENTITY_NAME = 40
DEFAULT_FIELDS = "name:str"

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[-_]+")
_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


class FieldType(StrEnum):
    STR = "str"
    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    DECIMAL = "decimal"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    UUID = "uuid"
    JSON = "json"


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    optional: bool = False

    @property
    def spec(self) -> str:
        return f"{self.name}:{self.type.value}{'?' if self.optional else ''}"


@dataclass(frozen=True)
class EntityName:
    """Every spelling of one entity the templates need."""

    module: str  # order_item
    class_name: str  # OrderItem
    plural: str  # order_items
    route: str  # /order-items

    @property
    def title(self) -> str:
        return self.module.replace("_", " ")


def parse_entity_name(raw: str, *, taken: frozenset[str] = frozenset()) -> EntityName:
    """Normalise ``order-item``, ``order_item`` or ``OrderItem``; refuse unusable names.

    ``taken`` holds the module names of the app itself that an entity must not shadow.
    """
    text = raw.strip()
    if not text:
        raise UsageError("The entity name is empty; give a name such as 'product' or 'order-item'.")
    if text[0].isdigit():
        raise UsageError(f"Invalid entity name {raw!r}: it starts with a digit.")
    words = [word.lower() for word in _WORD_BOUNDARY.split(text) if word]
    module = "_".join(words)
    if len(module) > MAX_ENTITY_NAME:
        raise UsageError(
            f"Invalid entity name {raw!r}: it is longer than {MAX_ENTITY_NAME} characters."
        )
    if not _SNAKE.fullmatch(module):
        raise UsageError(
            f"Invalid entity name {raw!r}: use letters and digits, words separated by '-' or '_' "
            "or written in CamelCase."
        )
    if keyword.iskeyword(module) or keyword.issoftkeyword(module):
        raise UsageError(f"Invalid entity name {raw!r}: {module!r} is a Python keyword.")
    if module in taken:
        raise UsageError(
            f"Invalid entity name {raw!r}: {module!r} would shadow the app's own module "
            f"{module!r}; choose another name."
        )
    # inflection (not inflect: that one takes seconds to set up, and `add` should not).
    last = inflection.pluralize(words[-1])
    plural_words = [*words[:-1], str(last)]
    return EntityName(
        module=module,
        class_name="".join(word.capitalize() for word in words),
        plural="_".join(plural_words),
        route="/" + "-".join(plural_words),
    )


def parse_fields(spec: str | None) -> tuple[Field, ...]:
    """Parse ``"name:str price:decimal note:text?"``; the default is ``name:str``."""
    text = DEFAULT_FIELDS if spec is None else spec
    items = text.replace(",", " ").split()
    if not items:
        raise UsageError(f"--fields {spec!r} names no field; write e.g. 'name:str price:decimal'.")
    fields: list[Field] = []
    seen: set[str] = set()
    for item in items:
        name, separator, type_text = item.partition(":")
        optional = type_text.endswith("?")
        type_name = type_text.removesuffix("?")
        if not separator or not name or not type_name:
            raise UsageError(f"Invalid field {item!r}: write it as name:type, e.g. price:decimal.")
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or keyword.iskeyword(name):
            raise UsageError(
                f"Invalid field name {name!r}: use a lower-case Python identifier "
                "that is not a keyword."
            )
        if name in RESERVED_FIELDS:
            reserved = ", ".join(sorted(RESERVED_FIELDS))
            raise UsageError(f"Field {name!r} is reserved ({reserved} are added for you).")
        if name in SHADOWING_FIELDS or name.startswith("model_"):
            raise UsageError(
                f"Field {name!r} would shadow a name the generated models and contracts use; "
                "choose another name."
            )
        if name in seen:
            raise UsageError(f"Field {name!r} is given twice in --fields.")
        try:
            field_type = FieldType(type_name)
        except ValueError:
            choices = " ".join(member.value for member in FieldType)
            raise UsageError(
                f"Unknown type {type_name!r} for field {name!r}; choose one of: {choices}."
            ) from None
        seen.add(name)
        fields.append(Field(name=name, type=field_type, optional=optional))
    return tuple(fields)
