"""Helpers shared by the test modules (fixtures live in ``conftest.py``)."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterable, Mapping
from os import PathLike
from pathlib import Path, PurePosixPath

from scaffold.generation.render import RenderedFile

REPO_ROOT = Path(__file__).resolve().parents[1]
# The scripts directory of the environment running the tests (the project's dev venv).
SCRIPTS = Path(sysconfig.get_path("scripts"))
CONSOLE_SCRIPT = SCRIPTS / "robyn-config"
INVOKE = SCRIPTS / "invoke"
RUFF = SCRIPTS / "ruff"
PYTHON = Path(sys.executable)

Manifest = dict[str, tuple[str, int]]


def manifest(path: Path) -> Manifest:
    """Every file, directory and symlink under ``path``: relative path -> (sha256, mode).

    Directories are included (with an empty digest) so an extra empty directory left behind
    by a failed command shows up as a difference too.
    """
    result: Manifest = {}
    if not path.exists():
        return result
    for entry in sorted(path.rglob("*")):
        relative = entry.relative_to(path).as_posix()
        mode = entry.lstat().st_mode
        if stat.S_ISLNK(mode):
            result[relative] = (os.readlink(entry), mode)
        elif entry.is_dir():
            result[relative] = ("", mode)
        else:
            result[relative] = (hashlib.sha256(entry.read_bytes()).hexdigest(), mode)
    return result


def write_tree(root: Path, files: Iterable[RenderedFile]) -> Path:
    """Write rendered files under ``root`` as create would (exec bit included)."""
    for rendered in files:
        target = root / rendered.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(rendered.content)
        if rendered.executable:
            target.chmod(target.stat().st_mode | 0o111)
    return root


def populate_existing(dest: Path) -> Manifest:
    """An operator's non-empty directory: files, an executable, a subdirectory; its manifest."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "NOTES.md").write_text("my notes\n")
    (dest / "data.bin").write_bytes(bytes(range(256)))
    tool = dest / "tool.sh"
    tool.write_text("#!/bin/sh\necho mine\n")
    tool.chmod(0o750)
    (dest / "keep").mkdir()
    (dest / "keep" / "inner.txt").write_text("inner\n")
    (dest / "keep" / "deeper").mkdir()
    (dest / "keep" / "deeper" / "leaf.cfg").write_text("[x]\ny = 1\n")
    return manifest(dest)


def by_path(files: Iterable[RenderedFile]) -> Mapping[str, RenderedFile]:
    return {str(rendered.path): rendered for rendered in files}


def text_of(files: Mapping[str, RenderedFile], path: str) -> str:
    return files[path].content.decode("utf-8")


def sigint_as_default() -> None:
    """A ``preexec_fn``: the child takes SIGINT (Ctrl-C) by default, whatever it inherited.

    A shell without job control starts background commands with SIGINT ignored and children
    inherit that, so a Ctrl-C test would otherwise depend on how its runner was started.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_program(
    *command: str | PathLike[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a program (the console script, ``uv``, a venv's python) with its output captured.

    stdin is ``/dev/null``, as in CI: a command that waits for an answer fails instead of
    hanging the test until its timeout. ``preexec_fn`` runs in the child first (a resource
    limit, say).
    """
    return subprocess.run(
        [os.fspath(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        preexec_fn=preexec_fn,
    )


def assert_exit(
    completed: subprocess.CompletedProcess[str], code: int = 0
) -> subprocess.CompletedProcess[str]:
    """``completed`` exited with ``code`` and printed no traceback; else show the whole run."""
    detail = f"{completed.args}\n{completed.stdout}\n{completed.stderr}"
    assert completed.returncode == code, detail
    assert "Traceback" not in completed.stdout + completed.stderr, detail
    return completed


def assert_usage_error(completed: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Bad input: exit status 2, one line on stderr holding every fragment, no traceback."""
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def git(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return completed.stdout


def posix(path: str) -> PurePosixPath:
    return PurePosixPath(path)
