"""The record of the files `add` created for an entity, with the sha256 of each.

`remove` deletes an entity's files only when they still hold what `add` wrote: a file whose
digest differs was changed by the operator since, and is kept unless they insist. The record
is one small TOML file per entity, ``.robyn-config/<module>.toml``, committed with the
entity (docs/decisions.md, "Where add records its files").
"""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit
import tomlkit.exceptions

from scaffold.errors import UsageError

__all__ = [
    "RECORD_FOLDER",
    "FileStates",
    "compare_files",
    "file_digest",
    "read_record",
    "record_content",
    "record_path",
    "updated_record",
]

RECORD_FOLDER = ".robyn-config"


def file_digest(content: bytes) -> str:
    """The sha256 of a file's bytes, in hex: what the record keeps for each file."""
    return hashlib.sha256(content).hexdigest()


def record_path(root: Path, module: str) -> Path:
    return root / RECORD_FOLDER / f"{module}.toml"


def record_content(root: Path, module: str, files: Mapping[Path, bytes]) -> bytes:
    """The record of ``files`` (project path -> the bytes add writes) for entity ``module``."""
    document = tomlkit.document()
    document.add(
        tomlkit.comment(
            f"The files 'robyn-config add {module}' created and the sha256 of each, so that"
        )
    )
    document.add(
        tomlkit.comment(f"'robyn-config remove {module}' can tell those changed since. Keep it.")
    )
    table = tomlkit.table()
    for path in sorted(files):
        table.add(path.relative_to(root).as_posix(), file_digest(files[path]))
    document.add("files", table)
    return tomlkit.dumps(document).encode("utf-8")


def read_record(root: Path, module: str) -> dict[Path, str] | None:
    """The recorded files of ``module`` (path -> sha256); None for an entity added without one.

    Raises:
        UsageError: the record exists but is not one (bad TOML, a path outside the project).
    """
    path = record_path(root, module)
    if not path.is_file():
        return None
    shown = path.relative_to(root).as_posix()
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8"))
    except tomlkit.exceptions.ParseError as error:
        raise UsageError(
            f"{shown} is not valid TOML at line {error.line}, column {error.col}; fix it first."
        ) from None
    files = document.get("files")
    if not isinstance(files, Mapping):
        raise UsageError(f"{shown} has no [files] table; restore it from git.")
    record: dict[Path, str] = {}
    for relative, digest in files.items():
        target = (root / str(relative)).resolve()
        if not target.is_relative_to(root.resolve()) or not isinstance(digest, str):
            raise UsageError(
                f"{shown} lists {str(relative)!r}, which is not a file of the project with its "
                "sha256; restore the record from git."
            )
        record[root / str(relative)] = digest
    return record


def updated_record(root: Path, module: str, files: Mapping[Path, bytes]) -> bytes | None:
    """The record of ``module`` with the new digests of ``files`` (recorded files that a
    later command rewrote); None for an entity added without a record."""
    path = record_path(root, module)
    if read_record(root, module) is None:
        return None
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    table = document["files"]
    for file, content in sorted(files.items()):
        key = file.relative_to(root).as_posix()
        if key in table:
            table[key] = file_digest(content)
    return tomlkit.dumps(document).encode("utf-8")


@dataclass
class FileStates:
    """An entity's files held against the digests add wrote, each path in one list."""

    present: list[Path] = field(default_factory=list)  # on disk (changed or not)
    changed: list[Path] = field(default_factory=list)  # on disk with other bytes
    missing: list[Path] = field(default_factory=list)
    not_files: list[Path] = field(default_factory=list)  # now a directory or a link


def compare_files(expected: Mapping[Path, str]) -> FileStates:
    """Each file of ``expected`` (path -> sha256) as it is on disk now, in path order."""
    states = FileStates()
    for path, digest in sorted(expected.items()):
        try:
            mode = path.lstat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            states.missing.append(path)
            continue
        if not stat.S_ISREG(mode):
            states.not_files.append(path)
            continue
        states.present.append(path)
        if file_digest(path.read_bytes()) != digest:
            states.changed.append(path)
    return states
