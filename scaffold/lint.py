"""Ruff, run with the project's own configuration, over the files a command writes.

Ruff ships with the toolkit (same minor version as the generated projects pin), so `add`
can lint and lay out its output without the project's virtual environment.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scaffold.errors import OperationFailed

__all__ = ["check_files", "is_tidy", "tidy"]


def _ruff(project: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args],
        cwd=project,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def is_tidy(project: Path, path: Path, source: str) -> bool:
    """Whether ``source`` (the content of ``path``) already has sorted imports and ruff's layout."""
    name = str(path.relative_to(project))
    imports = _ruff(project, "check", "--select", "I", "--stdin-filename", name, "-", stdin=source)
    layout = _ruff(project, "format", "--check", "--stdin-filename", name, "-", stdin=source)
    return imports.returncode == 0 and layout.returncode == 0


def tidy(project: Path, path: Path, source: str) -> str:
    """``source`` with its imports sorted and ruff's layout applied (lint findings untouched)."""
    name = str(path.relative_to(project))
    sorted_imports = _ruff(
        project,
        "check",
        "--select",
        "I",
        "--fix",
        "--exit-zero",
        "--quiet",
        "--stdin-filename",
        name,
        "-",
        stdin=source,
    )
    text = sorted_imports.stdout if sorted_imports.returncode == 0 else source
    formatted = _ruff(project, "format", "--stdin-filename", name, "-", stdin=text)
    return formatted.stdout if formatted.returncode == 0 else text


def check_files(project: Path, paths: list[Path]) -> None:
    """Fail with ruff's findings unless lint and the format check pass on ``paths``."""
    names = [str(path.relative_to(project)) for path in paths]
    for args in (("check", "--quiet"), ("format", "--check", "--quiet")):
        completed = _ruff(project, *args, *names)
        if completed.returncode != 0:
            findings = (completed.stdout + completed.stderr).strip().splitlines()[-12:]
            raise OperationFailed(
                f"'ruff {args[0]}' failed on the changed files:\n" + "\n".join(findings)
            )
