"""Before/after tests of every libcst edit `add` makes (docs/design.md §3 add), each applied twice.

The second application must change nothing, and everything outside the edited construct
(comments, odd formatting) must survive byte for byte.
"""

from __future__ import annotations

import textwrap

import pytest

from scaffold.sources.edits import (
    AppendClass,
    EnsureAllEntry,
    EnsureImport,
    EnsureModuleImport,
    EnsureRegisterCall,
    MergeSnippet,
    SourceEdit,
    SourceShapeError,
    apply_edits,
)

FILENAME = "src/app/example.py"


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def assert_edit(before: str, edits: list[SourceEdit], after: str) -> None:
    """``edits`` turn ``before`` into ``after``; applied again they change nothing."""
    before, after = dedent(before), dedent(after)
    once = apply_edits(before, edits, FILENAME)
    assert once == after
    assert apply_edits(once, edits, FILENAME) == once


# --- EnsureImport ---------------------------------------------------------------------------


def test_import_merges_into_an_existing_import_of_the_module_sorted() -> None:
    assert_edit(
        """
        from robyn import Robyn

        from app.presentation import healthcheck
        """,
        [EnsureImport("app.presentation", "product")],
        """
        from robyn import Robyn

        from app.presentation import healthcheck, product
        """,
    )


def test_import_goes_in_sorted_position() -> None:
    assert_edit(
        "from app.views import healthcheck, zebra\n",
        [EnsureImport("app.views", "product")],
        "from app.views import healthcheck, product, zebra\n",
    )


def test_import_into_unsorted_names_goes_last() -> None:
    assert_edit(
        "from app.views import zebra, healthcheck\n",
        [EnsureImport("app.views", "product")],
        "from app.views import zebra, healthcheck, product\n",
    )


def test_import_into_a_parenthesised_multi_line_import_keeps_comments() -> None:
    assert_edit(
        """
        from app.presentation import (  # the route modules
            healthcheck,  # always first
            zebra,  # keep this comment
        )
        """,
        [EnsureImport("app.presentation", "product")],
        """
        from app.presentation import (  # the route modules
            healthcheck,  # always first
            product,
            zebra,  # keep this comment
        )
        """,
    )


def test_import_appended_to_a_parenthesised_multi_line_import() -> None:
    assert_edit(
        """
        from app.presentation import (
            alpha,
            healthcheck,  # last one
        )
        """,
        [EnsureImport("app.presentation", "product")],
        """
        from app.presentation import (
            alpha,
            healthcheck,  # last one
            product,
        )
        """,
    )


def test_import_is_a_new_statement_after_the_last_import() -> None:
    assert_edit(
        '''
        """Docstring."""

        import os

        from robyn import Robyn

        VALUE = 1
        ''',
        [EnsureImport("app.presentation", "product")],
        '''
        """Docstring."""

        import os

        from robyn import Robyn
        from app.presentation import product

        VALUE = 1
        ''',
    )


def test_import_after_a_docstring_only() -> None:
    assert_edit(
        '''
        """Docstring."""

        VALUE = 1
        ''',
        [EnsureImport("app.presentation", "product")],
        '''
        """Docstring."""

        from app.presentation import product

        VALUE = 1
        ''',
    )


def test_import_into_an_empty_file() -> None:
    assert_edit("", [EnsureImport("app.x", "y")], "from app.x import y\n")


def test_import_already_present_or_aliased_elsewhere() -> None:
    # Present: nothing changes. Imported under an alias: the plain name is still needed.
    assert_edit("from a import b\n", [EnsureImport("a", "b")], "from a import b\n")
    assert_edit("from a import b as c\n", [EnsureImport("a", "b")], "from a import b, b as c\n")


def test_import_ignores_relative_and_star_imports_of_the_same_name() -> None:
    assert_edit(
        """
        from .a import x
        from a import *
        """,
        [EnsureImport("a", "b")],
        """
        from .a import x
        from a import *
        from a import b
        """,
    )


# --- EnsureRegisterCall ---------------------------------------------------------------------

REGISTRY = '''
"""Route registry."""

from robyn import Robyn

from app.presentation import healthcheck

__all__ = ["register_routes"]


def register_routes(app: Robyn) -> None:
    """Register every route module on ``app``; the healthcheck comes first."""
    healthcheck.register(app)
'''


def test_register_call_is_appended_last() -> None:
    assert_edit(
        REGISTRY,
        [EnsureRegisterCall("register_routes", "product")],
        REGISTRY + "    product.register(app)\n",
    )


def test_register_call_uses_the_functions_parameter_name() -> None:
    assert_edit(
        """
        def register_routes(server):
            pass
        """,
        [EnsureRegisterCall("register_routes", "product")],
        """
        def register_routes(server):
            product.register(server)
        """,
    )


def test_register_call_replaces_an_ellipsis_placeholder() -> None:
    assert_edit(
        """
        def register_routes(app):
            ...
        """,
        [EnsureRegisterCall("register_routes", "product")],
        """
        def register_routes(app):
            product.register(app)
        """,
    )


def test_registry_with_the_import_and_call_together() -> None:
    assert_edit(
        REGISTRY,
        [
            EnsureImport("app.presentation", "product"),
            EnsureRegisterCall("register_routes", "product"),
        ],
        REGISTRY.replace("import healthcheck", "import healthcheck, product")
        + "    product.register(app)\n",
    )


@pytest.mark.parametrize(
    "source",
    [
        "from robyn import Robyn\n\n\ndef routes(app: Robyn) -> None:\n    pass\n",
        "def register_routes() -> None:\n    pass\n",
        "def register_routes(app): pass\n",
        "class Registry:\n    def register_routes(self, app):\n        pass\n",
        "",
    ],
    ids=["renamed", "no-parameter", "one-line-body", "method", "empty"],
)
def test_registry_without_register_routes_names_the_file_and_the_construct(source: str) -> None:
    with pytest.raises(SourceShapeError) as caught:
        apply_edits(source, [EnsureRegisterCall("register_routes", "product")], "src/app/urls.py")
    message = caught.value.message
    assert "src/app/urls.py" in message
    assert "def register_routes(app: Robyn) -> None:" in message
    assert caught.value.exit_code == 2


# --- EnsureAllEntry -------------------------------------------------------------------------


def test_all_created_after_imports_when_missing() -> None:
    assert_edit(
        '''
        """Repositories."""

        from app.repository.product import ProductRepository


        def helper() -> None:
            pass
        ''',
        [EnsureAllEntry("ProductRepository")],
        '''
        """Repositories."""

        from app.repository.product import ProductRepository

        __all__ = ["ProductRepository"]


        def helper() -> None:
            pass
        ''',
    )


def test_all_annotated_and_empty() -> None:
    assert_edit(
        '''
        """Repositories."""

        __all__: list[str] = []
        ''',
        [EnsureAllEntry("ProductRepository")],
        '''
        """Repositories."""

        __all__: list[str] = ["ProductRepository"]
        ''',
    )


def test_all_list_sorted_gets_the_name_in_order() -> None:
    assert_edit(
        '__all__ = ["AlphaRepository", "ZuluRepository"]\n',
        [EnsureAllEntry("ProductRepository")],
        '__all__ = ["AlphaRepository", "ProductRepository", "ZuluRepository"]\n',
    )


def test_all_list_unsorted_gets_the_name_last() -> None:
    assert_edit(
        '__all__ = ["ZuluRepository", "AlphaRepository"]\n',
        [EnsureAllEntry("ProductRepository")],
        '__all__ = ["ZuluRepository", "AlphaRepository", "ProductRepository"]\n',
    )


def test_all_tuple_sorted_and_unsorted_keep_quotes() -> None:
    assert_edit(
        "__all__ = ('Alpha', 'Zulu')\n",
        [EnsureAllEntry("Product")],
        "__all__ = ('Alpha', 'Product', 'Zulu')\n",
    )
    assert_edit(
        "__all__ = ('Zulu', 'Alpha',)\n",
        [EnsureAllEntry("Product")],
        "__all__ = ('Zulu', 'Alpha', 'Product',)\n",
    )


def test_all_one_per_line_with_comments() -> None:
    assert_edit(
        """
        __all__ = [
            "AlphaRepository",  # first
            "ZuluRepository",  # last
        ]
        """,
        [EnsureAllEntry("ProductRepository"), EnsureAllEntry("ZzzRepository")],
        """
        __all__ = [
            "AlphaRepository",  # first
            "ProductRepository",
            "ZuluRepository",  # last
            "ZzzRepository",
        ]
        """,
    )


def test_all_with_a_starred_item_is_left_to_the_operator() -> None:
    with pytest.raises(SourceShapeError, match=r"src/app/example\.py.*__all__"):
        apply_edits('__all__ = [*OTHER, "A"]\n', [EnsureAllEntry("B")], FILENAME)


# --- AppendClass and MergeSnippet -----------------------------------------------------------


def test_append_class_with_two_blank_lines_once() -> None:
    assert_edit(
        """
        class Base:
            pass
        """,
        [AppendClass("ProductTable", "class ProductTable(Base):\n    x = 1\n")],
        """
        class Base:
            pass


        class ProductTable(Base):
            x = 1
        """,
    )


def test_append_class_keeps_an_existing_class_of_that_name_untouched() -> None:
    source = "class ProductTable:\n    hand_written = True\n"
    assert_edit(source, [AppendClass("ProductTable", "class ProductTable:\n    x = 1\n")], source)


SNIPPET = '''
from decimal import Decimal

from sqlalchemy import Numeric, String
from sqlalchemy.orm import Mapped, mapped_column


class ProductTable(Base):
    """Products."""

    __tablename__ = "products"

    name: Mapped[str] = mapped_column(String(255))
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
'''


def test_merge_snippet_ensures_imports_and_appends_classes() -> None:
    assert_edit(
        '''
        """Tables."""

        from sqlalchemy import MetaData
        from sqlalchemy.orm import DeclarativeBase


        class Base(DeclarativeBase):
            metadata = MetaData()
        ''',
        [MergeSnippet(dedent(SNIPPET))],
        '''
        """Tables."""

        from sqlalchemy import MetaData, Numeric, String
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
        from decimal import Decimal


        class Base(DeclarativeBase):
            metadata = MetaData()


        class ProductTable(Base):
            """Products."""

            __tablename__ = "products"

            name: Mapped[str] = mapped_column(String(255))
            price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
        ''',
    )


def test_merge_snippet_into_a_docstring_only_module() -> None:
    assert_edit(
        '''
        """Models."""
        ''',
        [MergeSnippet("from tortoise import fields\n\n\nclass Product:\n    x = 1\n")],
        '''
        """Models."""

        from tortoise import fields


        class Product:
            x = 1
        ''',
    )


def test_module_import_under_an_alias_goes_after_the_imports() -> None:
    assert_edit(
        """
        \"\"\"Tables.\"\"\"

        from sqlalchemy import String  # the column types
        """,
        [EnsureModuleImport("datetime", "dt")],
        """
        \"\"\"Tables.\"\"\"

        from sqlalchemy import String  # the column types
        import datetime as dt
        """,
    )


def test_module_import_is_kept_once_and_a_plain_import_is_another_one() -> None:
    assert_edit(
        "import datetime as dt\n", [EnsureModuleImport("datetime", "dt")], "import datetime as dt\n"
    )
    assert_edit(
        "import datetime\n",
        [EnsureModuleImport("datetime", "dt")],
        "import datetime\nimport datetime as dt\n",
    )


def test_a_snippet_imports_a_module_under_its_alias() -> None:
    assert_edit(
        "from sqlalchemy import String\n",
        [MergeSnippet("import datetime as dt\n\n\nclass Event:\n    at: dt.date\n")],
        """
        from sqlalchemy import String
        import datetime as dt


        class Event:
            at: dt.date
        """,
    )


def test_merge_snippet_refuses_anything_but_from_imports_and_classes() -> None:
    with pytest.raises(ValueError, match="Snippets hold only"):
        MergeSnippet("import os\n").edits()
    with pytest.raises(ValueError, match="Snippets hold only"):
        MergeSnippet("X = 1\n").edits()


# --- the rest of the file survives byte for byte --------------------------------------------

UNUSUAL = """\
#!/usr/bin/env python
# -*- coding: utf-8 -*-
'''Odd but valid: single-quoted docstring, tabs, semicolons, CRLF-free comments.'''
from robyn import Robyn   # two spaces before this comment, three here
from app.presentation import healthcheck
import os ; import sys


X   =   [1,
    2,     # odd alignment
          3]
def  helper( a ,b ) :
\treturn a+b   # tab-indented


@decorator  (  )
class  Thing ( object ) : pass
# a trailing comment block
#   with indentation


def register_routes(app):
    # Routes below; do not reorder.
    healthcheck.register(app)   # first
    # more routes
\n"""


def test_unusual_formatting_elsewhere_survives_byte_for_byte() -> None:
    edits: list[SourceEdit] = [
        EnsureImport("app.presentation", "product"),
        EnsureRegisterCall("register_routes", "product"),
        EnsureAllEntry("register_routes"),
        AppendClass("Extra", "class Extra:\n    pass\n"),
    ]
    once = apply_edits(UNUSUAL, edits, FILENAME)
    assert apply_edits(once, edits, FILENAME) == once
    added = {
        "from app.presentation import healthcheck, product",
        "    product.register(app)",
        '__all__ = ["register_routes"]',
        "class Extra:",
        "\tpass",  # libcst indents a new block like the file's first indented block
    }
    before_lines = UNUSUAL.splitlines()
    after_lines = once.splitlines()
    # Every original line is still there, in order, except the one import that gained a name.
    kept = [line for line in after_lines if line not in added and line.strip()]
    original = [
        line
        for line in before_lines
        if line.strip() and line != "from app.presentation import healthcheck"
    ]
    assert kept == original
    assert set(after_lines) - set(before_lines) - {""} == added


def test_crlf_line_endings_are_kept() -> None:
    source = "from a import b\r\n\r\n\r\ndef register_routes(app):\r\n    b.register(app)\r\n"
    once = apply_edits(
        source, [EnsureImport("a", "c"), EnsureRegisterCall("register_routes", "c")], FILENAME
    )
    assert once == (
        "from a import b, c\r\n\r\n\r\ndef register_routes(app):\r\n"
        "    b.register(app)\r\n    c.register(app)\r\n"
    )


# --- shapes the edits refuse ----------------------------------------------------------------


@pytest.mark.parametrize("source", ["def broken(:\n", "x = (\n", "\tif True:\n  pass\n"])
def test_invalid_python_is_refused_with_the_file_name(source: str) -> None:
    with pytest.raises(SourceShapeError) as caught:
        apply_edits(source, [EnsureImport("a", "b")], "src/app/urls.py")
    assert "src/app/urls.py is not valid Python" in caught.value.message
    assert "line" in caught.value.message
    assert caught.value.exit_code == 2


def test_no_edits_returns_the_source_unchanged() -> None:
    assert apply_edits(UNUSUAL, [], FILENAME) == UNUSUAL


def test_all_comment_on_the_last_item_without_trailing_comma_stays_there() -> None:
    assert_edit(
        """
        __all__ = (
            "Alpha",
            "Zulu"  # keep me here
        )
        """,
        [EnsureAllEntry("Zzz")],
        """
        __all__ = (
            "Alpha",
            "Zulu",  # keep me here
            "Zzz",
        )
        """,
    )
