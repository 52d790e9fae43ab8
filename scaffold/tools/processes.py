"""Subprocess plumbing: the runner of project tools, their environment, process groups."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

__all__ = [
    "Runner",
    "failed",
    "group_alive",
    "run_subprocess",
    "stop_group",
    "tail",
    "tool_environment",
]

Runner = Callable[[Sequence[str], Path, Mapping[str, str]], "subprocess.CompletedProcess[str]"]
"""Runs a command in a directory with an environment; returns its captured output."""


def run_subprocess(
    command: Sequence[str], cwd: Path, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """The real runner: output captured (shown only on failure), no stdin."""
    return subprocess.run(
        list(command),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def tail(output: str, lines: int = 1) -> str:
    return "\n".join(output.strip().splitlines()[-lines:])


# Why a tool the toolkit ran would be killed by a signal, in the operator's words.
_SIGNAL_CAUSES = {signal.SIGXFSZ: "a file-size limit", signal.SIGKILL: "the system"}


def failed(
    command: str, completed: subprocess.CompletedProcess[str], summary: str | None = None
) -> str:
    """One sentence on how ``command`` failed: its exit status and ``summary`` (default: its
    last line), or the signal that killed it (a killed tool's last line is whatever it was
    doing, not a conclusion)."""
    if completed.returncode < 0:
        killer = signal.Signals(-completed.returncode)
        cause = _SIGNAL_CAUSES.get(killer)
        return f"'{command}' was killed by {killer.name}" + (f" ({cause})." if cause else ".")
    # The tool's conclusion is its last line; the rest is for running it by hand.
    if summary is None:
        summary = tail(f"{completed.stdout}\n{completed.stderr}", 1).strip() or "no output"
    return f"'{command}' failed (exit status {completed.returncode}): {summary.rstrip('.')}."


# Set by nox's uv backend to the toolkit's own environment: a `uv sync`/`uv run` of the
# generated project would install into (and replace) the toolkit's environment.
_TOOLKIT_ENV_VARIABLES = ("UV_PROJECT_ENVIRONMENT", "UV_PYTHON")


def _is_toolkit_environment(value: str) -> bool:
    try:
        return Path(value).resolve() == Path(sys.prefix).resolve()
    except OSError:  # pragma: no cover - an unreadable path is not the toolkit's
        return False


def tool_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` for a generated project's tools: the caller's and the toolkit's venv left out.

    The project's package manager then uses the project's own environment, never an active
    virtual environment of the operator's nor the one this toolkit runs in.
    """
    return {
        key: value
        for key, value in environ.items()
        if key != "VIRTUAL_ENV"
        and not (key in _TOOLKIT_ENV_VARIABLES and _is_toolkit_environment(value))
    }


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a reused id owned by someone else
        return False
    return True


def stop_group(process: subprocess.Popen[bytes], *, grace: float) -> None:
    """Stop every process left in the group ``process`` leads: SIGTERM, then after ``grace``
    seconds SIGKILL."""
    pgid = process.pid
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 1.0)):
        process.poll()
        if not group_alive(pgid):
            break
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            process.poll()  # reap the shell so it does not count as alive
            if not group_alive(pgid):
                break
            time.sleep(0.05)
    process.wait()
