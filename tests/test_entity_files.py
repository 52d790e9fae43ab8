"""The record of what `add` created for an entity, with each file's sha256 (`remove` reads it)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from scaffold.errors import UsageError
from scaffold.operations.add import add_entity
from scaffold.project.entity_files import read_record, record_content, record_path
from tests.conftest import ProjectFactory


def test_add_records_every_file_it_created_with_its_sha256(new_project: ProjectFactory) -> None:
    project = new_project("mvc-sqlalchemy-uv")
    result = add_entity(project=project, entity="product", fields="name:str price:decimal")
    record = read_record(project, "product")
    assert record is not None
    entity_files = [path for path in result.created if path != record_path(project, "product")]
    assert sorted(record) == entity_files
    for path, digest in record.items():
        assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record_path(project, "product") in result.created


def test_a_record_round_trips(tmp_path: Path) -> None:
    files = {tmp_path / "src/a.py": b"a = 1\n", tmp_path / "tests/test a.py": b"\n"}
    path = record_path(tmp_path, "thing")
    path.parent.mkdir()
    path.write_bytes(record_content(tmp_path, "thing", files))
    assert read_record(tmp_path, "thing") == {
        p: hashlib.sha256(c).hexdigest() for p, c in files.items()
    }


def test_no_record_is_none(tmp_path: Path) -> None:
    assert read_record(tmp_path, "thing") is None


@pytest.mark.parametrize(
    "text", ["[files\n", "files = 1\n", '[files]\n"../outside.py" = "00"\n', "[files]\na = 1\n"]
)
def test_a_broken_record_is_refused(tmp_path: Path, text: str) -> None:
    path = record_path(tmp_path, "thing")
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(UsageError, match=r"\.robyn-config/thing\.toml"):
        read_record(tmp_path, "thing")
