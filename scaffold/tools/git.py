"""The one way the toolkit reaches git: the `git` program, with its output captured.

Everything git-related goes through `run_git`: where a work tree starts, where its git
directory is, which paths are dirty, and the initial commit of a new project.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import OperationFailed

__all__ = [
    "FALLBACK_IDENTITY",
    "CommitInfo",
    "commit_new_project",
    "conclusion",
    "dirty_paths",
    "git_dir",
    "run_git",
    "work_tree_top",
]

FALLBACK_IDENTITY = ("robyn-config", "robyn-config@localhost")


def run_git(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``git args`` in ``cwd``; never raises for a failing git (the caller reads the status).

    Raises:
        FileNotFoundError: git is not installed, or ``cwd`` does not exist.
    """
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _answer(path: Path, *args: str) -> str | None:
    try:
        completed = run_git(path, *args)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout.strip()


def work_tree_top(path: Path) -> Path | None:
    """The top of the git work tree holding ``path``, or None outside git (or without git)."""
    top = _answer(path, "rev-parse", "--show-toplevel")
    return Path(top) if top else None


def git_dir(path: Path) -> Path | None:
    """The git directory of the work tree holding ``path``, or None outside git."""
    directory = _answer(path, "rev-parse", "--absolute-git-dir")
    return Path(directory) if directory else None


def dirty_paths(top: Path) -> list[str]:
    """Paths with uncommitted changes (tracked or untracked), relative to the work tree."""
    completed = run_git(top, "status", "--porcelain=v1", "--untracked-files=all")
    return [line[3:] for line in completed.stdout.splitlines() if line.strip()]


@dataclass(frozen=True)
class CommitInfo:
    """What the initial commit did, so the CLI can tell the operator."""

    sha: str
    initialised: bool
    fallback_identity: bool


def _configured(project: Path, key: str) -> bool:
    return bool(_answer(project, "config", "--get", key))


def _identity_environment(project: Path) -> tuple[dict[str, str], bool]:
    """Use the operator's identity; fall back to a named placeholder when git has none."""
    has_identity = (_configured(project, "user.name") or "GIT_AUTHOR_NAME" in os.environ) and (
        _configured(project, "user.email") or "GIT_AUTHOR_EMAIL" in os.environ
    )
    if has_identity:
        return {}, False
    name, email = FALLBACK_IDENTITY
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }, True


def conclusion(output: str) -> str:
    """git's own verdict in one line: its ``fatal:`` line, with the first ``error:`` (which
    carries the system's reason, "unable to create temporary file: Operation not permitted")."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    fatal = next((line for line in reversed(lines) if line.startswith("fatal:")), None)
    error = next((line for line in lines if line.startswith("error:")), None)
    verdict = (fatal or error or (lines[-1] if lines else "no output")).removeprefix("fatal: ")
    if fatal and error:
        verdict += f" ({error.removeprefix('error: ')})"
    return verdict.rstrip(".")


def _checked(project: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    completed = run_git(project, *args, env=env)
    if completed.returncode != 0:
        reason = conclusion(completed.stderr or completed.stdout)
        raise OperationFailed(f"git could not make the initial commit: {reason}.")
    return completed.stdout.strip()


def commit_new_project(project: Path, paths: list[str], message: str) -> CommitInfo:
    """Make ``project`` a git repository (unless it is one) and commit ``paths`` in it."""
    initialised = not (project / ".git").exists()
    if initialised:
        _checked(project, "init", "-q", "--initial-branch=main")
    environment, fallback = _identity_environment(project)
    _checked(project, "add", "--", *paths)
    _checked(project, "commit", "--no-verify", "-q", "-m", message, "--", *paths, env=environment)
    sha = _checked(project, "rev-parse", "HEAD")
    return CommitInfo(sha=sha, initialised=initialised, fallback_identity=fallback)
