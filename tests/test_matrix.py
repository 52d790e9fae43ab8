"""The stack matrix: eight cells, stable ids, and choice errors that name the bad value."""

from __future__ import annotations

import pytest

from scaffold.errors import UsageError
from scaffold.matrix import STACKS, Design, Orm, PackageManager, Stack, parse_choice


def test_matrix_has_every_combination_once() -> None:
    assert len(STACKS) == 8
    assert len(set(STACKS)) == 8
    assert {(s.design, s.orm, s.package_manager) for s in STACKS} == {
        (d, o, p) for d in Design for o in Orm for p in PackageManager
    }


def test_ids_are_design_orm_manager() -> None:
    assert sorted(stack.id for stack in STACKS) == sorted(
        [
            "ddd-sqlalchemy-uv",
            "ddd-sqlalchemy-poetry",
            "ddd-tortoise-uv",
            "ddd-tortoise-poetry",
            "mvc-sqlalchemy-uv",
            "mvc-sqlalchemy-poetry",
            "mvc-tortoise-uv",
            "mvc-tortoise-poetry",
        ]
    )
    assert Stack(Design.DDD, Orm.SQLALCHEMY, PackageManager.UV).id == "ddd-sqlalchemy-uv"


@pytest.mark.parametrize("stack", STACKS, ids=[s.id for s in STACKS])
def test_from_id_round_trips(stack: Stack) -> None:
    assert Stack.from_id(stack.id) == stack


def test_from_id_unknown_names_value_and_lists_ids() -> None:
    with pytest.raises(UsageError) as caught:
        Stack.from_id("ddd-django-uv")
    message = caught.value.message
    assert "'ddd-django-uv'" in message
    for stack in STACKS:
        assert stack.id in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("enum", "value"),
    [(Design, "ddd"), (Design, "mvc"), (Orm, "tortoise"), (PackageManager, "poetry")],
)
def test_parse_choice_accepts_values(enum: type, value: str) -> None:
    assert parse_choice(enum, value, "--x").value == value


@pytest.mark.parametrize(
    ("enum", "option", "bad"),
    [
        (Design, "--design", "hexagonal"),
        (Orm, "--orm", "django"),
        (PackageManager, "--package-manager", "pip"),
        (Design, "--design", "DDD"),  # values are exact, not case-folded
        (Orm, "--orm", ""),
    ],
)
def test_parse_choice_error_names_value_option_and_choices(
    enum: type, option: str, bad: str
) -> None:
    with pytest.raises(UsageError) as caught:
        parse_choice(enum, bad, option)
    message = caught.value.message
    assert repr(bad) in message
    assert option in message
    for member in enum:
        assert member.value in message
    assert "\n" not in message
