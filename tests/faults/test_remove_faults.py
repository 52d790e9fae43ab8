"""Real faults at every write point of `remove` (docs/design.md §3 remove, §7).

``product`` is added (and, in a clean tree, committed), then the console script removes it
while the operating system refuses one write: the journal, each file remove edits, each file
it deletes, each folder it deletes from (immutable as root; read-only as a user without
root's powers), a file-size limit that hits the journal or a project file, a path replaced
by a directory while remove is paused, a restore the OS refuses too, and SIGKILL at each
checkpoint followed by recovery. Each case compares the whole tree before and after (tracked,
untracked and ignored files, git's index, HEAD and stashes, no journal, no temporary sibling)
and checks exit status 1 and the one- or two-line message. Every cell runs in a clean git
tree; one also in a dirty tree with ``--allow-dirty``, one outside git.
"""

from __future__ import annotations

import signal
from contextlib import ExitStack
from pathlib import Path

import pytest

from scaffold.operations.add import add_entity
from scaffold.safety.journal import EntryKind, Journal, journal_path
from tests.conftest import ProjectFactory
from tests.faults.entity_cases import (
    AS_NOBODY,
    JOURNAL,
    SETTINGS,
    EntityProject,
    design_of,
    operator_work,
    point_cases,
    setting_id,
)
from tests.faults.kit import (
    Cli,
    as_nobody,
    assert_failed,
    assert_unchanged,
    immutable,
    paused_at,
    read_only,
    snapshot,
    stderr_lines,
)
from tests.faults.test_add_faults import (
    CREATED,
    FIELDS,
    MODIFIED,
    RECORD,
)
from tests.helpers import assert_exit, git

# remove deletes what add created, and the folders that then hold nothing (deepest first).
DELETED = CREATED
EMPTIED = {
    "ddd": ["src/app/domain/product", "src/app/presentation/product", ".robyn-config"],
    "mvc": [".robyn-config"],
}
CHECKPOINTS = [
    "remove:journal-written",
    "remove:file-modified",
    "remove:file-deleted",
    "remove:directory-deleted",
    "remove:linted",
]
ROOT = "./"


def _folders(design: str) -> list[str]:
    """Every folder remove deletes an entry from (a file, an emptied folder), outermost first."""
    paths = [*MODIFIED[design].values(), *DELETED[design], *EMPTIED[design]]
    parents = {Path(path).parent.as_posix() for path in paths}
    return sorted(f"{folder}/" if folder != "." else ROOT for folder in parents)


def _points(cell: str) -> list[str]:
    """Every write point of remove: the journal, each edited and deleted file, each folder."""
    design = design_of(cell)
    return [
        JOURNAL,
        *MODIFIED[design].values(),
        *sorted(DELETED[design]),
        *_folders(design),
    ]


# Each setting with each write point of its cell; the read-only ones as nobody.
POINTS = point_cases(SETTINGS, _points)
NOBODY_POINTS = point_cases(AS_NOBODY, _points)


class Project(EntityProject):
    """A generated project with ``product`` added, and how the operator left it."""

    def command(self) -> list[str]:
        return ["remove", "product", str(self.root)]

    def failure(self, point: str, reason: str) -> list[str]:
        """What the message must say when the write at ``point`` fails for ``reason``.

        remove writes the edited files first (sorted), then deletes the entity's files
        (sorted), then the emptied folders (deepest first): a folder's fault shows at the
        first of those in it.
        """
        if point == JOURNAL or (point == ROOT and not self.in_git):
            return ["Writing the journal", f"failed: {reason}"]  # outside git it is in root
        modified = sorted(MODIFIED[self.design].values())
        if point in modified:
            return [f"Writing {point} failed: {reason}"]
        if not point.endswith("/"):
            return [f"Deleting {point} failed: {reason}"]
        folder = "." if point == ROOT else point.rstrip("/")
        steps = [
            *(("Writing", path) for path in modified),
            *(("Deleting", path) for path in sorted(DELETED[self.design])),
            *(("Deleting", path) for path in EMPTIED[self.design]),
        ]
        doing, first = next(
            (doing, path) for doing, path in steps if Path(path).parent.as_posix() == folder
        )
        return [f"{doing} {first} failed: {reason}"]


@pytest.fixture
def project(
    request: pytest.FixtureRequest, new_project: ProjectFactory, cli: Cli, open_tmp: Path
) -> Project:
    """``(cell, setting)``: product added (committed in a clean tree), in an open folder."""
    cell, setting = request.param
    root = new_project(cell, git=setting != "no-git", destination=open_tmp / cell)
    add_entity(project=root, entity="product", fields=FIELDS)
    if setting != "no-git":
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "add product")
    if setting == "dirty":
        operator_work(root, design_of(cell))
    return Project(root=root, cell=cell, setting=setting, cli=cli)


def relative(project: Project, path: str | Path) -> str:
    return Path(path).relative_to(project.root).as_posix()


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
def test_the_write_points_are_all_of_remove_s(project: Project) -> None:
    """The paths faulted below are exactly what remove's dry run would delete and modify."""
    dry = assert_exit(project.cli.run(*project.args(), "--dry-run", cwd=project.root))
    lines = [line.split() for line in dry.stdout.splitlines()]
    deleted = {words[-1] for words in lines if words[:2] == ["would", "delete"]}
    modified = {words[-1] for words in lines if words[:2] == ["would", "modify"]}
    assert deleted == DELETED[project.design]
    assert modified == set(MODIFIED[project.design].values())
    assert RECORD in deleted
    completed = assert_exit(project.run())
    for folder in EMPTIED[project.design]:
        assert not (project.root / folder).exists(), folder
    assert f"delete  {RECORD}" in completed.stdout


@pytest.mark.parametrize(("project", "point"), POINTS, indirect=["project"])
def test_an_immutable_write_point(project: Project, point: str) -> None:
    """chattr +i on the write point: remove fails there, names it and the OS's reason, and
    the whole tree is as it was."""
    before = snapshot(project.root)
    with immutable(project.target(point)):
        completed = project.run()
    assert_unchanged(project.root, before)
    assert_failed(completed, *project.failure(point, "Operation not permitted"))


@pytest.mark.parametrize(("project", "point"), NOBODY_POINTS, indirect=["project"])
def test_a_read_only_write_point_as_another_user(project: Project, point: str) -> None:
    """chmod a-w on the write point, remove run by a user the mode binds (nobody, when the
    tests run as root): the same failure, "Permission denied", the same tree. A read-only
    file is the operator's protection: remove does not delete it, as it would not write it."""
    before = snapshot(project.root)
    with as_nobody(project.root, project.cli) as nobody, read_only(project.target(point)):
        completed = project.run(cli=nobody)
    assert_unchanged(project.root, before)
    assert_failed(completed, *project.failure(point, "Permission denied"))


def measure(project: Project) -> tuple[int, dict[str, int]]:
    """The size of remove's journal and of every file remove writes (relative path -> bytes).

    remove is killed once it has done everything (``remove:linted``, the journal still on
    disk), measured, then undone by ``robyn-config recover``.
    """
    before = snapshot(project.root)
    killed = project.run(crash_at="remove:linted")
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    journal = journal_path(project.root)
    sizes = {
        relative(project, entry.path): entry.path.stat().st_size
        for entry in Journal.load(journal).entries
        if entry.kind is EntryKind.FILE
    }
    size = journal.stat().st_size
    assert_exit(project.cli.run("recover", project.root, cwd=project.root))
    assert_unchanged(project.root, before)
    return size, sizes


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
def test_a_file_size_limit_hits_the_journal(project: Project) -> None:
    """RLIMIT_FSIZE below the journal but above every file remove writes: the journal's
    write fails with "File too large", nothing was changed."""
    journal, sizes = measure(project)
    largest = max(sizes.values())
    assert journal > largest, f"the journal ({journal} B) is not remove's largest write ({sizes})"
    before = snapshot(project.root)
    completed = project.run(limit=(journal + largest) // 2)
    assert_unchanged(project.root, before)
    assert_failed(completed, "Writing the journal", "File too large")


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
def test_a_file_size_limit_hits_a_project_file(project: Project) -> None:
    """RLIMIT_FSIZE above the journal, below a file remove writes: that file's write fails
    with "File too large" and its path; the journal and every other change are undone.

    The journal holds every file's bytes before, compressed: the operator's long comment in
    the table file, which compresses well, makes that file larger than the journal.
    """
    table = project.root / MODIFIED[project.design]["table"]
    table.write_text(table.read_text() + "\n" + "# the operator's long comment\n" * 4000)
    project.commit_or_leave("a long comment")
    journal, sizes = measure(project)
    larger = {path: size for path, size in sizes.items() if size > journal}
    assert larger, f"no file remove writes is larger than its journal ({journal} B): {sizes}"
    limit = journal + (min(larger.values()) - journal) // 2
    before = snapshot(project.root)
    completed = project.run(limit=limit)
    assert_unchanged(project.root, before)
    message = " ".join(stderr_lines(completed))
    named = any(f"{path} failed: File too large" in message for path in larger)
    assert named, f"the failure names none of {sorted(larger)} (limit {limit} B): {message!r}"
    assert "journal" not in message, message
    assert_failed(completed, "File too large")


def _replace_by_directory(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.mkdir()
    (path / "mine.txt").write_text("the operator's folder\n")


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
@pytest.mark.parametrize("planned", ["tests/test_product_api.py", "registry"])
def test_a_planned_path_replaced_by_a_directory(project: Project, planned: str) -> None:
    """While remove is paused after journaling, a file it deletes (or edits) becomes the
    operator's folder: remove fails with "Is a directory", keeps that folder and names it,
    and undoes everything else. (A file to delete is journaled just before the deletions,
    so remove finds the folder before it has touched that path: nothing to keep there.)"""
    path = MODIFIED[project.design].get(planned, planned)
    with paused_at(project.cli, "remove:journal-written", *project.args(), cwd=project.root) as run:
        _replace_by_directory(project.root / path)
        expected = {**snapshot(project.root), "leftovers": []}
    assert run.result is not None
    assert_unchanged(project.root, expected)
    message = assert_failed(run.result, f"{path} failed: Is a directory")
    if planned == "registry":
        assert f"except {path}" in message, message


@pytest.mark.parametrize(
    "project", [("ddd-sqlalchemy-uv", "clean"), ("mvc-sqlalchemy-uv", "no-git")], indirect=True
)
def test_a_restore_the_os_refuses_is_left_for_recover(project: Project) -> None:
    """Paused after its first deletion, the folder of that file and the project root become
    immutable: the next step fails and so does putting that file back; the message names it
    with the OS's reason and 'robyn-config recover', the journal stays, and once the flags
    are lifted recover restores the whole tree."""
    before = snapshot(project.root)
    journal = journal_path(project.root)
    with ExitStack() as flags:
        with paused_at(
            project.cli, "remove:file-deleted", *project.args(), cwd=project.root
        ) as run:
            first = next(
                entry.path
                for entry in Journal.load(journal).entries
                if entry.kind is EntryKind.DELETED_FILE and not entry.path.exists()
            )
            flags.enter_context(immutable(first.parent, project.root))
        assert run.result is not None
        message = assert_failed(
            run.result, "Operation not permitted", relative(project, first), recover=True
        )
        assert f"robyn-config recover {project.root}" in message, message
        assert journal.is_file(), "the journal is what recover finishes the job with"
    recovered = assert_exit(project.cli.run("recover", project.root, cwd=project.root))
    assert "rolled back" in recovered.stdout + recovered.stderr
    assert_unchanged(project.root, before)


@pytest.mark.parametrize(
    "project",
    [("ddd-tortoise-uv", "dirty"), ("mvc-sqlalchemy-uv", "clean"), ("mvc-tortoise-uv", "no-git")],
    indirect=True,
    ids=setting_id,
)
@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_sigkill_at_each_checkpoint_then_the_next_command_restores(
    project: Project, checkpoint: str
) -> None:
    """Killed outright at each checkpoint: the journal outlives the process, and the next
    command (a dry run of remove itself) undoes the half-finished remove first."""
    before = snapshot(project.root)
    killed = project.run(crash_at=checkpoint)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    journal = journal_path(project.root)
    assert journal.is_file(), "the journal must outlive the killed process"
    assert Journal.load(journal).description == "remove product"
    if checkpoint != "remove:journal-written":
        assert snapshot(project.root)["files"] != before["files"]  # really half-finished
    again = project.cli.run(*project.args(), "--dry-run", cwd=project.root)
    assert_exit(again)
    assert "'remove product'" in again.stderr and "rolled back" in again.stderr
    assert_unchanged(project.root, before)
    # Nothing is pending any more: remove runs normally and leaves no journal behind.
    assert_exit(project.run())
    assert not journal.exists()
