"""The package managers a generated project can use: availability and locking."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import OperationFailed, UsageError
from scaffold.matrix import Orm, PackageManager
from scaffold.tools import processes

__all__ = [
    "ManagerSpec",
    "lock",
    "project_environment",
    "require_manager",
    "spec_for",
    "tool_command",
]


@dataclass(frozen=True)
class ManagerSpec:
    """How to find, install and drive one package manager."""

    manager: PackageManager
    executable: str
    lock_file: str
    lock_args: tuple[str, ...]
    install_hint: str


_SPECS = {
    PackageManager.UV: ManagerSpec(
        manager=PackageManager.UV,
        executable="uv",
        lock_file="uv.lock",
        lock_args=("lock",),
        install_hint="install it with 'pip install uv' (or 'pipx install uv')",
    ),
    PackageManager.POETRY: ManagerSpec(
        manager=PackageManager.POETRY,
        executable="poetry",
        lock_file="poetry.lock",
        lock_args=("lock",),
        install_hint="install it with 'pipx install poetry' (or 'pip install poetry')",
    ),
}


def spec_for(manager: PackageManager) -> ManagerSpec:
    return _SPECS[manager]


def require_manager(manager: PackageManager) -> str:
    """Return the path of the manager's executable, or raise a UsageError saying how to get it."""
    spec = spec_for(manager)
    found = shutil.which(spec.executable)
    if found is None:
        raise UsageError(
            f"The package manager {spec.executable!r} is not installed or not on PATH; "
            f"{spec.install_hint}."
        )
    return found


def lock(project: Path, manager: PackageManager) -> Path:
    """Produce the manager's lock file in ``project`` with the real tool; return its path."""
    spec = spec_for(manager)
    executable = require_manager(manager)
    environment = processes.tool_environment(os.environ)
    environment.setdefault("POETRY_VIRTUALENVS_IN_PROJECT", "true")
    venv = project / ".venv"
    venv_existed = venv.exists()
    completed = subprocess.run(
        [executable, *spec.lock_args],
        cwd=project,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if not venv_existed and venv.is_dir():
        # `poetry lock` makes the in-project virtualenv; create leaves only the lock file.
        shutil.rmtree(venv, ignore_errors=True)
    lock_path = project / spec.lock_file
    if completed.returncode != 0 or not lock_path.is_file():
        raise OperationFailed(
            processes.failed(f"{spec.executable} {' '.join(spec.lock_args)}", completed)
        )
    return lock_path


def project_environment(orm: Orm, **extra: str) -> dict[str, str]:
    """The environment the project's Makefile gives its tools; the caller's venv left out."""
    environment = processes.tool_environment(os.environ)
    environment["PYTHONPATH"] = "src"
    if orm is Orm.TORTOISE:
        environment["AERICH_NO_TORTOISE_V1_WARNING"] = "1"
    environment.update(extra)
    return environment


def tool_command(manager: PackageManager, *arguments: str, sync: bool = True) -> list[str]:
    """``$(RUN) arguments`` of the Makefile; ``sync=False`` never changes the environment."""
    executable = require_manager(manager)
    if manager is PackageManager.UV:
        return [executable, "run", "--frozen", *([] if sync else ["--no-sync"]), *arguments]
    return [executable, "run", *arguments]
