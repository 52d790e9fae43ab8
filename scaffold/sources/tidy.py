"""Ruff, run with the project's own configuration, over the files a command writes.

Ruff ships with the toolkit (same minor version as the generated projects pin), so `add`
can lint and lay out its output without the project's virtual environment. Files are
handled in batches: a ruff process costs more than the files it reads.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from scaffold.errors import OperationFailed

__all__ = ["check_files", "tidy", "untidy"]

# Files that carry ruff's configuration, copied next to sources tidied out of tree.
CONFIG_FILES = ("pyproject.toml", "ruff.toml", ".ruff.toml")


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


def tidy(project: Path, sources: dict[Path, str]) -> dict[Path, str]:
    """``sources`` with imports sorted and ruff's layout, computed out of tree (nothing written).

    Lint findings other than import order are left for `check_files` to report.
    """
    if not sources:
        return {}
    with tempfile.TemporaryDirectory(prefix="robyn-config-") as scratch:
        root = Path(scratch)
        for name in CONFIG_FILES:
            if (project / name).is_file():
                shutil.copyfile(project / name, root / name)
        names = _names(project, list(sources))
        for name, source in zip(names, sources.values(), strict=True):
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source, encoding="utf-8")
        _ruff(root, "check", "--select", "I", "--fix", "--exit-zero", "--quiet", *names)
        _ruff(root, "format", "--quiet", *names)
        return {
            path: (root / name).read_text(encoding="utf-8")
            for path, name in zip(sources, names, strict=True)
        }


def check_files(project: Path, paths: list[Path]) -> None:
    """Fail with ruff's findings unless lint and the format check pass on ``paths``."""
    names = _names(project, paths)
    for args in (("check", "--quiet"), ("format", "--check", "--quiet")):
        completed = _ruff(project, *args, *names)
        if completed.returncode != 0:
            findings = (completed.stdout + completed.stderr).strip().splitlines()[-12:]
            raise OperationFailed(
                f"'ruff {args[0]}' failed on the changed files:\n" + "\n".join(findings)
            )
