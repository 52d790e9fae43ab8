"""The throwaway PostgreSQL server of the ``pg(...)`` sessions (``tests/support/postgres.py``)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import PostgresError, PostgresServer, find_bin_dir, running_postgres

pytestmark = pytest.mark.e2e


def _have_postgres() -> bool:
    try:
        find_bin_dir()
    except PostgresError:
        return False
    return shutil.which("runuser") is not None or os.geteuid() != 0


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    if not _have_postgres():
        pytest.skip("PostgreSQL's server binaries are not installed")
    with running_postgres() as server:
        yield server


def client(url: str, sql: str, server: PostgresServer) -> str:
    """Run SQL over TCP with the URL's credentials, as the application does."""
    completed = subprocess.run(
        [str(server.bin_dir / "psql"), url, "-X", "-q", "-A", "-t", "-c", sql],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
    )
    return completed.stdout.strip()


def test_listens_on_loopback_only(postgres: PostgresServer) -> None:
    assert postgres.psql("SHOW listen_addresses").strip() == "127.0.0.1"
    assert postgres.psql("SHOW port").strip() == str(postgres.port)
    assert postgres.psql("SELECT current_setting('server_version_num')::int / 10000").strip()


def test_the_app_role_connects_over_tcp_with_its_password(postgres: PostgresServer) -> None:
    url = postgres.create_database("probe")
    assert url.startswith(f"postgresql://app:app-secret@127.0.0.1:{postgres.port}/")
    assert client(url, "SELECT current_user, current_database()", postgres) == "app|probe"
    wrong = url.replace("app-secret", "wrong")
    with pytest.raises(subprocess.CalledProcessError):
        client(wrong, "SELECT 1", postgres)


def test_create_database_starts_empty_each_time(postgres: PostgresServer) -> None:
    url = postgres.create_database("fresh")
    client(url, "CREATE TABLE leftover (id serial PRIMARY KEY)", postgres)
    assert postgres.tables("fresh") == {"leftover"}
    postgres.create_database("fresh")
    assert postgres.tables("fresh") == set()


@pytest.mark.parametrize("name", ["Upper", "semi;colon", "x" * 64, ""])
def test_create_database_refuses_names_that_need_quoting(
    postgres: PostgresServer, name: str
) -> None:
    with pytest.raises(PostgresError, match="plain lower-case identifier"):
        postgres.create_database(name)


def test_the_cluster_is_gone_after_the_context() -> None:
    if not _have_postgres():
        pytest.skip("PostgreSQL's server binaries are not installed")
    with running_postgres() as server:
        root: Path = server.root
        port = server.port
        assert (server.data_dir / "postmaster.pid").exists()
    assert not root.exists()
    with socket.socket() as probe, pytest.raises(OSError):
        probe.settimeout(2)
        probe.connect(("127.0.0.1", port))
