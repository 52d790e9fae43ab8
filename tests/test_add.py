"""`add` end to end, in-process, for every design-ORM pair (docs/design.md §3 add).

Projects are made with `create_project` and a fake lock (``new_project``); `add` runs for
real: templates, libcst edits, ruff. What is checked is the contract: files at the configured
paths, the route registered, the table defined, the repository exported, the entity's tests
generated, the entity recorded, lint passing, every import resolvable, changes uncommitted.
"""

from __future__ import annotations

import ast
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from scaffold.errors import OperationFailed, UsageError
from scaffold.matrix import Design
from scaffold.operations.add import AddResult, add_entity
from scaffold.project.config import load_project
from scaffold.project.layout import module_path
from tests.conftest import ProjectFactory, tree_state
from tests.helpers import RUFF, git

PAIRS = ["ddd-sqlalchemy-uv", "ddd-tortoise-uv", "mvc-sqlalchemy-uv", "mvc-tortoise-uv"]
SPEC = "name:str price:decimal in_stock:bool"
EVERY_TYPE = (
    "title:str body:text? quantity:int ratio:float? amount:decimal active:bool "
    "born:date? seen_at:datetime token:uuid? meta:json"
)


# --- static checks of the generated code ----------------------------------------------------


def _top_level_names(body: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.If | ast.Try):
            names |= _top_level_names(node.body) | _top_level_names(node.orelse)
    return names


def _module_file(src: Path, dotted: str) -> Path | None:
    base = src.joinpath(*dotted.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _absolute(src: Path, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = list(path.relative_to(src).parent.parts)
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, *([node.module] if node.module else [])])


def unresolved_imports(project: Path) -> list[str]:
    """Imports of ``app`` modules (and dotted ``app.`` strings) that name nothing on disk."""
    src = project / "src"
    problems: list[str] = []
    files = [*src.rglob("*.py"), *(project / "tests").rglob("*.py")]
    files += list((project / "migrations").rglob("*.py")) + list(
        (project / "scripts").rglob("*.py")
    )
    for path in files:
        where = path.relative_to(project).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), where)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = _absolute(src, path, node) if path.is_relative_to(src) else node.module
                if not module or module.split(".")[0] != "app":
                    continue
                target = _module_file(src, module)
                if target is None:
                    problems.append(f"{where}: no module {module}")
                    continue
                defined = _top_level_names(ast.parse(target.read_text(encoding="utf-8")).body)
                for alias in node.names:
                    if alias.name == "*" or alias.name in defined:
                        continue
                    if _module_file(src, f"{module}.{alias.name}") is None:
                        problems.append(f"{where}: {module} has no {alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "app" and _module_file(src, alias.name) is None:
                        problems.append(f"{where}: no module {alias.name}")
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"app(\.\w+)+", node.value)
                and path.is_relative_to(src)
                # A dotted string into one of the app's packages (Tortoise's model modules).
                and _module_file(src, ".".join(node.value.split(".")[:2])) is not None
            ):
                module, _, attribute = node.value.rpartition(".")
                if _module_file(src, node.value) is None and (
                    (target := _module_file(src, module)) is None
                    or attribute
                    not in _top_level_names(ast.parse(target.read_text(encoding="utf-8")).body)
                ):
                    problems.append(f"{where}: the string {node.value!r} names no module")
    return problems


def ruff_passes(project: Path, paths: list[Path]) -> None:
    names = [str(path.relative_to(project)) for path in paths if path.suffix == ".py"]
    for args in (["check"], ["format", "--check"]):
        completed = subprocess.run(
            [str(RUFF), *args, *names], cwd=project, capture_output=True, text=True, check=False
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def registry_of(project: Path) -> Path:
    config = load_project(project)
    if config.stack.design is Design.DDD:
        return config.add_paths["presentation_path"] / "__init__.py"
    return config.add_paths["urls_path"]


def exports_of(project: Path) -> Path:
    config = load_project(project)
    repository = config.add_paths["database_repository_path"]
    return repository / "__init__.py" if repository.is_dir() else repository


def routes_package(project: Path) -> str:
    config = load_project(project)
    key = "presentation_path" if config.stack.design is Design.DDD else "views_path"
    return module_path(config.root, config.add_paths[key])


def imported_names(tree: ast.Module, module: str) -> set[str]:
    return {
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == module and node.level == 0
        for alias in node.names
    }


def registered(tree: ast.Module) -> list[str]:
    """The ``<module>.register(app)`` calls in ``register_routes``, in order."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "register_routes":
            return [
                statement.value.func.value.id
                for statement in node.body
                if isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Call)
                and isinstance(statement.value.func, ast.Attribute)
                and statement.value.func.attr == "register"
                and isinstance(statement.value.func.value, ast.Name)
            ]
    raise AssertionError("register_routes is missing")


def all_entries(tree: ast.Module) -> list[str]:
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if isinstance(target, ast.Name) and target.id == "__all__":
            value = node.value  # type: ignore[attr-defined]
            return [element.value for element in value.elts]
    raise AssertionError("__all__ is missing")


def class_names(path: Path) -> set[str]:
    return {node.name for node in parse(path).body if isinstance(node, ast.ClassDef)}


def assert_entity_added(project: Path, result: AddResult, module: str, class_name: str) -> None:
    """Everything docs/design.md §3 add promises after adding ``module``."""
    config = load_project(project)
    dir_keys = [key for key, path in config.add_paths.items() if not path.suffix]
    for key in dir_keys:
        folder = config.add_paths[key]
        assert any(
            path.is_relative_to(folder) and module in path.relative_to(folder).as_posix()
            for path in result.created
        ), f"nothing created for {module} in {key} ({folder})"
    for path in result.created:
        assert path.is_file(), path
    # The route module is imported and registered.
    registry = parse(registry_of(project))
    assert module in imported_names(registry, routes_package(project))
    assert registered(registry)[-1] == module
    assert _module_file(project / "src", f"{routes_package(project)}.{module}") is not None
    # The table/model class is defined.
    tables = config.add_paths["database_table_path"]
    assert any(name.startswith(class_name) for name in class_names(tables)), class_names(tables)
    # The repository is exported.
    exports = exports_of(project)
    assert f"{class_name}Repository" in all_entries(parse(exports))
    assert f"{class_name}Repository" in _top_level_names(parse(exports).body)
    # The entity's own tests are generated.
    generated_tests = [
        path
        for path in result.created
        if path.is_relative_to(project / "tests") and re.fullmatch(r"test_.*\.py", path.name)
    ]
    assert generated_tests and all(module in path.name for path in generated_tests)
    # Every changed file parses, lints and is laid out like ruff does; imports resolve.
    changed = [*result.created, *result.modified]
    for path in changed:
        if path.suffix == ".py":
            parse(path)
    ruff_passes(project, changed)
    assert unresolved_imports(project) == []
    assert "{{" not in "".join(path.read_text(encoding="utf-8") for path in changed)


def uncommitted(project: Path) -> set[str]:
    return {
        line[3:]
        for line in git(project, "status", "--porcelain", "--untracked-files=all").splitlines()
    }


# --- the baseline the checks rely on --------------------------------------------------------


@pytest.mark.parametrize("stack_id", PAIRS)
def test_a_fresh_project_resolves_its_own_imports(
    new_project: ProjectFactory, stack_id: str
) -> None:
    project = new_project(stack_id)
    assert unresolved_imports(project) == []
    assert git(project, "status", "--porcelain") == ""


def test_the_import_check_finds_a_missing_module(new_project: ProjectFactory) -> None:
    project = new_project("mvc-sqlalchemy-uv")
    urls = project / "src/app/urls.py"
    urls.write_text(urls.read_text() + "from app.views import nothing_here\n")
    assert unresolved_imports(project) == ["src/app/urls.py: app.views has no nothing_here"]


# --- add in every pair ----------------------------------------------------------------------


@pytest.mark.parametrize("stack_id", PAIRS)
def test_add_product(new_project: ProjectFactory, stack_id: str) -> None:
    project = new_project(stack_id)
    head = git(project, "rev-parse", "HEAD")
    result = add_entity(project=project, entity="product", fields=SPEC)

    assert not result.dry_run
    assert result.entity.module == "product"
    assert " ".join(field.spec for field in result.fields) == SPEC
    assert_entity_added(project, result, "product", "Product")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["tool"]["robyn-config"]["entities"] == {"product": SPEC}
    assert project / "pyproject.toml" in result.modified
    assert registry_of(project) in result.modified
    assert exports_of(project) in result.modified

    # Left uncommitted for review: exactly what add reports, nothing else.
    assert git(project, "rev-parse", "HEAD") == head
    changed = {path.relative_to(project).as_posix() for path in result.modified}
    created = {path.relative_to(project).as_posix() for path in result.created}
    assert uncommitted(project) == changed | created

    # The same entity again, in any spelling, is refused before anything is written.
    before = tree_state(project)
    for spelling in ("product", "Product"):
        with pytest.raises(UsageError, match="already exists") as caught:
            add_entity(project=project, entity=spelling, allow_dirty=True)
        assert caught.value.exit_code == 2
    assert tree_state(project) == before


@pytest.mark.parametrize("stack_id", PAIRS)
def test_a_second_entity_with_every_field_type(new_project: ProjectFactory, stack_id: str) -> None:
    project = new_project(stack_id)
    add_entity(project=project, entity="product", fields=SPEC)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "add product")
    result = add_entity(project=project, entity="OrderItem", fields=EVERY_TYPE)
    assert_entity_added(project, result, "order_item", "OrderItem")
    assert registered(parse(registry_of(project)))[-2:] == ["product", "order_item"]
    assert all_entries(parse(exports_of(project)))[-2:] == [
        "OrderItemRepository",
        "ProductRepository",
    ] or all_entries(parse(exports_of(project))) == ["ProductRepository", "OrderItemRepository"]
    entities = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["robyn-config"]
    assert entities["entities"] == {"product": SPEC, "order_item": EVERY_TYPE}


@pytest.mark.parametrize("stack_id", ["ddd-sqlalchemy-uv", "mvc-tortoise-uv"])
def test_default_fields(new_project: ProjectFactory, stack_id: str) -> None:
    project = new_project(stack_id)
    result = add_entity(project=project, entity="category")
    assert result.entity.plural == "categories"
    assert_entity_added(project, result, "category", "Category")
    entities = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["robyn-config"]
    assert entities["entities"] == {"category": "name:str"}


@pytest.mark.parametrize("stack_id", PAIRS)
def test_dry_run_reports_the_plan_and_changes_nothing(
    new_project: ProjectFactory, stack_id: str
) -> None:
    project = new_project(stack_id)
    before = tree_state(project)
    result = add_entity(project=project, entity="product", fields=SPEC, dry_run=True)
    assert tree_state(project) == before
    assert result.dry_run
    assert result.created and result.modified
    assert not any(path.exists() for path in result.created)
    assert set(result.diffs) == set(result.modified)
    for path, diff in result.diffs.items():
        name = path.relative_to(project).as_posix()
        assert diff.startswith(f"--- a/{name}\n+++ b/{name}\n@@ ")
    assert (
        '+product = "name:str price:decimal in_stock:bool"'
        in result.diffs[project / "pyproject.toml"].splitlines()
    )
    # The dry run plans exactly what the real run does.
    real = add_entity(project=project, entity="product", fields=SPEC)
    assert (real.created, real.modified) == (result.created, result.modified)
    for path in real.modified:
        assert real.diffs[path] == result.diffs[path]


def test_dry_run_is_allowed_on_a_dirty_tree(new_project: ProjectFactory) -> None:
    project = new_project()
    (project / "scratch.txt").write_text("mine\n")
    before = tree_state(project)
    add_entity(project=project, entity="product", dry_run=True)
    assert tree_state(project) == before


def test_an_entity_file_already_on_disk_is_not_overwritten(new_project: ProjectFactory) -> None:
    project = new_project("mvc-sqlalchemy-uv")
    plan = add_entity(project=project, entity="product", dry_run=True)
    test_file = next(path for path in plan.created if path.is_relative_to(project / "tests"))
    test_file.write_text("# the operator's own test\n")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "own test")
    before = tree_state(project)
    with pytest.raises(UsageError, match="would be overwritten") as caught:
        add_entity(project=project, entity="product")
    assert test_file.relative_to(project).as_posix() in caught.value.message
    assert tree_state(project) == before


@pytest.mark.parametrize(
    ("entity", "fragment"),
    [("healthcheck", "shadow"), ("responses", "shadow"), ("config", "shadow"), ("app", "shadow")],
)
@pytest.mark.parametrize("stack_id", ["ddd-sqlalchemy-uv", "mvc-sqlalchemy-uv"])
def test_names_of_the_apps_own_modules_are_refused(
    new_project: ProjectFactory, stack_id: str, entity: str, fragment: str
) -> None:
    project = new_project(stack_id)
    before = tree_state(project)
    with pytest.raises(UsageError, match=fragment):
        add_entity(project=project, entity=entity)
    assert tree_state(project) == before


@pytest.mark.parametrize("stack_id", PAIRS)
def test_references_to_an_entity_of_the_service_and_nullably_to_itself(
    new_project: ProjectFactory, stack_id: str
) -> None:
    project = new_project(stack_id)
    add_entity(project=project, entity="customer")
    order = "customer:ref buyer:ref(customer)?:set-null parent:ref(order)? total:decimal=0"
    add_entity(project=project, entity="order", fields=order, allow_dirty=True)
    entities = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["robyn-config"]
    assert entities["entities"] == {"customer": "name:str", "order": order}


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ("customer:ref", "'customer', which is not an entity of this service"),
        ("parent:ref(order)", "itself and is required"),
    ],
)
def test_a_reference_add_cannot_resolve_is_refused(
    new_project: ProjectFactory, fields: str, fragment: str
) -> None:
    project = new_project("mvc-tortoise-uv")
    before = tree_state(project)
    with pytest.raises(UsageError, match=fragment) as caught:
        add_entity(project=project, entity="order", fields=fields)
    assert caught.value.exit_code == 2
    assert tree_state(project) == before


def test_a_project_reached_through_a_symlink(new_project: ProjectFactory, tmp_path: Path) -> None:
    project = new_project("ddd-sqlalchemy-uv")
    link = tmp_path / "link"
    link.symlink_to(project)
    result = add_entity(project=link, entity="product", fields=SPEC)
    assert_entity_added(project.resolve(), result, "product", "Product")


# --- git guard ------------------------------------------------------------------------------


def _tracked_modification(project: Path) -> str:
    (project / "README.md").write_text("# edited by the operator\n")
    return "README.md"


def _staged_change(project: Path) -> str:
    (project / "Makefile").write_text((project / "Makefile").read_text() + "\n# staged\n")
    git(project, "add", "Makefile")
    return "Makefile"


def _untracked_file(project: Path) -> str:
    (project / "notes").mkdir()
    (project / "notes" / "todo.md").write_text("untracked\n")
    return "notes/todo.md"


@pytest.mark.parametrize("make_dirty", [_tracked_modification, _staged_change, _untracked_file])
def test_a_dirty_tree_is_refused_listing_the_paths(
    new_project: ProjectFactory, make_dirty: object
) -> None:
    project = new_project()
    dirty = make_dirty(project)  # type: ignore[operator]
    before = tree_state(project)
    with pytest.raises(UsageError) as caught:
        add_entity(project=project, entity="product")
    assert caught.value.exit_code == 2
    assert dirty in caught.value.message
    assert "--allow-dirty" in caught.value.message
    assert tree_state(project) == before


def test_ignored_files_do_not_make_the_tree_dirty(new_project: ProjectFactory) -> None:
    project = new_project()
    (project / ".env").write_text("DATABASE_URL=sqlite:///./app.db\n")
    (project / "app.db").write_bytes(b"SQLite format 3\x00")
    (project / ".venv" / "bin").mkdir(parents=True)
    assert git(project, "status", "--porcelain") == ""
    add_entity(project=project, entity="product")


@pytest.mark.parametrize("stack_id", ["ddd-tortoise-uv", "mvc-sqlalchemy-uv"])
def test_allow_dirty_proceeds_and_keeps_every_operator_change(
    new_project: ProjectFactory, stack_id: str
) -> None:
    project = new_project(stack_id)
    registry = registry_of(project)
    # The operator's own edits, including in files add edits too.
    registry.write_text(
        registry.read_text().replace(
            "healthcheck.register(app)\n",
            "healthcheck.register(app)  # the operator's note on routes\n",
        )
    )
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[project]", "# staged note\n[project]"))
    git(project, "add", "pyproject.toml")
    staged = git(project, "diff", "--cached")
    _tracked_modification(project)
    untracked = _untracked_file(project)

    result = add_entity(project=project, entity="product", fields=SPEC, allow_dirty=True)
    assert_entity_added(project, result, "product", "Product")
    assert "# the operator's note on routes" in registry.read_text()
    assert "# staged note\n[project]" in pyproject.read_text()
    assert (project / "README.md").read_text() == "# edited by the operator\n"
    assert (project / untracked).read_text() == "untracked\n"
    assert git(project, "diff", "--cached") == staged  # add stages nothing


# --- [tool.robyn-config.add] overrides ------------------------------------------------------


def _move(
    project: Path, moves: dict[str, str], modules: dict[str, str], paths: dict[str, str]
) -> None:
    """Move files with git, rewrite module references, configure the paths, commit."""
    for old, new in moves.items():
        (project / new).parent.mkdir(parents=True, exist_ok=True)
        git(project, "mv", old, new)
    for path in [*project.rglob("*.py"), *project.rglob("*.ini"), project / "pyproject.toml"]:
        if ".git" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        updated = text
        for old_module in sorted(modules, key=len, reverse=True):
            updated = re.sub(rf"\b{re.escape(old_module)}\b", modules[old_module], updated)
        if updated != text:
            path.write_text(updated, encoding="utf-8")
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    for key, value in paths.items():
        text, count = re.subn(rf'(?m)^{key} = ".*"$', f'{key} = "{value}"', text)
        assert count == 1, key
    pyproject.write_text(text)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "move things around")
    assert unresolved_imports(project) == []


MVC_MOVES = {
    "moves": {
        "src/app/urls.py": "src/app/routing.py",
        "src/app/views": "src/app/web",
        "src/app/models/models.py": "src/app/models/tables.py",
        "src/app/models/repository.py": "src/app/store.py",
    },
    "modules": {
        "app.urls": "app.routing",
        "app.views": "app.web",
        "app.models.models": "app.models.tables",
        "app.models.repository": "app.store",
    },
    "paths": {
        "urls_path": "src/app/routing.py",
        "views_path": "src/app/web",
        "database_table_path": "src/app/models/tables.py",
        "database_repository_path": "src/app/store.py",
    },
}

DDD_MOVES = {
    "moves": {
        "src/app/presentation": "src/app/api",
        "src/app/domain": "src/app/core",
        "src/app/operational": "src/app/use_cases",
        "src/app/infrastructure/database/repository": "src/app/infrastructure/database/repos",
        "src/app/infrastructure/database/tables.py": "src/app/infrastructure/database/schema.py",
    },
    "modules": {
        "app.presentation": "app.api",
        "app.domain": "app.core",
        "app.operational": "app.use_cases",
        "app.infrastructure.database.repository": "app.infrastructure.database.repos",
        "app.infrastructure.database.tables": "app.infrastructure.database.schema",
    },
    "paths": {
        "presentation_path": "src/app/api",
        "domain_path": "src/app/core",
        "operational_path": "src/app/use_cases",
        "database_repository_path": "src/app/infrastructure/database/repos",
        "database_table_path": "src/app/infrastructure/database/schema.py",
    },
}


@pytest.mark.parametrize(
    ("stack_id", "moves"),
    [
        ("ddd-sqlalchemy-uv", DDD_MOVES),
        ("ddd-tortoise-uv", DDD_MOVES),
        ("mvc-sqlalchemy-uv", MVC_MOVES),
        ("mvc-tortoise-uv", MVC_MOVES),
    ],
)
def test_configured_paths_are_honoured(
    new_project: ProjectFactory, stack_id: str, moves: dict[str, dict[str, str]]
) -> None:
    project = new_project(stack_id)
    _move(project, moves["moves"], moves["modules"], moves["paths"])
    result = add_entity(project=project, entity="product", fields=SPEC)
    assert_entity_added(project, result, "product", "Product")
    for old in moves["moves"]:
        assert not (project / old).exists(), f"add recreated {old}"
    for path in [*result.created, *result.modified]:
        relative = path.relative_to(project).as_posix()
        assert not any(relative.startswith(old) for old in moves["moves"]), relative
    generated = "".join(
        path.read_text(encoding="utf-8") for path in [*result.created, *result.modified]
    )
    for old_module in moves["modules"]:
        assert not re.search(rf"\b{re.escape(old_module)}\b", generated), old_module


def test_a_single_configured_path_can_move_alone(new_project: ProjectFactory) -> None:
    project = new_project("mvc-sqlalchemy-uv")
    _move(
        project,
        {"src/app/urls.py": "src/app/routing.py"},
        {"app.urls": "app.routing"},
        {"urls_path": "src/app/routing.py"},
    )
    result = add_entity(project=project, entity="product")
    assert project / "src/app/routing.py" in result.modified
    assert registered(parse(project / "src/app/routing.py")) == ["healthcheck", "product"]
    assert not (project / "src/app/urls.py").exists()


def test_a_missing_registry_file_is_refused_naming_the_setting(new_project: ProjectFactory) -> None:
    project = new_project("mvc-sqlalchemy-uv")
    git(project, "rm", "-q", "src/app/urls.py")
    git(project, "commit", "-q", "-m", "drop urls")
    before = tree_state(project)
    with pytest.raises(UsageError) as caught:
        add_entity(project=project, entity="product")
    assert "src/app/urls.py does not exist" in caught.value.message
    assert "[tool.robyn-config.add]" in caught.value.message
    assert tree_state(project) == before


@pytest.mark.parametrize(
    ("stack_id", "removed"),
    [
        ("ddd-sqlalchemy-uv", "src/app/domain/listing.py"),
        ("ddd-tortoise-uv", "src/app/infrastructure/database/queries.py"),
        ("mvc-sqlalchemy-uv", "src/app/views/list_query.py"),
        ("mvc-tortoise-uv", "src/app/models/queries.py"),
    ],
)
def test_a_project_made_before_the_list_modules_is_refused(
    new_project: ProjectFactory, stack_id: str, removed: str
) -> None:
    """An older service lacks what an entity's list imports: refused, nothing written."""
    project = new_project(stack_id)
    git(project, "rm", "-q", removed)
    git(project, "commit", "-q", "-m", "as an older robyn-config made it")
    before = tree_state(project)
    with pytest.raises(UsageError) as caught:
        add_entity(project=project, entity="product")
    assert f"it lacks {removed};" in caught.value.message
    assert "\n" not in caught.value.message
    assert tree_state(project) == before


def test_a_responses_module_without_the_list_envelope_is_refused(
    new_project: ProjectFactory,
) -> None:
    project = new_project("mvc-tortoise-uv")
    responses = project / "src/app/views/responses.py"
    responses.write_text(responses.read_text().replace("def listed(", "def page("))
    git(project, "commit", "-q", "-am", "an older responses module")
    with pytest.raises(UsageError) as caught:
        add_entity(project=project, entity="product")
    assert "lacks src/app/views/responses.py;" in caught.value.message


@pytest.mark.parametrize("stack_id", ["ddd-sqlalchemy-uv", "mvc-sqlalchemy-uv"])
def test_a_registry_without_register_routes_is_refused(
    new_project: ProjectFactory, stack_id: str
) -> None:
    project = new_project(stack_id)
    registry = registry_of(project)
    registry.write_text(registry.read_text().replace("def register_routes", "def routes"))
    git(project, "commit", "-q", "-am", "rename the registry function")
    before = tree_state(project)
    with pytest.raises(UsageError) as caught:
        add_entity(project=project, entity="product")
    assert registry.relative_to(project).as_posix() in caught.value.message
    assert "def register_routes(app: Robyn) -> None:" in caught.value.message
    assert tree_state(project) == before


# --- entity names that collide with names the generated code uses ---------------------------

# Found by probing: these names made generated code that failed lint in some pairs
# (e.g. ``decimal`` next to ``from decimal import Decimal``, ``any`` next to ``typing.Any``,
# ``base`` next to the declarative ``Base``); add now refuses them up front.
COLLIDING = ["decimal", "response", "request", "robyn", "pydantic", "any", "base"]


@pytest.mark.parametrize("entity", [*COLLIDING, "model", "uuid", "json", "status"])
def test_a_risky_name_is_generated_cleanly_or_refused_up_front(
    new_project: ProjectFactory, entity: str
) -> None:
    """Never a failed add for a name: either it works in every pair or it is a usage error."""
    outcomes: dict[str, str] = {}
    for stack_id in PAIRS:
        project = new_project(stack_id)
        try:
            add_entity(project=project, entity=entity, fields="name:str value:decimal")
            outcomes[stack_id] = "added"
        except UsageError:
            outcomes[stack_id] = "refused"
        except OperationFailed as error:
            outcomes[stack_id] = f"failed: {error.message.splitlines()[0]}"
    assert all(outcome in {"added", "refused"} for outcome in outcomes.values()), outcomes
