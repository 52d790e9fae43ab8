"""The one transaction of every writing command (docs/design.md §7), in-process.

Intent is journaled before the first write; a failure undoes path by path: unchanged paths
are never rewritten, a path changed by someone else is kept and named, a path the OS refuses
to restore does not stop the others and leaves the journal for `robyn-config recover`.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from scaffold.errors import Interrupted, OperationFailed
from scaffold.safety import transaction as transaction_module
from scaffold.safety import undo as undo_module
from scaffold.safety.journal import Journal, journal_path
from scaffold.safety.recovery import recover_pending
from scaffold.safety.transaction import Transaction
from scaffold.safety.undo import digest, partial_path
from tests.conftest import tree_state
from tests.helpers import git, manifest, populate_existing


def txn(root: Path, journal: Path | None = None) -> Transaction:
    return Transaction(
        root=root, name="test", description="test", undone="as before", journal=journal
    )


class Boom(Exception):
    pass


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A work tree with the operator's tracked, staged, untracked and ignored work."""
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "registry.py").write_text("R = 1\n")
    (root / "README.md").write_text("readme\n")
    (root / ".gitignore").write_text("*.log\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    (root / "README.md").write_text("readme, staged\n")
    git(root, "add", "README.md")
    (root / "README.md").write_text("readme, staged\nand unstaged\n")
    (root / "notes.txt").write_text("untracked\n")
    (root / "debug.log").write_text("ignored\n")
    return root


def test_a_failure_undoes_every_write_and_keeps_the_operators_work(repo: Path) -> None:
    before = tree_state(repo)
    with pytest.raises(OperationFailed) as caught, txn(repo) as transaction:
        transaction.write_files(
            {
                repo / "src" / "registry.py": b"R = 2\n",
                repo / "README.md": b"rewritten\n",
                repo / "debug.log": b"the command edits an ignored file\n",
                repo / "src" / "product" / "routes.py": b"ROUTES = []\n",
                repo / "deep" / "er" / "x.py": b"x = 1\n",
            }
        )
        raise OperationFailed("lint failed.")
    assert caught.value.message == "lint failed. Rolled back: as before."
    assert tree_state(repo) == before
    assert not journal_path(repo).exists()
    assert not (repo / ".git" / "robyn-config").exists()


def test_the_journal_is_on_disk_before_the_first_write(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Journal] = []

    def checkpoint(name: str) -> None:
        if name == "test:journal-written":
            seen.append(Journal.load(journal_path(repo)))
            assert not (repo / "new.py").exists()

    monkeypatch.setattr(transaction_module, "checkpoint", checkpoint)
    with txn(repo) as transaction:
        transaction.write_files({repo / "new.py": b"N = 1\n", repo / "src/registry.py": b"R=3\n"})
    [journal] = seen
    entries = {entry.path: entry for entry in journal.entries}
    assert entries[repo / "new.py"].before is None
    assert entries[repo / "new.py"].after == digest(b"N = 1\n")
    assert entries[repo / "src/registry.py"].before == b"R = 1\n"
    assert journal.path.is_relative_to(repo / ".git")
    assert not journal_path(repo).exists()  # committed: the journal is gone


def test_identical_files_are_never_written(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    same = root / "same.txt"
    same.write_bytes(b"same\n")
    inode = same.stat().st_ino
    with txn(root) as transaction:
        written = transaction.write_files({same: b"same\n", root / "new.txt": b"new\n"})
    assert written == [root / "new.txt"]
    assert same.stat().st_ino == inode


def test_rollback_never_rewrites_a_file_whose_content_did_not_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "p"
    populate_existing(root)
    untouched = root / "NOTES.md"
    inode = untouched.stat().st_ino
    restored: list[Path] = []
    original = undo_module.replace_file

    def spy(path: Path, content: bytes, *, executable: bool = False) -> None:
        restored.append(path)
        original(path, content, executable=executable)

    monkeypatch.setattr(undo_module, "replace_file", spy)
    before = manifest(root)
    error = OSError(errno.EPERM, "Operation not permitted", str(root / "NOTES.md"))
    real_replace = transaction_module.replace_file

    def fail_on_notes(path: Path, content: bytes, *, executable: bool = False) -> None:
        if path == untouched:
            raise error
        real_replace(path, content, executable=executable)

    monkeypatch.setattr(transaction_module, "replace_file", fail_on_notes)
    with pytest.raises(OperationFailed) as caught, txn(root) as transaction:
        transaction.write_files({root / "keep" / "inner.txt": b"changed\n", untouched: b"x\n"})
    assert caught.value.message == (
        "Writing NOTES.md failed: Operation not permitted. Rolled back: as before."
    )
    assert restored == [root / "keep" / "inner.txt"]  # NOTES.md was never written: left alone
    assert untouched.stat().st_ino == inode
    assert manifest(root) == before


def test_a_restore_that_fails_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "p"
    populate_existing(root)
    before = manifest(root)
    stuck = root / "keep" / "inner.txt"
    original = undo_module.replace_file

    def refuse(path: Path, content: bytes, *, executable: bool = False) -> None:
        if path == stuck:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        original(path, content, executable=executable)

    with pytest.raises(OperationFailed) as caught, txn(root) as transaction:
        transaction.write_files({stuck: b"ours\n", root / "NOTES.md": b"ours\n"})
        transaction.write_files({root / "new" / "file.py": b"x = 1\n"})
        monkeypatch.setattr(undo_module, "replace_file", refuse)
        raise OperationFailed("later step failed.")
    message = caught.value.message
    assert message.startswith("later step failed. Rolling back failed on keep/inner.txt")
    assert "(Permission denied)" in message and f"'robyn-config recover {root}'" in message
    assert (root / "NOTES.md").read_text() == "my notes\n"  # the others were put back
    assert not (root / "new").exists()
    assert stuck.read_text() == "ours\n"
    assert journal_path(root).is_file()  # kept for recover

    monkeypatch.undo()
    [recovered] = recover_pending(root)
    assert recovered.kept == ()
    assert manifest(root) == before


def test_a_path_changed_by_someone_else_is_kept_and_named(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    with pytest.raises(OperationFailed) as caught, txn(root) as transaction:
        transaction.write_files({root / "a.py": b"a = 1\n", root / "b.py": b"b = 1\n"})
        (root / "b.py").write_text("the operator's edit\n")
        raise OperationFailed("failed.")
    assert "except b.py, changed meanwhile by someone else and kept as they are" in (
        caught.value.message
    )
    assert not (root / "a.py").exists()
    assert (root / "b.py").read_text() == "the operator's edit\n"


def test_ctrl_c_is_interrupted_with_exit_status_130(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    with pytest.raises(Interrupted) as caught, txn(root) as transaction:
        transaction.write_files({root / "a.py": b"a = 1\n"})
        raise KeyboardInterrupt
    assert caught.value.exit_code == 130
    assert caught.value.message == "Interrupted. Rolled back: as before."
    assert list(root.iterdir()) == []


def test_a_bug_is_rolled_back_and_stays_loud(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    with pytest.raises(Boom), txn(root) as transaction:
        transaction.write_files({root / "a.py": b"a = 1\n"})
        raise Boom
    assert list(root.iterdir()) == []


def test_a_half_written_partial_file_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.write_faults import fail_nth_write

    root = tmp_path / "p"
    root.mkdir()
    fail_nth_write(monkeypatch, 1, OSError(errno.ENOSPC, "No space left on device"), partial=True)
    with pytest.raises(OperationFailed, match="No space left on device"), txn(root) as transaction:
        transaction.write_files({root / "a.py": b"a = 1\n", root / "b.py": b"b = 2\n" * 100})
    assert not partial_path(root / "b.py").exists()
    assert list(root.iterdir()) == []


def test_a_tool_s_new_output_goes_and_the_rest_stays(tmp_path: Path) -> None:
    root = tmp_path / "p"
    before = populate_existing(root)
    (root / "migrations").mkdir()
    (root / "migrations" / "1_old.py").write_text("old\n")
    before = manifest(root)
    with pytest.raises(OperationFailed, match="the tool failed"), txn(root) as transaction:
        transaction.write_files({root / "ours.py": b"x = 1\n"})
        with transaction.tool(
            "Running the tool",
            step="run",
            creates=[root / "uv.lock"],
            changes=[root / "data.bin"],
            adds_to=[root / "migrations", root / "fresh"],
            adds_to_top=[root],
        ):
            (root / "uv.lock").write_text("lock\n")
            (root / "data.bin").write_bytes(b"changed by the tool")
            (root / "migrations" / "2_new.py").write_text("new\n")
            (root / "migrations" / "__pycache__").mkdir()
            (root / "fresh" / "deep").mkdir(parents=True)
            (root / ".venv" / "bin").mkdir(parents=True)
            raise OperationFailed("the tool failed.")
    assert manifest(root) == before


def test_a_tool_s_output_changed_later_is_kept(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    with pytest.raises(OperationFailed) as caught, txn(root) as transaction:
        with transaction.tool("Locking", step="lock", creates=[root / "uv.lock"]):
            (root / "uv.lock").write_text("lock\n")
        (root / "uv.lock").write_text("edited after the tool\n")
        raise OperationFailed("failed.")
    assert "except uv.lock" in caught.value.message
    assert (root / "uv.lock").read_text() == "edited after the tool\n"


def test_make_directory_and_its_parents_are_removed(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b" / "svc"
    with (
        pytest.raises(OperationFailed),
        txn(root, journal=root / ".robyn-config-pending.json") as transaction,
    ):
        transaction.make_directory(root)
        assert (root / ".robyn-config-pending.json").is_file()
        transaction.write_files({root / "x.py": b"x = 1\n"})
        raise OperationFailed("failed.")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_someone_filled_meanwhile_stays(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    with pytest.raises(OperationFailed), txn(root) as transaction:
        transaction.write_files({root / "made" / "ours.py": b"x = 1\n"})
        (root / "made" / "theirs.txt").write_text("x\n")
        raise OperationFailed("failed.")
    assert os.listdir(root / "made") == ["theirs.txt"]


# --- deleting (remove) ----------------------------------------------------------------------


def _entity_tree(root: Path) -> tuple[list[Path], Path]:
    """The files of an entity in a folder of their own (one read-only, one executable)."""
    folder = root / "domain" / "product"
    (folder / "__pycache__").mkdir(parents=True)
    files = [folder / "__init__.py", folder / "entities.py", folder / "__pycache__" / "e.pyc"]
    for number, path in enumerate(files):
        path.write_bytes(f"content {number}\n".encode())
    files[1].chmod(0o755)
    files[2].chmod(0o444)
    folder.chmod(0o750)
    return files, folder


def test_deleted_files_and_folders_come_back_with_their_bytes_and_modes(tmp_path: Path) -> None:
    root = tmp_path / "p"
    populate_existing(root)
    files, folder = _entity_tree(root)
    before = manifest(root)
    with pytest.raises(OperationFailed) as caught, txn(root) as transaction:
        transaction.write_files({root / "NOTES.md": b"edited\n"})
        deleted = transaction.delete_files(files, [folder / "__pycache__", folder])
        assert deleted == files
        assert not folder.exists()
        raise OperationFailed("a later step failed.")
    assert caught.value.message == "a later step failed. Rolled back: as before."
    assert manifest(root) == before
    assert not journal_path(root).exists()


def test_deleting_commits_with_the_rest(tmp_path: Path) -> None:
    root = tmp_path / "p"
    before = populate_existing(root)
    files, folder = _entity_tree(root)
    with txn(root) as transaction:
        transaction.delete_files([*files, root / "already-gone.py"], [folder / "__pycache__"])
        transaction.delete_files([], [folder, folder.parent])
    assert manifest(root) == before
    assert not journal_path(root).exists()


def test_a_killed_delete_is_put_back_by_recovery(tmp_path: Path) -> None:
    root = tmp_path / "p"
    populate_existing(root)
    files, folder = _entity_tree(root)
    before = manifest(root)
    transaction = txn(root)
    transaction.delete_files(files, [folder / "__pycache__", folder])
    # No __exit__: the process died here, its journal is what the next command finds.
    assert journal_path(root).is_file()
    [recovered] = recover_pending(root)
    assert recovered.kept == ()
    assert manifest(root) == before


def test_something_put_where_a_file_was_deleted_is_kept(tmp_path: Path) -> None:
    root = tmp_path / "p"
    populate_existing(root)
    files, folder = _entity_tree(root)
    with pytest.raises(OperationFailed) as caught, txn(root) as transaction:
        transaction.delete_files(files, [folder / "__pycache__", folder])
        folder.mkdir()
        files[0].write_text("the operator's new file\n")
        raise OperationFailed("failed.")
    assert "except domain/product/__init__.py, changed meanwhile" in caught.value.message
    assert files[0].read_text() == "the operator's new file\n"
    assert files[1].read_text() == "content 1\n"


def test_an_unwritable_file_is_not_deleted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "p"
    populate_existing(root)
    files, folder = _entity_tree(root)
    before = manifest(root)

    def refuse(path: Path) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(undo_module, "_refuse_unwritable", refuse)
    with pytest.raises(OperationFailed) as caught, txn(root) as transaction:
        transaction.delete_files(files, [folder])
    assert caught.value.message == (
        "Deleting domain/product/__init__.py failed: Permission denied. Rolled back: as before."
    )
    assert manifest(root) == before


def test_a_version_3_journal_left_before_an_upgrade_is_still_undone(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    transaction = txn(root)
    transaction.write_files({root / "a.py": b"a = 1\n"})
    journal = journal_path(root)
    journal.write_text(journal.read_text().replace('"version": 4', '"version": 3', 1))
    [recovered] = recover_pending(root)
    assert recovered.kept == ()
    assert list(root.iterdir()) == []
