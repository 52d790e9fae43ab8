"""Entity names and field specs for `add`: parsed, normalised and validated once."""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType

import inflection

from scaffold.errors import UsageError

__all__ = [
    "DEFAULT_FIELDS",
    "LIST_PARAMETERS",
    "MAX_ENTITY_NAME",
    "RESERVED_FIELDS",
    "SHADOWING_FIELDS",
    "DefaultValue",
    "EntityName",
    "Field",
    "FieldType",
    "Modifier",
    "OnDelete",
    "default_text",
    "parse_entity_name",
    "parse_field",
    "parse_fields",
]

RESERVED_FIELDS = frozenset({"id", "created_at", "updated_at"})
# Field names the generated code cannot carry: names it annotates with (dates and datetimes are
# written `dt.date` and `dt.datetime`, so a field may be called `date`), attributes of
# SQLAlchemy's declarative base and Tortoise models (a field named `filter` would replace the
# ORM's own method). Fields named like a pydantic model's attribute (`json`) are written with
# a trailing underscore in the request and response models, under their own name as alias.
SHADOWING_FIELDS = frozenset(
    {
        *("str", "int", "float", "bool", "dict", "list", "decimal", "uuid"),
        *("dt", "dict"),
        *("metadata", "registry"),
        *("pk", "all", "filter", "exclude", "get", "get_or_none", "first", "create", "save"),
        *("delete", "clone", "update_from_dict", "fetch_related", "refresh_from_db"),
        *("describe", "exists", "annotate", "bulk_create", "bulk_update", "get_or_create"),
        *("update_or_create", "select_for_update", "in_bulk", "raw", "check", "fields", "models"),
    }
)
# The list route's own query parameters: a field so named could not be filtered on.
LIST_PARAMETERS = frozenset({"limit", "offset", "sort"})
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
    # A reference to a row of an entity (``customer:ref``, ``buyer:ref(customer)``): the
    # column ``<name>_id`` holds its id, under a foreign key.
    REF = "ref"


class Modifier(StrEnum):
    UNIQUE = "unique"  # a unique constraint: a duplicate value is answered with 409
    INDEX = "index"
    # What deleting a referenced row does to a reference (restrict, the default, refuses it).
    CASCADE = "cascade"
    SET_NULL = "set-null"


class OnDelete(StrEnum):
    """The foreign key's action when the referenced row is deleted, as SQL names it."""

    RESTRICT = "RESTRICT"
    CASCADE = "CASCADE"
    SET_NULL = "SET NULL"


# A default as the generated code holds it: the value the command line's text stands for.
DefaultValue = str | int | float | bool | Decimal | date

# Outside what the columns hold (32-bit integers, Numeric(12, 2), String(255)) a default
# would fail when the database applies it.
_INT32 = range(-(2**31), 2**31)
_DECIMAL_DIGITS, _DECIMAL_PLACES = 12, 2
_STR_LENGTH = 255


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    optional: bool = False
    unique: bool = False
    index: bool = False
    default: DefaultValue | None = None
    # A reference's entity (its module name) and delete action; None for other types.
    target: str | None = None
    on_delete: OnDelete | None = None

    @property
    def column(self) -> str:
        """The column, attribute and request/response field: ``customer_id`` for a reference."""
        return f"{self.name}_id" if self.type is FieldType.REF else self.name

    @property
    def modifiers(self) -> tuple[Modifier, ...]:
        flags = {
            Modifier.UNIQUE: self.unique,
            Modifier.INDEX: self.index,
            Modifier.CASCADE: self.on_delete is OnDelete.CASCADE,
            Modifier.SET_NULL: self.on_delete is OnDelete.SET_NULL,
        }
        return tuple(modifier for modifier, on in flags.items() if on)

    @property
    def spec(self) -> str:
        """The field as ``--fields`` takes it (and ``[tool.robyn-config.entities]`` records)."""
        kind = self.type.value
        if self.target is not None and self.target != self.name:
            kind = f"{kind}({self.target})"
        text = f"{self.name}:{kind}{'?' if self.optional else ''}"
        text += "".join(f":{modifier.value}" for modifier in self.modifiers)
        return text if self.default is None else f"{text}={default_text(self.default)}"


def default_text(value: DefaultValue) -> str:
    """How a default is written in a field spec (``true``, ``0``, ``draft``, ``2024-01-31``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


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


# Types a default can be given for: the others have no literal an operator would type.
_DEFAULT_TYPES = (
    FieldType.STR,
    FieldType.TEXT,
    FieldType.INT,
    FieldType.FLOAT,
    FieldType.DECIMAL,
    FieldType.BOOL,
    FieldType.DATE,
)


def _int_default(text: str) -> int | None:
    if re.fullmatch(r"-?[0-9]{1,10}", text) and int(text) in _INT32:
        return int(text)
    return None


def _float_default(text: str) -> float | None:
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?", text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _decimal_default(text: str) -> Decimal | None:
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    places = -int(value.as_tuple().exponent)
    digits = len(value.as_tuple().digits)
    if places > _DECIMAL_PLACES or digits - max(places, 0) > _DECIMAL_DIGITS - _DECIMAL_PLACES:
        return None
    return value


def _date_default(text: str) -> date | None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


_DEFAULT_PARSERS: dict[FieldType, Callable[[str], DefaultValue | None]] = {
    FieldType.STR: lambda text: text if len(text) <= _STR_LENGTH else None,
    FieldType.TEXT: lambda text: text,
    FieldType.INT: _int_default,
    FieldType.FLOAT: _float_default,
    FieldType.DECIMAL: _decimal_default,
    FieldType.BOOL: {"true": True, "false": False}.get,
    FieldType.DATE: _date_default,
}
_DEFAULT_EXAMPLES = {
    FieldType.STR: "draft",
    FieldType.TEXT: "none yet",
    FieldType.INT: "0 (a 32-bit integer)",
    FieldType.FLOAT: "1.5",
    FieldType.DECIMAL: "9.99 (at most 10 digits before the point and 2 after)",
    FieldType.BOOL: "true or false",
    FieldType.DATE: "2024-01-31",
}


def _parse_default(name: str, field_type: FieldType, text: str) -> DefaultValue:
    if field_type not in _DEFAULT_TYPES:
        kinds = ", ".join(kind.value for kind in _DEFAULT_TYPES)
        raise UsageError(f"Field {name!r} cannot have a default: defaults are for {kinds} fields.")
    if not text:
        raise UsageError(f"Field {name!r} has '=' but no default after it.")
    value = _DEFAULT_PARSERS[field_type](text)
    if value is None:
        raise UsageError(
            f"Invalid default {text!r} for {field_type.value} field {name!r}; "
            f"write e.g. {_DEFAULT_EXAMPLES[field_type]}."
        )
    return value


_DELETE_ACTIONS = {Modifier.CASCADE: OnDelete.CASCADE, Modifier.SET_NULL: OnDelete.SET_NULL}


def _parse_on_delete(
    name: str, field_type: FieldType, optional: bool, modifiers: set[Modifier]
) -> OnDelete | None:
    actions = [_DELETE_ACTIONS[modifier] for modifier in modifiers if modifier in _DELETE_ACTIONS]
    if field_type is not FieldType.REF:
        if actions:
            raise UsageError(
                f"Field {name!r} is not a reference: 'cascade' and 'set-null' are for ref fields."
            )
        return None
    if len(actions) > 1:
        raise UsageError(f"Field {name!r} cannot be both 'cascade' and 'set-null'.")
    if actions == [OnDelete.SET_NULL] and not optional:
        raise UsageError(
            f"Field {name!r} is 'set-null' but required: write it {name}:ref?:set-null."
        )
    return actions[0] if actions else OnDelete.RESTRICT


def _parse_modifiers(name: str, field_type: FieldType, texts: list[str]) -> set[Modifier]:
    modifiers: set[Modifier] = set()
    for text in texts:
        try:
            modifier = Modifier(text)
        except ValueError:
            choices = " ".join(member.value for member in Modifier)
            raise UsageError(
                f"Unknown modifier {text!r} for field {name!r}; choose from: {choices}."
            ) from None
        if modifier in modifiers:
            raise UsageError(f"Modifier {text!r} is given twice for field {name!r}.")
        modifiers.add(modifier)
    if Modifier.UNIQUE in modifiers and field_type is FieldType.BOOL:
        raise UsageError(f"Field {name!r} is bool: it cannot be unique (two values, two rows).")
    if Modifier.UNIQUE in modifiers and field_type is FieldType.REF:
        # One-to-one references are left out: each referenced row has a list of referrers.
        raise UsageError(f"Field {name!r} is a reference: it cannot be unique.")
    if modifiers and field_type is FieldType.JSON:
        # PostgreSQL's json type has no equality: it can be neither unique nor indexed.
        raise UsageError(f"Field {name!r} is json: it cannot be unique or indexed.")
    return modifiers


def _parse_name(name: str, seen: Mapping[str, str]) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise UsageError(
            f"Invalid field name {name!r}: use a lower-case Python identifier "
            "that is not a keyword."
        )
    if name in RESERVED_FIELDS:
        reserved = ", ".join(sorted(RESERVED_FIELDS))
        raise UsageError(f"Field {name!r} is reserved ({reserved} are added for you).")
    if name in LIST_PARAMETERS:
        raise UsageError(
            f"Field {name!r} is a query parameter of the entity's list (limit, offset, sort); "
            "choose another name."
        )
    if "__" in name:
        # Tortoise reads "a__b" in a filter as field a with lookup b.
        raise UsageError(f"Invalid field name {name!r}: '__' separates a field from a lookup.")
    if name in SHADOWING_FIELDS or name.startswith("model_"):
        raise UsageError(
            f"Field {name!r} would shadow a name the generated models and contracts use; "
            "choose another name."
        )
    if name in seen:
        if seen[name] != name:
            raise UsageError(f"Field {name!r} is the column of the reference {seen[name]!r}.")
        raise UsageError(f"Field {name!r} is given twice in --fields.")


_NOTHING: Mapping[str, str] = MappingProxyType({})
_REF_TARGET = re.compile(r"ref\((?P<target>[^()]*)\)")


def _parse_target(name: str, type_name: str) -> tuple[str, str | None]:
    """``ref(customer)`` is type ``ref`` with its target; the bare ``ref`` targets ``name``."""
    match = _REF_TARGET.fullmatch(type_name)
    if match is None:
        return type_name, (name if type_name == FieldType.REF.value else None)
    raw = match["target"]
    try:
        return FieldType.REF.value, parse_entity_name(raw).module
    except UsageError:
        raise UsageError(
            f"Field {name!r} refers to {raw!r}, which is not an entity name; "
            "write e.g. buyer:ref(customer)."
        ) from None


def parse_field(item: str, seen: Mapping[str, str] = _NOTHING) -> Field:
    """Parse one ``name:type[?][:modifier...][=default]``, e.g. ``quantity:int:index=0``.

    ``seen`` maps the names and columns of the fields already parsed to their field's name
    (a reference's column is ``<name>_id``).
    """
    head, equals, default = item.partition("=")
    name, separator, rest = head.partition(":")
    type_text, *modifier_texts = rest.split(":")
    optional = type_text.endswith("?")
    type_name = type_text.removesuffix("?")
    if not separator or not name or not type_name:
        raise UsageError(f"Invalid field {item!r}: write it as name:type, e.g. price:decimal.")
    _parse_name(name, seen)
    type_name, target = _parse_target(name, type_name)
    try:
        field_type = FieldType(type_name)
    except ValueError:
        choices = " ".join(member.value for member in FieldType)
        raise UsageError(
            f"Unknown type {type_name!r} for field {name!r}; choose one of: {choices}."
        ) from None
    if field_type is FieldType.REF and f"{name}_id" in seen:
        raise UsageError(f"Field {name!r} is a reference, whose column {name}_id is given too.")
    if field_type is FieldType.REF and name.endswith("_"):
        raise UsageError(f"Invalid field name {name!r}: its column {name}_id would hold '__'.")
    modifiers = _parse_modifiers(name, field_type, modifier_texts)
    return Field(
        name=name,
        type=field_type,
        optional=optional,
        unique=Modifier.UNIQUE in modifiers,
        index=Modifier.INDEX in modifiers,
        default=_parse_default(name, field_type, default) if equals else None,
        target=target,
        on_delete=_parse_on_delete(name, field_type, optional, modifiers),
    )


def parse_fields(spec: str | None) -> tuple[Field, ...]:
    """Parse ``"name:str:unique quantity:int=0 note:text?"``; the default is ``name:str``."""
    text = DEFAULT_FIELDS if spec is None else spec
    items = text.replace(",", " ").split()
    if not items:
        raise UsageError(f"--fields {spec!r} names no field; write e.g. 'name:str price:decimal'.")
    fields: list[Field] = []
    seen: dict[str, str] = {}
    for item in items:
        field = parse_field(item, seen)
        seen |= {field.name: field.name, field.column: field.name}
        fields.append(field)
    return tuple(fields)
