"""Fixtures shared by every test: isolated git configuration, a private cwd, fake locking."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scaffold.matrix import PackageManager, Stack
from scaffold.tools import package_managers

_IDENTITY_VARIABLES = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "VIRTUAL_ENV",
    # nox's uv backend points uv at the session's venv: a generated project synced with it
    # would replace the toolkit under test with the project's dependencies.
    "UV_PROJECT_ENVIRONMENT",
    "UV_PYTHON",
)


@pytest.fixture(autouse=True)
def isolated(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own git identity file, no system git config, and cwd in tmp_path.

    The operator's ~/.gitconfig and /etc/gitconfig never influence (or receive) anything;
    a relative DEST such as the default ``./NAME`` lands under ``tmp_path``.
    """
    config_dir = tmp_path_factory.mktemp("gitconfig")
    config = config_dir / "gitconfig"
    config.write_text(
        "[user]\n\tname = Test Operator\n\temail = operator@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for variable in _IDENTITY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


LockFake = Callable[[Path, PackageManager], Path]


@pytest.fixture
def lock_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, PackageManager]]:
    """Replace the real locker with one that writes the manager's lock file instantly."""
    calls: list[tuple[Path, PackageManager]] = []

    def fake_lock(project: Path, manager: PackageManager) -> Path:
        calls.append((project, manager))
        assert (project / "pyproject.toml").is_file(), "lock ran before pyproject.toml existed"
        lock_path = project / package_managers.spec_for(manager).lock_file
        lock_path.write_text(f"# fake {manager.value} lock\n")
        return lock_path

    monkeypatch.setattr(package_managers, "lock", fake_lock)
    return calls


ProjectFactory = Callable[..., Path]


def tree_state(root: Path) -> dict[str, object]:
    """Everything an operator could lose: files (bytes and modes, ``.git/`` excluded), index.

    The index and HEAD are compared through git itself (status, staged and unstaged diffs,
    stash list), since ``.git/index`` bytes change on a mere refresh.
    """
    from tests.helpers import manifest

    def git_out(*args: str) -> str:
        completed = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False
        )
        return completed.stdout

    files = {
        path: entry
        for path, entry in manifest(root).items()
        if path != ".git" and not path.startswith(".git/")
    }
    if not (root / ".git").exists():
        return {"files": files}
    return {
        "files": files,
        "status": git_out("status", "--porcelain=v1", "--untracked-files=all", "--ignored"),
        "staged": git_out("diff", "--cached", "--binary"),
        "unstaged": git_out("diff", "--binary"),
        "head": git_out("rev-parse", "HEAD"),
        "stashes": git_out("stash", "list"),
    }


@pytest.fixture
def new_project(tmp_path: Path, lock_calls: list[tuple[Path, PackageManager]]) -> ProjectFactory:
    """Create a generated project in-process (fake lock): ``new_project("mvc-tortoise-uv")``.

    Keyword arguments: ``git`` (default True: a repository with the initial commit),
    ``destination`` (default ``tmp_path / <cell id>``) and ``name`` (default ``demo``).
    """
    from scaffold.operations.create import create_project

    def make(
        stack_id: str = "ddd-sqlalchemy-uv",
        *,
        git: bool = True,
        destination: Path | None = None,
        name: str = "demo",
    ) -> Path:
        target = destination or tmp_path / stack_id
        create_project(name=name, stack=Stack.from_id(stack_id), destination=target, git=git)
        return target

    return make


def make_executable(path: Path, script: str) -> Path:
    path.write_text(script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture
def stub_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory for stub executables, to put in front of PATH."""
    return tmp_path_factory.mktemp("stub-bin")


@pytest.fixture
def bare_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PATH with only python and git on it: no uv, no poetry."""
    directory = tmp_path_factory.mktemp("bare-bin")
    for tool in ("python", "python3", "git"):
        found = shutil.which(tool)
        if found is not None:
            (directory / tool).symlink_to(os.path.realpath(found))
    return str(directory)


@pytest.fixture(scope="session")
def tool_caches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Private caches for the real package managers, shared by the e2e tests of one worker."""
    root = tmp_path_factory.mktemp("caches")
    return {
        "UV_CACHE_DIR": str(root / "uv"),
        "POETRY_CACHE_DIR": str(root / "poetry"),
        "XDG_CACHE_HOME": str(root / "xdg"),
    }


@pytest.fixture
def cli_env(isolated: Path, tool_caches: dict[str, str]) -> Iterator[dict[str, str]]:
    """The environment for a subprocess of the CLI (inherits the isolated git config)."""
    environment = dict(os.environ)
    environment.update(tool_caches)
    environment.pop("VIRTUAL_ENV", None)
    yield environment
