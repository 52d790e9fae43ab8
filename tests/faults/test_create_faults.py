"""Real faults at every write point of `create` (docs/design.md §3 create, §7).

The console script creates the default cell (ddd-sqlalchemy-uv, a real ``uv lock`` with the
tests' caches) while the operating system refuses a write: an immutable or read-only DEST or
subfolder, a file-size limit on the journal and on the lock file, a commit git cannot write,
a planned path replaced by a directory while create is paused, and SIGKILL at each of its
checkpoints followed by ``robyn-config recover``. A DEST that create makes is gone after the
failure, with any parents it made; an existing DEST is byte-identical, its git index and HEAD
too.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from scaffold.generation.project import project_files
from scaffold.matrix import Stack
from scaffold.safety.journal import OUTSIDE_GIT_NAME
from tests.faults.kit import (
    Cli,
    as_nobody,
    assert_failed,
    assert_unchanged,
    immutable,
    paused_at,
    read_only,
    snapshot,
)
from tests.helpers import assert_exit, assert_usage_error, git, populate_existing

NAME = "demo"
STACK = "ddd-sqlalchemy-uv"  # create's default cell
CHECKPOINTS = ["create:journal-written", "create:file-created", "create:lock-done"]
CHECKPOINTS += ["create:commit-done"]


def create(
    cli: Cli, dest: Path, *, limit: int | None = None, crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``robyn-config create demo DEST`` from DEST's parent (which may not exist yet)."""
    cwd = next(parent for parent in dest.parents if parent.is_dir())
    return cli.run("create", NAME, dest, cwd=cwd, limit=limit, crash_at=crash_at)


def planned(cli: Cli, dest: Path) -> list[str]:
    """The paths create would write in ``dest`` (its dry run), the lock file included."""
    dry = assert_exit(cli.run("create", NAME, dest, "--dry-run", cwd=dest.parent))
    words = [line.split() for line in dry.stdout.splitlines()]
    return [line[-1] for line in words if line[:2] == ["would", "create"]]


def generated(path: str) -> bytes:
    """The bytes create generates for ``path`` in the default cell."""
    files = project_files(name=NAME, stack=Stack.from_id(STACK), index_url=None)
    return next(item.content for item in files if str(item.path) == path)


def operators_repository(dest: Path) -> None:
    """An existing DEST that is the operator's repository: history, staged and untracked work."""
    populate_existing(dest)
    git(dest, "init", "-q", "--initial-branch=main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "the operator's history")
    (dest / "NOTES.md").write_text("my notes, staged change\n")
    git(dest, "add", "NOTES.md")
    (dest / "keep" / "inner.txt").write_text("inner, unstaged change\n")
    (dest / "draft.txt").write_text("untracked\n")


# --- the folder create writes into ---------------------------------------------------------


def test_an_immutable_existing_dest_is_refused_before_any_write(cli: Cli, tmp_path: Path) -> None:
    """DEST immutable: create refuses with exit 2 (it checks DEST is writable before writing
    anything, the journal included), and DEST stays as it was."""
    dest = tmp_path / "dest"
    populate_existing(dest)
    before = snapshot(dest)
    with immutable(dest):
        completed = create(cli, dest)
    assert_unchanged(dest, before)
    assert_usage_error(completed, "is not writable", str(dest))


def test_a_read_only_existing_dest_is_refused_for_another_user(cli: Cli, open_tmp: Path) -> None:
    """DEST without write permission, create run by nobody: the same refusal (exit 2)."""
    dest = open_tmp / "dest"
    populate_existing(dest)
    before = snapshot(dest)
    with as_nobody(dest, cli) as nobody, read_only(dest):
        completed = create(nobody, dest)
    assert_unchanged(dest, before)
    assert_usage_error(completed, "is not writable", str(dest))


def _subfolder_failure(cli: Cli, dest: Path, folder: str) -> list[str]:
    """The paths whose write fails first when ``folder`` of DEST refuses new entries."""
    inside = [path for path in planned(cli, dest) if path.startswith(f"{folder}/")]
    assert inside, f"create writes nothing into {folder}/"
    return [f"{folder}/{path.removeprefix(folder + '/').split('/')[0]}" for path in inside]


@pytest.mark.parametrize("folder", ["src", "scripts", "tests"])
def test_an_immutable_subfolder_where_create_writes(cli: Cli, tmp_path: Path, folder: str) -> None:
    """An existing DEST whose (empty) ``folder`` is immutable: the first write there fails
    with its path and "Operation not permitted"; DEST is byte-identical."""
    dest = tmp_path / "dest"
    populate_existing(dest)
    (dest / folder).mkdir()
    firsts = _subfolder_failure(cli, dest, folder)
    before = snapshot(dest)
    with immutable(dest / folder):
        completed = create(cli, dest)
    assert_unchanged(dest, before)
    message = assert_failed(completed, "failed: Operation not permitted")
    assert any(f"{first} failed" in message for first in firsts), (message, firsts)


@pytest.mark.parametrize("folder", ["src", "scripts"])
def test_a_read_only_subfolder_for_another_user(cli: Cli, open_tmp: Path, folder: str) -> None:
    """The same folder without write permission, create run by nobody: "Permission denied"."""
    dest = open_tmp / "dest"
    populate_existing(dest)
    (dest / folder).mkdir()
    firsts = _subfolder_failure(cli, dest, folder)
    before = snapshot(dest)
    with as_nobody(dest, cli) as nobody, read_only(dest / folder):
        completed = create(nobody, dest)
    assert_unchanged(dest, before)
    message = assert_failed(completed, "failed: Permission denied")
    assert any(f"{first} failed" in message for first in firsts), (message, firsts)


def test_an_immutable_identical_file_does_not_stop_create(cli: Cli, tmp_path: Path) -> None:
    """A file in DEST that already holds the generated bytes is never rewritten: immutable,
    it is reported identical and create succeeds."""
    dest = tmp_path / "dest"
    populate_existing(dest)
    readme = dest / "README.md"
    readme.write_bytes(generated("README.md"))
    with immutable(readme):
        completed = assert_exit(create(cli, dest))
    assert "identical  README.md" in completed.stdout
    assert readme.read_bytes() == generated("README.md")
    assert snapshot(dest)["leftovers"] == []


# --- the file-size limit -------------------------------------------------------------------


def measure_lock(cli: Cli, dest: Path) -> tuple[int, int]:
    """The largest size create's journal has before the lock and the lock file's size.

    create is killed right after ``uv lock`` (``create:lock-done``: the journal then holds
    every file and the lock), measured, then undone by ``robyn-config recover``.
    """
    killed = create(cli, dest, crash_at="create:lock-done")
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    journal = (dest / OUTSIDE_GIT_NAME).stat().st_size
    lock = (dest / "uv.lock").stat().st_size
    assert_exit(cli.run("recover", dest, cwd=dest.parent))
    assert not dest.exists()
    return journal, lock


@pytest.mark.parametrize("nested", [False, True], ids=["dest", "dest-with-new-parents"])
def test_a_file_size_limit_hits_the_journal(cli: Cli, tmp_path: Path, nested: bool) -> None:
    """RLIMIT_FSIZE below the journal's size: the journal's write fails with "File too
    large", and the DEST create made (with the parents it made) is gone."""
    place = tmp_path / "place"
    place.mkdir()
    dest = place / "new" / "parents" / NAME if nested else place / NAME
    before = snapshot(place)
    completed = create(cli, dest, limit=1_000)
    assert_unchanged(place, before)
    assert_failed(completed, "Writing the journal", "File too large", f"removed {dest}")


def test_a_file_size_limit_hits_the_lock(cli: Cli, tmp_path: Path) -> None:
    """RLIMIT_FSIZE above the journal, below the lock file: ``uv lock`` is killed by SIGXFSZ,
    the message says so, and the new DEST is gone."""
    journal, lock = measure_lock(cli, tmp_path / "measured" / NAME)
    assert journal < lock, f"the journal ({journal} B) is larger than uv.lock ({lock} B)"
    place = tmp_path / "place"
    place.mkdir()
    before = snapshot(place)
    completed = create(cli, place / NAME, limit=(journal + lock) // 2)
    assert_unchanged(place, before)
    message = assert_failed(completed, "uv lock", f"removed {place / NAME}")
    assert any(word in message for word in ("SIGXFSZ", "File too large")), message


def test_a_file_size_limit_hits_a_generated_file(cli: Cli, tmp_path: Path) -> None:
    """RLIMIT_FSIZE above the (compact) journal, below the largest generated file: that
    file's write fails with "File too large" and its path, and the new DEST is gone."""
    measured = tmp_path / "measured" / NAME
    killed = create(cli, measured, crash_at="create:lock-done")
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    journal = (measured / OUTSIDE_GIT_NAME).stat().st_size
    sizes = {
        path.relative_to(measured).as_posix(): path.stat().st_size
        for path in measured.rglob("*")
        if path.is_file() and path.name not in {OUTSIDE_GIT_NAME, "uv.lock"}
    }
    assert_exit(cli.run("recover", measured, cwd=measured.parent))
    largest = max(sizes.values())
    assert journal < largest, f"the journal ({journal} B) outgrows every file ({largest} B)"
    limit = (journal + largest) // 2
    too_large = [name for name, size in sizes.items() if size > limit]
    place = tmp_path / "place"
    place.mkdir()
    before = snapshot(place)
    completed = create(cli, place / NAME, limit=limit)
    assert_unchanged(place, before)
    message = assert_failed(completed, "File too large", f"removed {place / NAME}")
    assert any(f"Writing {name} failed: File too large." in message for name in too_large), message


# --- the commit -----------------------------------------------------------------------------


def test_a_commit_git_cannot_write(cli: Cli, tmp_path: Path) -> None:
    """DEST is the operator's repository and git cannot write objects (``.git/objects``
    immutable): the commit fails, and the files, the index and HEAD are as they were."""
    dest = tmp_path / "dest"
    operators_repository(dest)
    before = snapshot(dest)
    with immutable(dest / ".git" / "objects", recursive=True):
        completed = create(cli, dest)
    assert_unchanged(dest, before)
    assert_failed(completed, "initial commit", "Operation not permitted")


# --- a path replaced by a directory --------------------------------------------------------


def _swap(path: Path) -> None:
    path.mkdir()
    (path / "mine.txt").write_text("the operator's folder\n")


@pytest.mark.parametrize("existing", [True, False], ids=["existing-dest", "new-dest"])
def test_a_planned_file_replaced_by_a_directory(cli: Cli, tmp_path: Path, existing: bool) -> None:
    """Paused after its journal, README.md (planned) becomes the operator's folder: create
    fails with "Is a directory", keeps that folder, names it, and undoes everything else."""
    place = tmp_path / "place"
    dest = place / NAME
    if existing:
        populate_existing(dest)
    else:
        place.mkdir()
    with paused_at(cli, "create:journal-written", "create", NAME, dest, cwd=place) as run:
        _swap(dest / "README.md")
        expected = {**snapshot(place), "leftovers": []}
    assert run.result is not None
    assert_unchanged(place, expected)
    message = assert_failed(run.result, "README.md failed: Is a directory")
    rollback = message.split("Rolled back", 1)[1]
    assert "README.md" in rollback, f"the operator's folder is kept but not named: {message}"
    assert f"removed {dest}" not in message, f"{dest} is still there: {message}"


# --- SIGKILL at each checkpoint ------------------------------------------------------------


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
@pytest.mark.parametrize("kind", ["new-dest", "existing-dest", "operators-repository"])
def test_sigkill_then_recover(cli: Cli, tmp_path: Path, checkpoint: str, kind: str) -> None:
    """create killed at ``checkpoint``: its journal stays in DEST, and ``robyn-config recover
    DEST`` removes a DEST create made, or leaves an existing one byte-identical (the operator's
    index and branch too, after the commit)."""
    place = tmp_path / "place"
    dest = place / NAME
    place.mkdir()
    if kind == "existing-dest":
        populate_existing(dest)
    elif kind == "operators-repository":
        operators_repository(dest)
    # A repository is compared through git (index, HEAD), its .git folder apart.
    root = dest if kind == "operators-repository" else place
    before = snapshot(root)
    killed = create(cli, dest, crash_at=checkpoint)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    journal = dest / OUTSIDE_GIT_NAME
    assert json.loads(journal.read_text())["description"] == f"create {NAME}"
    recovered = assert_exit(cli.run("recover", dest, cwd=place))
    assert "was interrupted" in recovered.stdout + recovered.stderr
    assert_unchanged(root, before)
    again = assert_exit(cli.run("recover", dest, cwd=place))
    assert "Nothing to recover" in again.stdout
