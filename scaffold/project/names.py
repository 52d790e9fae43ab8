"""Validation of the names operators type: project names (entity names come with `add`)."""

from __future__ import annotations

import re

from scaffold.errors import UsageError

__all__ = ["validate_project_name"]

_PROJECT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def validate_project_name(name: str) -> str:
    """Return ``name`` if it can name a project directory and distribution, else raise."""
    if not name or not name.strip():
        raise UsageError("The project name is empty; give a name such as 'billing-service'.")
    if name.startswith("-"):
        raise UsageError(f"Unknown option {name!r}; see 'robyn-config create --help'.")
    if _PROJECT_NAME.fullmatch(name):
        return name
    if "/" in name or "\\" in name or name in {".", ".."}:
        reason = "is a path, not a name (pass the directory as DEST)"
    elif any(char.isspace() for char in name):
        reason = "contains white space"
    elif not name[0].isalpha():
        reason = "does not start with a letter"
    else:
        reason = "contains characters other than letters, digits, '-' and '_'"
    raise UsageError(
        f"Invalid project name {name!r}: it {reason}; use letters, digits, '-' and '_', "
        "starting with a letter."
    )
