"""Every fact about a field type that generated code or its tests depend on, in one table.

Entity templates read a field's row as ``field_types[field.name]`` and the imports its types
need as ``imports``; `add`'s samples (``SAMPLES`` in ``entity.py``) come from here too.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from scaffold.project.entities import DefaultValue, Field, FieldType, IdType, default_text

__all__ = [
    "FIELD_TYPES",
    "KEY_TYPES",
    "TIMESTAMP",
    "EntityImports",
    "FieldDefault",
    "FieldTypeSpec",
    "KeyTypeSpec",
    "ListField",
    "entity_imports",
    "field_default",
    "field_spec",
    "list_fields",
]


@dataclass(frozen=True)
class FieldTypeSpec:
    """How one field type is written in each generated layer, and values to test it with.

    A request or response type other than the plain ``annotation`` is defined in the
    generated ``fields.py`` of the routes package.
    """

    annotation: str  # entities and ORM tables: ``Mapped[Decimal]``
    annotation_import: str | None  # what ``annotation`` needs; None for builtins
    request_type: str  # pydantic type of POST and PATCH bodies: refuses what the column can't hold
    response_type: str  # pydantic type of answers
    column: str  # SQLAlchemy column type
    tortoise_field: str  # class in ``tortoise.fields``
    sample: Any  # a JSON value that validates
    updated_sample: Any  # another one, for PATCH
    invalid_sample: Any  # a JSON value the API refuses with 422
    # A Python expression of ``n`` (a counter in the generated tests): a new value for each n
    # that the API answers exactly as sent, for fields whose rows must not collide. None for
    # types that cannot be unique.
    unique_sample: str | None
    # The parser of a list filter on the field: a function of the generated ``list_query.py``
    # (one per kind of field). None: the field can be neither filtered nor sorted on.
    filter_parser: str | None
    invalid_filter: str | None  # a query-string value the parser refuses with 422
    tortoise_arguments: tuple[str, ...] = ()
    tortoise_generic: bool = False  # the field class takes ``annotation`` as its parameter
    returned_suffix: str = ""  # the API answers a sample with this appended
    # A callable of the generated tests that makes an answered value sort as the database
    # sorts the column ("5.50" before "19.99"); None when the answered values already do.
    order_key: str | None = None

    @property
    def column_class(self) -> str:
        """The name ``column`` needs imported from ``sqlalchemy`` (``Numeric``)."""
        return self.column.split("(")[0]

    def returned(self, value: Any) -> Any:
        """What the API answers for ``value`` sent in a request."""
        return f"{value}{self.returned_suffix}" if self.returned_suffix else value

    def fields_module_types(self) -> list[str]:
        """The request and response types defined in the generated ``fields.py``."""
        names = dict.fromkeys((self.request_type, self.response_type))
        return [name for name in names if name != self.annotation]

    def contract_imports(self) -> list[str]:
        """What the request and response types not from ``fields.py`` need imported."""
        plain = self.annotation in (self.request_type, self.response_type)
        return [self.annotation_import] if plain and self.annotation_import else []


# The column of a reference holds the id of a row of its entity, of that entity's key type
# (KEY_TYPES below; FIELD_TYPES holds the int one). Its samples stand for ids: tests that
# send one create the referenced row first and send that row's id.
_INT_REFERENCE = FieldTypeSpec(
    annotation="int",
    annotation_import=None,
    request_type="Int32",
    response_type="int",
    column="Integer",
    tortoise_field="ForeignKeyField",
    sample=1,
    updated_sample=1,
    invalid_sample="not an id",
    unique_sample=None,
    filter_parser="row_id",
    invalid_filter="0",
)
_UUID_REFERENCE = FieldTypeSpec(
    annotation="UUID",
    annotation_import="from uuid import UUID",
    request_type="UUID",
    response_type="UUID",
    column="Uuid",
    tortoise_field="ForeignKeyField",
    sample="00000000-0000-7000-8000-000000000001",
    updated_sample="00000000-0000-7000-8000-000000000001",
    invalid_sample="not an id",
    unique_sample=None,
    filter_parser="uuid_value",
    invalid_filter="not-a-uuid",
)

FIELD_TYPES: MappingProxyType[FieldType, FieldTypeSpec] = MappingProxyType(
    {
        FieldType.STR: FieldTypeSpec(
            annotation="str",
            annotation_import=None,
            request_type="String255",
            response_type="str",
            column="String(255)",
            tortoise_field="CharField",
            tortoise_arguments=("max_length=255",),
            sample="sample",
            updated_sample="changed",
            invalid_sample={"not": "a string"},
            unique_sample='f"sample-{n}"',
            filter_parser="short_text",
            invalid_filter="nul\x00inside",
        ),
        FieldType.TEXT: FieldTypeSpec(
            annotation="str",
            annotation_import=None,
            request_type="LongText",
            response_type="str",
            column="Text",
            tortoise_field="TextField",
            sample="a longer text",
            updated_sample="another text",
            invalid_sample=["not", "text"],
            unique_sample='f"text {n}"',
            filter_parser="long_text",
            invalid_filter="nul\x00inside",
        ),
        FieldType.INT: FieldTypeSpec(
            annotation="int",
            annotation_import=None,
            request_type="Int32",
            response_type="int",
            column="Integer",
            tortoise_field="IntField",
            sample=42,
            updated_sample=7,
            invalid_sample="not a number",
            unique_sample="n",
            filter_parser="int32",
            invalid_filter="4.2",
        ),
        FieldType.FLOAT: FieldTypeSpec(
            annotation="float",
            annotation_import=None,
            request_type="FiniteFloat",
            response_type="float",
            column="Float",
            tortoise_field="FloatField",
            sample=1.5,
            updated_sample=2.25,
            invalid_sample="not a number",
            unique_sample="n + 0.5",
            filter_parser="finite_float",
            invalid_filter="nan",
        ),
        FieldType.DECIMAL: FieldTypeSpec(
            annotation="Decimal",
            annotation_import="from decimal import Decimal",
            request_type="Numeric12_2",
            response_type="DecimalValue",
            column="Numeric(12, 2)",
            tortoise_field="DecimalField",
            tortoise_arguments=("max_digits=12", "decimal_places=2"),
            sample="19.99",
            updated_sample="5.50",
            invalid_sample="not a number",
            unique_sample='f"{n}.25"',
            filter_parser="decimal_12_2",
            invalid_filter="1.234",
            order_key="Decimal",  # answered as strings
        ),
        FieldType.BOOL: FieldTypeSpec(
            annotation="bool",
            annotation_import=None,
            request_type="bool",
            response_type="bool",
            column="Boolean",
            tortoise_field="BooleanField",
            sample=True,
            updated_sample=False,
            invalid_sample="not a bool",
            unique_sample=None,
            filter_parser="boolean",
            invalid_filter="yes",
        ),
        FieldType.DATE: FieldTypeSpec(
            annotation="dt.date",
            annotation_import="import datetime as dt",
            request_type="dt.date",
            response_type="dt.date",
            column="Date",
            tortoise_field="DateField",
            sample="2024-05-17",
            updated_sample="2025-01-02",
            invalid_sample="not a date",
            unique_sample="datetime.fromordinal(730000 + n).date().isoformat()",
            filter_parser="iso_date",
            invalid_filter="2024-02-30",
        ),
        FieldType.DATETIME: FieldTypeSpec(
            annotation="dt.datetime",
            annotation_import="import datetime as dt",
            request_type="UtcDatetime",
            response_type="UtcDatetime",
            column="DateTime(timezone=True)",
            tortoise_field="DatetimeField",
            sample="2024-05-17T10:30:00",
            updated_sample="2025-01-02T08:00:00",
            invalid_sample="not a datetime",
            unique_sample='datetime.fromordinal(730000 + n).isoformat() + "Z"',
            filter_parser="utc_datetime",
            invalid_filter="yesterday",
            order_key="datetime.fromisoformat",  # ".5Z" sorts before "Z" as text
            returned_suffix="Z",  # naive datetimes are taken as UTC and answered with "Z"
        ),
        FieldType.UUID: FieldTypeSpec(
            annotation="UUID",
            annotation_import="from uuid import UUID",
            request_type="UUID",
            response_type="UUID",
            column="Uuid",
            tortoise_field="UUIDField",
            sample="6f1c1a39-3c1e-4a39-8a4e-1d2a8f0b9c11",
            updated_sample="0b8e2f44-6a57-4f0e-9d7c-5a3b1e2c4d6f",
            invalid_sample="not-a-uuid",
            unique_sample='f"00000000-0000-4000-8000-{n:012d}"',
            filter_parser="uuid_value",
            invalid_filter="not-a-uuid",
        ),
        FieldType.JSON: FieldTypeSpec(
            annotation="dict[str, Any]",
            annotation_import="from typing import Any",
            request_type="JsonObject",
            response_type="JsonObject",
            column="JSON",
            tortoise_field="JSONField",
            tortoise_generic=True,  # mypy needs JSONField's value type
            sample={"key": "value"},
            updated_sample={"other": [1, 2]},
            invalid_sample="not an object",
            unique_sample=None,
            filter_parser=None,
            invalid_filter=None,
        ),
        FieldType.REF: _INT_REFERENCE,
    }
)


@dataclass(frozen=True)
class KeyTypeSpec:
    """How an entity's primary key ``id`` of one type is written in each generated layer, and
    how its tests name a row that does not exist."""

    annotation: str  # entities, contracts, use cases and repositories
    annotation_import: str | None
    column: str  # SQLAlchemy column type
    column_options: str  # the rest of the id's mapped_column(...)
    tortoise_field: str  # the id's field: ``fields.<this>``
    generator_import: str | None  # what makes new keys in the service; None: the database
    path_parser: str  # the function of the generated responses.py that reads a path id
    filter_parser: str  # the function of the generated list_query.py of the ``id`` filter
    invalid_filter: str  # a query-string value that parser refuses
    answered: str  # the Python type of the id as the API answers it (JSON)
    missing: str  # a Python literal of a key no row has
    malformed: tuple[str, ...]  # path segments that are no key (404 as for a missing row)
    reference: FieldTypeSpec  # the field type of a reference to an entity with this key


KEY_TYPES: MappingProxyType[IdType, KeyTypeSpec] = MappingProxyType(
    {
        IdType.INT: KeyTypeSpec(
            annotation="int",
            annotation_import=None,
            column="Integer",
            column_options="primary_key=True, autoincrement=True",
            tortoise_field="IntField(primary_key=True)",
            generator_import=None,
            path_parser="parse_id",
            filter_parser="row_id",
            invalid_filter="0",
            answered="int",
            missing="2_000_000_000",
            malformed=("0", "-1", "abc", "1.5", "9" * 40),
            reference=_INT_REFERENCE,
        ),
        # Version 7: the time in milliseconds first, so ids sort in creation order and new
        # rows land at the end of the primary key's index; uuid_utils counts within a
        # millisecond, so one process's keys are strictly increasing (docs/decisions.md).
        IdType.UUID: KeyTypeSpec(
            annotation="UUID",
            annotation_import="from uuid import UUID",
            column="Uuid",
            column_options="primary_key=True, default=uuid7",
            tortoise_field="UUIDField(primary_key=True, default=uuid7)",
            generator_import="from uuid_utils.compat import uuid7",
            path_parser="parse_uuid",
            filter_parser="uuid_value",
            invalid_filter="not-a-uuid",
            answered="str",
            missing='"00000000-0000-7000-8000-000000000000"',
            malformed=(
                "0",
                "abc",
                "2000000000",
                "0189e0b6-7c3a-7d4e-9f10-2b3c4d5e6f7",  # a digit short
                "0189e0b6-7c3a-7d4e-9f10-2b3c4d5e6f7g",
                "0189e0b6-7c3a-7d4e-9f10-2b3c4d5e6f70ab",  # two digits too many
                "9" * 40,
            ),
            reference=_UUID_REFERENCE,
        ),
    }
)


def field_spec(field: Field, target_key: IdType = IdType.INT) -> FieldTypeSpec:
    """The row of ``field``'s type; a reference's follows the key type of its entity."""
    if field.type is FieldType.REF:
        return KEY_TYPES[target_key].reference
    return FIELD_TYPES[field.type]


# The type of every entity's ``created_at`` and ``updated_at``: the templates import what it
# needs themselves, so the import lists below leave it out.
TIMESTAMP = FIELD_TYPES[FieldType.DATETIME]


@dataclass(frozen=True)
class ListField:
    """A column as the list route filters and sorts on it: the entity's fields, its id and
    timestamps. A new kind of field (a reference) slots in with its row's ``filter_parser``."""

    name: str
    parser: str | None  # a function of the generated list_query.py; None: not filterable
    invalid_filter: str | None  # a query-string value the parser refuses
    order_key: str | None  # see FieldTypeSpec.order_key


def _specs(
    fields: Iterable[Field], specs: Mapping[str, FieldTypeSpec] | None
) -> list[FieldTypeSpec]:
    """Each field's row: from ``specs`` (by field name) when given, else by its type."""
    if specs is None:
        return [FIELD_TYPES[field.type] for field in fields]
    return [specs[field.name] for field in fields]


def list_fields(
    fields: Iterable[Field],
    specs: Mapping[str, FieldTypeSpec] | None = None,
    key: IdType = IdType.INT,
) -> tuple[ListField, ...]:
    """The columns of an entity's list route, in the table's order: id, fields, timestamps.

    ``specs`` holds each field's row by name (a reference's follows its entity's key type);
    ``key`` is the entity's own key type.
    """

    def of(name: str, spec: FieldTypeSpec) -> ListField:
        return ListField(name, spec.filter_parser, spec.invalid_filter, spec.order_key)

    fields = tuple(fields)
    rows = zip(fields, _specs(fields, specs), strict=True)
    stamps = [of(name, TIMESTAMP) for name in ("created_at", "updated_at")]
    key_spec = KEY_TYPES[key]
    return (
        ListField("id", key_spec.filter_parser, key_spec.invalid_filter, None),
        *(of(field.column, spec) for field, spec in rows),
        *stamps,
    )


@dataclass(frozen=True)
class FieldDefault:
    """A field's default as each layer of generated code writes it."""

    python: str  # the expression in contracts and Tortoise models: 0, "draft", Decimal("9.99")
    python_import: str | None  # what ``python`` needs imported
    # The text SQLAlchemy's ``server_default`` quotes: a literal both SQLite and PostgreSQL
    # read as the column's type (a boolean as '1' or '0', which PostgreSQL accepts too).
    server: str
    answered: Any  # the JSON value the API answers for it


_CENT = Decimal("0.01")


def field_default(value: DefaultValue) -> FieldDefault:
    """How generated code writes the default ``value`` (parsed from a field spec)."""
    if isinstance(value, bool):
        return FieldDefault(repr(value), None, "1" if value else "0", value)
    if isinstance(value, Decimal):
        # Numeric(12, 2) answers two places ("9.90"), as decimals always read back.
        answered = str(value.quantize(_CENT))
        return FieldDefault(
            f'Decimal("{value}")', "from decimal import Decimal", str(value), answered
        )
    if isinstance(value, date):
        python = f"dt.date({value.year}, {value.month}, {value.day})"
        return FieldDefault(python, "import datetime as dt", value.isoformat(), value.isoformat())
    if isinstance(value, str):
        return FieldDefault(json.dumps(value), None, value, value)
    return FieldDefault(repr(value), None, default_text(value), value)


@dataclass(frozen=True)
class EntityImports:
    """The imports an entity's field types need, each list without repeats.

    ``annotations`` and ``fields_module`` leave out what the timestamps need, which every
    template imports itself; ``columns`` is merged into the tables module, where a repeat of
    the id's or timestamps' column class is harmless.
    """

    annotations: tuple[str, ...]  # import lines of the annotations, sorted
    # import lines of request/response types not in fields.py, and of the fields' defaults
    contracts: tuple[str, ...]
    fields_module: tuple[str, ...]  # names from fields.py, in the order fields first use them
    # SQLAlchemy column classes, in the order fields first use them (the snippets import the
    # key's and the timestamps' themselves)
    columns: tuple[str, ...]
    # import lines of generic Tortoise fields' parameters, of references' annotations, and
    # of the fields' defaults
    tortoise: tuple[str, ...]
    key: tuple[str, ...] = ()  # import line of the entity's key type
    # import lines of the key types of the entity and of the entities its references name
    keys: tuple[str, ...] = ()
    generator: tuple[str, ...] = ()  # import line of what makes the entity's new keys


def entity_imports(
    fields: Collection[Field],
    specs: Mapping[str, FieldTypeSpec] | None = None,
    key: IdType = IdType.INT,
) -> EntityImports:
    """The imports the types of ``fields`` (rows in ``specs``, see `list_fields`) and the
    entity's key of type ``key`` need."""
    # One of each row, in the order the fields first use them (rows are not hashable).
    used = list({id(spec): spec for spec in _specs(fields, specs)}.values())
    key_spec = KEY_TYPES[key]
    key_import = {key_spec.annotation_import}
    annotations = {spec.annotation_import for spec in used} | key_import
    annotations -= {TIMESTAMP.annotation_import}
    fields_module = dict.fromkeys(name for spec in used for name in spec.fields_module_types())
    for name in TIMESTAMP.fields_module_types():
        fields_module.pop(name, None)
    generic = {spec.annotation_import for spec in used if spec.tortoise_generic}
    defaults = {
        field_default(field.default).python_import for field in fields if field.default is not None
    }
    contracts = {line for spec in used for line in spec.contract_imports()} | defaults
    contracts |= key_import
    references = [spec for spec in used if spec.tortoise_field == "ForeignKeyField"]
    foreign_key = ["ForeignKey"] if references else []
    referenced = {spec.annotation_import for spec in references}
    generator = {key_spec.generator_import}
    return EntityImports(
        annotations=tuple(sorted(line for line in annotations if line)),
        contracts=tuple(sorted(line for line in contracts if line)),
        fields_module=tuple(fields_module),
        columns=tuple(dict.fromkeys([*(spec.column_class for spec in used), *foreign_key])),
        tortoise=tuple(sorted(line for line in generic | defaults | referenced if line)),
        key=tuple(line for line in key_import if line),
        keys=tuple(sorted(line for line in key_import | referenced if line)),
        generator=tuple(line for line in generator if line),
    )
