"""Generated services for the reliability tests and the benchmarks: make, serve, measure.

Used by the ``reliability`` and ``bench`` nox sessions (which create the projects) and by the
tests under ``tests/reliability/service`` (which find them through ``RELIABILITY_PROJECTS``).
Every server is started in its own process group and stopped by signalling that group only.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import (
    free_port,
    kill_group,
    start_group,
    stop_group,
    wait_for_status,
)
from tests.support.project_env import git_identity, project_env

__all__ = [
    "CELLS",
    "ENTITY",
    "FIELDS",
    "PROJECTS_VARIABLE",
    "Service",
    "create_schema",
    "group_rss_kib",
    "prepare_cells",
    "prepare_project",
    "serve",
    "serve_project",
]

# One cell per design x ORM; the package manager does not change the running service.
CELLS = ("ddd-sqlalchemy-uv", "ddd-tortoise-uv", "mvc-sqlalchemy-uv", "mvc-tortoise-uv")
ENTITY = "product"
FIELDS = "name:str price:decimal in_stock:bool"
PROJECTS_VARIABLE = "RELIABILITY_PROJECTS"
START_TIMEOUT = 60.0


def _design_module(project: Path) -> str:
    if (project / "src" / "app" / "infrastructure").is_dir():
        return "app.infrastructure.database.connection"
    return "app.models.database"


def create_schema(project: Path, database_url: str) -> None:
    """Create the tables with the ORM's own create-all (what the generated tests do)."""
    code = (
        "import asyncio, sys\n"
        f"from {_design_module(project)} import create_schema\n"
        "asyncio.run(create_schema(sys.argv[1]))\n"
    )
    subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", code, database_url],
        cwd=project,
        env=project_env(project),
        check=True,
        capture_output=True,
    )


def group_rss_kib(pgid: int) -> int:
    """The resident memory of every process in the process group ``pgid``, in KiB."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            # Field 5 (pgrp) follows the command name, which may hold spaces: split after ')'.
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            status = Path(f"/proc/{entry}/status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        if match:
            total += int(match.group(1))
    return total


@dataclass
class Service:
    """A running server: its process group, URL and log."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    stop_seconds: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kib(self) -> int:
        return group_rss_kib(self.process.pid)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout: float = 5.0) -> float | None:
        """SIGTERM to the group; seconds until every process exited, None on timeout."""
        try:
            self.stop_seconds = stop_group(self.process, timeout, interval=0.02)
        except ProcessLookupError:
            self.stop_seconds = 0.0  # gone already: nothing left to stop
        return self.stop_seconds

    def kill(self) -> None:
        kill_group(self.process)


@contextlib.contextmanager
def serve(
    command: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log_path: Path,
    ready_path: str = "/healthcheck",
) -> Iterator[Service]:
    """Run ``command`` (which reads ``PORT``) in its own process group until the block ends."""
    port = free_port()
    process = start_group(command, cwd=cwd, env={**env, "PORT": str(port)}, log_path=log_path)
    service = Service(process=process, port=port, log_path=log_path)
    try:
        wait_for_status(
            service.base_url + ready_path, process, START_TIMEOUT, expected=200, interval=0.2
        )
        yield service
    finally:
        if service.stop_seconds is None:
            service.terminate()
        service.kill()


def serve_project(
    project: Path,
    database_url: str,
    log_path: Path,
    *,
    log_level: str = "INFO",
    processes: int = 1,
) -> contextlib.AbstractContextManager[Service]:
    """The generated service as `make run` starts it (``python -m app``), without make."""
    env = {
        **project_env(project),
        "DATABASE_URL": database_url,
        "LOG_LEVEL": log_level,
        "WEB_CONCURRENCY": str(processes),
    }
    python = str(project / ".venv" / "bin" / "python")
    return serve([python, "-m", "app"], cwd=project, env=env, log_path=log_path)


def prepare_project(
    cell: str, project: Path, *, toolkit: str, index_url: str | None = None, dev: bool = False
) -> Path:
    """Create ``cell`` at ``project``, add the product entity, commit, install its venv."""
    if project.exists():
        shutil.rmtree(project)
    env = project_env(project)
    env.update(git_identity("reliability"))
    design, orm, manager = cell.split("-")
    create = [toolkit, "create", project.name, str(project), "--design", design, "--orm", orm]
    create += ["--package-manager", manager]
    if index_url:
        create += ["--index-url", index_url]
    subprocess.run(create, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [toolkit, "add", ENTITY, str(project), "--fields", FIELDS],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(["git", "-C", str(project), "add", "-A"], env=env, check=True)
    subprocess.run(
        ["git", "-C", str(project), "commit", "-q", "-m", "Add product"], env=env, check=True
    )
    target = "install.dev" if dev else "install"
    subprocess.run(["make", "-C", str(project), target], env=env, check=True, capture_output=True)
    return project


def prepare_cells(root: Path, *, toolkit: str, log: Callable[[str], None]) -> dict[str, str]:
    """Every cell of ``CELLS`` prepared under ``root``: the ``RELIABILITY_PROJECTS`` value."""
    projects = {}
    for cell in CELLS:
        log(f"{cell}: create, add product, make install")
        projects[cell] = str(prepare_project(cell, root / f"rel-{cell}", toolkit=toolkit))
    return projects
