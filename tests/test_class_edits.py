"""Before/after tests of the class edits `add-fields` makes, each applied twice.

The second application must change nothing, and every line outside the edited class (and
every line of the operator's inside it) must survive byte for byte.
"""

from __future__ import annotations

import textwrap

import pytest

from scaffold.sources.class_edits import (
    EnsureClassFields,
    InsertClassBefore,
    ReplaceClass,
    class_attributes,
    class_code,
)
from scaffold.sources.edits import SourceEdit, SourceShapeError, apply_edits

FILENAME = "src/app/models/models.py"


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def assert_edit(before: str, edits: list[SourceEdit], after: str) -> None:
    """``edits`` turn ``before`` into ``after``; applied again they change nothing."""
    before, after = dedent(before), dedent(after)
    once = apply_edits(before, edits, FILENAME)
    assert once == after
    assert apply_edits(once, edits, FILENAME) == once


TORTOISE_ALL_FIELDS = dedent(
    '''
    class Product(models.Model):
        """The ``products`` table."""

        id = fields.IntField(primary_key=True)
        name = fields.CharField(max_length=255)
        phone = fields.CharField(max_length=255, null=True)
        stock = fields.IntField(default=0, db_default=0)
        created_at = fields.DatetimeField(auto_now_add=True)
        updated_at = fields.DatetimeField(auto_now=True)

        class Meta:
            table = "products"
    '''
)
NEW_FIELDS = ("phone", "stock")


# --- EnsureClassFields ----------------------------------------------------------------------


def test_fields_go_after_their_predecessor_and_the_class_becomes_the_rendered_one() -> None:
    assert_edit(
        '''
        from tortoise import fields, models


        class Product(models.Model):
            """The ``products`` table."""

            id = fields.IntField(primary_key=True)
            name = fields.CharField(max_length=255)
            created_at = fields.DatetimeField(auto_now_add=True)
            updated_at = fields.DatetimeField(auto_now=True)

            class Meta:
                table = "products"
        ''',
        [EnsureClassFields("Product", TORTOISE_ALL_FIELDS, NEW_FIELDS)],
        "from tortoise import fields, models\n\n\n" + TORTOISE_ALL_FIELDS,
    )


def test_the_operator_s_lines_and_other_classes_stay_where_they_are() -> None:
    assert_edit(
        '''
        class Order(models.Model):
            name = fields.CharField(max_length=255)  # not this one


        # The products, kept by the shop.
        class Product(models.Model):
            """The ``products`` table."""

            id = fields.IntField(primary_key=True)
            name = fields.CharField(max_length=255)  # shown on the invoice
            # a column of the operator's
            colour = fields.CharField(max_length=20)
            created_at = fields.DatetimeField(auto_now_add=True)

            def __str__(self) -> str:
                return self.name
        ''',
        [EnsureClassFields("Product", TORTOISE_ALL_FIELDS, NEW_FIELDS)],
        '''
        class Order(models.Model):
            name = fields.CharField(max_length=255)  # not this one


        # The products, kept by the shop.
        class Product(models.Model):
            """The ``products`` table."""

            id = fields.IntField(primary_key=True)
            name = fields.CharField(max_length=255)  # shown on the invoice
            phone = fields.CharField(max_length=255, null=True)
            stock = fields.IntField(default=0, db_default=0)
            # a column of the operator's
            colour = fields.CharField(max_length=20)
            created_at = fields.DatetimeField(auto_now_add=True)

            def __str__(self) -> str:
                return self.name
        ''',
    )


def test_annotated_sqlalchemy_columns_spanning_lines() -> None:
    rendered = dedent(
        """
        class ProductTable(Base):
            __tablename__ = "products"

            id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
            name: Mapped[str] = mapped_column(String(255), nullable=False)
            sku: Mapped[str] = mapped_column(
                String(255), nullable=False, index=True, server_default="none"
            )
            created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
        """
    )
    assert_edit(
        """
        class ProductTable(Base):
            __tablename__ = "products"

            id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
            name: Mapped[str] = mapped_column(String(255), nullable=False)
            created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
        """,
        [EnsureClassFields("ProductTable", rendered, ("sku",))],
        rendered,
    )


def test_without_any_predecessor_the_fields_go_last() -> None:
    assert_edit(
        """
        class Product(models.Model):
            colour = fields.CharField(max_length=20)
        """,
        [EnsureClassFields("Product", TORTOISE_ALL_FIELDS, ("phone",))],
        """
        class Product(models.Model):
            colour = fields.CharField(max_length=20)
            phone = fields.CharField(max_length=255, null=True)
        """,
    )


def test_only_the_named_fields_are_added() -> None:
    # created_at is in the rendered class but not asked for: the operator removed it.
    assert_edit(
        """
        class Product(models.Model):
            id = fields.IntField(primary_key=True)
            name = fields.CharField(max_length=255)
        """,
        [EnsureClassFields("Product", TORTOISE_ALL_FIELDS, ("stock",))],
        """
        class Product(models.Model):
            id = fields.IntField(primary_key=True)
            name = fields.CharField(max_length=255)
            stock = fields.IntField(default=0, db_default=0)
        """,
    )


def test_a_field_the_class_already_has_is_left_as_the_operator_wrote_it() -> None:
    assert_edit(
        """
        class Product(models.Model):
            name = fields.CharField(max_length=255)
            phone = fields.CharField(max_length=40)
        """,
        [EnsureClassFields("Product", TORTOISE_ALL_FIELDS, NEW_FIELDS)],
        """
        class Product(models.Model):
            name = fields.CharField(max_length=255)
            phone = fields.CharField(max_length=40)
            stock = fields.IntField(default=0, db_default=0)
        """,
    )


@pytest.mark.parametrize(
    "source",
    ["class Order(models.Model):\n    pass\n", "x = 1\n", "", "class Product: pass\n"],
    ids=["another-class", "no-class", "empty", "one-line-class"],
)
def test_a_missing_or_one_line_class_names_the_file_and_the_class(source: str) -> None:
    with pytest.raises(SourceShapeError, match=rf"{FILENAME} .*'Product'"):
        apply_edits(
            source, [EnsureClassFields("Product", TORTOISE_ALL_FIELDS, NEW_FIELDS)], FILENAME
        )


# --- ReplaceClass ---------------------------------------------------------------------------


def test_replace_class_keeps_the_lines_above_it_and_the_rest_of_the_file() -> None:
    new = "class ProductRepository:\n    unique_fields = ('sku',)\n"
    assert_edit(
        """
        from app.models.models import Product  # the model


        # Data access, by the operator.
        class ProductRepository:
            async def add(self) -> None:
                pass


        class OrderRepository:  # untouched
            pass
        """,
        [ReplaceClass("ProductRepository", new)],
        """
        from app.models.models import Product  # the model


        # Data access, by the operator.
        class ProductRepository:
            unique_fields = ('sku',)


        class OrderRepository:  # untouched
            pass
        """,
    )


def test_replace_class_of_a_missing_class_is_refused() -> None:
    with pytest.raises(SourceShapeError, match="'ProductRepository'"):
        apply_edits(
            "x = 1\n",
            [ReplaceClass("ProductRepository", "class ProductRepository: ...\n")],
            FILENAME,
        )


# --- InsertClassBefore ----------------------------------------------------------------------


CONFLICT = "class ConflictError(ValueError):\n    pass\n\n\nclass ProductRepository:\n    pass\n"


def test_insert_class_before_another_keeps_that_one_s_comments_with_it() -> None:
    assert_edit(
        """
        __all__ = ["ProductRepository"]


        # Data access, by the operator.
        class ProductRepository:
            pass
        """,
        [InsertClassBefore("ConflictError", CONFLICT, "ProductRepository")],
        """
        __all__ = ["ProductRepository"]


        class ConflictError(ValueError):
            pass


        # Data access, by the operator.
        class ProductRepository:
            pass
        """,
    )


def test_insert_class_leaves_an_existing_class_of_that_name() -> None:
    source = "class ProductRepository:\n    pass\n\n\nclass ConflictError(Exception):\n    x = 1\n"
    edit = InsertClassBefore("ConflictError", CONFLICT, "ProductRepository")
    assert apply_edits(source, [edit], FILENAME) == source


def test_insert_class_before_a_missing_class_is_refused() -> None:
    with pytest.raises(SourceShapeError, match="'ProductRepository'"):
        apply_edits(
            "x = 1\n", [InsertClassBefore("ConflictError", CONFLICT, "ProductRepository")], FILENAME
        )


# --- the queries ----------------------------------------------------------------------------


def test_class_attributes_and_code() -> None:
    source = "# above\nclass Product(models.Model):\n    '''Doc.'''\n\n    a = 1\n    b: int = 2\n"
    assert class_attributes(source, "Product") == {"a", "b"}
    assert class_attributes(source, "Order") is None
    assert class_code(source, "Product") == source.removeprefix("# above\n")
    assert class_code(source, "Order") is None
