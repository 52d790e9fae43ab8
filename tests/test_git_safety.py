"""The safety net of `add` (docs/design.md §3 add): dirty-tree guard, snapshot and exact restore.

The snapshot must leave the work tree and the index untouched, and a restore must put back
every operator change — staged, unstaged, partly staged, new, deleted, untracked, ignored,
mode changes — byte for byte, while removing only what the command created.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scaffold.errors import UsageError
from scaffold.safety.git_safety import dirty_paths, git_root, refuse_dirty, take_snapshot
from tests.conftest import tree_state
from tests.helpers import git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "b.py").write_text("B = 1\n")
    (root / "src" / "c.py").write_text("C = 1\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "gone.txt").write_text("to be deleted\n")
    (root / ".gitignore").write_text("*.log\nignored/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    return root


def operator_changes(root: Path) -> None:
    """Every kind of uncommitted work an operator may have."""
    (root / "a.txt").write_text("alpha staged\n")
    git(root, "add", "a.txt")
    (root / "a.txt").write_text("alpha staged\nand more, unstaged\n")  # partly staged
    (root / "b.py").write_text("B = 2  # unstaged\n")
    (root / "new_staged.py").write_text("NEW = 1\n")
    git(root, "add", "new_staged.py")
    (root / "gone.txt").unlink()
    (root / "run.sh").chmod(0o755)
    (root / "notes").mkdir()
    (root / "notes" / "todo.md").write_text("untracked\n")
    (root / "debug.log").write_text("ignored\n")
    (root / "ignored").mkdir()
    (root / "ignored" / "cache.bin").write_bytes(bytes(range(256)))


def command_mess(root: Path) -> list[Path]:
    """What a failing command might leave: edits, new files and folders, a staged change."""
    (root / "a.txt").write_text("overwritten by the command\n")
    (root / "b.py").write_text("B = 3\n")
    (root / "src" / "c.py").write_text("C = 'edited'\n")
    new_dir = root / "src" / "product"
    new_dir.mkdir()
    (new_dir / "__init__.py").write_text("")
    (root / "notes" / "product.md").write_text("ours\n") if (root / "notes").is_dir() else None
    (root / "created.py").write_text("X = 1\n")
    git(root, "add", "src/c.py")
    created = [new_dir, new_dir / "__init__.py", root / "created.py"]
    if (root / "notes").is_dir():
        created.append(root / "notes" / "product.md")
    return created


# --- git_root and dirty paths ---------------------------------------------------------------


def test_git_root_from_the_top_and_a_subdirectory(repo: Path) -> None:
    assert git_root(repo) == repo.resolve()
    assert git_root(repo / "src") == repo.resolve()


def test_git_root_outside_git_and_without_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    assert git_root(outside) is None
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert git_root(outside) is None


def test_clean_tree_has_no_dirty_paths(repo: Path) -> None:
    (repo / "debug.log").write_text("ignored files do not make a tree dirty\n")
    assert dirty_paths(repo) == []
    refuse_dirty(repo)  # does not raise


def test_dirty_paths_list_every_kind_of_change(repo: Path) -> None:
    operator_changes(repo)
    assert sorted(dirty_paths(repo)) == [
        "a.txt",
        "b.py",
        "gone.txt",
        "new_staged.py",
        "notes/todo.md",
        "run.sh",
    ]


def test_refuse_dirty_names_the_paths_and_the_way_out(repo: Path) -> None:
    (repo / "b.py").write_text("B = 2\n")
    (repo / "untracked.txt").write_text("x\n")
    with pytest.raises(UsageError) as caught:
        refuse_dirty(repo)
    message = caught.value.message
    assert "uncommitted changes" in message
    assert "b.py" in message and "untracked.txt" in message
    assert "--allow-dirty" in message
    assert caught.value.exit_code == 2


def test_refuse_dirty_shortens_a_long_list(repo: Path) -> None:
    for index in range(15):
        (repo / f"file{index:02}.txt").write_text("x\n")
    with pytest.raises(UsageError, match="and 5 more"):
        refuse_dirty(repo)


# --- snapshot and restore in git ------------------------------------------------------------


def test_taking_a_snapshot_changes_nothing(repo: Path) -> None:
    operator_changes(repo)
    before = tree_state(repo)
    snapshot = take_snapshot(repo, touched=[repo / "a.txt", repo / "b.py"])
    assert snapshot.stash  # there are tracked changes to keep
    assert "notes/todo.md" in snapshot.untracked
    assert tree_state(repo) == before


def test_restore_puts_back_every_operator_change(repo: Path) -> None:
    operator_changes(repo)
    before = tree_state(repo)
    snapshot = take_snapshot(repo, touched=[repo / "a.txt", repo / "b.py", repo / "src/c.py"])
    created = command_mess(repo)
    assert tree_state(repo) != before
    snapshot.restore(created)
    assert tree_state(repo) == before


def test_restore_of_a_clean_tree(repo: Path) -> None:
    before = tree_state(repo)
    snapshot = take_snapshot(repo, touched=[repo / "a.txt", repo / "b.py", repo / "src/c.py"])
    assert snapshot.stash == ""
    created = command_mess(repo)
    snapshot.restore(created)
    assert tree_state(repo) == before


def test_restore_never_removes_an_operator_untracked_file(repo: Path) -> None:
    operator_changes(repo)
    before = tree_state(repo)
    snapshot = take_snapshot(repo, touched=[])
    # Even if the command wrongly reported the operator's file as created by it.
    snapshot.restore([repo / "notes" / "todo.md", repo / "notes"])
    assert tree_state(repo) == before


def test_restore_keeps_a_touched_ignored_file(repo: Path) -> None:
    (repo / "debug.log").write_text("the operator's log\n")
    before = tree_state(repo)
    snapshot = take_snapshot(repo, touched=[repo / "debug.log"])
    (repo / "debug.log").write_text("edited by the command\n")
    snapshot.restore([])
    assert tree_state(repo) == before


def test_restore_from_a_subdirectory_project(repo: Path) -> None:
    # The project may be a folder of a larger repository (a monorepo).
    operator_changes(repo)
    before = tree_state(repo)
    project = repo / "src"
    snapshot = take_snapshot(project, touched=[project / "c.py"])
    (project / "c.py").write_text("C = 'edited'\n")
    (project / "new.py").write_text("N = 1\n")
    snapshot.restore([project / "new.py"])
    assert tree_state(repo) == before


# --- outside git ----------------------------------------------------------------------------


def test_outside_git_only_the_touched_files_are_backed_up(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "registry.py").write_text("R = 1\n")
    (root / "other.py").write_text("O = 1\n")
    (root / "operator-dir").mkdir()
    (root / "operator-dir" / "keep.txt").write_text("mine\n")
    before = tree_state(root)
    snapshot = take_snapshot(root, touched=[root / "pkg" / "registry.py"])
    assert snapshot.git_top is None
    assert set(snapshot.backups) == {root / "pkg" / "registry.py"}
    (root / "pkg" / "registry.py").write_text("R = 2\n")
    new_dir = root / "pkg" / "product"
    new_dir.mkdir()
    (new_dir / "__init__.py").write_text("")
    half = root / "operator-dir" / "half.py"
    half.write_bytes(b"half a fi")
    snapshot.restore([new_dir, new_dir / "__init__.py", half])
    assert tree_state(root) == before


def test_outside_git_a_touched_file_that_did_not_exist_is_removed(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    before = tree_state(root)
    snapshot = take_snapshot(root, touched=[root / "late.py"])
    (root / "late.py").write_text("x = 1\n")
    snapshot.restore([])
    assert tree_state(root) == before


def test_restore_leaves_a_created_folder_the_operator_filled_meanwhile(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    snapshot = take_snapshot(root, touched=[])
    folder = root / "made"
    folder.mkdir()
    (folder / "theirs.txt").write_text("x\n")
    snapshot.restore([folder])
    assert (folder / "theirs.txt").read_text() == "x\n"


def test_executable_bits_survive_outside_git(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    script = root / "tool.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o750)
    snapshot = take_snapshot(root, touched=[script])
    script.write_text("#!/bin/sh\necho changed\n")
    snapshot.restore([])
    assert script.read_text() == "#!/bin/sh\n"
    assert os.stat(script).st_mode & 0o777 == 0o750
