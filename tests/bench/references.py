"""The reference servers of the load benchmark, beside the generated service.

* the ceiling: Robyn and the raw driver (``reference_raw.py``: ``sqlite3``, ``asyncpg``),
  asynchronous handlers like the generated service's, and for SQLite the same with
  synchronous handlers, shown beside it;
* what an operator would write instead: FastAPI, uvicorn and async SQLAlchemy
  (``reference_fastapi.py``: aiosqlite, asyncpg).

Both run from one virtual environment the bench makes with ``uv``, on the generated
projects' Python, with the versions their lock files pin (Robyn, the drivers, SQLAlchemy,
Pydantic); FastAPI, uvicorn and httptools at their newest. Each server is one process in its
own process group on a free port, stopped by signalling that group.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability.service_kit import Service, serve

__all__ = ["REFERENCES", "Reference", "make_reference_env", "serve_reference"]

HERE = Path(__file__).parent
# Pinned to the generated projects' versions (the first lock file that has them).
PINNED = ("robyn", "asyncpg", "sqlalchemy", "aiosqlite", "greenlet", "pydantic", "pydantic-core")
# uvicorn picks uvloop and httptools up when installed (what `uvicorn[standard]` brings).
UNPINNED = ("fastapi", "uvicorn", "uvloop", "httptools")
READY_PATH = "/products?limit=1"


@dataclass(frozen=True)
class Reference:
    """One reference server: its script and how it is named per database."""

    kind: str  # "ceiling", "sync" or "fastapi"
    script: Path
    names: dict[str, str]  # database label -> server name in the table (where it runs)
    obeys_sigterm: bool
    env: dict[str, str] = field(default_factory=dict)

    def name(self, database: str) -> str:
        return self.names[database]


REFERENCES = (
    Reference(
        "ceiling",
        HERE / "reference_raw.py",
        {"SQLite": "Robyn + sqlite3 (ceiling)", "PostgreSQL": "Robyn + asyncpg (ceiling)"},
        # A bare Robyn 0.88 app keeps running after SIGTERM.
        obeys_sigterm=False,
    ),
    # The ceiling's SQLite handlers made synchronous: shown, not a target (the generated
    # service's handlers are asynchronous, as asyncpg needs, and one code serves both).
    Reference(
        "sync",
        HERE / "reference_raw.py",
        {"SQLite": "Robyn + sqlite3, sync handlers"},
        obeys_sigterm=False,
        env={"HANDLERS": "sync"},
    ),
    Reference(
        "fastapi",
        HERE / "reference_fastapi.py",
        {"SQLite": "FastAPI + aiosqlite", "PostgreSQL": "FastAPI + asyncpg"},
        obeys_sigterm=True,
    ),
)


def locked_versions(projects: Sequence[Path]) -> dict[str, str]:
    """``name -> version`` of ``PINNED`` from the projects' ``uv.lock``/``poetry.lock``."""
    versions: dict[str, str] = {}
    for project in projects:
        for lock in (project / "uv.lock", project / "poetry.lock"):
            if not lock.is_file():
                continue
            for package in tomllib.loads(lock.read_text()).get("package", []):
                name = str(package.get("name", "")).lower()
                if name in PINNED and name not in versions:
                    versions[name] = str(package["version"])
    return versions


def _uv_env() -> dict[str, str]:
    # nox's uv backend points these at the session's venv; this environment is its own.
    env = dict(os.environ)
    for name in ("UV_PROJECT_ENVIRONMENT", "UV_PYTHON", "VIRTUAL_ENV"):
        env.pop(name, None)
    return env


def _uv(*command: str) -> str:
    """Run uv; its stdout, or RuntimeError with what it printed."""
    done = subprocess.run(command, env=_uv_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:3])} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def make_reference_env(root: Path, projects: Sequence[Path]) -> tuple[Path, list[str]]:
    """Create the references' venv at ``root``; its Python and the versions installed."""
    versions = locked_versions(projects)
    if "robyn" not in versions:
        raise RuntimeError(f"No lock file of {[str(p) for p in projects]} pins robyn.")
    requirements = [f"{name}=={versions[name]}" for name in PINNED if name in versions]
    requirements += list(UNPINNED)
    uv = shutil.which("uv") or "uv"
    # The generated projects' interpreter: the same Python as the service under test.
    python = (projects[0] / ".venv" / "bin" / "python").resolve()
    own = root / "bin" / "python"
    _uv(uv, "venv", "-q", "--python", str(python), str(root))
    _uv(uv, "pip", "install", "-q", "--compile-bytecode", "--python", str(own), *requirements)
    listed = _uv(uv, "pip", "list", "--format", "json", "--python", str(own))
    shown = {*PINNED, *UNPINNED, "starlette"}
    installed = [
        f"{package['name']}=={package['version']}"
        for package in json.loads(listed)
        if str(package["name"]).lower() in shown
    ]
    return own, installed


@contextlib.contextmanager
def serve_reference(
    reference: Reference, python: Path, database_url: str, *, work: Path, log_path: Path
) -> Iterator[Service]:
    """Run ``reference`` on ``database_url`` (it creates its table) until the block ends."""
    env = _uv_env()
    env.update({"DATABASE_URL": database_url, "PYTHONDONTWRITEBYTECODE": "1", **reference.env})
    command = [str(python), str(reference.script)]
    with serve(command, cwd=work, env=env, log_path=log_path, ready_path=READY_PATH) as service:
        try:
            yield service
        finally:
            if not reference.obeys_sigterm:
                service.kill()  # by its process group; serve() need not wait for SIGTERM
                service.stop_seconds = 0.0
