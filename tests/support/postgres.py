"""A throwaway PostgreSQL server on 127.0.0.1 for the ``pg`` nox sessions, the bench and tests.

The cluster lives in a fresh temporary directory (data and unix sockets), listens on
127.0.0.1 only, on a free port, and is removed when the context ends. Run as root, every
server command runs as the ``postgres`` OS user (PostgreSQL refuses to run as root).
Clients connect over TCP with a password, as an application would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.debian import apt_install
from tests.support.processes import free_port

__all__ = ["PostgresError", "PostgresServer", "ensure_bin_dir", "find_bin_dir", "running_postgres"]

SERVER_USER = "postgres"
ROLE = "app"
PASSWORD = "app-secret"
START_TIMEOUT = 60
# A test server needs no durability; these make initdb and each migration quicker.
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class PostgresError(RuntimeError):
    """PostgreSQL could not be found, started or talked to; the message says why."""


def find_bin_dir() -> Path:
    """The directory of ``initdb``/``pg_ctl``: ``$PG_BIN``, PATH, or Debian's newest version."""
    configured = os.environ.get("PG_BIN")
    if configured:
        return Path(configured)
    on_path = shutil.which("initdb")
    if on_path:
        # Resolved: a symlink on PATH points into the directory that also has psql.
        return Path(on_path).resolve().parent
    # Debian keeps the server binaries off PATH, one directory per major version.
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise PostgresError(
            "No PostgreSQL server binaries found (initdb); install PostgreSQL "
            "(Debian: apt-get install postgresql) or set PG_BIN."
        )
    return candidates[-1].parent


def ensure_bin_dir() -> Path:
    """``find_bin_dir``, after installing PostgreSQL from Debian's packages when it is missing."""
    try:
        return find_bin_dir()
    except PostgresError:
        apt_install("postgresql")
    return find_bin_dir()


@dataclass
class PostgresServer:
    """A running cluster: where it is and how to reach it."""

    bin_dir: Path
    root: Path
    port: int

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    def run_as_server_user(self, *command: str) -> str:
        """Run a command as the cluster's owner; its stdout, or PostgresError with its output."""
        prefix = ["runuser", "-u", SERVER_USER, "--"] if os.geteuid() == 0 else []
        result = subprocess.run(
            [*prefix, *command],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresError(
                f"{Path(command[0]).name} failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-2000:]}"
            )
        return result.stdout

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run SQL as the superuser over the unix socket; unaligned, tuples-only output."""
        return self.run_as_server_user(
            str(self.bin_dir / "psql"),
            *("-h", str(self.root), "-p", str(self.port), "-U", SERVER_USER, "-d", database),
            *("-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql),
        )

    def url(self, database: str) -> str:
        """The standard ``DATABASE_URL`` of ``database`` for the application role."""
        return f"postgresql://{ROLE}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A fresh, empty database owned by the application role; its ``DATABASE_URL``."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise PostgresError(f"Database name {name!r} is not a plain lower-case identifier.")
        self.psql(f"DROP DATABASE IF EXISTS {name}")
        self.psql(f"CREATE DATABASE {name} OWNER {ROLE}")
        return self.url(name)

    def tables(self, database: str) -> set[str]:
        """The tables of the ``public`` schema of ``database``."""
        output = self.psql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'", database=database
        )
        return {line.strip() for line in output.splitlines() if line.strip()}

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, user=SERVER_USER, group=SERVER_USER)
        self.run_as_server_user(
            str(self.bin_dir / "initdb"),
            *(
                "-D",
                str(self.data_dir),
                "-U",
                SERVER_USER,
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ),
            # The socket is private to the temporary directory; TCP needs the password.
            *("--auth-local=trust", "--auth-host=scram-sha-256"),
        )
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-c port={self.port}",
            f"-c unix_socket_directories={self.root}",
            *(f"-c {setting}" for setting in FAST_SETTINGS),
        ]
        self.run_as_server_user(
            str(self.bin_dir / "pg_ctl"),
            *("-D", str(self.data_dir), "-l", str(self.log_path), "-w"),
            *("-t", str(START_TIMEOUT), "-o", " ".join(options), "start"),
        )
        self.psql(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")

    def stop(self) -> None:
        self.run_as_server_user(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"
        )

    def restart(self) -> None:
        """Stop (closing every client's connection) and start again with the same options."""
        self.run_as_server_user(
            str(self.bin_dir / "pg_ctl"),
            *("-D", str(self.data_dir), "-l", str(self.log_path), "-m", "fast", "-w"),
            *("-t", str(START_TIMEOUT), "restart"),
        )

    def server_log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start a fresh cluster on 127.0.0.1 and a free port; stop and delete it afterwards."""
    root = Path(tempfile.mkdtemp(prefix="robyn-config-pg-"))
    server = PostgresServer(bin_dir=find_bin_dir(), root=root, port=free_port())
    try:
        server.start()
        yield server
    finally:
        try:
            if (server.data_dir / "postmaster.pid").exists():
                server.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
