"""`robyn-config add` through the installed console script (docs/design.md §3 add).

Bad input: exit status 2, exactly one line on stderr, no traceback, nothing written.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from invoke.context import Context
from invoke.exceptions import Exit

from scaffold.cli import tasks as commands
from scaffold.operations import add as add_module
from tests.conftest import ProjectFactory, tree_state
from tests.helpers import CONSOLE_SCRIPT, PYTHON, assert_exit, assert_usage_error, git, run_program
from tests.test_cli import run

SPEC = "name:str price:decimal in_stock:bool"


@pytest.fixture
def project(new_project: ProjectFactory) -> Path:
    return new_project("ddd-sqlalchemy-uv")


def refused(project: Path, *args: str, fragments: tuple[str, ...] = (), cwd: Path) -> str:
    """Run add, expect a usage error naming ``fragments``, and nothing changed in ``project``.

    A refusal is all add prints: no status line comes before it (nothing was done).
    """
    before = tree_state(project)
    completed = run("add", *args, cwd=cwd)
    line = assert_usage_error(completed, *fragments)
    assert completed.stdout == ""
    assert tree_state(project) == before
    return line


# --- success ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stack_id", ["ddd-tortoise-uv", "mvc-sqlalchemy-uv"])
def test_add_reports_and_leaves_the_changes_uncommitted(
    new_project: ProjectFactory, stack_id: str, tmp_path: Path
) -> None:
    project = new_project(stack_id)
    head = git(project, "rev-parse", "HEAD")
    completed = run("add", "product", str(project), "--fields", SPEC, cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stderr == ""
    lines = completed.stdout.splitlines()
    statuses = {line.split()[0] for line in lines if line.startswith(" ")}
    assert statuses == {"create", "modify"}
    assert any(line.split() == ["modify", "pyproject.toml"] for line in lines)
    assert "Added Product at /products" in completed.stdout
    assert "uncommitted" in completed.stdout
    assert git(project, "rev-parse", "HEAD") == head
    status = git(project, "status", "--porcelain", "--untracked-files=all")
    assert " M pyproject.toml" in status.splitlines()
    assert any(line.startswith("??") and "product" in line for line in status.splitlines())
    assert (
        'product = "name:str price:decimal in_stock:bool"'
        in (project / "pyproject.toml").read_text()
    )


def test_project_defaults_to_the_current_directory(project: Path) -> None:
    completed = run("add", "order-item", cwd=project)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Added OrderItem at /order-items" in completed.stdout
    assert 'order_item = "name:str"' in (project / "pyproject.toml").read_text()


def test_python_dash_m_scaffold_add(project: Path) -> None:
    completed = run(
        "add", "product", "--dry-run", cwd=project, program=(str(PYTHON), "-m", "scaffold")
    )
    assert completed.returncode == 0, completed.stderr
    assert "Dry run" in completed.stdout


@pytest.mark.parametrize("stack_id", ["ddd-sqlalchemy-uv", "mvc-tortoise-uv"])
def test_dry_run_prints_the_plan_and_diffs_and_writes_nothing(
    new_project: ProjectFactory, stack_id: str
) -> None:
    project = new_project(stack_id)
    before = tree_state(project)
    completed = run("add", "product", "--fields", SPEC, "--dry-run", cwd=project)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert tree_state(project) == before
    out = completed.stdout
    assert out.splitlines()[0] == "Dry run: nothing will be written."
    assert "Dry run:" in out.splitlines()[-1] and "was not changed" in out.splitlines()[-1]
    lines = out.splitlines()
    created = [line.split()[2] for line in lines if line.split()[:2] == ["would", "create"]]
    modified = [line.split()[2] for line in lines if line.split()[:2] == ["would", "modify"]]
    assert created and "pyproject.toml" in modified
    # A dry run says what it would do, never what it did.
    assert not [line for line in lines if line.split()[:1] in (["create"], ["modify"])]
    for name in modified:
        assert f"--- a/{name}" in lines and f"+++ b/{name}" in lines
    assert '+product = "name:str price:decimal in_stock:bool"' in lines
    assert "+    product.register(app)" in lines
    assert any(line.startswith("@@ ") for line in lines)


def test_dry_run_on_a_dirty_tree_writes_nothing(project: Path) -> None:
    (project / "scratch.txt").write_text("mine\n")
    before = tree_state(project)
    completed = run("add", "product", "--dry-run", cwd=project)
    assert completed.returncode == 0, completed.stderr
    assert tree_state(project) == before


# --- refused input ----------------------------------------------------------------------------


def test_not_a_project_without_pyproject(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    refused(empty, "product", fragments=("not a robyn-config project", "pyproject.toml"), cwd=empty)


def test_not_a_project_without_the_table(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "other"\n')
    refused(
        other,
        "product",
        str(other),
        fragments=("not a robyn-config project", "[tool.robyn-config]"),
        cwd=tmp_path,
    )


def test_missing_project_directory(tmp_path: Path) -> None:
    assert_usage_error(run("add", "product", "nowhere", cwd=tmp_path), "nowhere", "not a directory")


def test_malformed_pyproject(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[broken\n")
    git(project, "commit", "-q", "-am", "break it")
    refused(project, "product", fragments=("not valid TOML", "line", "column"), cwd=project)


@pytest.mark.parametrize(
    ("key", "value", "choices"),
    [
        ("design", "hexagonal", "ddd, mvc"),
        ("orm", "django", "sqlalchemy, tortoise"),
        ("package_manager", "pip", "uv, poetry"),
    ],
)
def test_unknown_values_in_the_table(project: Path, key: str, value: str, choices: str) -> None:
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    lines = [
        f'{key} = "{value}"' if line.startswith(f"{key} = ") else line for line in text.split("\n")
    ]
    pyproject.write_text("\n".join(lines))
    git(project, "commit", "-q", "-am", "bad value")
    refused(project, "product", fragments=(key, repr(value), choices), cwd=project)


def test_unknown_key_in_the_add_table(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.robyn-config.add]\n", '[tool.robyn-config.add]\nviews_path = "src/app/v"\n'
        )
    )
    git(project, "commit", "-q", "-am", "mvc key in a ddd project")
    refused(project, "product", fragments=("'views_path'", "presentation_path"), cwd=project)


@pytest.mark.parametrize("value", ["../elsewhere", "/tmp/x"])
def test_a_configured_path_outside_the_project(project: Path, value: str) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('domain_path = "src/app/domain"', f'domain_path = "{value}"')
    )
    git(project, "commit", "-q", "-am", "escape")
    refused(project, "product", fragments=("domain_path", "leaves the project root"), cwd=project)


@pytest.mark.parametrize(
    ("entity", "fragment"),
    [
        ("", "empty"),
        ("class", "keyword"),
        ("1abc", "digit"),
        ("a$b", "'a$b'"),
        ("config", "shadow"),
        ("app", "shadow"),
        ("tests", "shadow"),
        ("healthcheck", "shadow"),
    ],
)
def test_bad_entity_names(project: Path, entity: str, fragment: str) -> None:
    refused(project, entity, fragments=(fragment,), cwd=project)


@pytest.mark.parametrize(
    ("fields", "fragments"),
    [
        ("price:money", ("'money'", "str text int float decimal bool date datetime uuid json")),
        ("name:str name:text", ("'name'", "twice")),
        ("id:int", ("'id'", "reserved")),
        ("created_at:datetime", ("'created_at'", "reserved")),
        ("updated_at:datetime", ("'updated_at'", "reserved")),
        ("Bad-Name:str", ("'Bad-Name'",)),
    ],
)
def test_bad_field_specs(project: Path, fields: str, fragments: tuple[str, ...]) -> None:
    refused(project, "product", "--fields", fields, fragments=fragments, cwd=project)


def test_entity_already_present(project: Path) -> None:
    completed = run("add", "product", cwd=project)
    assert completed.returncode == 0, completed.stderr
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "add product")
    for spelling in ("product", "Product"):
        refused(project, spelling, fragments=("'product'", "already exists"), cwd=project)


def test_entity_already_present_in_an_uncommitted_add(project: Path) -> None:
    assert run("add", "product", cwd=project).returncode == 0
    refused(project, "product", "--allow-dirty", fragments=("already exists",), cwd=project)


def _with_customer(project: Path) -> Path:
    assert run("add", "customer", cwd=project).returncode == 0
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "add customer")
    return project


@pytest.mark.parametrize(
    ("fields", "fragments"),
    [
        # docs/design.md §3 add: a reference names an entity of this service.
        (
            "buyer:ref(client)",
            ("'buyer'", "'client'", "not an entity of this service", "entities: customer"),
        ),
        ("supplier:ref", ("'supplier'", "not an entity", "'robyn-config add supplier'")),
        # A module of the app is no entity either.
        ("settings:ref(settings)", ("'settings'", "not an entity of this service")),
        ("config:ref?", ("'config'", "not an entity of this service")),
        # To itself only nullably: its first row has nothing to refer to.
        ("parent:ref(order)", ("'parent'", "'order' itself", "'parent:ref(order)?'")),
        ("parent:ref(order):cascade", ("'parent'", "itself", "'parent:ref(order)?:cascade'")),
    ],
)
def test_a_reference_to_no_entity_of_the_service_is_refused(
    project: Path, fields: str, fragments: tuple[str, ...]
) -> None:
    _with_customer(project)
    refused(project, "order", "--fields", fields, fragments=fragments, cwd=project)


def test_a_reference_in_a_project_without_entities_names_none(project: Path) -> None:
    refused(
        project,
        "order",
        "--fields",
        "customer:ref",
        fragments=("'customer'", "(entities: none yet)", "add it first"),
        cwd=project,
    )


def test_help_names_the_reference_grammar(project: Path) -> None:
    completed = assert_exit(run("add", "--help", cwd=project))
    assert "'customer:ref' (or 'buyer:ref(customer)')" in " ".join(completed.stdout.split())


def test_a_reference_is_refused_before_the_dirty_tree(project: Path) -> None:
    (project / "notes.txt").write_text("uncommitted\n")
    refused(project, "order", "--fields", "customer:ref", fragments=("not an entity",), cwd=project)


@pytest.mark.parametrize(
    ("stack_id", "registry"),
    [
        ("ddd-sqlalchemy-uv", "src/app/presentation/__init__.py"),
        ("mvc-tortoise-uv", "src/app/urls.py"),
    ],
)
def test_registry_without_register_routes(
    new_project: ProjectFactory, stack_id: str, registry: str
) -> None:
    project = new_project(stack_id)
    path = project / registry
    path.write_text(path.read_text().replace("def register_routes(", "def setup_routes("))
    git(project, "commit", "-q", "-am", "rename")
    refused(
        project,
        "product",
        fragments=(registry, "register_routes", "def register_routes(app: Robyn) -> None:"),
        cwd=project,
    )


def test_registry_that_is_not_valid_python(project: Path) -> None:
    path = project / "src/app/presentation/__init__.py"
    path.write_text(path.read_text() + "\ndef broken(:\n")
    git(project, "commit", "-q", "-am", "break")
    refused(
        project,
        "product",
        fragments=("src/app/presentation/__init__.py", "not valid Python"),
        cwd=project,
    )


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ("modified", "README.md"),
        ("staged", "Makefile"),
        ("untracked", "notes.txt"),
    ],
)
def test_dirty_tree_is_refused_listing_the_paths(project: Path, change: str, path: str) -> None:
    target = project / path
    target.write_text((target.read_text() if target.exists() else "") + "operator\n")
    if change == "staged":
        git(project, "add", path)
    line = refused(project, "product", fragments=(path, "--allow-dirty"), cwd=project)
    assert "uncommitted changes" in line


def test_allow_dirty_proceeds_and_keeps_the_operator_changes(project: Path) -> None:
    (project / "notes.txt").write_text("operator\n")
    (project / "README.md").write_text("# mine\n")
    completed = run("add", "product", "--allow-dirty", cwd=project)
    assert completed.returncode == 0, completed.stderr
    assert (project / "notes.txt").read_text() == "operator\n"
    assert (project / "README.md").read_text() == "# mine\n"


def test_unknown_option(project: Path) -> None:
    refused(project, "product", "--frobnicate", fragments=("--frobnicate",), cwd=project)


def test_fields_without_a_value(project: Path) -> None:
    refused(project, "product", "--fields", fragments=("--fields",), cwd=project)


# --- failures at the CLI edge -------------------------------------------------------------------


def test_a_failed_lint_exits_1_with_the_findings_and_rolls_back(project: Path) -> None:
    # The operator's stricter ruff configuration refuses what add generated.
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    assert 'select = ["E", "W", "F", "I", "B", "UP", "SIM", "RUF"]' in text
    pyproject.write_text(
        text.replace('select = ["E", "W", "F", "I", "B", "UP", "SIM", "RUF"]', 'select = ["ALL"]')
    )
    git(project, "commit", "-q", "-am", "strict lint")
    before = tree_state(project)
    completed = run("add", "product", cwd=project)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    assert "ruff check" in completed.stderr
    assert completed.stderr.rstrip().endswith("Rolled back: the project is as it was before add.")
    # Nothing was done, so no path is reported as created or modified.
    assert not [line for line in completed.stdout.splitlines() if line.startswith(" ")]
    assert tree_state(project) == before


def test_ctrl_c_exits_130(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(**kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(add_module, "add_entity", interrupted)
    with pytest.raises(Exit) as caught:
        commands.add(Context(), "product", str(project))
    assert caught.value.code == 130
    assert "rolled back" in str(caught.value.message)


# --- slow: the real package manager, then the generated project's own tests ----------------------


@pytest.mark.e2e
def test_create_then_add_with_real_uv_and_run_the_entity_tests(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    def ok(*args: str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
        return assert_exit(run_program(*args, cwd=cwd, env=cli_env, timeout=timeout))

    ok(str(CONSOLE_SCRIPT), "create", "shop", cwd=tmp_path)
    project = tmp_path / "shop"
    ok(str(CONSOLE_SCRIPT), "add", "product", "--fields", SPEC, cwd=project)
    ok("uv", "sync", "--frozen", cwd=project)
    ok("uv", "run", "--frozen", "ruff", "check", ".", cwd=project)
    ok("uv", "run", "--frozen", "ruff", "format", "--check", ".", cwd=project)
    # The app lives in src/ (pytest's pythonpath); import every changed module of it.
    importer = "import sys; sys.path.insert(0, 'src'); import app.application, app.presentation"
    ok("uv", "run", "--frozen", "python", "-c", importer, cwd=project)
    tests = sorted((project / "tests").glob("test_product*.py"))
    assert tests
    ok(
        "uv",
        "run",
        "--frozen",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *map(str, tests),
        cwd=project,
    )
