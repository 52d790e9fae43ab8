"""Generated services for the reliability tests and the benchmarks: make, serve, measure.

Used by the ``reliability`` and ``bench`` nox sessions (which create the projects) and by the
tests under ``tests/reliability/service`` (which find them through ``RELIABILITY_PROJECTS``).
Every server is started in its own process group and stopped by signalling that group only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CELLS",
    "ENTITY",
    "FIELDS",
    "PROJECTS_VARIABLE",
    "Service",
    "WrkResult",
    "create_schema",
    "ensure_wrk",
    "free_port",
    "group_rss_kib",
    "prepare_project",
    "project_env",
    "run_wrk",
    "serve",
    "serve_project",
]

# One cell per design x ORM; the package manager does not change the running service.
CELLS = ("ddd-sqlalchemy-uv", "ddd-tortoise-uv", "mvc-sqlalchemy-uv", "mvc-tortoise-uv")
ENTITY = "product"
FIELDS = "name:str price:decimal in_stock:bool"
PROJECTS_VARIABLE = "RELIABILITY_PROJECTS"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def project_env(project: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a generated project's own tools expect: its venv, never the caller's."""
    env = dict(base if base is not None else os.environ)
    venv = env.pop("VIRTUAL_ENV", "")
    if venv:
        env["PATH"] = os.pathsep.join(
            entry for entry in env.get("PATH", "").split(os.pathsep) if not entry.startswith(venv)
        )
    env["UV_PROJECT_ENVIRONMENT"] = str(project / ".venv")
    env["UV_PYTHON"] = str(Path(sys.base_prefix) / "bin" / "python3")
    env["POETRY_VIRTUALENVS_IN_PROJECT"] = "true"
    env["PYTHONPATH"] = "src"
    return env


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


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


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
        started = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        while time.monotonic() - started < timeout:
            self.process.poll()
            if not _group_alive(self.process.pid):
                self.stop_seconds = time.monotonic() - started
                return self.stop_seconds
            time.sleep(0.02)
        return None

    def kill(self) -> None:
        if _group_alive(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} was not ready within {timeout:.0f}s")


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
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**env, "PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    service = Service(process=process, port=port, log_path=log_path)
    try:
        wait_ready(service.base_url + ready_path, process, START_TIMEOUT)
        yield service
    finally:
        if service.stop_seconds is None:
            service.terminate()
        service.kill()


def serve_project(
    project: Path, database_url: str, log_path: Path, *, log_level: str = "INFO"
) -> contextlib.AbstractContextManager[Service]:
    """The generated service as `make run` starts it (``python -m app``), without make."""
    env = {**project_env(project), "DATABASE_URL": database_url, "LOG_LEVEL": log_level}
    python = str(project / ".venv" / "bin" / "python")
    return serve([python, "-m", "app"], cwd=project, env=env, log_path=log_path)


def ensure_wrk() -> str:
    """The path of wrk, installed from Debian's packages when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("wrk is not installed; install it (Debian: apt-get install wrk).")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("apt-get install wrk did not put wrk on PATH.")
    return found


# wrk's summary printed by a Lua `done` hook as one JSON line: exact counts and percentiles.
WRK_REPORT_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "non2xx": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "status": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    e.status, latency:percentile(50), latency:percentile(99), latency.max))
end
"""

POST_LUA = """
local counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"name": "bench %d", "price": "19.99", "in_stock": true}', counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
"""

# The mix of the long reliability run: reads of one item, of a page, the health check, and one
# write in ten (so the table grows, as a real service's does).
MIX_LUA = """
local counter = 0
request = function()
  counter = counter + 1
  local kind = counter % 10
  if kind == 0 then
    local body = string.format('{"name": "load %d", "price": "1.50", "in_stock": false}', counter)
    return wrk.format("POST", "/products", {["Content-Type"] = "application/json"}, body)
  elseif kind < 5 then
    return wrk.format("GET", "/products/1")
  elseif kind < 8 then
    return wrk.format("GET", "/products?limit=20")
  end
  return wrk.format("GET", "/healthcheck")
end
"""


@dataclass
class WrkResult:
    """One wrk run: counts and latencies (microseconds)."""

    requests: int
    duration_us: int
    non2xx: int
    socket_errors: int
    p50_us: int
    p99_us: int
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / (self.duration_us / 1e6) if self.duration_us else 0.0


def run_wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 2,
    script: str = "",
    workdir: Path,
    timeout_s: int = 5,
) -> WrkResult:
    """Drive ``url`` with wrk; ``script`` (Lua) may set ``request``; the report hook is added."""
    lua = workdir / f"wrk-{os.getpid()}-{time.monotonic_ns()}.lua"
    lua.write_text(script + WRK_REPORT_LUA)
    completed = subprocess.run(
        [
            ensure_wrk(),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={timeout_s}s",
            "-s",
            str(lua),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    lua.unlink(missing_ok=True)
    line = next(
        (line for line in completed.stdout.splitlines() if line.startswith("WRKJSON ")), None
    )
    if line is None:
        raise RuntimeError(f"wrk printed no report:\n{completed.stdout}\n{completed.stderr}")
    data = json.loads(line.removeprefix("WRKJSON "))
    # wrk counts responses with status > 399 as "status" errors (non-2xx/3xx).
    return WrkResult(
        requests=data["requests"],
        duration_us=data["duration_us"],
        non2xx=data["non2xx"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        p50_us=data["p50_us"],
        p99_us=data["p99_us"],
        raw=data,
    )


def prepare_project(
    cell: str, project: Path, *, toolkit: str, index_url: str | None = None, dev: bool = False
) -> Path:
    """Create ``cell`` at ``project``, add the product entity, commit, install its venv."""
    if project.exists():
        shutil.rmtree(project)
    env = project_env(project)
    identity = {
        f"GIT_{who}_{what}": value
        for who in ("AUTHOR", "COMMITTER")
        for what, value in (("NAME", "reliability"), ("EMAIL", "reliability@localhost"))
    }
    env.update(identity)
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
