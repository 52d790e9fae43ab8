"""The write journal: rollback removes exactly what was created, nothing else."""

from __future__ import annotations

from pathlib import Path

from scaffold.safety.filesystem import Journal
from tests.helpers import manifest, populate_existing


def test_rollback_of_a_created_root_removes_it(tmp_path: Path) -> None:
    root = tmp_path / "new" / "project"
    journal = Journal.start(root)
    journal.ensure_root()
    journal.write(root / "a" / "b" / "c.txt", b"c")
    journal.write(root / "run.sh", b"#!/bin/sh\n", executable=True)
    assert journal.root_created
    assert (root / "run.sh").stat().st_mode & 0o111
    journal.rollback()
    assert not root.exists()


def test_rollback_in_existing_dir_removes_only_created_paths(tmp_path: Path) -> None:
    root = tmp_path / "existing"
    before = populate_existing(root)
    journal = Journal.start(root)
    journal.ensure_root()
    assert not journal.root_created
    journal.write(root / "new.txt", b"new")
    journal.write(root / "keep" / "added.txt", b"added")  # into a pre-existing directory
    journal.write(root / "keep" / "fresh" / "deep" / "x.py", b"x = 1\n")  # new dirs inside it
    journal.write(root / "src" / "app" / "__init__.py", b"")
    # A tool run by the command leaves a new top-level entry the journal never saw.
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / "stray.lock").write_text("tool output")
    journal.rollback()
    assert root.is_dir()
    assert manifest(root) == before


def test_adopted_paths_are_removed(tmp_path: Path) -> None:
    root = tmp_path / "existing"
    before = populate_existing(root)
    journal = Journal.start(root)
    lock = root / "uv.lock"
    lock.write_text("lock")
    journal.adopt(lock)
    (root / "keep" / ".git").mkdir()
    journal.adopt(root / "keep" / ".git")
    journal.rollback()
    assert manifest(root) == before


def test_rollback_without_writes_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "existing"
    before = populate_existing(root)
    journal = Journal.start(root)
    journal.ensure_root()
    journal.rollback()
    assert manifest(root) == before


def test_rollback_of_unstarted_root_is_harmless(tmp_path: Path) -> None:
    root = tmp_path / "never-made"
    Journal.start(root).rollback()
    assert not root.exists()
    assert list(tmp_path.iterdir()) == []


def test_rollback_removes_missing_parents_it_made(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b" / "project"
    journal = Journal.start(root)
    journal.ensure_root()
    journal.write(root / "x.txt", b"x")
    journal.rollback()
    assert list(tmp_path.iterdir()) == []


def test_rollback_keeps_a_parent_someone_else_filled(tmp_path: Path) -> None:
    root = tmp_path / "a" / "project"
    journal = Journal.start(root)
    journal.ensure_root()
    (tmp_path / "a" / "theirs.txt").write_text("not ours")
    journal.rollback()
    assert not root.exists()
    assert (tmp_path / "a" / "theirs.txt").read_text() == "not ours"


def test_preserved_files_are_restored_or_removed(tmp_path: Path) -> None:
    root = tmp_path / "existing"
    populate_existing(root)
    (root / "keep" / "index").write_bytes(b"before")
    before = manifest(root)
    journal = Journal.start(root)
    journal.preserve(root / "keep" / "index")
    journal.preserve(root / "keep" / "absent")
    (root / "keep" / "index").write_bytes(b"changed by a tool")
    (root / "keep" / "absent").write_bytes(b"made by a tool")
    journal.preserve(root / "keep" / "index")  # the first snapshot wins
    journal.rollback()
    assert manifest(root) == before
