"""Before/after tests of the edits `remove` makes (docs/design.md §3 remove), each applied twice.

Each removal is also checked as the inverse of the edit `add` makes: adding, then removing,
gives back the source byte for byte, whatever its layout and comments.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.sources import tidy as lint
from scaffold.sources.edits import (
    AppendClass,
    EnsureAllEntry,
    EnsureImport,
    EnsureRegisterCall,
    MergeSnippet,
    RemoveAllEntry,
    RemoveClass,
    RemoveImport,
    RemoveRegisterCall,
    SourceEdit,
    SourceShapeError,
    UnmergeSnippet,
    apply_edits,
)
from tests.test_source_edits import FILENAME, SNIPPET, UNUSUAL, assert_edit, dedent

# --- each removal, before and after ---------------------------------------------------------


def test_remove_import_from_a_shared_import() -> None:
    assert_edit(
        "from app.presentation import healthcheck, product, zebra\n",
        [RemoveImport("app.presentation", "product")],
        "from app.presentation import healthcheck, zebra\n",
    )


def test_remove_the_last_name_of_an_import_removes_the_statement() -> None:
    assert_edit(
        '''
        """Doc."""

        from app.repository.product import ProductRepository

        __all__ = ["ProductRepository"]
        ''',
        [RemoveImport("app.repository.product", "ProductRepository")],
        '''
        """Doc."""

        __all__ = ["ProductRepository"]
        ''',
    )


def test_remove_import_leaves_aliases_relative_and_other_modules_alone() -> None:
    source = dedent(
        """
        from app.presentation import product as mine
        from .presentation import product
        from app.views import product
        """
    )
    assert apply_edits(source, [RemoveImport("app.presentation", "product")], FILENAME) == source


def test_remove_import_unless_used_keeps_a_name_still_in_use() -> None:
    source = "from decimal import Decimal\n\nPRICE = Decimal(1)\n"
    edit = RemoveImport("decimal", "Decimal", unless_used=True)
    assert apply_edits(source, [edit], FILENAME) == source
    # The blank line belongs to the statement after: add's import came with none of its own.
    once = apply_edits("from decimal import Decimal\n\nPRICE = 1\n", [edit], FILENAME)
    assert once == "\nPRICE = 1\n"
    assert apply_edits(once, [edit], FILENAME) == once


def test_remove_register_call_keeps_the_rest_of_the_function() -> None:
    assert_edit(
        """
        def register_routes(app: Robyn) -> None:
            # Routes below.
            healthcheck.register(app)  # first
            product.register(app)
            zebra.register(app)
        """,
        [RemoveRegisterCall("register_routes", "product")],
        """
        def register_routes(app: Robyn) -> None:
            # Routes below.
            healthcheck.register(app)  # first
            zebra.register(app)
        """,
    )


def test_remove_the_only_register_call_leaves_pass() -> None:
    assert_edit(
        "def register_routes(app):\n    product.register(app)\n",
        [RemoveRegisterCall("register_routes", "product")],
        "def register_routes(app):\n    pass\n",
    )


def test_remove_all_entry_from_the_middle_and_the_end() -> None:
    assert_edit(
        '__all__ = ["A", "ProductRepository", "Z"]\n',
        [RemoveAllEntry("ProductRepository")],
        '__all__ = ["A", "Z"]\n',
    )
    assert_edit(
        '__all__: list[str] = ["ProductRepository"]\n',
        [RemoveAllEntry("ProductRepository")],
        "__all__: list[str] = []\n",
    )


def test_remove_all_entry_with_a_starred_item_is_left_to_the_operator() -> None:
    with pytest.raises(SourceShapeError, match="starred"):
        apply_edits(
            '__all__ = [*OTHER, "ProductRepository"]\n',
            [RemoveAllEntry("ProductRepository")],
            FILENAME,
        )


def test_remove_class_takes_its_blank_lines_and_keeps_the_others() -> None:
    assert_edit(
        """
        class Base:
            pass


        class ProductTable(Base):
            x = 1


        # The operator's note about orders.
        class OrderTable(Base):
            y = 2
        """,
        [RemoveClass("ProductTable")],
        """
        class Base:
            pass


        # The operator's note about orders.
        class OrderTable(Base):
            y = 2
        """,
    )


def test_unmerge_snippet_keeps_imports_another_class_uses() -> None:
    before = dedent(
        """
        from decimal import Decimal

        from sqlalchemy import Numeric, String
        from sqlalchemy.orm import Mapped, mapped_column


        class OrderTable(Base):
            label: Mapped[str] = mapped_column(String(40))
            total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
        """
    )
    merged = apply_edits(before, [MergeSnippet(SNIPPET)], FILENAME)
    assert "class ProductTable" in merged
    assert_edit(merged, [UnmergeSnippet(SNIPPET)], before)


def test_unmerge_takes_out_a_module_import_nothing_else_uses() -> None:
    snippet = "import datetime as dt\n\n\nclass Event:\n    at: dt.date\n"
    before = "from sqlalchemy import String\n"
    merged = apply_edits(before, [MergeSnippet(snippet)], FILENAME)
    assert "import datetime as dt" in merged
    assert_edit(merged, [UnmergeSnippet(snippet)], before)


def test_unmerge_keeps_a_module_import_another_class_uses() -> None:
    snippet = "import datetime as dt\n\n\nclass Event:\n    at: dt.date\n"
    before = "import datetime as dt\n\n\nclass Order:\n    at: dt.datetime\n"
    merged = apply_edits(before, [MergeSnippet(snippet)], FILENAME)
    assert merged.count("import datetime as dt") == 1
    assert_edit(merged, [UnmergeSnippet(snippet)], before)


SHARED_SNIPPET = dedent(
    """
    class ConflictError(Exception):
        pass


    class CouponRepository:
        def fail(self) -> None:
            raise ConflictError
    """
)


def test_unmerge_snippet_keeps_a_shared_class_another_class_uses() -> None:
    """Two entities' snippets define ConflictError; removing one keeps it for the other."""
    before = dedent(
        """
        class ConflictError(Exception):
            pass


        class ProductRepository:
            def fail(self) -> None:
                raise ConflictError
        """
    )
    merged = apply_edits(before, [MergeSnippet(SHARED_SNIPPET)], FILENAME)
    assert merged.count("class ConflictError") == 1
    assert "class CouponRepository" in merged
    assert_edit(merged, [UnmergeSnippet(SHARED_SNIPPET)], before)


def test_unmerge_snippet_takes_a_shared_class_nothing_else_uses() -> None:
    before = "class Base:\n    pass\n"
    merged = apply_edits(before, [MergeSnippet(SHARED_SNIPPET)], FILENAME)
    assert_edit(merged, [UnmergeSnippet(SHARED_SNIPPET)], before)


# --- each removal undoes its add edit, byte for byte ----------------------------------------

REGISTRY = '''
"""Route registry."""

from robyn import Robyn

from app.presentation import healthcheck

__all__ = ["register_routes"]


def register_routes(app: Robyn) -> None:
    """Register every route module."""
    healthcheck.register(app)
'''

ROUND_TRIPS: dict[str, tuple[str, list[SourceEdit]]] = {
    "registry": (
        REGISTRY,
        [
            EnsureImport("app.presentation", "product"),
            EnsureRegisterCall("register_routes", "product"),
        ],
    ),
    "import-sorted-first": (
        "from app.views import healthcheck, zebra\n",
        [EnsureImport("app.views", "alpha")],
    ),
    "import-unsorted-last": (
        "from app.views import zebra, healthcheck\n",
        [EnsureImport("app.views", "product")],
    ),
    "import-parenthesised-with-comments": (
        """
        from app.presentation import (  # the route modules
            healthcheck,  # always first
            zebra,  # keep this comment
        )
        """,
        [EnsureImport("app.presentation", "product")],
    ),
    "import-parenthesised-appended": (
        """
        from app.presentation import (
            alpha,
            healthcheck,  # last one
        )
        """,
        [EnsureImport("app.presentation", "product")],
    ),
    "import-parenthesised-single-line-trailing-comma": (
        "from app.views import (healthcheck,)\n",
        [EnsureImport("app.views", "product")],
    ),
    "import-new-statement-after-docstring": (
        '"""Repositories."""\n\n__all__: list[str] = []\n',
        [EnsureImport("app.repository.product", "ProductRepository")],
    ),
    "import-new-statement-after-imports": (
        "import os\nfrom robyn import Robyn\n\nX = 1\n",
        [EnsureImport("app.presentation", "product")],
    ),
    "import-into-an-empty-file": ("", [EnsureImport("app.presentation", "product")]),
    "all-empty": (
        '"""Repositories."""\n\n__all__: list[str] = []\n',
        [
            EnsureImport("app.repository.product", "ProductRepository"),
            EnsureAllEntry("ProductRepository"),
        ],
    ),
    "all-sorted": ('__all__ = ["A", "Z"]\n', [EnsureAllEntry("P")]),
    "all-unsorted-last": ('__all__ = ["Z", "A"]\n', [EnsureAllEntry("P")]),
    "all-tuple-single-quotes": ("__all__ = ('A', 'Z')\n", [EnsureAllEntry("ZZ")]),
    "all-one-per-line-with-comments": (
        """
        __all__ = [
            "AlphaRepository",  # first
            "ZuluRepository",  # last
        ]
        """,
        [EnsureAllEntry("ProductRepository"), EnsureAllEntry("ZzzRepository")],
    ),
    "register-call-replacing-nothing": (
        "def register_routes(application):\n    # routes\n    healthcheck.register(application)\n",
        [EnsureRegisterCall("register_routes", "product")],
    ),
    "append-class": (
        "class Base:\n    pass\n",
        [AppendClass("ProductTable", "class ProductTable(Base):\n    x = 1\n")],
    ),
    "append-class-after-a-comment-at-the-end": (
        "__all__: list[str] = []\n# the end, no blank line\n",
        [AppendClass("ProductTable", "class ProductTable(Base):\n    x = 1\n")],
    ),
    "append-class-after-a-comment-with-blank-lines-around-it": (
        "X = 1\n\n\n# two blank lines before, one after\n#   and a second line\n\n",
        [AppendClass("ProductTable", "class ProductTable(Base):\n    x = 1\n")],
    ),
    "append-class-before-trailing-blank-lines": (
        "X = 1\n\n\n",
        [AppendClass("ProductTable", "class ProductTable(Base):\n    x = 1\n")],
    ),
    "merge-snippet-into-a-docstring-only-module": (
        '"""Tables."""\n',
        [MergeSnippet(SNIPPET)],
    ),
    "merge-snippet-beside-an-existing-table": (
        """
        from sqlalchemy import Integer
        from sqlalchemy.orm import Mapped, mapped_column  # shared


        class Base:
            pass


        class OrderTable(Base):
            id: Mapped[int] = mapped_column(Integer)
        # the end of the file
        """,
        [MergeSnippet(SNIPPET)],
    ),
    "unusual-formatting": (
        UNUSUAL,
        [
            EnsureImport("app.presentation", "product"),
            EnsureRegisterCall("register_routes", "product"),
        ],
    ),
}


# Not a round trip: a last item without a trailing comma but with a comment after it gets the
# comma when an item is added after it (the comment stays on its line); removing the new item
# keeps that comma, which is what ruff's layout would write anyway.


@pytest.mark.parametrize("case", ROUND_TRIPS)
def test_removing_gives_back_the_source_before_the_add_edits(case: str) -> None:
    source, edits = ROUND_TRIPS[case]
    before = dedent(source) if source.startswith("\n") else source
    added = apply_edits(before, edits, FILENAME)
    assert added != before
    inverses = [edit.inverse() for edit in reversed(edits)]
    once = apply_edits(added, inverses, FILENAME)
    assert once == before
    assert apply_edits(once, inverses, FILENAME) == once


def test_crlf_line_endings_survive_the_round_trip() -> None:
    before = REGISTRY.lstrip("\n").replace("\n", "\r\n")
    edits: list[SourceEdit] = [
        EnsureImport("app.presentation", "product"),
        EnsureRegisterCall("register_routes", "product"),
    ]
    added = apply_edits(before, edits, FILENAME)
    inverses = [edit.inverse() for edit in reversed(edits)]
    assert apply_edits(added, inverses, FILENAME) == before


# --- a comment at the end of the file ---------------------------------------------------------


def test_a_class_is_appended_after_the_comment_that_ends_the_file() -> None:
    assert_edit(
        """
        X = 1

        # The operator's last word.
        """,
        [AppendClass("ProductTable", "class ProductTable(Base):\n    x = 1\n")],
        """
        X = 1

        # The operator's last word.


        class ProductTable(Base):
            x = 1
        """,
    )


def test_remove_class_keeps_a_comment_above_it_for_what_follows() -> None:
    """add writes no comment above its class: one there is the operator's, and stays."""
    assert_edit(
        """
        X = 1

        # The operator's note.


        class ProductTable(Base):
            x = 1


        class OrderTable(Base):
            y = 2
        """,
        [RemoveClass("ProductTable")],
        """
        X = 1

        # The operator's note.


        class OrderTable(Base):
            y = 2
        """,
    )
    assert_edit(
        "X = 1\n\n# The operator's note.\n\n\nclass ProductTable(Base):\n    x = 1\n# end\n",
        [RemoveClass("ProductTable")],
        "X = 1\n\n# The operator's note.\n# end\n",
    )


@pytest.mark.parametrize("blank_lines", [0, 1, 2])
def test_a_trailing_comment_survives_add_and_remove_laid_out_by_ruff(
    tmp_path: Path, blank_lines: int
) -> None:
    """ruff writes two blank lines after a class: a comment after the new class would lose
    its own, so the class goes after it."""
    path = tmp_path / "tables.py"
    before = "X = 1\n" + "\n" * blank_lines + "# The operator's last word.\n"
    assert lint.tidy(tmp_path, {path: before})[path] == before
    edits: list[SourceEdit] = [MergeSnippet(SNIPPET)]
    added = lint.tidy(tmp_path, {path: apply_edits(before, edits, FILENAME)})[path]
    inverses = [edit.inverse() for edit in reversed(edits)]
    removed = lint.tidy(tmp_path, {path: apply_edits(added, inverses, FILENAME)})[path]
    assert removed == before
