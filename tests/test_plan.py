"""The plan of create: each path is create, identical or conflict before anything is written."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from scaffold.generation.render import RenderedFile
from scaffold.operations.create import _plan
from scaffold.reporting import FileStatus


def _rendered(path: str, content: bytes = b"content\n") -> RenderedFile:
    return RenderedFile(path=PurePosixPath(path), content=content)


def _statuses(destination: Path, files: list[RenderedFile]) -> dict[str, FileStatus]:
    return {str(item.path): item.status for item in _plan(destination, files, "uv.lock")}


def test_missing_destination_plans_create_for_everything(tmp_path: Path) -> None:
    files = [_rendered("pyproject.toml"), _rendered("src/app/__init__.py")]
    assert _statuses(tmp_path / "absent", files) == {
        "pyproject.toml": FileStatus.CREATE,
        "src/app/__init__.py": FileStatus.CREATE,
        "uv.lock": FileStatus.CREATE,
    }


def test_statuses_in_an_existing_destination(tmp_path: Path) -> None:
    (tmp_path / "same.txt").write_bytes(b"same\n")
    (tmp_path / "differs.txt").write_bytes(b"mine\n")
    (tmp_path / "a_file").write_text("blocks a directory")
    (tmp_path / "a_dir").mkdir()
    (tmp_path / "src").mkdir()
    files = [
        _rendered("same.txt", b"same\n"),
        _rendered("differs.txt", b"theirs\n"),
        _rendered("a_file/inside.py"),  # parent is a file
        _rendered("a_dir"),  # a directory where a file should go
        _rendered("src/app/new.py"),  # existing parent directory is fine
        _rendered("brand_new.txt"),
    ]
    assert _statuses(tmp_path, files) == {
        "same.txt": FileStatus.IDENTICAL,
        "differs.txt": FileStatus.CONFLICT,
        "a_file/inside.py": FileStatus.CONFLICT,
        "a_dir": FileStatus.CONFLICT,
        "src/app/new.py": FileStatus.CREATE,
        "brand_new.txt": FileStatus.CREATE,
        "uv.lock": FileStatus.CREATE,
    }


def test_existing_lock_file_is_a_conflict(tmp_path: Path) -> None:
    (tmp_path / "poetry.lock").write_text("operator's lock")
    planned = _plan(tmp_path, [_rendered("pyproject.toml")], "poetry.lock")
    assert {str(p.path): p.status for p in planned}["poetry.lock"] is FileStatus.CONFLICT


def test_plan_reads_but_never_writes(tmp_path: Path) -> None:
    (tmp_path / "same.txt").write_bytes(b"x")
    _plan(tmp_path / "nested" / "dest", [_rendered("a/b.txt")], "uv.lock")
    _plan(tmp_path, [_rendered("same.txt", b"x"), _rendered("new/x.txt")], "uv.lock")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.txt"]
