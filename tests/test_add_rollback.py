"""A failed `add` leaves the tree byte-identical and loses no operator change (docs/design.md §7).

A failure is forced at every write point — each new file (half written, disk full), each
modified file, the lint step, Ctrl-C — and at each edit, in a clean git tree, in a dirty tree
with ``--allow-dirty`` (staged, unstaged, partly staged, new, deleted, untracked, ignored
changes of the operator, some in the very files add edits), and outside git. The state
compared is every file's bytes and mode plus git's view of the index, HEAD and stashes.
"""

from __future__ import annotations

import copy
import errno
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scaffold.errors import Interrupted, OperationFailed, UsageError
from scaffold.operations import add as add_module
from scaffold.operations.add import add_entity
from scaffold.safety.journal import OUTSIDE_GIT_NAME, Journal
from scaffold.sources import tidy as lint
from scaffold.sources.edits import (
    AppendClass,
    EnsureAllEntry,
    EnsureImport,
    EnsureRegisterCall,
    MergeSnippet,
    SourceEdit,
    SourceShapeError,
)
from tests.conftest import ProjectFactory, tree_state
from tests.helpers import git
from tests.write_faults import fail_nth_write

SPEC = "name:str price:decimal in_stock:bool"
CELLS = ["ddd-sqlalchemy-uv", "mvc-tortoise-uv"]
SCENARIOS = ["clean-git", "dirty-git", "no-git"]
DISK_FULL = OSError(errno.ENOSPC, "No space left on device")


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((str(k), _hashable(v)) for k, v in value.items()))
    if isinstance(value, list | set | tuple):
        return tuple(sorted(str(item) for item in value))
    return value


def _memoised(function: Callable[..., Any]) -> Callable[..., Any]:
    results: dict[Any, Any] = {}

    @functools.wraps(function)
    def wrapper(*args: Any) -> Any:
        key = tuple(_hashable(arg) for arg in args)
        if key not in results:
            results[key] = function(*args)
        return copy.copy(results[key])

    return wrapper


@pytest.fixture
def fast_lint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Memoise ruff's tidying: the loops below run add many times on identical input.

    The files ruff reads are restored byte for byte between runs, so its answers are too.
    """
    for name in ("tidy", "untidy", "is_tidy"):
        if hasattr(lint, name):
            monkeypatch.setattr(lint, name, _memoised(getattr(lint, name)))


def _registry(project: Path) -> Path:
    presentation = project / "src/app/presentation/__init__.py"
    return presentation if presentation.exists() else project / "src/app/urls.py"


def operator_changes(project: Path) -> None:
    """Uncommitted work of every kind, some of it in files add edits."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[project]", "# staged\n[project]", 1))
    git(project, "add", "pyproject.toml")
    registry = _registry(project)
    registry.write_text(
        registry.read_text().replace(
            "healthcheck.register(app)\n", "healthcheck.register(app)  # unstaged note\n"
        )
    )
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nStaged line.\n")
    git(project, "add", "README.md")
    readme.write_text(readme.read_text() + "Unstaged line.\n")
    (project / "NEW_STAGED.md").write_text("new and staged\n")
    git(project, "add", "NEW_STAGED.md")
    (project / ".env.example").unlink()
    (project / "scripts" / "start.sh").chmod(0o644)
    (project / "scratch.txt").write_text("untracked\n")
    (project / "src" / "app" / "draft_notes.txt").write_text("untracked, next to add's files\n")
    (project / ".env").write_text("DATABASE_URL=sqlite:///./mine.db\n")  # ignored


@pytest.fixture(params=CELLS)
def cell(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=SCENARIOS)
def project(
    request: pytest.FixtureRequest, new_project: ProjectFactory, cell: str, fast_lint: None
) -> Path:
    scenario = request.param
    root = new_project(cell, git=scenario != "no-git")
    if scenario == "dirty-git":
        operator_changes(root)
    if scenario == "no-git":
        (root / "operator.txt").write_text("the operator's file\n")
    return root


def run_add(project: Path) -> None:
    add_entity(project=project, entity="product", fields=SPEC, allow_dirty=True)


def plan(project: Path) -> add_module.AddResult:
    return add_entity(project=project, entity="product", fields=SPEC, dry_run=True)


def assert_fails_and_restores(
    project: Path, before: dict[str, object], expected: type[BaseException]
) -> BaseException:
    with pytest.raises(expected) as caught:
        run_add(project)
    if isinstance(caught.value, OperationFailed | Interrupted):
        assert "Rolled back: the project is as it was before add." in caught.value.message
        assert caught.value.exit_code == (130 if isinstance(caught.value, Interrupted) else 1)
    assert tree_state(project) == before
    return caught.value


def assert_add_still_works(project: Path) -> None:
    """After all the failures the project is intact: a real add succeeds and keeps the rest."""
    operator_files = [
        path
        for path in (project / "scratch.txt", project / "operator.txt", project / ".env")
        if path.exists()
    ]
    contents = {path: path.read_bytes() for path in operator_files}
    add_entity(project=project, entity="product", fields=SPEC, allow_dirty=True)
    assert (project / "pyproject.toml").read_text().count("[tool.robyn-config.entities]") == 1
    for path, content in contents.items():
        assert path.read_bytes() == content


# --- every write point ----------------------------------------------------------------------


def fail_each_write(
    project: Path, monkeypatch: pytest.MonkeyPatch, paths: list[Path]
) -> list[BaseException]:
    """Fail the write of each of ``paths`` in turn, half-way through, on a full disk.

    Every failure must roll back to the state before the first; the errors, in order.
    """
    before = tree_state(project)
    errors = []
    for number in range(len(paths)):
        with monkeypatch.context() as patch:
            fail_nth_write(patch, number, DISK_FULL, partial=True, among=paths)
            errors.append(assert_fails_and_restores(project, before, OperationFailed))
    return errors


def test_each_new_file_write_failing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    created = plan(project).created
    assert created, "the entity templates render no file"
    for error in fail_each_write(project, monkeypatch, created):
        assert "No space left on device" in str(error)
    assert_add_still_works(project)


def test_each_modified_file_write_failing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    modified = plan(project).modified
    assert len(modified) >= 4  # pyproject, registry, exports, table
    fail_each_write(project, monkeypatch, modified)
    assert_add_still_works(project)


def test_lint_step_failing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree_state(project)
    seen: list[list[Path]] = []

    def check_files(root: Path, paths: list[Path]) -> None:
        seen.append(paths)
        assert all(path.exists() for path in paths)  # everything was written by then
        raise OperationFailed("'ruff check' failed on the changed files:\nF401 unused import")

    monkeypatch.setattr(lint, "check_files", check_files)
    error = assert_fails_and_restores(project, before, OperationFailed)
    assert "F401 unused import" in str(error)
    assert seen and all(path.suffix == ".py" for path in seen[0])


def test_ctrl_c_at_every_stage(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    planned = plan(project)
    before = tree_state(project)
    stages = [  # (the files written, the failing one, half written)
        (planned.created, 0, False),
        (planned.created, len(planned.created) - 1, True),
        (planned.modified, len(planned.modified) - 1, True),
    ]
    for paths, number, partial in stages:
        with monkeypatch.context() as patch:
            fail_nth_write(patch, number, KeyboardInterrupt(), partial=partial, among=paths)
            assert_fails_and_restores(project, before, Interrupted)

    def interrupted(root: Path, paths: list[Path]) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(lint, "check_files", interrupted)
        assert_fails_and_restores(project, before, Interrupted)
    assert_add_still_works(project)


@pytest.mark.parametrize(
    "edit_class", [EnsureImport, EnsureRegisterCall, EnsureAllEntry, AppendClass, MergeSnippet]
)
@pytest.mark.parametrize("error", [SourceShapeError("shape"), RuntimeError("edit bug")])
def test_each_edit_failing_writes_nothing(
    new_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    fast_lint: None,
    edit_class: type[SourceEdit],
    error: Exception,
) -> None:
    project = new_project("ddd-sqlalchemy-uv")
    operator_changes(project)
    before = tree_state(project)
    calls: list[SourceEdit] = []

    def apply(self: SourceEdit, module: Any, filename: str) -> Any:
        calls.append(self)
        raise error

    if edit_class is AppendClass:
        # Appended classes only come from snippets (tables); fail them there.
        monkeypatch.setattr(AppendClass, "apply", apply)
    else:
        monkeypatch.setattr(edit_class, "apply", apply)
    expected = UsageError if isinstance(error, SourceShapeError) else type(error)
    with pytest.raises(expected):
        run_add(project)
    assert calls, f"{edit_class.__name__} was never applied"
    assert tree_state(project) == before


# --- outside git: the backup is of the touched files only -----------------------------------


def test_outside_git_only_the_files_add_modifies_are_backed_up(
    new_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch, fast_lint: None
) -> None:
    project = new_project("ddd-sqlalchemy-uv", git=False)
    venv = project / ".venv" / "lib" / "site-packages"
    venv.mkdir(parents=True)
    for index in range(200):
        (venv / f"module_{index}.py").write_bytes(b"x = 1\n" * 1000)
    (project / "app.db").write_bytes(b"SQLite format 3\x00" + bytes(4096))
    before = tree_state(project)
    planned = plan(project)

    journaled: list[Journal] = []
    original_save = Journal.save

    def spy_save(self: Journal) -> None:
        journaled.append(copy.deepcopy(self))
        original_save(self)

    read: list[Path] = []
    original_read_bytes = Path.read_bytes
    original_read_text = Path.read_text

    def read_bytes(self: Path) -> bytes:
        read.append(self)
        return original_read_bytes(self)

    def read_text(self: Path, *args: Any, **kwargs: Any) -> str:
        read.append(self)
        return original_read_text(self, *args, **kwargs)

    def lint_fails(root: Path, paths: list[Path]) -> None:
        raise OperationFailed("lint failed")

    monkeypatch.setattr(Journal, "save", spy_save)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.setattr(Path, "read_text", read_text)
    monkeypatch.setattr(lint, "check_files", lint_fails)
    with pytest.raises(OperationFailed):
        run_add(project)
    monkeypatch.undo()

    assert tree_state(project) == before
    journal = journaled[-1]
    assert journal.path == project / OUTSIDE_GIT_NAME
    backed_up = [entry.path for entry in journal.entries if entry.before is not None]
    assert sorted(backed_up) == planned.modified
    assert set(planned.modified) == {
        project / "pyproject.toml",
        project / "src/app/presentation/__init__.py",
        project / "src/app/infrastructure/database/repository/__init__.py",
        project / "src/app/infrastructure/database/tables.py",
    }
    assert not [path for path in read if ".venv" in path.parts or path.name == "app.db"]


def test_outside_git_success_keeps_everything_else(
    new_project: ProjectFactory, fast_lint: None
) -> None:
    project = new_project("mvc-sqlalchemy-uv", git=False)
    (project / "operator.txt").write_text("mine\n")
    result = add_entity(project=project, entity="product", fields=SPEC)
    assert (project / "operator.txt").read_text() == "mine\n"
    assert all(path.is_file() for path in result.created)
    assert not (project / ".git").exists()


# --- a failing add inside a larger repository -----------------------------------------------


@pytest.fixture
def monorepo(new_project: ProjectFactory, tmp_path: Path, fast_lint: None) -> Iterator[Path]:
    """A project created without git, inside the operator's bigger repository."""
    top = tmp_path / "monorepo"
    top.mkdir()
    (top / "OTHER.md").write_text("another service\n")
    git(top, "init", "-q", "-b", "main")
    project = new_project("mvc-sqlalchemy-uv", git=False, destination=top / "services" / "shop")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "monorepo")
    (top / "OTHER.md").write_text("another service, edited\n")
    (top / "loose.txt").write_text("untracked at the top\n")
    yield project


def test_in_a_monorepo_a_failure_restores_the_whole_work_tree(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = monorepo.parents[1]
    before = tree_state(top)
    with pytest.raises(UsageError, match=r"OTHER\.md"):
        add_entity(project=monorepo, entity="product")  # dirty elsewhere in the repository
    modified = plan(monorepo).modified
    fail_nth_write(monkeypatch, 1, DISK_FULL, partial=True, among=modified)
    with pytest.raises(OperationFailed):
        run_add(monorepo)
    assert tree_state(top) == before
