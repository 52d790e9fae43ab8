"""End to end through the console script with the real package managers and git (slow).

Run with ``pytest -m e2e``; they need network access to a package index.
"""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from scaffold.generation import project as blueprint
from scaffold.matrix import Stack
from tests.helpers import CONSOLE_SCRIPT, REPO_ROOT, assert_exit, git, run_program
from tests.support.index import index_url

pytestmark = pytest.mark.e2e

TIMEOUT = 600


def ok(*command: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a real build, install or the console script; it must succeed."""
    return assert_exit(run_program(*command, cwd=cwd, env=env, timeout=TIMEOUT))


def rendered_paths(name: str, stack_id: str, index_url: str | None = None) -> set[str]:
    files = blueprint.project_files(name=name, stack=Stack.from_id(stack_id), index_url=index_url)
    return {str(f.path) for f in files}


def files_on_disk(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def assert_committed_once(dest: Path, expected_files: set[str]) -> None:
    assert git(dest, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(dest, "status", "--porcelain", "--untracked-files=all") == ""
    assert set(git(dest, "ls-files").split()) == expected_files


def test_create_uv_cell(tmp_path: Path, cli_env: dict[str, str]) -> None:
    completed = ok(CONSOLE_SCRIPT, "create", "demo-service", cwd=tmp_path, env=cli_env)
    dest = tmp_path / "demo-service"
    expected = rendered_paths("demo-service", "ddd-sqlalchemy-uv") | {"uv.lock"}
    assert (dest / "uv.lock").is_file()
    assert 'name = "robyn"' in (dest / "uv.lock").read_text()
    assert files_on_disk(dest) == expected
    assert not (dest / ".venv").exists()
    assert_committed_once(dest, expected)
    lines = completed.stdout.splitlines()
    listed = {line.split()[1] for line in lines if line.split()[:1] == ["create"]}
    assert listed == expected
    assert any("Locking dependencies with uv" in line for line in lines)
    assert "fallback" not in completed.stdout and "robyn-config@localhost" not in completed.stdout
    author = git(dest, "log", "-1", "--format=%an <%ae>").strip()
    assert author == "Test Operator <operator@example.invalid>"


def test_create_poetry_cell_with_index_url(tmp_path: Path, cli_env: dict[str, str]) -> None:
    url = index_url()
    dest = tmp_path / "svc"
    ok(
        CONSOLE_SCRIPT,
        "create",
        "inventory",
        str(dest),
        "--design",
        "mvc",
        "--orm",
        "tortoise",
        "--package-manager",
        "poetry",
        "--index-url",
        url,
        cwd=tmp_path,
        env=cli_env,
    )
    data = tomllib.loads((dest / "pyproject.toml").read_text())
    sources = data["tool"]["poetry"]["source"]
    assert [s["url"] for s in sources if s.get("priority") == "primary"] == [url]
    lock = tomllib.loads((dest / "poetry.lock").read_text())
    packages = {package["name"]: package for package in lock["package"]}
    assert {"robyn", "tortoise-orm", "aerich"} <= set(packages)
    # Resolved from the primary index it was given, nothing else.
    assert {package.get("source", {}).get("url") for package in packages.values()} == {url}
    expected = rendered_paths("inventory", "mvc-tortoise-poetry", url) | {"poetry.lock"}
    assert files_on_disk(dest) == expected
    assert_committed_once(dest, expected)
    assert not (dest / ".venv").exists()


def test_no_git(tmp_path: Path, cli_env: dict[str, str]) -> None:
    ok(
        CONSOLE_SCRIPT,
        "create",
        "plain",
        "--no-git",
        "--orm",
        "tortoise",
        cwd=tmp_path,
        env=cli_env,
    )
    dest = tmp_path / "plain"
    assert (dest / "uv.lock").is_file()
    assert not (dest / ".git").exists()


def test_no_git_identity_uses_the_fallback(
    tmp_path: Path, cli_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("empty-home")
    empty_config = home / "empty-gitconfig"
    empty_config.write_text("")
    env = dict(
        cli_env, HOME=str(home), GIT_CONFIG_GLOBAL=str(empty_config), GIT_CONFIG_NOSYSTEM="1"
    )
    env.setdefault("PYENV_ROOT", os.path.expanduser("~/.pyenv"))  # shims resolve via HOME
    for variable in (
        "EMAIL",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ):
        env.pop(variable, None)
    completed = ok(CONSOLE_SCRIPT, "create", "anon", cwd=tmp_path, env=env)
    dest = tmp_path / "anon"
    git_env = dict(env)
    assert git(dest, "rev-list", "--count", "HEAD", env=git_env).strip() == "1"
    author = git(dest, "log", "-1", "--format=%an <%ae>", env=git_env).strip()
    assert author == "robyn-config <robyn-config@localhost>"
    assert "robyn-config <robyn-config@localhost>" in completed.stdout
    assert "git commit --amend --reset-author" in completed.stdout


def test_wheel_ships_the_templates(tmp_path: Path, cli_env: dict[str, str]) -> None:
    dist = tmp_path / "dist"
    ok("uv", "build", "--wheel", "--out-dir", str(dist), cwd=REPO_ROOT, env=cli_env)
    [wheel] = dist.glob("robyn_config-*.whl")
    venv = tmp_path / "venv"
    ok("uv", "venv", "--quiet", str(venv), cwd=tmp_path, env=cli_env)
    ok(
        "uv",
        "pip",
        "install",
        "--quiet",
        "--python",
        str(venv / "bin" / "python"),
        str(wheel),
        cwd=tmp_path,
        env=cli_env,
    )
    script = venv / "bin" / "robyn-config"
    work = tmp_path / "work"
    work.mkdir()
    ok(script, "create", "shipped", "--design", "mvc", cwd=work, env=cli_env)
    dest = work / "shipped"
    expected = rendered_paths("shipped", "mvc-sqlalchemy-uv") | {"uv.lock"}
    assert files_on_disk(dest) == expected
    assert os.access(dest / "scripts" / "start.sh", os.X_OK)
    # The installed package runs from the venv, not from this checkout.
    where = ok(
        venv / "bin" / "python",
        "-c",
        "import scaffold; print(scaffold.__file__)",
        cwd=work,
        env=cli_env,
    )
    assert str(REPO_ROOT) not in where.stdout


def test_uv_cell_with_index_url_locks_from_it(tmp_path: Path, cli_env: dict[str, str]) -> None:
    url = index_url()
    completed = ok(
        CONSOLE_SCRIPT, "create", "mirrored", "--index-url", url, cwd=tmp_path, env=cli_env
    )
    assert "\x1b[" not in completed.stdout + completed.stderr  # plain output when not a TTY
    dest = tmp_path / "mirrored"
    data = tomllib.loads((dest / "pyproject.toml").read_text())
    assert [i["url"] for i in data["tool"]["uv"]["index"] if i.get("default")] == [url]
    lock = tomllib.loads((dest / "uv.lock").read_text())
    registries = {
        package["source"]["registry"]
        for package in lock["package"]
        if "registry" in package.get("source", {})
    }
    assert registries == {url}
