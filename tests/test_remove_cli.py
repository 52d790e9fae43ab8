"""`robyn-config remove` through the installed console script (docs/design.md §3 remove).

Refusals: exit status 2, exactly one line on stderr, no status line, nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from invoke.context import Context
from invoke.exceptions import Exit

from scaffold.cli import tasks as commands
from scaffold.operations import remove as remove_module
from scaffold.operations.add import add_entity
from tests.conftest import ProjectFactory, tree_state
from tests.helpers import INVOKE, PYTHON, REPO_ROOT, assert_exit, assert_usage_error, git
from tests.test_cli import run

SPEC = "name:str price:decimal"
STATUSES = {"delete", "modify", "would delete", "would modify"}


@pytest.fixture
def project(new_project: ProjectFactory) -> Path:
    """A ddd-sqlalchemy-uv project with ``product`` added and committed."""
    root = new_project("ddd-sqlalchemy-uv")
    add_entity(project=root, entity="product", fields=SPEC)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "add product")
    return root


def refused(project: Path, *args: str, fragments: tuple[str, ...] = ()) -> str:
    before = tree_state(project)
    completed = run("remove", *args, cwd=project)
    line = assert_usage_error(completed, *fragments)
    assert completed.stdout == ""
    assert tree_state(project) == before
    return line


def statuses(stdout: str) -> dict[str, str]:
    """path -> status word(s), from the status lines."""
    found = {}
    for line in stdout.splitlines():
        *status, path = line.split() or [""]
        if " ".join(status) in STATUSES:
            found[path] = " ".join(status)
    return found


def test_remove_reports_each_path_and_the_next_steps(project: Path) -> None:
    head = git(project, "rev-parse", "HEAD")
    completed = assert_exit(run("remove", "product", str(project), cwd=project.parent))
    assert completed.stderr == ""
    shown = statuses(completed.stdout)
    assert shown["src/app/presentation/product/routes.py"] == "delete"
    assert shown[".robyn-config/product.toml"] == "delete"
    assert shown["pyproject.toml"] == "modify"
    assert shown["src/app/presentation/__init__.py"] == "modify"
    assert set(shown.values()) == {"delete", "modify"}
    last = completed.stdout.splitlines()[-1]
    assert last.startswith("Removed Product (/products); the changes are left uncommitted")
    assert "'make makemigration MIGRATION_MESSAGE=remove_product'" in last
    assert "drops the products table" in last
    assert git(project, "rev-parse", "HEAD") == head
    assert git(project, "diff", "HEAD~1", "--stat") == ""


def test_the_project_defaults_to_the_current_directory(project: Path) -> None:
    assert_exit(run("remove", "Product", cwd=project))
    assert "product" not in (project / "pyproject.toml").read_text()


@pytest.mark.parametrize(
    "program", [(str(PYTHON), "-m", "scaffold"), (str(INVOKE), "--search-root", str(REPO_ROOT))]
)
def test_the_other_entry_points_run_the_same_task(project: Path, program: tuple[str, ...]) -> None:
    completed = run("remove", "product", "--dry-run", cwd=project, program=program)
    assert_exit(completed)
    assert "would delete  tests/test_product_api.py" in completed.stdout


def test_the_dry_run_prints_the_plan_and_diffs_and_writes_nothing(project: Path) -> None:
    (project / "scratch.txt").write_text("a dry run is allowed on a dirty tree\n")
    before = tree_state(project)
    completed = assert_exit(run("remove", "product", "--dry-run", cwd=project))
    assert tree_state(project) == before
    lines = completed.stdout.splitlines()
    assert lines[0] == "Dry run: nothing will be written."
    assert lines[-1] == f"Dry run: {project} was not changed."
    shown = statuses(completed.stdout)
    assert set(shown.values()) == {"would delete", "would modify"}
    assert shown["src/app/domain/product/entities.py"] == "would delete"
    for name, status in shown.items():
        if status == "would modify":
            assert f"--- a/{name}" in lines and f"+++ b/{name}" in lines
    assert '-product = "name:str price:decimal"' in lines
    assert "-    product.register(app)" in lines


def test_force_names_the_changed_files_it_deleted(project: Path) -> None:
    routes = project / "src/app/presentation/product/routes.py"
    routes.write_text(routes.read_text() + "# mine\n")
    git(project, "commit", "-q", "-am", "the operator's change")
    line = refused(
        project,
        "product",
        fragments=("Not removing 'product': src/app/presentation/product/routes.py", "--force"),
    )
    assert line.endswith("nothing was written, pass --force to delete them too.")
    completed = assert_exit(run("remove", "product", "--force", cwd=project))
    assert (
        "Deleted under --force, although changed since add wrote them: "
        "src/app/presentation/product/routes.py." in completed.stdout
    )
    assert not routes.exists()


def test_an_entity_that_does_not_exist(project: Path) -> None:
    refused(
        project,
        "order-item",
        fragments=("The entity 'order_item' does not exist in", "[tool.robyn-config.entities]"),
    )


def test_an_entity_another_refers_to(project: Path) -> None:
    add_entity(project=project, entity="order", fields="product:ref")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "add order")
    refused(
        project,
        "product",
        "--force",
        fragments=("Not removing 'product': order.product refers to it", "remove order first"),
    )


@pytest.mark.parametrize(
    ("entity", "fragment"),
    [("", "The entity name is empty"), ("9lives", "starts with a digit")],
)
def test_bad_entity_names(project: Path, entity: str, fragment: str) -> None:
    refused(project, entity, fragments=(fragment,))


def test_a_dirty_tree_is_refused_before_anything_else(project: Path) -> None:
    (project / "scratch.txt").write_text("mine\n")
    refused(project, "product", fragments=("uncommitted changes: scratch.txt", "--allow-dirty"))
    assert_exit(run("remove", "product", "--allow-dirty", cwd=project))
    assert (project / "scratch.txt").read_text() == "mine\n"


def test_not_a_project(tmp_path: Path) -> None:
    completed = run("remove", "product", str(tmp_path), cwd=tmp_path)
    assert_usage_error(completed, "is not a robyn-config project")


def test_an_unknown_option(project: Path) -> None:
    refused(project, "product", "--no-such", fragments=("--no-such",))


def test_help_shows_the_options(project: Path) -> None:
    completed = assert_exit(run("remove", "--help", cwd=project))
    for option in ("--force", "--allow-dirty", "--dry-run"):
        assert option in completed.stdout
    listing = assert_exit(run("--list", cwd=project))
    assert "remove" in listing.stdout


def test_a_failed_lint_exits_1_and_rolls_back(project: Path) -> None:
    # The operator's stricter ruff configuration refuses what remove leaves in the registry.
    pyproject = project / "pyproject.toml"
    rules = 'select = ["E", "W", "F", "I", "B", "UP", "SIM", "RUF"]'
    pyproject.write_text(pyproject.read_text().replace(rules, 'select = ["ALL"]'))
    git(project, "commit", "-q", "-am", "strict lint")
    before = tree_state(project)
    completed = run("remove", "product", cwd=project)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    assert "ruff check" in completed.stderr
    assert completed.stderr.rstrip().endswith(
        "Rolled back: the project is as it was before remove."
    )
    assert not [line for line in completed.stdout.splitlines() if line.startswith(" ")]
    assert tree_state(project) == before


def test_ctrl_c_exits_130(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(**kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(remove_module, "remove_entity", interrupted)
    with pytest.raises(Exit) as caught:
        commands.remove(Context(), "product", str(project))
    assert caught.value.code == 130
    assert "rolled back" in str(caught.value.message)
