"""The crash journal: what a transaction is about to do, on disk before it does it.

A journal lists entries in the order the transaction recorded them. Undo walks them
backwards (`scaffold.safety.undo`). It is written atomically (temporary file, fsync, rename),
so a reader sees the previous version or the new one, never half of one. Inside a git work
tree it lives at ``<git dir>/robyn-config/pending.json``, never part of the work tree; outside
git, and for a project being created, at ``<project>/.robyn-config-pending.json``.
"""

from __future__ import annotations

import base64
import json
import os
import time
import zlib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from scaffold.tools.git import git_dir

__all__ = [
    "JOURNAL_VERSION",
    "OUTSIDE_GIT_NAME",
    "Entry",
    "EntryKind",
    "Journal",
    "JournalUnreadable",
    "find_journals",
    "journal_path",
]

JOURNAL_VERSION = 4
# Version 4 added the deleted-file and deleted-directory entries (`remove`); a version 3
# journal, left by a toolkit killed before an upgrade, holds a subset and is still undone.
READABLE_VERSIONS = frozenset({3, JOURNAL_VERSION})
OUTSIDE_GIT_NAME = ".robyn-config-pending.json"
INSIDE_GIT_FOLDER = "robyn-config"
INSIDE_GIT_NAME = "pending.json"


class EntryKind(StrEnum):
    FILE = "file"  # a file the command writes: its bytes before, the digest of its new bytes
    DIRECTORY = "directory"  # a directory the command creates
    TOOL_PATH = "tool-path"  # a file or directory a tool may create or change
    TOOL_FOLDER = "tool-folder"  # a folder a tool may add entries to: the entries before
    DELETED_FILE = "deleted-file"  # a file the command deletes: its bytes and mode before
    DELETED_DIRECTORY = "deleted-directory"  # an empty directory the command deletes: its mode


@dataclass
class Entry:
    """One path the transaction may change, with what undo needs to put it back."""

    kind: EntryKind
    path: Path
    # FILE / TOOL_PATH / DELETED_FILE: the bytes before (None: absent). A TOOL_PATH that was
    # a directory before is never recorded: tools may only add to directories (TOOL_FOLDER).
    before: bytes | None = None
    # FILE: sha256 of what the command writes; TOOL_PATH: of what the tool wrote, once known.
    after: str | None = None
    # TOOL_FOLDER: the paths (relative to it, POSIX) it held before.
    listing: frozenset[str] = frozenset()
    # TOOL_FOLDER: whether the listing covers the whole tree below it or its top level only.
    recursive: bool = False
    # DELETED_FILE / DELETED_DIRECTORY: the permission bits, given back with the path.
    mode: int | None = None

    def to_json(self, root: Path) -> dict[str, object]:
        # Compact (paths relative to the root, absent values left out): the journal is
        # written before anything else, and a file-size limit must hit the command's own
        # writes, not it.
        document: dict[str, object] = {"kind": self.kind.value, "path": _relative(self.path, root)}
        if self.before is not None:
            document["before"] = _pack(self.before)
        if self.after is not None:
            document["after"] = self.after
        if self.kind is EntryKind.TOOL_FOLDER:
            document["listing"] = sorted(self.listing)
            document["recursive"] = self.recursive
        if self.mode is not None:
            document["mode"] = self.mode
        return document

    @classmethod
    def from_json(cls, document: dict[str, object], root: Path) -> Entry:
        listing = document.get("listing") or []
        assert isinstance(listing, list)
        after = document.get("after")
        mode = document.get("mode")
        return cls(
            kind=EntryKind(str(document["kind"])),
            path=root / str(document["path"]),
            before=_unpack(document.get("before")),
            after=None if after is None else str(after),
            listing=frozenset(str(item) for item in listing),
            recursive=bool(document.get("recursive", False)),
            mode=None if mode is None else int(str(mode)),
        )


def _relative(path: Path, root: Path) -> str:
    # Absolute outside the root (a monorepo's top, say): root / absolute is the absolute path.
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _pack(content: bytes | None) -> str | None:
    # Compressed: the journal is written before anything else, and it should not be the
    # largest file a command writes (a file-size limit must hit the project, not it).
    return None if content is None else base64.b64encode(zlib.compress(content)).decode("ascii")


def _unpack(content: object) -> bytes | None:
    return None if content is None else zlib.decompress(base64.b64decode(str(content)))


class JournalUnreadable(Exception):
    """A journal that cannot be parsed (truncated, another version, edited by hand)."""


@dataclass
class Journal:
    """A transaction's journal: its description and entries, and where it is kept."""

    path: Path
    description: str
    root: Path
    started: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M:%S"))
    entries: list[Entry] = field(default_factory=list)

    def save(self) -> None:
        """Write the journal atomically and durably (the intent must outlive a crash)."""
        head = {
            "version": JOURNAL_VERSION,
            "description": self.description,
            "started": self.started,
            "root": str(self.root),
        }
        # One entry a line: compact, and still readable by an operator who has to.
        entries = ",\n".join(
            json.dumps(entry.to_json(self.root), separators=(",", ":")) for entry in self.entries
        )
        text = json.dumps(head)[:-1] + f', "entries": [\n{entries}\n]}}\n'

        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        try:
            with partial.open("wb") as stream:
                stream.write(text.encode("utf-8"))
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(partial, self.path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def discard(self) -> None:
        """Remove the journal (the transaction is over); its folder too once it is empty."""
        self.path.unlink(missing_ok=True)
        self.path.with_name(self.path.name + ".partial").unlink(missing_ok=True)
        parent = self.path.parent
        if parent.name == INSIDE_GIT_FOLDER and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()

    @classmethod
    def load(cls, path: Path) -> Journal:
        """Read a journal back.

        Raises:
            JournalUnreadable: it is not a journal this version of the toolkit wrote.
        """
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if document.get("version") not in READABLE_VERSIONS:
                raise ValueError(f"unknown journal version {document.get('version')!r}")
            entries = document["entries"]
            assert isinstance(entries, list)
            root = Path(str(document["root"]))
            return cls(
                path=path,
                description=str(document.get("description", "a command")),
                root=root,
                started=str(document.get("started", "an unknown time")),
                entries=[Entry.from_json(item, root) for item in entries],
            )
        except (OSError, ValueError, KeyError, AssertionError, TypeError, zlib.error) as error:
            raise JournalUnreadable(str(error) or type(error).__name__) from None


def journal_path(project: Path) -> Path:
    """Where a command working on ``project`` keeps its journal (inside git or in the project)."""
    directory = git_dir(project) if project.is_dir() else None
    if directory is not None:
        return directory / INSIDE_GIT_FOLDER / INSIDE_GIT_NAME
    return project / OUTSIDE_GIT_NAME


def find_journals(directory: Path) -> list[Path]:
    """The journals pending for ``directory``: in its git directory and in the folder itself.

    Both places are looked at: a create that died after ``git init`` keeps its journal in the
    project folder, although the project is a work tree by then.
    """
    if not directory.is_dir():
        return []
    candidates = [directory / OUTSIDE_GIT_NAME]
    inside = git_dir(directory)
    if inside is not None:
        candidates.insert(0, inside / INSIDE_GIT_FOLDER / INSIDE_GIT_NAME)
    return [path for path in candidates if path.is_file()]
