"""`create_project` in-process, with a fake locker: validation, plan, writing, reporting."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import pytest

from scaffold.errors import UsageError
from scaffold.generation import project as blueprint
from scaffold.matrix import STACKS, PackageManager, Stack
from scaffold.operations.create import create_project
from scaffold.project.entities import IdType
from scaffold.reporting import FileStatus
from tests.helpers import git, manifest, populate_existing

UV = Stack.from_id("ddd-sqlalchemy-uv")
NAME = "demo"


class RecordingReporter:
    def __init__(self) -> None:
        self.files: list[tuple[FileStatus, PurePosixPath]] = []
        self.notes: list[str] = []
        self.steps: list[str] = []

    def file(self, status: FileStatus, path: PurePosixPath) -> None:
        self.files.append((status, path))

    def note(self, message: str) -> None:
        self.notes.append(message)

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        self.steps.append(label)
        yield


def rendered_paths(stack: Stack = UV) -> set[str]:
    return {str(f.path) for f in blueprint.project_files(name=NAME, stack=stack, index_url=None)}


# --- success -----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS, ids=[s.id for s in STACKS])
def test_create_writes_files_lock_and_commit(
    stack: Stack, tmp_path: Path, lock_calls: list[tuple[Path, PackageManager]]
) -> None:
    reporter = RecordingReporter()
    result = create_project(name=NAME, stack=stack, reporter=reporter)
    dest = tmp_path / NAME  # the default DEST is ./NAME
    assert result.destination == dest
    lock_name = "uv.lock" if stack.package_manager is PackageManager.UV else "poetry.lock"
    on_disk = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    on_disk = {p for p in on_disk if not p.startswith(".git/")}
    assert on_disk == rendered_paths(stack) | {lock_name}
    assert lock_calls == [(dest, stack.package_manager)]
    assert os.access(dest / "scripts" / "start.sh", os.X_OK)
    # One commit containing everything; nothing left uncommitted.
    assert git(dest, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(dest, "status", "--porcelain") == ""
    assert set(git(dest, "ls-files").split()) == on_disk
    assert result.commit is not None and not result.commit.fallback_identity
    assert git(dest, "log", "-1", "--format=%an <%ae>").strip() == (
        "Test Operator <operator@example.invalid>"
    )
    # Every path was reported, as create, and locking was a reported step.
    assert {str(p) for _, p in reporter.files} == on_disk
    assert {s for s, _ in reporter.files} == {FileStatus.CREATE}
    assert any("Lock" in step for step in reporter.steps)


def test_no_git_makes_no_repository(tmp_path: Path, lock_calls: list) -> None:
    result = create_project(name=NAME, stack=UV, git=False)
    assert result.commit is None
    assert not (tmp_path / NAME / ".git").exists()
    assert (tmp_path / NAME / "uv.lock").is_file()


def test_explicit_nested_destination_is_created(tmp_path: Path, lock_calls: list) -> None:
    dest = tmp_path / "a" / "b" / "svc"
    create_project(name=NAME, stack=UV, destination=dest, git=False)
    assert (dest / "pyproject.toml").is_file()


def test_index_url_reaches_the_pyproject(tmp_path: Path, lock_calls: list) -> None:
    url = "https://mirror.invalid/simple"
    create_project(name=NAME, stack=UV, index_url=url, git=False)
    assert url in (tmp_path / NAME / "pyproject.toml").read_text()


# --- dry run -----------------------------------------------------------------------------


@pytest.mark.parametrize("existing", [False, True], ids=["new-dest", "existing-dest"])
def test_dry_run_writes_nothing(tmp_path: Path, existing: bool, monkeypatch) -> None:
    def no_lock(*args: object) -> None:
        raise AssertionError("a dry run must not lock")

    monkeypatch.setattr("scaffold.tools.package_managers.lock", no_lock)
    dest = tmp_path / "dest"
    if existing:
        populate_existing(dest)
    before = manifest(tmp_path)
    reporter = RecordingReporter()
    result = create_project(name=NAME, stack=UV, destination=dest, dry_run=True, reporter=reporter)
    assert manifest(tmp_path) == before
    assert result.dry_run
    assert {str(p) for _, p in reporter.files} == rendered_paths() | {"uv.lock"}
    assert {s for s, _ in reporter.files} == {FileStatus.WOULD_CREATE}


def test_dry_run_does_not_need_the_package_manager(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bare_path: str
) -> None:
    monkeypatch.setenv("PATH", bare_path)
    create_project(name=NAME, stack=Stack.from_id("mvc-tortoise-poetry"), dry_run=True)
    assert list(tmp_path.iterdir()) == []


# --- existing destinations --------------------------------------------------------------------


def test_conflicting_destination_is_refused_before_writing(
    tmp_path: Path, lock_calls: list
) -> None:
    dest = tmp_path / "dest"
    populate_existing(dest)
    (dest / "pyproject.toml").write_text("[project]\nname = 'mine'\n")
    (dest / "Makefile").write_text("all:\n")
    before = manifest(tmp_path)
    with pytest.raises(UsageError) as caught:
        create_project(name=NAME, stack=UV, destination=dest)
    message = caught.value.message
    assert "pyproject.toml" in message and "Makefile" in message
    assert str(dest) in message
    assert "README.md" not in message  # only the conflicting paths are listed
    assert manifest(tmp_path) == before
    assert lock_calls == []


def test_existing_lock_file_conflicts(tmp_path: Path, lock_calls: list) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "uv.lock").write_text("mine")
    with pytest.raises(UsageError, match=r"uv\.lock"):
        create_project(name=NAME, stack=UV, destination=dest)
    assert (dest / "uv.lock").read_text() == "mine"


def test_identical_files_are_reported_identical_and_kept(tmp_path: Path, lock_calls: list) -> None:
    dest = tmp_path / "dest"
    populate_existing(dest)
    files = {str(f.path): f for f in blueprint.project_files(name=NAME, stack=UV, index_url=None)}
    readme = dest / "README.md"
    readme.write_bytes(files["README.md"].content)
    readme.chmod(0o600)  # identical content: create must not rewrite (or re-mode) it
    reporter = RecordingReporter()
    create_project(name=NAME, stack=UV, destination=dest, reporter=reporter)
    statuses = {str(p): s for s, p in reporter.files}
    assert statuses["README.md"] is FileStatus.IDENTICAL
    assert statuses["pyproject.toml"] is FileStatus.CREATE
    assert stat.S_IMODE(readme.stat().st_mode) == 0o600
    assert (dest / "NOTES.md").read_text() == "my notes\n"


def test_existing_non_conflicting_destination_keeps_operator_files(
    tmp_path: Path, lock_calls: list
) -> None:
    dest = tmp_path / "dest"
    before = populate_existing(dest)
    create_project(name=NAME, stack=UV, destination=dest)
    after = manifest(dest)
    assert {path: after[path] for path in before} == before
    # The operator's own files are not committed on their behalf.
    assert "NOTES.md" not in git(dest, "ls-files").split()


def test_destination_that_is_a_file_is_refused(tmp_path: Path, lock_calls: list) -> None:
    dest = tmp_path / "taken"
    dest.write_text("a file")
    with pytest.raises(UsageError) as caught:
        create_project(name=NAME, stack=UV, destination=dest)
    assert str(dest) in caught.value.message
    assert "not a directory" in caught.value.message
    assert dest.read_text() == "a file"


def test_destination_below_a_file_is_refused(tmp_path: Path, lock_calls: list) -> None:
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(UsageError, match="not a directory"):
        create_project(name=NAME, stack=UV, destination=tmp_path / "taken" / "sub")
    assert (tmp_path / "taken").read_text() == "a file"


def _root_bypasses_permissions(directory: Path) -> bool:
    return os.access(directory, os.W_OK)


def test_unwritable_destination_parent_is_refused(tmp_path: Path, lock_calls: list) -> None:
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        if _root_bypasses_permissions(parent):
            pytest.skip("running with permission override (root): chmod 0o500 does not lock")
        with pytest.raises(UsageError, match="not writable"):
            create_project(name=NAME, stack=UV, destination=parent / "svc")
        assert list(parent.iterdir()) == []
    finally:
        parent.chmod(0o700)


def test_unwritable_destination_message(
    tmp_path: Path, lock_calls: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = tmp_path / "locked"
    parent.mkdir()
    real_access = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:
        if Path(str(path)) == parent and mode & os.W_OK:
            return False
        return real_access(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(UsageError) as caught:
        create_project(name=NAME, stack=UV, destination=parent / "svc")
    assert "not writable" in caught.value.message
    assert str(parent) in caught.value.message
    assert list(parent.iterdir()) == []


# --- input validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("stack", [UV, Stack.from_id("ddd-sqlalchemy-poetry")], ids=lambda s: s.id)
def test_missing_package_manager_says_how_to_install(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bare_path: str
) -> None:
    monkeypatch.setenv("PATH", bare_path)
    with pytest.raises(UsageError) as caught:
        create_project(name=NAME, stack=stack)
    message = caught.value.message
    manager = stack.package_manager.value
    assert repr(manager) in message
    assert f"install {manager}" in message
    assert list(tmp_path.iterdir()) == []


def test_missing_git_is_refused_unless_no_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stub_bin: Path, lock_calls: list
) -> None:
    uv = __import__("shutil").which("uv")
    assert uv is not None
    (stub_bin / "uv").symlink_to(uv)
    monkeypatch.setenv("PATH", str(stub_bin))
    with pytest.raises(UsageError, match="--no-git"):
        create_project(name=NAME, stack=UV)
    assert list(tmp_path.iterdir()) == []
    create_project(name=NAME, stack=UV, git=False)
    assert (tmp_path / NAME / "pyproject.toml").is_file()


@pytest.mark.parametrize(
    "url",
    [
        "mirror.invalid/simple",
        "ftp://mirror.invalid/simple",
        "https://",
        "",
        "not a url",
        "javascript:alert(1)",
    ],
)
def test_invalid_index_url_is_refused(url: str, tmp_path: Path, lock_calls: list) -> None:
    with pytest.raises(UsageError) as caught:
        create_project(name=NAME, stack=UV, index_url=url)
    assert repr(url) in caught.value.message
    assert "--index-url" in caught.value.message
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url",
    [
        "https://mirror.invalid/simple",
        "http://127.0.0.1:3141/root/pypi/+simple/",
        "file:///srv/wheels/simple",
    ],
)
def test_valid_index_urls_are_accepted(url: str, lock_calls: list) -> None:
    result = create_project(name=NAME, stack=UV, index_url=url, dry_run=True)
    assert result.dry_run


@pytest.mark.parametrize("name", ["", "1abc", "a/b", "..", "with space"])
def test_invalid_name_writes_nothing(name: str, tmp_path: Path, lock_calls: list) -> None:
    with pytest.raises(UsageError):
        create_project(name=name, stack=UV)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key", list(IdType))
def test_id_type_reaches_the_pyproject(key: IdType, tmp_path: Path, lock_calls: list) -> None:
    destination = tmp_path / "svc"
    create_project(name=NAME, stack=UV, destination=destination, id_type=key, git=False)
    data = tomllib.loads((destination / "pyproject.toml").read_text())
    assert data["tool"]["robyn-config"]["id_type"] == key.value
    # Every service can make UUID keys: add --id-type uuid cannot change the lock file.
    assert any(item.startswith("uuid-utils>=") for item in data["project"]["dependencies"])
