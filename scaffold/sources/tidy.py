"""Ruff, run with the project's own configuration, over the files a command writes.

Ruff ships with the toolkit (same minor version as the generated projects pin), so `add`
can lint and lay out its output without the project's virtual environment. What a command
is about to write is laid out through ruff's standard input, so nothing is written before
the command's transaction; files already on disk are checked in batches.
"""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path

from scaffold.errors import OperationFailed

__all__ = ["check_files", "tidy", "untidy"]


@functools.cache
def _ruff_binary() -> str:
    from ruff.__main__ import find_ruff_bin  # type: ignore[attr-defined]

    return str(find_ruff_bin())


def _ruff(cwd: Path, command: str, *args: str) -> subprocess.CompletedProcess[str]:
    # No .ruff_cache: a dry run must write nothing, a rolled-back add must leave no trace.
    return subprocess.run(
        [_ruff_binary(), command, "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def _names(project: Path, paths: list[Path]) -> list[str]:
    return [path.relative_to(project).as_posix() for path in paths]


def untidy(project: Path, paths: list[Path]) -> set[Path]:
    """Those of ``paths`` whose imports are unsorted or whose layout is not ruff's."""
    if not paths:
        return set()
    names = _names(project, paths)
    imports = _ruff(
        project, "check", "--select", "I", "--output-format", "json", "--exit-zero", *names
    )
    flagged = {Path(item["filename"]).resolve() for item in json.loads(imports.stdout or "[]")}
    layout = _ruff(project, "format", "--check", "--output-format", "json", *names)
    flagged |= {Path(item["filename"]).resolve() for item in json.loads(layout.stdout or "[]")}
    return {path for path in paths if path.resolve() in flagged}


def _through(project: Path, name: str, source: str, command: str, *args: str) -> str:
    """``source`` piped through ``ruff command`` as the project file ``name``; unchanged when
    ruff refuses it (a syntax error: `check_files` reports that)."""
    completed = subprocess.run(
        [_ruff_binary(), command, "--no-cache", *args, "--stdin-filename", name, "-"],
        cwd=project,
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.stdout if completed.returncode == 0 else source


def tidy(project: Path, sources: dict[Path, str]) -> dict[Path, str]:
    """``sources`` with imports sorted and ruff's layout (nothing is written anywhere).

    Each source goes through ruff's standard input with its project path, so the project's
    configuration applies as it would on disk. Lint findings other than import order are
    left for `check_files` to report.
    """
    tidied: dict[Path, str] = {}
    for path, source in sources.items():
        name = path.relative_to(project).as_posix()
        ordered = _through(project, name, source, "check", "--select", "I", "--fix", "--exit-zero")
        tidied[path] = _through(project, name, ordered, "format")
    return tidied


def check_files(project: Path, paths: list[Path]) -> None:
    """Fail with ruff's findings unless lint and the format check pass on ``paths``."""
    if not paths:
        return  # ruff without paths would check the whole project
    names = _names(project, paths)
    for args in (("check", "--quiet"), ("format", "--check", "--quiet")):
        completed = _ruff(project, *args, *names)
        if completed.returncode != 0:
            findings = (completed.stdout + completed.stderr).strip().splitlines()[-12:]
            raise OperationFailed(
                f"'ruff {args[0]}' failed on the changed files:\n" + "\n".join(findings)
            )
