"""Real faults at every write point of `add` (docs/design.md §3 add, §7).

The console script adds ``product`` to a project made by ``new_project`` while the operating
system refuses one write: the journal, each file add edits, each folder its new files go into
(immutable as root; read-only as a user without root's powers), a file-size limit that hits
the journal or a project file, a path replaced by a directory while add is paused after
journaling, and a restore that the OS refuses too. Each case compares the whole tree before
and after (tracked, untracked and ignored files, git's index, HEAD and stashes, no journal, no
temporary sibling) and checks exit status 1 and the one- or two-line message. Every cell runs
in a clean git tree; one also in a dirty tree with ``--allow-dirty``, one outside git.
"""

from __future__ import annotations

import signal
from contextlib import ExitStack
from pathlib import Path

import pytest

from scaffold.safety.journal import EntryKind, Journal, journal_path
from tests.conftest import ProjectFactory
from tests.faults.entity_cases import (
    AS_NOBODY,
    JOURNAL,
    SETTINGS,
    EntityProject,
    design_of,
    incompressible_comment,
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
from tests.helpers import assert_exit

FIELDS = "name:str price:decimal"

# What add writes, by design (checked against its own dry run below).
MODIFIED = {
    "ddd": {
        "registry": "src/app/presentation/__init__.py",
        "exports": "src/app/infrastructure/database/repository/__init__.py",
        "table": "src/app/infrastructure/database/tables.py",
        "config": "pyproject.toml",
    },
    "mvc": {
        "registry": "src/app/urls.py",
        "exports": "src/app/models/repository.py",
        "table": "src/app/models/models.py",
        "config": "pyproject.toml",
    },
}
CREATED = {
    "ddd": {
        "src/app/domain/product/__init__.py",
        "src/app/domain/product/entities.py",
        "src/app/domain/product/repository.py",
        "src/app/infrastructure/database/repository/product.py",
        "src/app/operational/product.py",
        "src/app/presentation/product/__init__.py",
        "src/app/presentation/product/contracts.py",
        "src/app/presentation/product/routes.py",
        "tests/test_product_api.py",
    },
    "mvc": {"src/app/views/product.py", "tests/test_product_api.py"},
}
# add's record of the files it created, in a folder of its own that add makes when missing.
RECORD = ".robyn-config/product.toml"
for created in CREATED.values():
    created.add(RECORD)
# The existing folders add's new files and folders go into.
FOLDERS = {
    "ddd": [
        "src/app/domain",
        "src/app/operational",
        "src/app/presentation",
        "src/app/infrastructure/database/repository",
        "tests",
    ],
    "mvc": ["src/app/views", "tests"],
}


def _points(cell: str) -> list[str]:
    """Every write point of add in ``cell``: the journal, each edited file, each folder."""
    design = design_of(cell)
    return [JOURNAL, *MODIFIED[design].values(), *(f"{folder}/" for folder in FOLDERS[design])]


# Each setting with each write point of its cell; the read-only ones as nobody.
POINTS = point_cases(SETTINGS, _points)
NOBODY_POINTS = point_cases(AS_NOBODY, _points)


class Project(EntityProject):
    """A generated project add works on, and how the operator left it."""

    def command(self) -> list[str]:
        return ["add", "product", str(self.root), "--fields", FIELDS]

    def failure(self, point: str, reason: str) -> list[str]:
        """What the message must say when the write at ``point`` fails for ``reason``."""
        if point == JOURNAL:
            return ["Writing the journal", f"failed: {reason}"]
        if not point.endswith("/"):
            return [f"Writing {point} failed: {reason}"]
        # The first path add makes in the folder: a new file, or the new entity folder.
        folder = point.rstrip("/")
        firsts = {
            f"{folder}/{path.removeprefix(folder + '/').split('/')[0]}"
            for path in CREATED[self.design]
            if path.startswith(folder + "/")
        }
        [first] = firsts
        return [f"{first} failed: {reason}"]


@pytest.fixture
def project(
    request: pytest.FixtureRequest, new_project: ProjectFactory, cli: Cli, open_tmp: Path
) -> Project:
    """``(cell, setting)`` from the test's parameters, in a folder nobody may enter too."""
    cell, setting = request.param
    root = new_project(cell, git=setting != "no-git", destination=open_tmp / cell)
    if setting == "dirty":
        operator_work(root, design_of(cell))
    return Project(root=root, cell=cell, setting=setting, cli=cli)


def relative(project: Project, path: str | Path) -> str:
    return Path(path).relative_to(project.root).as_posix()


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
def test_the_write_points_are_all_of_add_s(project: Project) -> None:
    """The paths faulted below are exactly what add's dry run would create and modify."""
    dry = assert_exit(project.cli.run(*project.args(), "--dry-run", cwd=project.root))
    lines = [line.split() for line in dry.stdout.splitlines()]
    created = {words[-1] for words in lines if words[:2] == ["would", "create"]}
    modified = {words[-1] for words in lines if words[:2] == ["would", "modify"]}
    assert created == CREATED[project.design]
    assert modified == set(MODIFIED[project.design].values())
    for path in created - {RECORD}:
        assert any(path.startswith(f"{folder}/") for folder in FOLDERS[project.design]), path


@pytest.mark.parametrize(("project", "point"), POINTS, indirect=["project"])
def test_an_immutable_write_point(project: Project, point: str) -> None:
    """chattr +i on the write point: add fails there, names it and the OS's reason, and the
    whole tree is as it was."""
    before = snapshot(project.root)
    with immutable(project.target(point)):
        completed = project.run()
    assert_unchanged(project.root, before)
    assert_failed(completed, *project.failure(point, "Operation not permitted"))


@pytest.mark.parametrize(("project", "point"), NOBODY_POINTS, indirect=["project"])
def test_a_read_only_write_point_as_another_user(project: Project, point: str) -> None:
    """chmod a-w on the write point, add run by a user the mode binds (nobody, when the
    tests run as root): the same failure, "Permission denied", the same tree."""
    before = snapshot(project.root)
    with as_nobody(project.root, project.cli) as nobody, read_only(project.target(point)):
        completed = project.run(cli=nobody)
    assert_unchanged(project.root, before)
    assert_failed(completed, *project.failure(point, "Permission denied"))


def measure(project: Project) -> tuple[int, dict[str, int]]:
    """The size of add's journal and of every file add writes (relative path -> bytes).

    add is killed once it has written everything (``add:linted``, the journal still on disk),
    measured, then undone by ``robyn-config recover``.
    """
    before = snapshot(project.root)
    killed = project.run(crash_at="add:linted")
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
    """RLIMIT_FSIZE below the journal but above every file add writes: the journal's write
    fails with "File too large", nothing else was written."""
    # The journal holds the edited files' bytes before; the operator's large, random comment
    # in the table file makes it the largest write of add.
    table = project.root / MODIFIED[project.design]["table"]
    table.write_text(table.read_text() + "\n" + incompressible_comment(40_000))
    project.commit_or_leave("a long comment")
    journal, sizes = measure(project)
    largest = max(sizes.values())
    assert journal > largest, f"the journal ({journal} B) is not add's largest write ({sizes})"
    before = snapshot(project.root)
    completed = project.run(limit=(journal + largest) // 2)
    assert_unchanged(project.root, before)
    assert_failed(completed, "Writing the journal", "File too large")


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
def test_a_file_size_limit_hits_a_project_file(project: Project) -> None:
    """RLIMIT_FSIZE above the journal, below a file add writes: that file's write fails with
    "File too large" and its path; the journal and every other write are undone."""
    journal, sizes = measure(project)
    larger = {path: size for path, size in sizes.items() if size > journal}
    assert larger, f"no file add writes is larger than its journal ({journal} B): {sizes}"
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
    """The operator's folder where add planned a file: with a file of theirs inside."""
    path.unlink(missing_ok=True)
    path.mkdir()
    (path / "mine.txt").write_text("the operator's folder\n")


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
@pytest.mark.parametrize("planned", ["tests/test_product_api.py", "registry"])
def test_a_planned_path_replaced_by_a_directory(project: Project, planned: str) -> None:
    """While add is paused after journaling, a new file's path (or a file it edits) becomes
    the operator's folder: add fails with "Is a directory", keeps that folder and names it,
    and undoes everything else."""
    path = MODIFIED[project.design].get(planned, planned)
    with paused_at(project.cli, "add:journal-written", *project.args(), cwd=project.root) as run:
        _replace_by_directory(project.root / path)
        expected = {**snapshot(project.root), "leftovers": []}
    assert run.result is not None
    assert_unchanged(project.root, expected)
    message = assert_failed(run.result, f"{path} failed: Is a directory")
    assert f"except {path}" in message, message


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
def test_a_restore_the_os_refuses_is_left_for_recover(project: Project) -> None:
    """Paused after its first new file, add's folder of it and the project root become
    immutable: the next write fails and so does the undo of that file; the message names it
    with the OS's reason and 'robyn-config recover', the journal stays, and once the flags are
    lifted recover restores the whole tree."""
    before = snapshot(project.root)
    journal = journal_path(project.root)
    with ExitStack() as flags:
        with paused_at(project.cli, "add:file-created", *project.args(), cwd=project.root) as run:
            first = next(
                entry.path
                for entry in Journal.load(journal).entries
                if entry.kind is EntryKind.FILE and entry.path.is_file()
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


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
def test_an_immutable_file_add_does_not_change_does_not_stop_it(project: Project) -> None:
    """The operator's immutable README.md (add never rewrites a file it does not change)."""
    readme = project.root / "README.md"
    content = readme.read_bytes()
    with immutable(readme):
        completed = assert_exit(project.run())
    assert readme.read_bytes() == content
    design = project.design
    for path in sorted(CREATED[design]):
        assert f"create  {path}" in completed.stdout, completed.stdout
    for path in sorted(MODIFIED[design].values()):
        assert f"modify  {path}" in completed.stdout, completed.stdout
    assert snapshot(project.root)["leftovers"] == []
