"""Real faults at the write points of `makemigration` (docs/design.md §3 makemigration, §7).

One SQLAlchemy cell (Alembic) and one Tortoise cell (Aerich), each created with a real lock,
installed and migrated once per module, then given a model change (``add product``,
committed) for makemigration to write a revision of. Each case starts from that committed
state (.venv and app.db, ignored, stay) and faults the journal, the versions folder (immutable
as root, read-only for nobody) or the revision's size (RLIMIT_FSIZE), or kills the command at
its checkpoints; the next command restores. No revision is left and the whole tree is as it
was.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scaffold.safety.journal import journal_path
from tests.faults.kit import (
    Cli,
    as_nobody,
    assert_failed,
    assert_unchanged,
    immutable,
    open_folder,
    python_for_everyone,
    read_only,
    snapshot,
)
from tests.helpers import assert_exit, git, run_program
from tests.support.project_env import project_env

CELLS = {  # cell: the folder the migration tool writes its revisions into
    "ddd-sqlalchemy-uv": "migrations/versions",
    "mvc-tortoise-uv": "migrations/models",
}
MESSAGE = "add product"
# Variables the project's tools must not inherit from the test run (nox's venv, git's).
FOREIGN = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "UV_PYTHON", "GIT_DIR", "GIT_WORK_TREE")


@dataclass(frozen=True)
class Installed:
    """A created, installed and migrated project with a committed model change."""

    root: Path
    cell: str
    cli: Cli

    @property
    def versions(self) -> Path:
        return self.root / CELLS[self.cell]

    def makemigration(
        self, cli: Cli | None = None, *, limit: int | None = None, crash_at: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return (cli or self.cli).run(
            "makemigration", self.root, "--message", MESSAGE, cwd=self.root, limit=limit,
            crash_at=crash_at,
        )  # fmt: skip

    def revisions(self) -> set[str]:
        return {path.name for path in self.versions.glob("*.py")}


def _environment(tmp: Path, caches: dict[str, str]) -> dict[str, str]:
    """The CLI's environment for a module-wide project (the per-test fixtures come later)."""
    config = tmp / "gitconfig"
    config.write_text("[user]\n\tname = Test Operator\n\temail = operator@example.invalid\n")
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN}
    env.update(caches, GIT_CONFIG_GLOBAL=str(config), GIT_CONFIG_NOSYSTEM="1")
    # Python would cache the bytecode of every module the migration tool imports (src/app,
    # .venv): files no command of ours writes, that would differ between any two snapshots.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.fixture(scope="module")
def shared_folder() -> Iterator[Path]:
    """Where the module's projects live: a folder nobody may enter too."""
    with open_folder() as folder:
        yield folder


@pytest.fixture(scope="module", params=list(CELLS))
def installed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    tool_caches: dict[str, str],
    shared_folder: Path,
) -> Installed:
    """``create`` (real lock), ``uv sync --frozen``, the migrations applied, ``add product``
    committed: makemigration has a model change to write a revision of."""
    cell: str = request.param
    design, orm, _ = cell.split("-")
    tmp = tmp_path_factory.mktemp(cell)
    cli = Cli(_environment(tmp, tool_caches))
    root = shared_folder / cell
    assert_exit(cli.run("create", "svc", root, "--design", design, "--orm", orm, cwd=tmp))
    # The project's venv on an interpreter every user may run: the read-only case runs the
    # tool as nobody.
    env = project_env(root, cli.env)
    env["UV_PYTHON"] = str(python_for_everyone(Path(env["UV_PYTHON"]), ("3.11", "3.12", "3.13")))
    assert_exit(run_program("uv", "sync", "--frozen", cwd=root, env=env))
    if orm == "tortoise":  # Aerich's first revision is the initial schema: made and committed
        assert_exit(cli.run("makemigration", root, "--message", "init", cwd=root))
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial migration", env=dict(cli.env))
    assert_exit(cli.run("migrate", root, cwd=root))
    assert (root / "app.db").is_file()
    assert_exit(cli.run("add", "product", root, "--fields", "name:str price:decimal", cwd=root))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "add product", env=dict(cli.env))
    return Installed(root=root, cell=cell, cli=cli)


def reset(root: Path) -> None:
    """Back to the last commit, whatever a case left: work tree, untracked and ignored files
    (all but .venv and app.db) and any journal."""
    git(root, "checkout", "-q", "--", ".")
    git(root, "clean", "-fdqx", "-e", ".venv", "-e", "app.db")
    journal = journal_path(root)
    journal.unlink(missing_ok=True)
    if journal.parent.is_dir():
        journal.parent.rmdir()


@pytest.fixture
def project(installed: Installed) -> Installed:
    """The module's project, reset to its committed state."""
    reset(installed.root)
    return installed


def test_the_journal_unwritable(project: Installed) -> None:
    """``.git`` immutable (the journal's folder cannot be made): makemigration fails before
    the tool runs, with "Operation not permitted", and leaves no revision."""
    before = snapshot(project.root)
    with immutable(project.root / ".git"):
        completed = project.makemigration()
    assert_unchanged(project.root, before)
    assert_failed(completed, "Writing the journal", "failed: Operation not permitted")


def test_an_immutable_versions_folder(project: Installed) -> None:
    """The versions folder immutable: the tool cannot write its revision; exit 1, the tool's
    conclusion ("Operation not permitted", the folder), no new file."""
    before = snapshot(project.root)
    with immutable(project.versions):
        completed = project.makemigration()
    assert_unchanged(project.root, before)
    assert_failed(completed, "Operation not permitted", CELLS[project.cell])


def test_a_read_only_versions_folder_for_another_user(project: Installed) -> None:
    """The versions folder without write permission, makemigration run by nobody: the tool's
    "Permission denied", no new file."""
    before = snapshot(project.root)
    with as_nobody(project.root, project.cli) as nobody, read_only(project.versions):
        completed = project.makemigration(nobody)
    assert_unchanged(project.root, before)
    assert_failed(completed, "Permission denied", CELLS[project.cell])


def _killed(project: Installed, checkpoint: str) -> Path:
    """makemigration killed at ``checkpoint``; its journal (left for the next command)."""
    killed = project.makemigration(crash_at=checkpoint)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    journal = journal_path(project.root)
    assert json.loads(journal.read_text())["description"] == f"makemigration {MESSAGE!r}"
    return journal


def test_a_file_size_limit_on_the_revision(project: Installed) -> None:
    """RLIMIT_FSIZE above the journal, below the revision: the tool's write fails with "File
    too large" (or the tool is killed by SIGXFSZ), and no revision is left."""
    # Sizes from a run killed once the revision is written, then put back.
    committed = project.revisions()
    journal = _killed(project, "makemigration:generate-done")
    [revision] = project.revisions() - committed
    journal_size = journal.stat().st_size
    revision_size = (project.versions / revision).stat().st_size
    reset(project.root)
    assert journal_size < revision_size, f"journal {journal_size} B, revision {revision_size} B"

    before = snapshot(project.root)
    completed = project.makemigration(limit=(journal_size + revision_size) // 2)
    assert_unchanged(project.root, before)
    message = assert_failed(completed)
    assert "File too large" in message or "SIGXFSZ" in message, message


# The next command after the crash: each must restore first, whatever its own job is.
NEXT_COMMANDS = {
    "makemigration:journal-written": ["add", "order-item", "{project}", "--dry-run"],
    "makemigration:generate-done": ["doctor", "{project}"],
}


@pytest.mark.parametrize("checkpoint", list(NEXT_COMMANDS))
def test_sigkill_then_the_next_command_restores(project: Installed, checkpoint: str) -> None:
    """makemigration killed at ``checkpoint``: the next command (of another kind) undoes it
    first, saying so, and no revision is left; the whole tree is as it was."""
    before = snapshot(project.root)
    committed = project.revisions()
    journal = _killed(project, checkpoint)
    if checkpoint.endswith("generate-done"):
        assert project.revisions() != committed, "the tool had written its revision"
    args = [arg.replace("{project}", str(project.root)) for arg in NEXT_COMMANDS[checkpoint]]
    following = project.cli.run(*args, cwd=project.root)
    assert "Traceback" not in following.stdout + following.stderr
    assert "was interrupted" in following.stderr and "rolled back" in following.stderr
    assert not journal.exists()
    assert_unchanged(project.root, before)
