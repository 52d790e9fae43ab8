"""Entity names and field specs for `add` (docs/design.md §3 add): normalised, refused clearly."""

from __future__ import annotations

import pytest

from scaffold.errors import UsageError
from scaffold.project.entities import (
    DEFAULT_FIELDS,
    EntityName,
    Field,
    FieldType,
    parse_entity_name,
    parse_fields,
)

ALL_TYPES = "str text int float decimal bool date datetime uuid json"


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
    assert [field.optional for field in fields] == [False] * 10 + [True]
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
