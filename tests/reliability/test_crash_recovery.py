"""`add` killed with SIGKILL half-way: the next command (any of them) restores the tree.

``ROBYN_CONFIG_CRASH_AT`` makes the console script kill itself at a named checkpoint of add
(``scaffold.safety.transaction.checkpoint``): after the journal is written, after the first
new file, after the first modified file, after lint. A timed kill from outside covers
whatever point the process happens to be at.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from scaffold.safety.journal import OUTSIDE_GIT_NAME, EntryKind, Journal, journal_path
from scaffold.safety.transaction import CRASH_POINT_VARIABLE
from scaffold.safety.undo import partial_path
from tests.conftest import ProjectFactory, tree_state
from tests.helpers import CONSOLE_SCRIPT, git, run_program

CHECKPOINTS = ["add:journal-written", "add:file-created", "add:file-modified", "add:linted"]
# The command run after the crash: each must restore first, whatever its own job is.
NEXT_COMMANDS = {
    "add:journal-written": ["doctor", "{project}"],
    "add:file-created": ["add", "product", "{project}", "--dry-run"],
    "add:file-modified": ["runbook", "list"],
    "add:linted": ["makemigration", "{project}"],
}


def console(
    *args: str, cwd: Path, env: dict[str, str], crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    environment = dict(env)
    if crash_at:
        environment[CRASH_POINT_VARIABLE] = crash_at
    return run_program(CONSOLE_SCRIPT, *args, cwd=cwd, env=environment, timeout=180)


def operator_work(project: Path) -> None:
    """Uncommitted work of the operator that the crash and the recovery must both keep."""
    (project / "README.md").write_text("the operator's uncommitted edit\n")
    (project / "scratch.txt").write_text("the operator's untracked file\n")
    git(project, "add", "README.md")


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_sigkill_in_git_then_any_command_restores(
    checkpoint: str, new_project: ProjectFactory, cli_env: dict[str, str]
) -> None:
    project = new_project("ddd-tortoise-uv")
    operator_work(project)
    before = tree_state(project)
    killed = console(
        "add",
        "product",
        str(project),
        "--fields",
        "name:str price:decimal",
        "--allow-dirty",
        cwd=project,
        env=cli_env,
        crash_at=checkpoint,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    journal = journal_path(project)
    assert journal.is_file(), "the journal must outlive the killed process"
    assert json.loads(journal.read_text())["description"] == "add product"
    assert journal.is_relative_to(project / ".git")
    if checkpoint != "add:journal-written":
        assert tree_state(project) != before  # the crash really left a half-finished change

    next_args = [arg.replace("{project}", str(project)) for arg in NEXT_COMMANDS[checkpoint]]
    recovered = console(*next_args, cwd=project, env=cli_env)
    assert "was interrupted" in recovered.stderr and "rolled back" in recovered.stderr
    assert "Traceback" not in recovered.stderr
    assert tree_state(project) == before
    assert not journal.exists()
    assert not (project / ".git" / "robyn-config").exists()

    # Nothing is pending any more: add runs normally and leaves no journal behind.
    again = console("add", "product", str(project), "--allow-dirty", cwd=project, env=cli_env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "was interrupted" not in again.stderr
    assert not journal.exists()


def test_sigkill_outside_git_journal_in_the_project(
    new_project: ProjectFactory, cli_env: dict[str, str]
) -> None:
    project = new_project("mvc-sqlalchemy-uv", git=False)
    before = tree_state(project)
    killed = console(
        "add", "order-item", str(project), cwd=project, env=cli_env, crash_at="add:file-modified"
    )
    assert killed.returncode == -signal.SIGKILL
    journal = project / OUTSIDE_GIT_NAME
    assert journal.is_file()
    recovered = console("doctor", str(project), cwd=project.parent, env=cli_env)
    assert "was interrupted" in recovered.stderr
    assert tree_state(project) == before


def test_sigkill_at_a_random_moment(
    new_project: ProjectFactory, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """Killed from outside as soon as the journal appears: wherever add was, it is undone."""
    project = new_project("mvc-tortoise-uv")
    before = tree_state(project)
    journal = journal_path(project)
    process = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "add", "product", str(project)],
        cwd=project,
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not journal.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    console("runbook", "list", cwd=project, env=cli_env)
    assert tree_state(project) == before
    assert not journal.exists()


def test_an_unreadable_journal_refuses_with_the_restoring_command(
    new_project: ProjectFactory, cli_env: dict[str, str]
) -> None:
    project = new_project("ddd-sqlalchemy-uv")
    journal = journal_path(project)
    journal.parent.mkdir(parents=True)
    journal.write_text("{ truncated")
    completed = console("doctor", str(project), cwd=project, env=cli_env)
    assert completed.returncode == 1
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot be read" in lines[0]
    assert f"then delete {journal}" in lines[0]
    assert journal.read_text() == "{ truncated"  # never guessed at: left for the operator


def killed_after_first_edit(project: Path, cli_env: dict[str, str]) -> Journal:
    """Run add until it has created its files and modified one; return its journal."""
    killed = console(
        "add", "product", str(project), cwd=project, env=cli_env, crash_at="add:file-modified"
    )
    assert killed.returncode == -signal.SIGKILL
    return Journal.load(journal_path(project))


def test_edits_made_after_the_crash_are_kept(
    new_project: ProjectFactory, cli_env: dict[str, str]
) -> None:
    """Recovery undoes only add's own writes: what the operator changed since stays."""
    project = new_project("ddd-sqlalchemy-uv")
    before = tree_state(project)
    journal = killed_after_first_edit(project, cli_env)
    new_file = next(
        entry.path
        for entry in journal.entries
        if entry.kind is EntryKind.FILE and entry.before is None and entry.path.is_file()
    )
    # After the crash and before the next command, the operator edits a file add never
    # touches and one that add had just created.
    (project / "README.md").write_text("edited after the crash\n")
    new_file.write_text("# the operator's own work now\n")

    recovered = console("doctor", str(project), cwd=project, env=cli_env)
    relative = new_file.relative_to(project).as_posix()
    message = recovered.stderr.strip().splitlines()[0]
    assert "was interrupted" in message and "rolled back except in" in message
    assert relative in message and "kept" in message
    assert (project / "README.md").read_text() == "edited after the crash\n"
    assert new_file.read_text() == "# the operator's own work now\n"
    # Everything else add wrote is undone.
    files_before, files_after = before["files"], tree_state(project)["files"]
    assert isinstance(files_before, dict) and isinstance(files_after, dict)
    kept = {name: files_after[name] for name in ("README.md", relative)}
    assert files_after == {**files_before, **kept}
    assert not journal_path(project).exists()


def test_a_write_cut_short_by_the_crash_is_still_undone(
    new_project: ProjectFactory, cli_env: dict[str, str]
) -> None:
    """A write killed half-way leaves only the start of the bytes in the temporary sibling.

    Files are renamed into place once complete, so the path itself holds the old bytes; the
    half-written sibling is add's and goes, and so does everything else add wrote.
    """
    project = new_project("mvc-sqlalchemy-uv")
    before = tree_state(project)
    journal = killed_after_first_edit(project, cli_env)
    modified = next(entry.path for entry in journal.entries if entry.before is not None)
    partial_path(modified).write_bytes(modified.read_bytes()[:10])  # as if killed in write()
    console("runbook", "list", cwd=project, env=cli_env)
    assert tree_state(project) == before


def test_recover_undoes_a_killed_add_and_then_has_nothing_to_do(
    new_project: ProjectFactory, cli_env: dict[str, str]
) -> None:
    """`robyn-config recover` does only the recovery, and says when there is none."""
    project = new_project("ddd-tortoise-uv")
    before = tree_state(project)
    killed_after_first_edit(project, cli_env)
    recovered = console("recover", str(project), cwd=project.parent, env=cli_env)
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert "'add product'" in recovered.stdout and "was interrupted" in recovered.stdout
    assert tree_state(project) == before
    again = console("recover", str(project), cwd=project.parent, env=cli_env)
    assert again.returncode == 0
    assert again.stdout.strip() == f"Nothing to recover in {project}."
