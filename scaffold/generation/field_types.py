"""Every fact about a field type that generated code or its tests depend on, in one table.

Entity templates read a field's row as ``field_types[field.name]`` and the imports its types
need as ``imports``; `add`'s samples (``SAMPLES`` in ``entity.py``) come from here too.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from scaffold.project.entities import DefaultValue, Field, FieldType, default_text

__all__ = [
    "FIELD_TYPES",
    "TIMESTAMP",
    "EntityImports",
    "FieldDefault",
    "FieldTypeSpec",
    "ListField",
    "entity_imports",
    "field_default",
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
        # The column of a reference holds the id of a row of its entity. Its samples stand for
        # ids: tests that send one create the referenced row first and send that row's id.
        FieldType.REF: FieldTypeSpec(
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
        ),
    }
)

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


# The id's parser: a positive integer up to the largest id (a reference's too, later).
ID_PARSER = "row_id"


def list_fields(fields: Iterable[Field]) -> tuple[ListField, ...]:
    """The columns of an entity's list route, in the table's order: id, fields, timestamps."""

    def of(name: str, spec: FieldTypeSpec) -> ListField:
        return ListField(name, spec.filter_parser, spec.invalid_filter, spec.order_key)

    stamps = [of(name, TIMESTAMP) for name in ("created_at", "updated_at")]
    return (
        ListField("id", ID_PARSER, "0", None),
        *(of(field.column, FIELD_TYPES[field.type]) for field in fields),
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
    columns: tuple[str, ...]  # SQLAlchemy column classes, in the order fields first use them
    # import lines of generic Tortoise fields' parameters, and of the fields' defaults
    tortoise: tuple[str, ...]


def entity_imports(fields: Collection[Field]) -> EntityImports:
    """The imports the types of ``fields`` need."""
    used = [FIELD_TYPES[kind] for kind in dict.fromkeys(field.type for field in fields)]
    annotations = {spec.annotation_import for spec in used} - {TIMESTAMP.annotation_import}
    fields_module = dict.fromkeys(name for spec in used for name in spec.fields_module_types())
    for name in TIMESTAMP.fields_module_types():
        fields_module.pop(name, None)
    generic = {spec.annotation_import for spec in used if spec.tortoise_generic}
    defaults = {
        field_default(field.default).python_import for field in fields if field.default is not None
    }
    contracts = {line for spec in used for line in spec.contract_imports()} | defaults
    foreign_key = ["ForeignKey"] if any(field.type is FieldType.REF for field in fields) else []
    return EntityImports(
        annotations=tuple(sorted(line for line in annotations if line)),
        contracts=tuple(sorted(line for line in contracts if line)),
        fields_module=tuple(fields_module),
        columns=tuple(dict.fromkeys([*(spec.column_class for spec in used), *foreign_key])),
        tortoise=tuple(sorted(line for line in generic | defaults if line)),
    )
