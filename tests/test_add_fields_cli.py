"""`robyn-config add-fields` through the installed console script (docs/design.md §3).

Bad input: exit status 2, exactly one line on stderr, no traceback, nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.operations.add import add_entity
from tests.conftest import ProjectFactory, tree_state
from tests.helpers import INVOKE, REPO_ROOT, assert_exit, assert_usage_error, git
from tests.test_cli import run

NEW = "phone:str? stock:int=0 sku:str:index=none"


@pytest.fixture
def project(new_project: ProjectFactory) -> Path:
    project = new_project("mvc-sqlalchemy-uv")
    add_entity(project=project, entity="product", fields="name:str price:decimal")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "add product")
    return project


def refused(project: Path, *args: str, fragments: tuple[str, ...] = ()) -> str:
    before = tree_state(project)
    completed = run("add-fields", *args, cwd=project)
    line = assert_usage_error(completed, *fragments)
    assert completed.stdout == ""
    assert tree_state(project) == before
    return line


def test_add_fields_reports_each_file_and_what_comes_next(project: Path) -> None:
    completed = assert_exit(
        run("add-fields", "product", str(project), "--fields", NEW, cwd=project)
    )
    assert "      modify  src/app/models/models.py" in completed.stdout
    assert "Added phone, stock, sku to Product" in completed.stdout
    assert "make makemigration MIGRATION_MESSAGE=add_product_fields" in completed.stdout
    assert "git" not in completed.stderr


def test_a_merge_into_the_operator_s_file_is_said(project: Path) -> None:
    views = project / "src/app/views/product.py"
    views.write_text(views.read_text() + "\n\n# mine\n")
    git(project, "commit", "-q", "-am", "mine")
    completed = assert_exit(run("add-fields", "product", "--fields", "phone:str?", cwd=project))
    assert "merged into your changes of src/app/views/product.py" in completed.stdout
    assert views.read_text().endswith("\n\n# mine\n")


def test_dry_run_prints_the_diffs_and_writes_nothing(project: Path) -> None:
    before = tree_state(project)
    completed = assert_exit(run("add-fields", "product", "--fields", NEW, "--dry-run", cwd=project))
    assert tree_state(project) == before
    assert "would modify  src/app/models/models.py" in completed.stdout
    assert "+    stock: Mapped[int] = mapped_column" in completed.stdout
    assert completed.stdout.rstrip().endswith("was not changed.")


def test_invoke_from_the_checkout(project: Path) -> None:
    completed = run(
        "add-fields", "product", str(project), "--fields", "phone:str?", "--dry-run",
        cwd=REPO_ROOT, program=(str(INVOKE),),
    )  # fmt: skip
    assert_exit(completed)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("product",), ("add-fields needs the fields to add",)),
        (("product", "--fields", ""), ("add-fields needs the fields to add",)),
        (("order", "--fields", NEW), ("The entity 'order' does not exist",)),
        (("product", "--fields", "name:str?"), ("already has the field 'name'",)),
        (("product", "--fields", "stock:int"), ("give it a default or make it optional",)),
        (("product", "--fields", "sku:str?:unique=x"), ("unique and has a default",)),
        (("product", "--fields", "customer:ref?"), ("'customer'", "not an entity of this service")),
        (("product", "--fields", "parent:ref(product)"), ("'product' itself", "nullable")),
        (("product", "--fields"), ("--fields",)),
        (("product", "--colour"), ("--colour",)),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(
    project: Path, args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    refused(project, *args, fragments=fragments)


def test_a_dirty_tree_is_refused(project: Path) -> None:
    (project / "notes.txt").write_text("mine\n")
    refused(project, "product", "--fields", NEW, fragments=("notes.txt", "--allow-dirty"))


def test_help_names_the_grammar() -> None:
    completed = assert_exit(run("add-fields", "--help", cwd=REPO_ROOT))
    assert "name:type[?][:unique][:index][=default]" in completed.stdout
    assert "(a reference, '?')" in " ".join(completed.stdout.split())
