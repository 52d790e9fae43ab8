"""A failure at any stage of create leaves the file system as it was (docs/design.md §7).

Every stage is forced to fail — render, write, lock, git — plus Ctrl-C during locking, both
in a DEST create makes (it must be gone afterwards) and in an operator's existing non-empty
DEST (every pre-existing file byte-identical with its mode, and no extra path left).
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from scaffold.errors import Interrupted, OperationFailed
from scaffold.generation import project as blueprint
from scaffold.matrix import PackageManager, Stack
from scaffold.operations.create import create_project
from scaffold.tools import git as gitops
from scaffold.tools import package_managers
from tests.conftest import make_executable
from tests.helpers import git, manifest, populate_existing
from tests.write_faults import fail_nth_write

UV = Stack.from_id("ddd-sqlalchemy-uv")
NAME = "demo"

Arrange = Callable[[pytest.MonkeyPatch, Path], None]


def _fake_lock_writing(project: Path, manager: PackageManager) -> Path:
    lock_path = project / package_managers.spec_for(manager).lock_file
    lock_path.write_text("# fake lock\n")
    return lock_path


def _lock_leaving_debris(error: BaseException) -> Callable[[Path, PackageManager], Path]:
    def lock(project: Path, manager: PackageManager) -> Path:
        # What a real tool might leave behind before failing: a half lock, a venv.
        (project / "uv.lock").write_text("# half a lock")
        (project / ".venv" / "bin").mkdir(parents=True)
        (project / ".venv" / "bin" / "python").write_text("")
        raise error

    return lock


# --- the stages -----------------------------------------------------------------------------


def render_fails(monkeypatch: pytest.MonkeyPatch, stub_bin: Path) -> None:
    def project_files(**kwargs: object) -> list[object]:
        raise RuntimeError("template bug: undefined variable")

    monkeypatch.setattr(blueprint, "project_files", project_files)
    monkeypatch.setattr(package_managers, "lock", _fake_lock_writing)


def _write_fails_after(count: int, error: BaseException, *, partial: bool) -> Arrange:
    def arrange(monkeypatch: pytest.MonkeyPatch, stub_bin: Path) -> None:
        fail_nth_write(monkeypatch, count, error, partial=partial)
        monkeypatch.setattr(package_managers, "lock", _fake_lock_writing)

    return arrange


write_fails_disk_full = _write_fails_after(
    5, OSError(errno.ENOSPC, "No space left on device"), partial=True
)
write_fails_first_file = _write_fails_after(
    0, OSError(errno.EACCES, "Permission denied"), partial=False
)
write_fails_unexpectedly = _write_fails_after(3, RuntimeError("unexpected bug"), partial=False)


def lock_fails(monkeypatch: pytest.MonkeyPatch, stub_bin: Path) -> None:
    error = OperationFailed("'uv lock' failed (exit status 1):\nNo solution found")
    monkeypatch.setattr(package_managers, "lock", _lock_leaving_debris(error))


def lock_interrupted(monkeypatch: pytest.MonkeyPatch, stub_bin: Path) -> None:
    monkeypatch.setattr(package_managers, "lock", _lock_leaving_debris(KeyboardInterrupt()))


def real_uv_fails(monkeypatch: pytest.MonkeyPatch, stub_bin: Path) -> None:
    make_executable(
        stub_bin / "uv",
        "#!/bin/sh\n"
        "printf 'partial' > uv.lock\n"
        "mkdir -p .venv/lib\n"
        "echo '  x No solution found when resolving dependencies' >&2\n"
        "exit 1\n",
    )
    monkeypatch.setenv("PATH", str(stub_bin), prepend=os.pathsep)


def real_uv_succeeds_without_lock(monkeypatch: pytest.MonkeyPatch, stub_bin: Path) -> None:
    make_executable(stub_bin / "uv", "#!/bin/sh\nmkdir -p .venv\nexit 0\n")
    monkeypatch.setenv("PATH", str(stub_bin), prepend=os.pathsep)


def git_fails(monkeypatch: pytest.MonkeyPatch, stub_bin: Path) -> None:
    def commit(project: Path, paths: list[str], message: str) -> gitops.CommitInfo:
        # Fail after git has started: a repository exists and files are staged.
        git(project, "init", "-q")
        git(project, "add", "--", *paths)
        raise OperationFailed("git could not make the initial commit: hook exploded")

    monkeypatch.setattr(package_managers, "lock", _fake_lock_writing)
    monkeypatch.setattr(gitops, "commit_new_project", commit)


def real_git_fails(monkeypatch: pytest.MonkeyPatch, stub_bin: Path) -> None:
    make_executable(
        stub_bin / "git",
        "#!/bin/sh\n"
        "mkdir -p .git/objects\n"
        "echo 'fatal: unable to write new index file' >&2\n"
        "exit 128\n",
    )
    monkeypatch.setattr(package_managers, "lock", _fake_lock_writing)
    monkeypatch.setenv("PATH", str(stub_bin), prepend=os.pathsep)


STAGES: list[tuple[str, Arrange, type[BaseException], str]] = [
    ("render", render_fails, RuntimeError, "template bug"),
    ("write-disk-full", write_fails_disk_full, OperationFailed, "No space left"),
    ("write-first-file", write_fails_first_file, OperationFailed, "Permission denied"),
    ("write-bug", write_fails_unexpectedly, RuntimeError, "unexpected bug"),
    ("lock", lock_fails, OperationFailed, "No solution found"),
    ("lock-real-uv", real_uv_fails, OperationFailed, "No solution found"),
    ("lock-no-lockfile", real_uv_succeeds_without_lock, OperationFailed, "uv lock"),
    ("lock-ctrl-c", lock_interrupted, Interrupted, "Interrupted"),
    ("git", git_fails, OperationFailed, "hook exploded"),
    ("git-real", real_git_fails, OperationFailed, "unable to write new index file"),
]

FailCreate = Callable[[Path], BaseException]


@pytest.fixture(
    params=[
        pytest.param((arrange, expected, detail), id=name)
        for name, arrange, expected, detail in STAGES
    ]
)
def fail_create(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, stub_bin: Path
) -> FailCreate:
    """One stage of STAGES: create into the given DEST fails there, with the stage's error."""
    stage: tuple[Arrange, type[BaseException], str] = request.param
    arrange, expected, detail = stage

    def run(dest: Path) -> BaseException:
        arrange(monkeypatch, stub_bin)
        with pytest.raises(expected) as caught:
            create_project(name=NAME, stack=UV, destination=dest)
        if detail:
            assert detail in str(caught.value)
        return caught.value

    return run


def test_failure_in_a_new_destination_removes_it(fail_create: FailCreate, tmp_path: Path) -> None:
    parent = tmp_path / "workspace"
    parent.mkdir()
    (parent / "other.txt").write_text("unrelated")
    before = manifest(tmp_path)
    dest = parent / "svc"
    error = fail_create(dest)
    assert not dest.exists()
    assert manifest(tmp_path) == before
    if isinstance(error, OperationFailed):
        assert f"Rolled back: removed {dest}" in error.message


def test_failure_in_an_existing_destination_keeps_it_byte_identical(
    fail_create: FailCreate, tmp_path: Path
) -> None:
    dest = tmp_path / "existing"
    before = populate_existing(dest)
    error = fail_create(dest)
    assert manifest(dest) == before
    if isinstance(error, OperationFailed):
        assert "Rolled back" in error.message
        assert "nothing else changed" in error.message


def test_failure_in_a_nested_new_destination_removes_what_it_made(
    fail_create: FailCreate, tmp_path: Path
) -> None:
    before = manifest(tmp_path)
    fail_create(tmp_path / "a" / "b" / "svc")
    assert manifest(tmp_path) == before


def _operators_repository(dest: Path, *paths: str) -> None:
    """The operator's files in DEST, ``paths`` of them (all by default) in one commit."""
    populate_existing(dest)
    git(dest, "init", "-q")
    git(dest, "add", *(paths or ("-A",)))
    git(dest, "commit", "-qm", "mine")


def test_failure_inside_an_existing_git_repository_keeps_its_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stub_bin: Path
) -> None:
    dest = tmp_path / "repo"
    _operators_repository(dest)
    before = manifest(dest)
    lock_fails(monkeypatch, stub_bin)
    with pytest.raises(OperationFailed):
        create_project(name=NAME, stack=UV, destination=dest)
    assert manifest(dest) == before


def _git_failing_commit(stub_bin: Path) -> None:
    real_git = subprocess.run(
        ["sh", "-c", "command -v git"], capture_output=True, text=True, check=True
    ).stdout.strip()
    make_executable(
        stub_bin / "git",
        "#!/bin/sh\n"
        'for argument in "$@"; do\n'
        '  if [ "$argument" = commit ]; then echo "fatal: cannot lock ref HEAD" >&2; exit 128; fi\n'
        "done\n"
        f'exec {real_git} "$@"\n',
    )


def test_failed_commit_in_an_existing_repository_restores_its_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stub_bin: Path
) -> None:
    dest = tmp_path / "repo"
    _operators_repository(dest, "NOTES.md")
    (dest / "data.bin").write_bytes(b"changed, staged")
    git(dest, "add", "data.bin")
    status_before = git(dest, "status", "--porcelain")
    index_before = (dest / ".git" / "index").read_bytes()
    files_before = {k: v for k, v in manifest(dest).items() if not k.startswith(".git")}
    _git_failing_commit(stub_bin)
    monkeypatch.setattr(package_managers, "lock", _fake_lock_writing)
    monkeypatch.setenv("PATH", str(stub_bin), prepend=os.pathsep)
    with pytest.raises(OperationFailed, match="cannot lock ref"):
        create_project(name=NAME, stack=UV, destination=dest)
    assert {k: v for k, v in manifest(dest).items() if not k.startswith(".git")} == files_before
    assert git(dest, "status", "--porcelain") == status_before
    assert (dest / ".git" / "index").read_bytes() == index_before


def test_failure_in_an_existing_empty_destination_keeps_it_empty(
    fail_create: FailCreate, tmp_path: Path
) -> None:
    dest = tmp_path / "empty"
    dest.mkdir(mode=0o750)
    dest.chmod(0o750)
    before = manifest(tmp_path)
    fail_create(dest)
    assert manifest(tmp_path) == before  # DEST itself stays, with its mode, and stays empty
