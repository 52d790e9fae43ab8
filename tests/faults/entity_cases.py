"""What the real-fault tests of the entity commands (add, add-fields, remove) share.

The cells and the settings they run in, the write points as test cases, the project a command
works on, and the operator's uncommitted work that every failure must keep.
"""

from __future__ import annotations

import random
import string
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.kit import Cli
from tests.helpers import git

__all__ = [
    "AS_NOBODY",
    "CELLS",
    "JOURNAL",
    "SETTINGS",
    "TABLES",
    "EntityProject",
    "design_of",
    "incompressible_comment",
    "operator_work",
    "point_cases",
    "setting_id",
]

CELLS = ["ddd-sqlalchemy-uv", "ddd-tortoise-uv", "mvc-sqlalchemy-uv", "mvc-tortoise-uv"]
# Every cell in a clean work tree; one over the operator's uncommitted work, one outside git.
SETTINGS = [
    *((cell, "clean") for cell in CELLS),
    ("ddd-tortoise-uv", "dirty"),
    ("mvc-sqlalchemy-uv", "no-git"),
]
# The read-only cases need a second user: one cell per design is enough to prove the modes.
AS_NOBODY = [("ddd-sqlalchemy-uv", "clean"), ("mvc-tortoise-uv", "clean")]
# The write point that is the command's crash journal rather than a project path.
JOURNAL = "journal"
# The shared table module every entity command edits, by design.
TABLES = {
    "ddd": "src/app/infrastructure/database/tables.py",
    "mvc": "src/app/models/models.py",
}


def design_of(cell: str) -> str:
    return cell.split("-")[0]


def point_cases(
    settings: list[tuple[str, str]], points: Callable[[str], list[str]]
) -> list[object]:
    """One test case per setting and write point of its cell."""
    return [
        pytest.param((cell, setting), point, id=f"{cell}-{setting}-{point}")
        for cell, setting in settings
        for point in points(cell)
    ]


def setting_id(value: object) -> str:
    return "-".join(value) if isinstance(value, tuple) else str(value)


@dataclass
class EntityProject:
    """A generated project an entity command works on, and how the operator left it."""

    root: Path
    cell: str
    setting: str
    cli: Cli

    @property
    def design(self) -> str:
        return design_of(self.cell)

    @property
    def in_git(self) -> bool:
        return self.setting != "no-git"

    def command(self) -> list[str]:
        """The command line, without the options the setting adds."""
        raise NotImplementedError

    def args(self) -> list[str]:
        dirty = ["--allow-dirty"] if self.setting == "dirty" else []
        return [*self.command(), *dirty]

    def run(
        self, cli: Cli | None = None, *, limit: int | None = None, crash_at: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        runner = cli or self.cli
        return runner.run(*self.args(), cwd=self.root, limit=limit, crash_at=crash_at)

    def target(self, point: str) -> Path:
        """The path to fault for ``point``: the journal's folder, a file or a folder."""
        if point == JOURNAL:
            # Inside git the journal goes to .git/robyn-config/; outside, into the project.
            return self.root / ".git" if self.in_git else self.root
        return self.root / point.rstrip("/")

    def commit_or_leave(self, message: str) -> None:
        """Commit the change just made, where a clean tree is the setting."""
        if self.setting == "clean":
            git(self.root, "add", "-A")
            git(self.root, "commit", "-q", "-m", message)


def operator_work(root: Path, design: str) -> None:
    """Uncommitted work that every failure must keep: staged, unstaged, untracked, ignored."""
    readme = root / "README.md"
    readme.write_text(readme.read_text() + "\nStaged by the operator.\n")
    (root / "docs").mkdir()
    (root / "docs" / "plan.md").write_text("a new file, staged\n")
    git(root, "add", "README.md", "docs/plan.md")
    # Unstaged, in a file every entity command edits: its rollback must give back this version.
    table = root / TABLES[design]
    table.write_text(table.read_text() + "\n\n# The operator's unstaged note.\n")
    (root / "scratch").mkdir()
    (root / "scratch" / "todo.txt").write_text("untracked\n")
    (root / ".env").write_text("DATABASE_URL=sqlite:///./mine.db\n")  # ignored


def incompressible_comment(size: int) -> str:
    """Comment lines that zlib cannot shrink much (the journal stores compressed bytes)."""
    chooser = random.Random(size)
    alphabet = string.ascii_letters + string.digits + string.punctuation
    lines = ["".join(chooser.choices(alphabet, k=76)) for _ in range(size // 80)]
    return "".join(f"# {line}\n" for line in lines)
