"""Project-name validation: refused names say why and name the value; good names pass."""

from __future__ import annotations

import pytest

from scaffold.errors import UsageError
from scaffold.project.names import validate_project_name


@pytest.mark.parametrize(
    "name",
    ["demo", "billing-service", "billing_service", "Api2", "a", "x-1_y", "ServiceName"],
)
def test_valid_names_are_returned(name: str) -> None:
    assert validate_project_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("my service", "white space"),
        ("tab\tname", "white space"),
        ("1service", "start with a letter"),
        ("_private", "start with a letter"),
        ("a/b", "path"),
        ("a\\b", "path"),
        ("..", "path"),
        (".", "path"),
        ("../escape", "path"),
        ("svc.name", "characters"),
        ("svc$", "characters"),
        ("café", "characters"),
    ],
)
def test_invalid_names_are_refused_with_reason(name: str, reason: str) -> None:
    with pytest.raises(UsageError) as caught:
        validate_project_name(name)
    message = caught.value.message
    assert repr(name) in message
    assert reason in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_name_is_refused(name: str) -> None:
    with pytest.raises(UsageError, match="empty"):
        validate_project_name(name)


@pytest.mark.parametrize("name", ["-x", "--design", "-"])
def test_leading_dash_is_taken_for_an_option(name: str) -> None:
    with pytest.raises(UsageError) as caught:
        validate_project_name(name)
    assert repr(name) in caught.value.message
    assert "option" in caught.value.message
