"""The git guard (docs/design.md §3 add): where a work tree is, what is dirty, the refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.errors import UsageError
from scaffold.safety.guard import refuse_dirty
from scaffold.tools.git import conclusion, dirty_paths, work_tree_top
from tests.helpers import git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "b.py").write_text("B = 1\n")
    (root / "gone.txt").write_text("to be deleted\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
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


# --- git_root and dirty paths ---------------------------------------------------------------


def test_work_tree_top_from_the_top_and_a_subdirectory(repo: Path) -> None:
    assert work_tree_top(repo) == repo.resolve()
    assert work_tree_top(repo / "src") == repo.resolve()


def test_work_tree_top_outside_git_and_without_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    assert work_tree_top(outside) is None
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert work_tree_top(outside) is None


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


def test_allow_dirty_and_outside_git_never_refuse(repo: Path, tmp_path: Path) -> None:
    operator_changes(repo)
    refuse_dirty(repo, allow_dirty=True)
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "x.txt").write_text("x\n")
    refuse_dirty(plain)


def test_git_s_conclusion_is_one_line_with_the_system_s_reason() -> None:
    output = (
        "error: unable to create temporary file: Operation not permitted\n"
        "error: README.md: failed to insert into database\n"
        "error: unable to index file 'README.md'\n"
        "fatal: adding files failed\n"
    )
    assert conclusion(output) == (
        "adding files failed (unable to create temporary file: Operation not permitted)"
    )
    assert conclusion("fatal: cannot lock ref 'HEAD'\n") == "cannot lock ref 'HEAD'"
    assert conclusion("") == "no output"
