"""The engine's public API, listed in `scaffold/__init__.py` (docs/design.md §2)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import scaffold


@pytest.mark.parametrize("name", scaffold.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(scaffold, name) is not None


def test_the_entry_points_are_the_engine_s_own_functions() -> None:
    from scaffold.operations.add import add_entity
    from scaffold.operations.create import create_project
    from scaffold.operations.remove import remove_entity

    assert scaffold.create_project is create_project
    assert scaffold.add_entity is add_entity
    assert scaffold.remove_entity is remove_entity


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such"):
        scaffold.no_such  # noqa: B018


def test_importing_the_package_loads_no_engine_dependency() -> None:
    code = (
        "import sys, scaffold; "
        "print(sorted(m for m in ('jinja2', 'libcst', 'tomlkit', 'invoke') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
