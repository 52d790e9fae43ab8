"""The environment a generated project's own tools run in: its venv, never the caller's."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["base_python", "git_identity", "path_without", "project_env", "project_tools_env"]


def base_python() -> Path:
    """The interpreter the running virtual environment was made from."""
    return Path(sys.base_prefix) / "bin" / "python3"


def path_without(prefix: str, path: str) -> str:
    """``path`` (a PATH value) without the entries under ``prefix`` (a virtual environment)."""
    return os.pathsep.join(
        entry for entry in path.split(os.pathsep) if not entry.startswith(prefix)
    )


def project_tools_env(project: Path) -> dict[str, str]:
    """uv and poetry settings that make the project sync into its own ``.venv``.

    nox's uv backend exports ``UV_PROJECT_ENVIRONMENT``/``UV_PYTHON`` pointing at the
    session's venv; unless replaced, the project would sync there and remove the toolkit.
    """
    return {
        "UV_PROJECT_ENVIRONMENT": str(project / ".venv"),
        "UV_PYTHON": str(base_python()),
        "POETRY_VIRTUALENVS_IN_PROJECT": "true",
    }


def project_env(project: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) as the project's own tools expect it."""
    env = dict(base if base is not None else os.environ)
    venv = env.pop("VIRTUAL_ENV", "")
    if venv:
        env["PATH"] = path_without(venv, env.get("PATH", ""))
    env.update(project_tools_env(project))
    env["PYTHONPATH"] = "src"
    return env


def git_identity(name: str) -> dict[str, str]:
    """``GIT_AUTHOR_*``/``GIT_COMMITTER_*`` variables: commits as ``name <name@localhost>``."""
    return {
        f"GIT_{who}_{what}": value
        for who in ("AUTHOR", "COMMITTER")
        for what, value in (("NAME", name), ("EMAIL", f"{name}@localhost"))
    }
