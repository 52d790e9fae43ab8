"""Locking with stub package-manager executables: what the tool leaves, and how it fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scaffold.errors import OperationFailed, UsageError
from scaffold.matrix import PackageManager
from scaffold.tools.package_managers import lock, require_manager
from tests.conftest import make_executable


@pytest.fixture
def project(tmp_path: Path) -> Path:
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    return directory


@pytest.fixture
def on_path(stub_bin: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PATH", f"{stub_bin}{os.pathsep}{os.environ['PATH']}")
    return stub_bin


def test_lock_runs_the_tool_in_the_project_without_the_callers_venv(
    project: Path, on_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIRTUAL_ENV", "/somewhere/else/.venv")
    make_executable(
        on_path / "uv",
        '#!/bin/sh\necho "args=$* venv=${VIRTUAL_ENV:-none} cwd=$(pwd)" > uv.lock\n',
    )
    assert lock(project, PackageManager.UV) == project / "uv.lock"
    assert (project / "uv.lock").read_text().strip() == f"args=lock venv=none cwd={project}"


def test_poetry_lock_leaves_no_virtualenv_behind(project: Path, on_path: Path) -> None:
    make_executable(
        on_path / "poetry",
        "#!/bin/sh\nmkdir -p .venv/bin\ntouch .venv/bin/python\necho lock > poetry.lock\n",
    )
    lock(project, PackageManager.POETRY)
    assert sorted(p.name for p in project.iterdir()) == ["poetry.lock", "pyproject.toml"]


def test_an_existing_virtualenv_is_kept(project: Path, on_path: Path) -> None:
    (project / ".venv").mkdir()
    (project / ".venv" / "mine").write_text("operator's")
    make_executable(on_path / "poetry", "#!/bin/sh\necho lock > poetry.lock\n")
    lock(project, PackageManager.POETRY)
    assert (project / ".venv" / "mine").read_text() == "operator's"


def test_failing_tool_reports_command_status_and_output_tail(project: Path, on_path: Path) -> None:
    lines = "".join(f"echo line{i} >&2\n" for i in range(40))
    make_executable(on_path / "uv", f"#!/bin/sh\n{lines}echo 'No solution found' >&2\nexit 3\n")
    with pytest.raises(OperationFailed) as caught:
        lock(project, PackageManager.UV)
    message = caught.value.message
    assert "'uv lock'" in message and "exit status 3" in message
    assert message.endswith("exit status 3): No solution found.")  # the conclusion only
    assert "\n" not in message and "line39" not in message


def test_success_without_a_lock_file_is_a_failure(project: Path, on_path: Path) -> None:
    make_executable(on_path / "uv", "#!/bin/sh\nexit 0\n")
    with pytest.raises(OperationFailed, match="uv lock"):
        lock(project, PackageManager.UV)


def test_tool_never_waits_for_input(project: Path, on_path: Path) -> None:
    make_executable(on_path / "uv", '#!/bin/sh\nread answer\necho "got:$answer" > uv.lock\n')
    lock(project, PackageManager.UV)
    assert (project / "uv.lock").read_text() == "got:\n"


@pytest.mark.parametrize("manager", list(PackageManager), ids=lambda m: m.value)
def test_require_manager_missing(
    manager: PackageManager, bare_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", bare_path)
    with pytest.raises(UsageError) as caught:
        require_manager(manager)
    assert f"install {manager.value}" in caught.value.message
    assert "PATH" in caught.value.message
