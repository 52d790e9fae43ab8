"""Git operations of the toolkit: the initial commit of a new project."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")  # a missing git is reported by the caller
import git

from scaffold.errors import OperationFailed

__all__ = ["FALLBACK_IDENTITY", "CommitInfo", "commit_new_project"]

FALLBACK_IDENTITY = ("robyn-config", "robyn-config@localhost")


@dataclass(frozen=True)
class CommitInfo:
    """What the initial commit did, so the CLI can tell the operator."""

    sha: str
    initialised: bool
    fallback_identity: bool


def _configured(repo: git.Repo, key: str) -> bool:
    try:
        return bool(repo.git.config("--get", key).strip())
    except git.GitCommandError:
        return False


def _identity_environment(repo: git.Repo) -> tuple[dict[str, str], bool]:
    """Use the operator's identity; fall back to a named placeholder when git has none."""
    has_identity = (_configured(repo, "user.name") or "GIT_AUTHOR_NAME" in os.environ) and (
        _configured(repo, "user.email") or "GIT_AUTHOR_EMAIL" in os.environ
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


def commit_new_project(project: Path, paths: list[str], message: str) -> CommitInfo:
    """Make ``project`` a git repository (unless it is one) and commit ``paths`` in it."""
    try:
        initialised = not (project / ".git").exists()
        repo = git.Repo.init(project, initial_branch="main") if initialised else git.Repo(project)
        environment, fallback = _identity_environment(repo)
        repo.git.add("--", *paths)
        with repo.git.custom_environment(**environment):
            repo.git.commit("--no-verify", "-q", "-m", message, "--", *paths)
        return CommitInfo(
            sha=repo.head.commit.hexsha, initialised=initialised, fallback_identity=fallback
        )
    except (git.GitCommandError, git.InvalidGitRepositoryError, OSError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        raise OperationFailed(f"git could not make the initial commit: {detail.strip()}") from error
