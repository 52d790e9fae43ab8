"""Real faults at every write point of `add-fields` (docs/design.md §3 add-fields, §7).

The console script adds fields to ``product`` (made by `add` in a project of
``new_project``) while the operating system refuses one write: the journal, each file
add-fields edits, the folders of two of them (immutable as root; read-only as a user without
root's powers), a file-size limit that hits the journal or a project file, a file replaced by
a directory while add-fields is paused after journaling, a restore that the OS refuses too,
and SIGKILL at each checkpoint followed by recovery. Each case compares the whole tree before
and after (tracked, untracked and ignored files, git's index, HEAD and stashes, no journal, no
temporary sibling). Every cell runs in a clean git tree; one also in a dirty tree with
``--allow-dirty``, one outside git.
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
    TABLES,
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
from tests.helpers import assert_exit, git

FIELDS = "phone:str? stock:int=0 sku:str:index=none"
# What add-fields writes, by design (checked against its own dry run below); it creates nothing.
MODIFIED = {
    "ddd": [
        ".robyn-config/product.toml",
        "pyproject.toml",
        "src/app/domain/product/entities.py",
        "src/app/infrastructure/database/repository/product.py",
        TABLES["ddd"],
        "src/app/presentation/product/contracts.py",
        "src/app/presentation/product/routes.py",
        "tests/test_product_api.py",
    ],
    "mvc": [
        ".robyn-config/product.toml",
        "pyproject.toml",
        TABLES["mvc"],
        "src/app/views/product.py",
        "tests/test_product_api.py",
    ],
}
# Folders whose files add-fields replaces (through a temporary sibling), and the one file each.
FOLDERS = {
    "ddd": {
        "tests/": "tests/test_product_api.py",
        "src/app/infrastructure/database/": TABLES["ddd"],
    },
    "mvc": {"tests/": "tests/test_product_api.py", "src/app/models/": TABLES["mvc"]},
}
CHECKPOINTS = ["add-fields:journal-written", "add-fields:file-modified", "add-fields:linted"]


def _points(cell: str) -> list[str]:
    design = design_of(cell)
    return [JOURNAL, *MODIFIED[design], *FOLDERS[design]]


# Each setting with each write point of its cell; the read-only ones as nobody.
POINTS = point_cases(SETTINGS, _points)
NOBODY_POINTS = point_cases(AS_NOBODY, _points)


class Project(EntityProject):
    """A generated project holding ``product``, and how the operator left it."""

    def command(self) -> list[str]:
        return ["add-fields", "product", str(self.root), "--fields", FIELDS]

    def failure(self, point: str, reason: str) -> list[str]:
        if point == JOURNAL:
            return ["Writing the journal", f"failed: {reason}"]
        path = FOLDERS[self.design].get(point, point)
        return [f"Writing {path} failed: {reason}"]


@pytest.fixture
def project(
    request: pytest.FixtureRequest, new_project: ProjectFactory, cli: Cli, open_tmp: Path
) -> Project:
    """``(cell, setting)`` from the test's parameters, with ``product`` added and committed."""
    cell, setting = request.param
    root = new_project(cell, git=setting != "no-git", destination=open_tmp / cell)
    add_entity(project=root, entity="product", fields="name:str price:decimal")
    if setting != "no-git":
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "add product")
    if setting == "dirty":
        operator_work(root, design_of(cell))
    return Project(root=root, cell=cell, setting=setting, cli=cli)


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
def test_the_write_points_are_all_of_add_fields_s(project: Project) -> None:
    dry = assert_exit(project.cli.run(*project.args(), "--dry-run", cwd=project.root))
    lines = [line.split() for line in dry.stdout.splitlines()]
    modified = [words[-1] for words in lines if words[:2] == ["would", "modify"]]
    assert modified == MODIFIED[project.design]
    assert not [words for words in lines if words[:2] == ["would", "create"]]
    for folder, path in FOLDERS[project.design].items():
        assert [item for item in modified if f"{Path(item).parent}/" == folder] == [path]


@pytest.mark.parametrize(("project", "point"), POINTS, indirect=["project"])
def test_an_immutable_write_point(project: Project, point: str) -> None:
    before = snapshot(project.root)
    with immutable(project.target(point)):
        completed = project.run()
    assert_unchanged(project.root, before)
    assert_failed(completed, *project.failure(point, "Operation not permitted"))


@pytest.mark.parametrize(("project", "point"), NOBODY_POINTS, indirect=["project"])
def test_a_read_only_write_point_as_another_user(project: Project, point: str) -> None:
    before = snapshot(project.root)
    with as_nobody(project.root, project.cli) as nobody, read_only(project.target(point)):
        completed = project.run(cli=nobody)
    assert_unchanged(project.root, before)
    assert_failed(completed, *project.failure(point, "Permission denied"))


def measure(project: Project) -> tuple[int, dict[str, int]]:
    """The size of the journal and of every file add-fields writes, measured once it has
    written everything (killed at ``add-fields:linted``), then undone by recover."""
    before = snapshot(project.root)
    killed = project.run(crash_at="add-fields:linted")
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    journal = journal_path(project.root)
    sizes = {
        entry.path.relative_to(project.root).as_posix(): entry.path.stat().st_size
        for entry in Journal.load(journal).entries
        if entry.kind is EntryKind.FILE
    }
    size = journal.stat().st_size
    assert_exit(project.cli.run("recover", project.root, cwd=project.root))
    assert_unchanged(project.root, before)
    return size, sizes


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
def test_a_file_size_limit_hits_the_journal(project: Project) -> None:
    table = project.root / TABLES[project.design]
    table.write_text(table.read_text() + "\n" + incompressible_comment(40_000))
    project.commit_or_leave("a long comment")
    journal, sizes = measure(project)
    largest = max(sizes.values())
    assert journal > largest, f"the journal ({journal} B) is not the largest write ({sizes})"
    before = snapshot(project.root)
    completed = project.run(limit=(journal + largest) // 2)
    assert_unchanged(project.root, before)
    assert_failed(completed, "Writing the journal", "File too large")


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
def test_a_file_size_limit_hits_a_project_file(project: Project) -> None:
    # The journal keeps every edited file's bytes compressed: a long, repetitive comment of
    # the operator's makes the table file larger than the journal.
    table = project.root / TABLES[project.design]
    table.write_text(table.read_text() + "\n" + "# the operator's long note\n" * 4000)
    project.commit_or_leave("a long note")
    journal, sizes = measure(project)
    larger = {path: size for path, size in sizes.items() if size > journal}
    assert larger, f"no file add-fields writes is larger than its journal ({journal} B): {sizes}"
    limit = journal + (min(larger.values()) - journal) // 2
    before = snapshot(project.root)
    completed = project.run(limit=limit)
    assert_unchanged(project.root, before)
    message = " ".join(stderr_lines(completed))
    assert any(f"{path} failed: File too large" in message for path in larger), message
    assert "journal" not in message, message
    assert_failed(completed, "File too large")


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
@pytest.mark.parametrize("point", CHECKPOINTS)
def test_sigkill_at_a_checkpoint_is_undone_by_the_next_command(
    project: Project, point: str
) -> None:
    """Killed outright at each checkpoint: the journal stays; the next add-fields first rolls
    the killed one back (saying so), then does its own work from the tree as it was."""
    before = snapshot(project.root)
    killed = project.run(crash_at=point)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert journal_path(project.root).is_file()
    dry = assert_exit(project.cli.run(*project.args(), "--dry-run", cwd=project.root))
    assert "was interrupted" in dry.stderr and "rolled back" in dry.stderr, dry.stderr
    assert_unchanged(project.root, before)
    assert_exit(project.run())
    table = (project.root / TABLES[project.design]).read_text()
    assert "phone" in table and "stock" in table and "sku" in table


def _replace_by_directory(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.mkdir()
    (path / "mine.txt").write_text("the operator's folder\n")


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
def test_a_planned_file_replaced_by_a_directory(project: Project) -> None:
    path = TABLES[project.design]
    args = project.args()
    with paused_at(project.cli, "add-fields:journal-written", *args, cwd=project.root) as run:
        _replace_by_directory(project.root / path)
        expected = {**snapshot(project.root), "leftovers": []}
    assert run.result is not None
    assert_unchanged(project.root, expected)
    message = assert_failed(run.result, f"{path} failed: Is a directory")
    assert f"except {path}" in message, message


@pytest.mark.parametrize("project", SETTINGS, indirect=True, ids=setting_id)
def test_a_restore_the_os_refuses_is_left_for_recover(project: Project) -> None:
    before = snapshot(project.root)
    journal = journal_path(project.root)
    args = project.args()
    with ExitStack() as flags:
        with paused_at(project.cli, "add-fields:file-modified", *args, cwd=project.root) as run:
            first = next(
                entry.path
                for entry in Journal.load(journal).entries
                if entry.kind is EntryKind.FILE
            )
            flags.enter_context(immutable(first, first.parent, project.root))
        assert run.result is not None
        shown = first.relative_to(project.root).as_posix()
        message = assert_failed(run.result, "Operation not permitted", shown, recover=True)
        assert f"robyn-config recover {project.root}" in message, message
        assert journal.is_file()
    recovered = assert_exit(project.cli.run("recover", project.root, cwd=project.root))
    assert "rolled back" in recovered.stdout + recovered.stderr
    assert_unchanged(project.root, before)
