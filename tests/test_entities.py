"""Entity names and field specs for `add` (docs/design.md §3 add): normalised, refused clearly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from scaffold.errors import UsageError
from scaffold.project.entities import (
    DEFAULT_FIELDS,
    EntityName,
    Field,
    FieldType,
    Modifier,
    OnDelete,
    parse_entity_name,
    parse_field,
    parse_fields,
)

# The largest value a decimal column (Numeric(12, 2)) holds.
LARGEST = Decimal("9999999999.99")
ALL_TYPES = "str text int float decimal bool date datetime uuid json ref"
MODIFIERS = "unique index cascade set-null"


@pytest.mark.parametrize(
    "raw", ["order-item", "order_item", "OrderItem", "orderItem", " order-item "]
)
def test_spellings_of_one_entity_normalise_alike(raw: str) -> None:
    assert parse_entity_name(raw) == EntityName(
        module="order_item", class_name="OrderItem", plural="order_items", route="/order-items"
    )


@pytest.mark.parametrize(
    ("raw", "module", "class_name", "plural", "route"),
    [
        ("product", "product", "Product", "products", "/products"),
        ("category", "category", "Category", "categories", "/categories"),
        ("person", "person", "Person", "people", "/people"),
        ("box", "box", "Box", "boxes", "/boxes"),
        ("sales-person", "sales_person", "SalesPerson", "sales_people", "/sales-people"),
        ("ProductCategory", "product_category", "ProductCategory", "product_categories",
         "/product-categories"),
        ("item2", "item2", "Item2", "item2s", "/item2s"),
    ],
)  # fmt: skip
def test_plural_and_route(raw: str, module: str, class_name: str, plural: str, route: str) -> None:
    name = parse_entity_name(raw)
    assert (name.module, name.class_name, name.plural, name.route) == (
        module,
        class_name,
        plural,
        route,
    )


def test_title_is_spaced_words() -> None:
    assert parse_entity_name("OrderItem").title == "order item"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("class", "keyword"),
        ("Class", "keyword"),
        ("import", "keyword"),
        ("match", "keyword"),  # a soft keyword still breaks `from ... import match` readers
        ("1abc", "digit"),
        ("9", "digit"),
        ("a$b", "Invalid entity name 'a$b'"),
        ("order item", "Invalid entity name"),
        ("prodüct", "Invalid entity name"),
        ("a.b", "Invalid entity name"),
        ("-", "Invalid entity name"),
    ],
)
def test_unusable_names_are_refused(raw: str, fragment: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_entity_name(raw)
    assert fragment in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize("raw", ["config", "app", "tests", "healthcheck", "Responses"])
def test_names_of_the_apps_own_modules_are_refused(raw: str) -> None:
    taken = frozenset({"config", "app", "tests", "healthcheck", "responses"})
    with pytest.raises(UsageError, match="shadow the app's own module"):
        parse_entity_name(raw, taken=taken)


def test_default_fields() -> None:
    assert DEFAULT_FIELDS == "name:str"
    assert parse_fields(None) == (Field("name", FieldType.STR),)


def test_every_type_and_the_optional_marker() -> None:
    spec = " ".join(f"f_{kind}:{kind}" for kind in ALL_TYPES.split()) + " note:text?"
    fields = parse_fields(spec)
    assert [field.type.value for field in fields] == [*ALL_TYPES.split(), "text"]
    assert [field.optional for field in fields] == [False] * len(ALL_TYPES.split()) + [True]
    assert " ".join(field.spec for field in fields) == spec


def test_fields_keep_their_order_and_round_trip() -> None:
    spec = "name:str price:decimal in_stock:bool"
    fields = parse_fields(spec)
    assert [f.name for f in fields] == ["name", "price", "in_stock"]
    assert " ".join(f.spec for f in fields) == spec


def test_commas_and_extra_spaces_separate_fields_too() -> None:
    assert parse_fields(" name:str,  price:decimal? ") == (
        Field("name", FieldType.STR),
        Field("price", FieldType.DECIMAL, optional=True),
    )


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [
        ("price:money", ["Unknown type 'money'", "price", ALL_TYPES]),
        ("name:str name:text", ["'name'", "twice"]),
        ("id:int", ["'id'", "reserved"]),
        ("created_at:datetime", ["'created_at'", "reserved"]),
        ("updated_at:datetime", ["'updated_at'", "reserved"]),
        ("sort:str", ["'sort'", "query parameter"]),
        ("limit:int", ["'limit'", "query parameter"]),
        ("offset:int", ["'offset'", "query parameter"]),
        ("price__gt:int", ["'price__gt'", "'__'"]),
        ("Bad-Name:str", ["'Bad-Name'", "identifier"]),
        ("Name:str", ["'Name'", "identifier"]),
        ("1st:int", ["'1st'", "identifier"]),
        ("class:str", ["'class'", "keyword"]),
        ("price", ["'price'", "name:type"]),
        ("price:", ["'price:'", "name:type"]),
        (":str", ["':str'", "name:type"]),
        ("", ["names no field"]),
        (" , ", ["names no field"]),
    ],
)
def test_bad_field_specs_are_refused(spec: str, fragments: list[str]) -> None:
    with pytest.raises(UsageError) as caught:
        parse_fields(spec)
    for fragment in fragments:
        assert fragment in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ("email:str:unique", Field("email", FieldType.STR, unique=True)),
        ("code:int?:unique:index", Field("code", FieldType.INT, True, unique=True, index=True)),
        ("code:int:index:unique", Field("code", FieldType.INT, unique=True, index=True)),
        ("quantity:int=0", Field("quantity", FieldType.INT, default=0)),
        ("delta:int=-2147483648", Field("delta", FieldType.INT, default=-(2**31))),
        ("in_stock:bool=true", Field("in_stock", FieldType.BOOL, default=True)),
        ("archived:bool=false", Field("archived", FieldType.BOOL, default=False)),
        ("status:str:index=draft", Field("status", FieldType.STR, index=True, default="draft")),
        ("link:str=a=b:c", Field("link", FieldType.STR, default="a=b:c")),
        ("price:decimal=9.9", Field("price", FieldType.DECIMAL, default=Decimal("9.9"))),
        ("big:decimal=9999999999.99", Field("big", FieldType.DECIMAL, default=LARGEST)),
        ("rate:float=1.5e3", Field("rate", FieldType.FLOAT, default=1500.0)),
        ("since:date?=2024-01-31", Field("since", FieldType.DATE, True, default=date(2024, 1, 31))),
        ("note:text?=none", Field("note", FieldType.TEXT, True, default="none")),
    ],
)  # fmt: skip
def test_modifiers_and_defaults(item: str, field: Field) -> None:
    assert parse_field(item) == field


@pytest.mark.parametrize(
    "spec",
    [
        "email:str:unique code:int?:unique:index quantity:int=0 in_stock:bool=true",
        "status:str:index=draft price:decimal=9.99 since:date?=2024-01-31 rate:float=1.5",
        "link:str=a=b:c note:text?",
    ],
)
def test_a_spec_with_modifiers_and_defaults_round_trips(spec: str) -> None:
    fields = parse_fields(spec)
    assert " ".join(field.spec for field in fields) == spec
    assert parse_fields(" ".join(field.spec for field in fields)) == fields


def test_modifiers_are_written_in_one_order() -> None:
    field = parse_field("code:int:index:unique")
    assert field.modifiers == (Modifier.UNIQUE, Modifier.INDEX)
    assert field.spec == "code:int:unique:index"


@pytest.mark.parametrize(
    ("item", "fragments"),
    [
        (
            "email:str:primary",
            ["Unknown modifier 'primary'", "'email'", "unique index cascade set-null"],
        ),
        ("email:str:unique:unique", ["'unique'", "twice", "'email'"]),
        ("email:str:", ["Unknown modifier ''"]),
        ("active:bool:unique", ["'active'", "bool", "cannot be unique"]),
        ("data:json:index", ["'data'", "json", "unique or indexed"]),
        ("data:json:unique", ["'data'", "json", "unique or indexed"]),
        ("data:json={}", ["'data'", "cannot have a default"]),
        ("at:datetime=now", ["'at'", "cannot have a default"]),
        ("ref:uuid=x", ["'ref'", "cannot have a default"]),
        ("quantity:int=", ["'quantity'", "no default"]),
        ("quantity:int=1.5", ["'1.5'", "int field 'quantity'", "32-bit"]),
        ("quantity:int=2147483648", ["'2147483648'", "32-bit"]),
        ("quantity:int=-2147483649", ["'-2147483649'", "32-bit"]),
        ("rate:float=inf", ["'inf'", "float field 'rate'"]),
        ("rate:float=1e999", ["'1e999'", "float field 'rate'"]),
        ("price:decimal=9.999", ["'9.999'", "2 after"]),
        ("price:decimal=12345678901", ["'12345678901'", "10 digits before"]),
        ("price:decimal=1e3", ["'1e3'", "decimal field 'price'"]),
        ("active:bool=yes", ["'yes'", "true or false"]),
        ("active:bool=True", ["'True'", "true or false"]),
        ("since:date=2024-02-30", ["'2024-02-30'", "2024-01-31"]),
        ("since:date=31.01.2024", ["'31.01.2024'", "2024-01-31"]),
        ("status:str=" + "x" * 256, ["str field 'status'"]),
    ],
)
def test_bad_modifiers_and_defaults_are_refused(item: str, fragments: list[str]) -> None:
    with pytest.raises(UsageError) as caught:
        parse_fields(item)
    for fragment in fragments:
        assert fragment in caught.value.message
    assert "\n" not in caught.value.message


def test_a_long_text_default_is_kept() -> None:
    assert parse_field("note:text=" + "x" * 300).default == "x" * 300


def _ref(name: str, target: str, on_delete: OnDelete = OnDelete.RESTRICT, **flags: bool) -> Field:
    return Field(name, FieldType.REF, target=target, on_delete=on_delete, **flags)


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ("customer:ref", _ref("customer", "customer")),
        ("buyer:ref(customer)", _ref("buyer", "customer")),
        ("item:ref(Order-Item)?", _ref("item", "order_item", optional=True)),
        ("owner:ref(user):cascade", _ref("owner", "user", OnDelete.CASCADE)),
        ("up:ref(category)?:set-null", _ref("up", "category", OnDelete.SET_NULL, optional=True)),
        ("customer:ref:index", _ref("customer", "customer", index=True)),
    ],
)  # fmt: skip
def test_references(item: str, field: Field) -> None:
    assert parse_field(item) == field
    assert field.column == f"{field.name}_id"


def test_a_spec_with_references_round_trips() -> None:
    spec = "customer:ref buyer:ref(customer)? item:ref(order_item):cascade parent:ref(c)?:set-null"
    fields = parse_fields(spec)
    assert " ".join(field.spec for field in fields) == spec
    # A target named like the field is left out; other spellings are normalised.
    assert parse_field("customer:ref(customer)").spec == "customer:ref"
    assert parse_field("item:ref(OrderItem)").spec == "item:ref(order_item)"


def test_other_fields_have_no_target_and_keep_their_name_as_column() -> None:
    field = parse_field("price:decimal")
    assert (field.target, field.on_delete, field.column) == (None, None, "price")


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [
        ("customer:ref customer_id:int", ["'customer_id'", "column of the reference 'customer'"]),
        ("customer_id:int customer:ref", ["'customer'", "customer_id is given too"]),
        ("customer:ref:set-null", ["'customer'", "required", "customer:ref?:set-null"]),
        ("price:int:cascade", ["'price'", "not a reference"]),
        ("price:int?:set-null", ["'price'", "not a reference"]),
        ("customer:ref?:cascade:set-null", ["'customer'", "both"]),
        ("customer:ref:unique", ["'customer'", "cannot be unique"]),
        ("customer:ref=1", ["'customer'", "cannot have a default"]),
        ("buyer:ref()", ["'buyer'", "''", "not an entity name"]),
        ("buyer:ref(1st)", ["'buyer'", "'1st'", "not an entity name"]),
        ("buyer:ref(customer", ["Unknown type 'ref(customer'"]),
        ("x_:ref", ["'x_'", "'__'"]),
    ],
)
def test_bad_references_are_refused(spec: str, fragments: list[str]) -> None:
    with pytest.raises(UsageError) as caught:
        parse_fields(spec)
    for fragment in fragments:
        assert fragment in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize("name", ["date", "datetime", "type", "json", "copy", "schema", "id_"])
def test_names_of_types_and_of_pydantic_attributes_are_valid_field_names(name: str) -> None:
    assert parse_field(f"{name}:str").name == name


@pytest.mark.parametrize("name", ["dt", "dict", "str", "metadata", "filter", "model_config"])
def test_names_the_generated_code_uses_are_refused(name: str) -> None:
    with pytest.raises(UsageError, match="would shadow a name"):
        parse_field(f"{name}:str")
