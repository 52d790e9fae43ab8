"""Processes the tests start: free ports, process groups and waiting for an HTTP answer.

Every server is started in its own process group and stopped by signalling that group only,
so whatever it spawned (``make``, ``uv run``, the server itself) goes with it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

# The toolkit's own check (its runbook runner stops step groups with it): one copy.
from scaffold.tools.processes import group_alive

__all__ = [
    "free_port",
    "group_alive",
    "kill_group",
    "start_group",
    "stop_group",
    "wait_for_status",
    "wait_group_gone",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (the kernel's choice, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_group(
    command: Sequence[str], *, cwd: Path, env: Mapping[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    """Start ``command`` as the leader of a new process group, its output into ``log_path``."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def wait_group_gone(
    leader: subprocess.Popen[bytes], timeout: float, *, interval: float = 0.05
) -> float | None:
    """Seconds until every process of ``leader``'s group exited, or None on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        leader.poll()  # reap the leader so it does not linger as a zombie
        if not group_alive(leader.pid):
            return time.monotonic() - started
        time.sleep(interval)
    return None


def stop_group(
    leader: subprocess.Popen[bytes], timeout: float, *, interval: float = 0.05
) -> float | None:
    """SIGTERM to ``leader``'s group; seconds until all of it exited, None on timeout.

    Raises:
        ProcessLookupError: The group was gone before the signal.
    """
    started = time.monotonic()
    os.killpg(leader.pid, signal.SIGTERM)
    gone = wait_group_gone(leader, timeout - (time.monotonic() - started), interval=interval)
    return None if gone is None else time.monotonic() - started


def kill_group(leader: subprocess.Popen[bytes]) -> None:
    """SIGKILL whatever is left of ``leader``'s group, then reap the leader."""
    if group_alive(leader.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(leader.pid, signal.SIGKILL)
    leader.wait()


def wait_for_status(
    url: str,
    server: subprocess.Popen[bytes],
    timeout: float,
    *,
    expected: int | None = None,
    interval: float = 0.3,
) -> int:
    """The HTTP status ``url`` answers once ``server`` serves it.

    With ``expected``, other statuses count as not ready yet and the wait goes on. Raises
    RuntimeError when the server exits first or nothing (expected) answers within ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode} before serving")
        status: int | None = None
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                status = int(response.status)
        except urllib.error.HTTPError as error:
            status = int(error.code)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if status is not None and expected in (None, status):
            return status
        time.sleep(interval)
    awaited = f"answer {expected}" if expected is not None else "answer"
    raise RuntimeError(f"{url} did not {awaited} within {timeout:.0f}s")
