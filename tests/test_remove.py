"""`remove`, the inverse of `add` (docs/design.md §3 remove), in-process on created projects.

The inverse: after the operator's own edits in the files add touches (comments, a function of
theirs) and with a second entity present, add then remove gives back every file of the tree
byte for byte (hash and mode of each path, ``.git`` apart). Then the refusals (nothing
written): an unknown entity, a dirty tree, files changed since add; ``--force``; the entity
added before add kept its record; the dry run; a failure after every write and deletion.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest

from scaffold.errors import Interrupted, OperationFailed, UsageError
from scaffold.operations import remove as remove_module
from scaffold.operations.add import add_entity
from scaffold.operations.remove import RemoveResult, remove_entity
from scaffold.project.entity_files import record_path
from scaffold.safety import transaction as transaction_module
from scaffold.safety.journal import journal_path
from scaffold.sources import tidy as lint
from tests.conftest import ProjectFactory, tree_state
from tests.helpers import git

CELLS = ["ddd-sqlalchemy-uv", "ddd-tortoise-uv", "mvc-sqlalchemy-uv", "mvc-tortoise-uv"]
PRODUCT = "name:str:unique price:decimal in_stock:bool=true released:date?"
ORDER = "quantity:int:index note:text? total:decimal"

# The files add edits, by design: the operator works in them too.
REGISTRY = {"ddd": "src/app/presentation/__init__.py", "mvc": "src/app/urls.py"}
EXPORTS = {
    "ddd": "src/app/infrastructure/database/repository/__init__.py",
    "mvc": "src/app/models/repository.py",
}
TABLES = {"ddd": "src/app/infrastructure/database/tables.py", "mvc": "src/app/models/models.py"}
OPERATOR_FUNCTION = '''

# The operator's own helper, kept by add and remove alike.
def operator_helper() -> int:
    """Something the operator wrote here."""
    return 42
'''


def design(project: Path) -> str:
    return "ddd" if (project / REGISTRY["ddd"]).exists() else "mvc"


def files(project: Path) -> object:
    """Every path of the work tree (bytes and mode), ``.git`` apart."""
    return tree_state(project)["files"]


def commit(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", message)


def operator_edits(project: Path, *, ruff_clean: bool = True) -> None:
    """The operator's work in every file add edits: comments and a function of theirs.

    With ``ruff_clean`` False the table file is left in a layout of the operator's own
    (single quotes), which add and remove then leave alone.
    """
    kind = design(project)
    registry = project / REGISTRY[kind]
    text = registry.read_text()
    text = text.replace(
        "\n\ndef register_routes", "\n\n# The operator's comment.\ndef register_routes"
    )
    registry.write_text(text + OPERATOR_FUNCTION)
    exports = project / EXPORTS[kind]
    exports.write_text(exports.read_text() + "\n# The operator's note on the exports.\n")
    tables = project / TABLES[kind]
    helper = OPERATOR_FUNCTION if ruff_clean else OPERATOR_FUNCTION.replace("42", "len('mine')")
    tables.write_text(tables.read_text() + helper)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.operator]\nnote = "mine"  # kept\n')


def prepared(new_project: ProjectFactory, cell: str, *, ruff_clean: bool = True) -> Path:
    project = new_project(cell)
    operator_edits(project, ruff_clean=ruff_clean)
    commit(project, "the operator's edits")
    assert lint.untidy(project, [project / TABLES[design(project)]]) == (
        set() if ruff_clean else {project / TABLES[design(project)]}
    )
    return project


def add(project: Path, entity: str = "product", fields: str = PRODUCT) -> None:
    add_entity(project=project, entity=entity, fields=fields)
    commit(project, f"add {entity}")


# --- the inverse ------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
def test_remove_gives_back_the_tree_before_add_with_another_entity_present(
    new_project: ProjectFactory, cell: str
) -> None:
    project = prepared(new_project, cell)
    add(project, "order", ORDER)
    before = files(project)
    add(project)
    result = remove_entity(project=project, entity="product")
    assert files(project) == before
    assert result.changed == [] and result.missing == []
    assert record_path(project, "product") in result.deleted
    assert not journal_path(project).exists()
    # Every path add created is among those remove deleted or its folders.
    assert {path for path in result.deleted if not path.exists()} == set(result.deleted)


# References (to another entity and to itself) and field names of types and of pydantic's
# attributes: the imports and shared classes they bring come out again too.
REFERRING = "order:ref buyer:ref(order)?:set-null parent:ref(invoice)?:cascade date:date json:json?"


@pytest.mark.parametrize("cell", CELLS)
def test_remove_of_an_entity_with_references_gives_back_the_tree_before_its_add(
    new_project: ProjectFactory, cell: str
) -> None:
    project = prepared(new_project, cell)
    add(project, "order", ORDER)
    before = files(project)
    add(project, "invoice", REFERRING)
    remove_entity(project=project, entity="invoice")
    assert files(project) == before


UNIQUE_ORDER = "number:str:unique total:decimal"


@pytest.mark.parametrize("cell", ["mvc-sqlalchemy-uv", "mvc-tortoise-uv"])
def test_a_class_two_entities_share_stays_for_the_one_left(
    new_project: ProjectFactory, tmp_path: Path, cell: str
) -> None:
    """MVC's ConflictError comes with the first unique entity and stays while one needs it."""
    project = prepared(new_project, cell)
    add(project)
    before = files(project)
    add(project, "order", UNIQUE_ORDER)
    remove_entity(project=project, entity="order")
    assert files(project) == before
    commit(project, "remove order")
    alone = new_project(cell, destination=tmp_path / "alone")
    operator_edits(alone)
    commit(alone, "the operator's edits")
    add(alone, "order", UNIQUE_ORDER)
    add(project, "order", UNIQUE_ORDER)
    remove_entity(project=project, entity="product")
    assert files(project) == files(alone)


@pytest.mark.parametrize("cell", ["ddd-tortoise-uv", "mvc-sqlalchemy-uv"])
def test_remove_of_the_first_of_two_entities_leaves_the_second_as_if_alone(
    new_project: ProjectFactory, tmp_path: Path, cell: str
) -> None:
    """product added before order, then removed: the tree of a project that only added order."""
    alone = prepared(new_project, cell)
    add(alone, "order", ORDER)
    both = new_project(cell, destination=tmp_path / "both")
    operator_edits(both)
    commit(both, "the operator's edits")
    add(both)
    add(both, "order", ORDER)
    remove_entity(project=both, entity="product")
    assert files(both) == files(alone)


@pytest.mark.parametrize("cell", ["ddd-sqlalchemy-uv", "mvc-tortoise-uv"])
def test_a_file_in_the_operator_s_own_layout_stays_in_it(
    new_project: ProjectFactory, cell: str
) -> None:
    project = prepared(new_project, cell, ruff_clean=False)
    before = files(project)
    add(project)
    remove_entity(project=project, entity="product")
    assert files(project) == before


@pytest.mark.parametrize("cell", ["ddd-sqlalchemy-uv", "mvc-tortoise-poetry"])
def test_the_only_entity_removed_gives_back_the_created_project(
    new_project: ProjectFactory, cell: str
) -> None:
    project = new_project(cell)
    before = files(project)
    add(project, "order-item", "quantity:int")
    remove_entity(project=project, entity="OrderItem")
    assert files(project) == before
    assert not (project / ".robyn-config").exists()


def test_add_of_the_same_name_after_remove_writes_what_the_first_add_wrote(
    new_project: ProjectFactory,
) -> None:
    project = prepared(new_project, "ddd-sqlalchemy-uv")
    add(project)
    added = files(project)
    remove_entity(project=project, entity="product")
    commit(project, "remove product")
    add(project)
    assert files(project) == added


def test_bytecode_of_the_deleted_modules_goes_with_them(new_project: ProjectFactory) -> None:
    """Left behind, __pycache__ would keep the entity's folders, and add of the name refused."""
    project = new_project("ddd-sqlalchemy-uv")
    before = files(project)
    add(project)
    caches = [
        project / "src/app/domain/product/__pycache__/entities.cpython-311.pyc",
        project / "src/app/infrastructure/database/repository/__pycache__/product.cpython-311.pyc",
        project / "src/app/operational/__pycache__/product.cpython-312.opt-1.pyc",
    ]
    shared = project / "src/app/presentation/__pycache__/healthcheck.cpython-311.pyc"
    for path in [*caches, shared]:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"bytecode")
    remove_entity(project=project, entity="product")
    assert not (project / "src/app/domain/product").exists()
    assert [path for path in caches if path.exists()] == []
    assert shared.read_bytes() == b"bytecode"
    # A cache folder that held only the entity's bytecode goes too.
    assert not (project / "src/app/operational/__pycache__").exists()
    shared.unlink()
    shared.parent.rmdir()
    assert files(project) == before
    add_entity(project=project, entity="product", fields=PRODUCT, allow_dirty=True)


# --- changed files ------------------------------------------------------------------------------


def _change_routes(project: Path) -> Path:
    routes = project / "src/app/presentation/product/routes.py"
    routes.write_text(routes.read_text() + "\n# The operator's change.\n")
    return routes


def test_a_changed_file_refuses_the_whole_remove(new_project: ProjectFactory) -> None:
    project = prepared(new_project, "ddd-sqlalchemy-uv")
    add(project)
    _change_routes(project)
    tests_file = project / "tests/test_product_api.py"
    tests_file.write_text("# rewritten by the operator\n")
    commit(project, "the operator's changes to the entity")
    state = tree_state(project)
    with pytest.raises(UsageError) as caught:
        remove_entity(project=project, entity="product")
    assert caught.value.message == (
        "Not removing 'product': src/app/presentation/product/routes.py, "
        "tests/test_product_api.py changed since add created them; nothing was written, "
        "pass --force to delete them too."
    )
    assert tree_state(project) == state
    with pytest.raises(UsageError, match="pass --force"):
        remove_entity(project=project, entity="product", dry_run=True)


def test_force_deletes_the_changed_files_too(new_project: ProjectFactory) -> None:
    project = prepared(new_project, "mvc-sqlalchemy-uv")
    before = files(project)
    add(project)
    view = project / "src/app/views/product.py"
    view.write_text(view.read_text() + "\n# The operator's change.\n")
    commit(project, "the operator's change")
    planned = remove_entity(project=project, entity="product", force=True, dry_run=True)
    assert planned.changed == [view] and view.exists()
    result = remove_entity(project=project, entity="product", force=True)
    assert result.changed == [view]
    assert files(project) == before


def test_a_file_already_deleted_is_not_a_change(new_project: ProjectFactory) -> None:
    project = prepared(new_project, "ddd-tortoise-uv")
    before = files(project)
    add(project)
    gone = project / "tests/test_product_api.py"
    gone.unlink()
    commit(project, "no API tests for product")
    result = remove_entity(project=project, entity="product")
    assert result.missing == [gone]
    assert gone not in result.deleted
    assert files(project) == before


def test_an_entity_without_a_record_is_rendered_again(new_project: ProjectFactory) -> None:
    """An entity added before add kept its record: its files are compared with a new render."""
    project = prepared(new_project, "ddd-tortoise-uv")
    before = files(project)
    add(project)
    record_path(project, "product").unlink()
    (project / ".robyn-config").rmdir()
    commit(project, "as add left it before it kept a record")
    with_record_gone = tree_state(project)
    routes = _change_routes(project)
    commit(project, "the operator's change")
    with pytest.raises(UsageError) as caught:
        remove_entity(project=project, entity="product")
    assert caught.value.message == (
        "Not removing 'product': src/app/presentation/product/routes.py differ from what add "
        "generates for it (added before add recorded its files); nothing was written, pass "
        "--force to delete them too."
    )
    git(project, "reset", "-q", "--hard", "HEAD~1")
    assert tree_state(project) == with_record_gone and routes.exists()
    result = remove_entity(project=project, entity="product")
    assert result.changed == []
    assert files(project) == before


# --- refusals: nothing written -----------------------------------------------------------------


def refused(project: Path, *fragments: str, **options: bool) -> str:
    state = tree_state(project)
    with pytest.raises(UsageError) as caught:
        remove_entity(project=project, entity="product", **options)
    message = caught.value.message
    assert caught.value.exit_code == 2 and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    assert tree_state(project) == state
    return message


def test_an_entity_that_does_not_exist(new_project: ProjectFactory) -> None:
    project = new_project("mvc-tortoise-uv")
    message = refused(project, "The entity 'product' does not exist in", str(project))
    assert message.endswith("[tool.robyn-config.entities] does not list it.")
    add(project, "order", ORDER)
    refused(project, "'product' does not exist")
    refused(project, "'product' does not exist", dry_run=True)


def test_a_dirty_tree_is_refused_unless_allowed(new_project: ProjectFactory) -> None:
    project = new_project("ddd-sqlalchemy-uv")
    add(project)
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nThe operator's unstaged line.\n")
    (project / "scratch.txt").write_text("untracked\n")
    refused(project, "uncommitted changes: README.md, scratch.txt", "--allow-dirty")
    remove_entity(project=project, entity="product", dry_run=True)
    remove_entity(project=project, entity="product", allow_dirty=True)
    assert readme.read_text().endswith("The operator's unstaged line.\n")
    assert (project / "scratch.txt").read_text() == "untracked\n"


def test_an_unreadable_entry_is_refused_naming_it(new_project: ProjectFactory) -> None:
    project = new_project("ddd-sqlalchemy-uv")
    add(project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(PRODUCT, "name:strr"))
    commit(project, "a hand edit")
    refused(
        project,
        "Unknown type 'strr' for field 'name'",
        "[tool.robyn-config.entities] product = 'name:strr'",
        "restore that entry from git",
    )


def test_an_entity_others_refer_to_is_refused_naming_them(new_project: ProjectFactory) -> None:
    project = new_project("ddd-sqlalchemy-uv")
    add(project)
    add(project, "order", "product:ref quantity:int=1")
    add(project, "review", "item:ref(product):cascade note:text? reply:ref(review)?")
    expected = (
        "Not removing 'product': order.product, review.item refer to it; remove order, review "
        "first, or take those fields out of the code and of [tool.robyn-config.entities] by "
        "hand."
    )
    refused(project, expected)
    refused(project, expected, dry_run=True)
    (project / "scratch.txt").write_text("untracked\n")
    refused(project, expected, allow_dirty=False)  # the references come before the dirty tree
    (project / "scratch.txt").unlink()
    # Its own reference does not hold an entity back; once nothing else refers to it, it goes.
    remove_entity(project=project, entity="review")
    commit(project, "remove review")
    refused(project, "Not removing 'product': order.product refers to it; remove order first")
    remove_entity(project=project, entity="order")
    commit(project, "remove order")
    remove_entity(project=project, entity="product")


def test_another_entity_s_unreadable_entry_is_refused_naming_it(
    new_project: ProjectFactory,
) -> None:
    # Whether it refers to the entity cannot be told.
    project = new_project("ddd-sqlalchemy-uv")
    add(project)
    add(project, "order", "quantity:int")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"quantity:int"', '"product:reff"'))
    commit(project, "a hand edit")
    refused(project, "[tool.robyn-config.entities] order = 'product:reff'", "restore that entry")


@pytest.mark.parametrize("cell", CELLS)
def test_an_entity_referring_to_itself_is_removed_as_it_was_added(
    new_project: ProjectFactory, cell: str
) -> None:
    project = new_project(cell)
    before = tree_state(project)
    add(project, "category", "name:str parent:ref(category)?:set-null")
    remove_entity(project=project, entity="category")
    commit(project, "remove category")
    after = tree_state(project)
    assert after["files"] == before["files"]


def test_a_record_listing_a_file_remove_edits_is_refused(new_project: ProjectFactory) -> None:
    project = new_project("ddd-sqlalchemy-uv")
    add(project)
    record = record_path(project, "product")
    record.write_text(record.read_text() + '"pyproject.toml" = "00"\n')
    commit(project, "a hand edit")
    refused(project, ".robyn-config/product.toml lists pyproject.toml", "restore the record")


def test_a_registry_that_does_not_parse_is_refused(new_project: ProjectFactory) -> None:
    project = new_project("mvc-sqlalchemy-uv")
    add(project)
    urls = project / "src/app/urls.py"
    urls.write_text(urls.read_text() + "def broken(:\n")
    commit(project, "a broken registry")
    refused(project, "src/app/urls.py is not valid Python", "fix it before running remove.")


# --- the dry run ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["ddd-tortoise-uv", "mvc-sqlalchemy-uv"])
def test_the_dry_run_reports_the_plan_and_writes_nothing(
    new_project: ProjectFactory, cell: str
) -> None:
    project = prepared(new_project, cell)
    add(project)
    state = tree_state(project)
    planned = remove_entity(project=project, entity="product", dry_run=True)
    assert tree_state(project) == state
    assert planned.dry_run
    assert record_path(project, "product") in planned.deleted
    assert all(path.is_file() for path in planned.deleted)
    kind = design(project)
    shown = {path.relative_to(project).as_posix() for path in planned.modified}
    assert shown == {"pyproject.toml", REGISTRY[kind], EXPORTS[kind], TABLES[kind]}
    registry_diff = planned.diffs[project / REGISTRY[kind]]
    assert "-    product.register(app)" in registry_diff
    assert f"--- a/{REGISTRY[kind]}" in registry_diff
    done = remove_entity(project=project, entity="product")
    assert (done.deleted, done.modified) == (planned.deleted, planned.modified)


# --- a failure after every write and deletion ---------------------------------------------------


class Stop(Exception):
    pass


def checkpoints_of_a_remove(project: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The checkpoints a remove passes, in order (a dry run of the real thing, then undone)."""
    seen: list[str] = []

    def record(name: str) -> None:
        seen.append(name)
        if name == "remove:linted":
            raise Stop  # the last one: undone like any failure

    with monkeypatch.context() as patch:
        patch.setattr(transaction_module, "checkpoint", record)
        patch.setattr(remove_module, "checkpoint", record)
        with pytest.raises(Stop):
            remove_entity(project=project, entity="product", allow_dirty=True)
    return seen


@pytest.mark.parametrize("cell", ["ddd-sqlalchemy-uv", "mvc-tortoise-uv"])
@pytest.mark.parametrize("failure", ["disk-full", "ctrl-c"])
def test_a_failure_after_every_write_and_deletion_restores_the_tree(
    new_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch, cell: str, failure: str
) -> None:
    project = prepared(new_project, cell)
    add(project, "order", ORDER)
    add(project)
    (project / "scratch.txt").write_text("the operator's untracked file\n")
    state = tree_state(project)
    points = checkpoints_of_a_remove(project, monkeypatch)
    assert tree_state(project) == state
    deletions = 10 if design(project) == "ddd" else 3  # the entity's files and its record
    assert points.count("remove:file-deleted") == deletions
    assert points.count("remove:file-modified") == 4
    assert points[0] == "remove:journal-written" and points[-1] == "remove:linted"
    error: BaseException = (
        OSError(errno.ENOSPC, "No space left on device") if failure == "disk-full" else Stop()
    )
    for number in range(len(points)):
        calls = [0]

        def fail_at(name: str, number: int = number, calls: list[int] = calls) -> None:
            calls[0] += 1
            if calls[0] - 1 == number:
                raise KeyboardInterrupt if failure == "ctrl-c" else error

        with monkeypatch.context() as patch:
            patch.setattr(transaction_module, "checkpoint", fail_at)
            patch.setattr(remove_module, "checkpoint", fail_at)
            expected = Interrupted if failure == "ctrl-c" else OperationFailed
            with pytest.raises(expected) as caught:
                remove_entity(project=project, entity="product", allow_dirty=True)
        assert "Rolled back: the project is as it was before remove." in caught.value.message
        assert tree_state(project) == state, f"not restored after {points[number]} #{number}"
        assert not journal_path(project).exists()
    result: RemoveResult = remove_entity(project=project, entity="product", allow_dirty=True)
    assert result.deleted


def test_a_failed_lint_rolls_back(new_project: ProjectFactory) -> None:
    project = new_project("ddd-sqlalchemy-uv")
    add(project)
    # The operator's unused import beside the class: ruff's check fails once remove has run.
    tables = project / TABLES["ddd"]
    tables.write_text(tables.read_text().replace("\n\nclass Base", "\nimport os\n\n\nclass Base"))
    commit(project, "an unused import")
    state = tree_state(project)
    with pytest.raises(OperationFailed) as caught:
        remove_entity(project=project, entity="product")
    assert "'ruff check' failed on the changed files" in caught.value.message
    assert "Rolled back: the project is as it was before remove." in caught.value.message
    assert tree_state(project) == state


def test_a_copied_project_is_removed_from_independently(
    new_project: ProjectFactory, tmp_path: Path
) -> None:
    """The record's paths are relative: a project moved (or cloned) elsewhere still removes."""
    project = new_project("mvc-tortoise-uv")
    before = files(project)
    add(project)
    moved = tmp_path / "moved"
    shutil.copytree(project, moved, symlinks=True)
    remove_entity(project=moved, entity="product")
    assert files(moved) == before
