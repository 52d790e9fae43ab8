"""Fast, in-process generation tests of every cell of the matrix (docs/design.md §3 create, §4).

Each cell is rendered in memory with ``blueprint.project_files``; file-system checks (ruff,
gitignore) write the rendered tree under ``tmp_path`` only.
"""

from __future__ import annotations

import ast
import configparser
import functools
import re
import subprocess
import tomllib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

import scaffold
from scaffold.generation import project as blueprint
from scaffold.generation.render import RenderedFile
from scaffold.matrix import STACKS, Design, Orm, PackageManager, Stack
from tests.helpers import RUFF, git, write_tree

NAME = "demo-service"
INDEX_URL = "https://mirror.invalid/pypi/simple"

cells = pytest.mark.parametrize("stack", STACKS, ids=[s.id for s in STACKS])

ADD_PATHS = {
    Design.DDD: {
        "domain_path": "src/app/domain",
        "operational_path": "src/app/operational",
        "presentation_path": "src/app/presentation",
        "database_repository_path": "src/app/infrastructure/database/repository",
        "database_table_path": "src/app/infrastructure/database/tables.py",
    },
    Design.MVC: {
        "views_path": "src/app/views",
        "database_repository_path": "src/app/models/repository.py",
        "database_table_path": "src/app/models/models.py",
        "urls_path": "src/app/urls.py",
    },
}

MAKE_TARGETS = [
    "install",
    "install.dev",
    "check",
    "fix",
    "tests",
    "tests.coverage",
    "makemigration",
    "migrate",
    "run",
    "run.dev",
    "run.compose",
    "backend.status",
    "backend.update",
    "backend.stop",
]

LEFTOVER_PARTS = {
    "__pycache__",
    ".venv",
    "venv",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".nox",
    ".tox",
    "dist",
    "build",
    ".git",
    "htmlcov",
    ".coverage",
}


@functools.cache
def _render(stack: Stack, index_url: str | None) -> tuple[RenderedFile, ...]:
    return tuple(blueprint.project_files(name=NAME, stack=stack, index_url=index_url))


def files_of(stack: Stack, index_url: str | None = None) -> dict[str, RenderedFile]:
    return {str(rendered.path): rendered for rendered in _render(stack, index_url)}


def text(files: Mapping[str, RenderedFile], path: str) -> str:
    assert path in files, f"{path} is not generated"
    return files[path].content.decode("utf-8")


def pyproject(stack: Stack, index_url: str | None = None) -> dict[str, Any]:
    return tomllib.loads(text(files_of(stack, index_url), "pyproject.toml"))


def _dependencies(data: Mapping[str, Any]) -> list[str]:
    """Runtime requirements as 'name spec' strings, PEP 621 or poetry style."""
    found = [str(item) for item in data.get("project", {}).get("dependencies", [])]
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {})
    found += [f"{name} {spec}" for name, spec in poetry.items() if name != "python"]
    return found


def _dev_dependencies(data: Mapping[str, Any]) -> list[str]:
    found = [str(item) for item in data.get("dependency-groups", {}).get("dev", [])]
    group = data.get("tool", {}).get("poetry", {}).get("group", {}).get("dev", {})
    found += list(group.get("dependencies", {}))
    return found


# --- every file -------------------------------------------------------------------------


@cells
def test_renders_without_error_and_is_not_empty(stack: Stack) -> None:
    files = files_of(stack)
    assert "pyproject.toml" in files
    assert any(path.startswith("src/app/") for path in files)


@cells
def test_no_template_syntax_left(stack: Stack) -> None:
    leftovers = {
        path: marker
        for path, rendered in files_of(stack, INDEX_URL).items()
        for marker in ("{{", "{%", "{#")
        if marker.encode() in rendered.content
    }
    assert leftovers == {}


@cells
def test_every_python_file_parses(stack: Stack) -> None:
    for path, rendered in files_of(stack).items():
        if path.endswith(".py"):
            ast.parse(rendered.content, filename=path)


@cells
def test_every_toml_and_yaml_file_loads(stack: Stack) -> None:
    for path, rendered in files_of(stack, INDEX_URL).items():
        if path.endswith(".toml"):
            tomllib.loads(rendered.content.decode("utf-8"))
        elif path.endswith((".yml", ".yaml")):
            list(yaml.safe_load_all(rendered.content))


@cells
def test_no_caches_venvs_or_databases_are_generated(stack: Stack) -> None:
    bad = [
        path
        for path in files_of(stack)
        if LEFTOVER_PARTS & set(PurePosixPath(path).parts)
        or path.endswith((".pyc", ".db", ".sqlite", ".sqlite3"))
        or PurePosixPath(path).name in {"app.db", ".env", "uv.lock", "poetry.lock"}
    ]
    assert bad == []


# --- pyproject.toml ------------------------------------------------------------------------


@cells
def test_pyproject_records_the_stack(stack: Stack) -> None:
    config = pyproject(stack)["tool"]["robyn-config"]
    assert config["design"] == stack.design.value
    assert config["orm"] == stack.orm.value
    assert config["package_manager"] == stack.package_manager.value
    assert config["template_version"] == scaffold.__version__


@cells
def test_pyproject_has_the_add_paths_of_the_design(stack: Stack) -> None:
    assert pyproject(stack)["tool"]["robyn-config"]["add"] == ADD_PATHS[stack.design]


@cells
def test_add_targets_exist_in_the_generated_tree(stack: Stack) -> None:
    files = files_of(stack)
    for key, target in ADD_PATHS[stack.design].items():
        if target.endswith(".py"):
            assert target in files, f"{key}: {target} is not generated"
        else:
            assert f"{target}/__init__.py" in files, f"{key}: package {target} is not generated"


@cells
def test_pyproject_names_the_project(stack: Stack) -> None:
    data = pyproject(stack)
    names = {
        data.get("project", {}).get("name"),
        data.get("tool", {}).get("poetry", {}).get("name"),
    }
    assert NAME in names


@cells
def test_dependencies_are_bounded_and_match_the_orm(stack: Stack) -> None:
    requirements = [item.lower() for item in _dependencies(pyproject(stack))]
    robyn = [item for item in requirements if re.match(r"robyn\b", item)]
    assert robyn, "robyn is not a dependency"
    assert any(marker in robyn[0] for marker in ("<", "^", "~", "==")), robyn[0]
    wanted = {"sqlalchemy": ("sqlalchemy", "alembic"), "tortoise": ("tortoise-orm", "aerich")}
    for package in wanted[stack.orm.value]:
        assert any(item.startswith(package) for item in requirements), package


@cells
def test_dev_group_has_the_check_tools(stack: Stack) -> None:
    dev = " ".join(_dev_dependencies(pyproject(stack))).lower()
    for tool in ("pytest", "ruff"):
        assert tool in dev


@cells
def test_without_index_url_no_index_is_configured(stack: Stack) -> None:
    tool = pyproject(stack)["tool"]
    assert "index" not in tool.get("uv", {})
    assert "source" not in tool.get("poetry", {})


@cells
def test_index_url_is_the_primary_index(stack: Stack) -> None:
    tool = pyproject(stack, INDEX_URL)["tool"]
    if stack.package_manager is PackageManager.UV:
        indexes = tool["uv"]["index"]
        assert [index["url"] for index in indexes if index.get("default") is True] == [INDEX_URL]
    else:
        sources = tool["poetry"]["source"]
        assert [s["url"] for s in sources if s.get("priority") == "primary"] == [INDEX_URL]


# --- migrations ----------------------------------------------------------------------------


@cells
def test_migration_tool_is_configured(stack: Stack) -> None:
    files = files_of(stack)
    if stack.orm is Orm.TORTOISE:
        aerich = pyproject(stack)["tool"]["aerich"]
        assert {"tortoise_orm", "location", "src_folder"} <= set(aerich)
        location = PurePosixPath(aerich["location"].removeprefix("./"))
        assert any(PurePosixPath(path).is_relative_to(location) for path in files), (
            f"no migrations folder {location} is generated"
        )
        assert "alembic.ini" not in files
    else:
        assert "alembic.ini" in files
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(text(files, "alembic.ini"))
        location = parser["alembic"]["script_location"].replace("%(here)s/", "")
        env_py = f"{location.strip('/').removeprefix('./')}/env.py"
        assert env_py == "migrations/env.py"
        source = text(files, env_py)
        tree = ast.parse(source)
        assert any(isinstance(node, ast.AsyncFunctionDef) for node in ast.walk(tree)), (
            "migrations/env.py has no async function"
        )
        assert "run_sync" in source
        assert "migrations/script.py.mako" in files
        assert "tool" not in pyproject(stack) or "aerich" not in pyproject(stack)["tool"]


# --- operations files ------------------------------------------------------------------------


@cells
def test_docker_compose_has_healthy_app_and_db(stack: Stack) -> None:
    compose = yaml.safe_load(text(files_of(stack), "docker-compose.yml"))
    services = compose["services"]
    assert {"app", "db"} <= set(services)
    for name in ("app", "db"):
        assert "healthcheck" in services[name], f"service {name} has no healthcheck"
        assert services[name]["healthcheck"].get("test"), f"service {name} healthcheck is empty"
    depends = services["app"]["depends_on"]
    assert isinstance(depends, dict), "app must wait for a healthy db, not a started one"
    assert depends["db"]["condition"] == "service_healthy"
    assert "postgres" in str(services["db"].get("image", ""))


@cells
def test_makefile_has_every_target(stack: Stack) -> None:
    makefile = text(files_of(stack), "Makefile")
    defined = set()
    for line in makefile.splitlines():
        match = re.match(r"^([A-Za-z0-9_.\- ]+?)\s*::?(?!=)", line)
        if match and not line.startswith((".PHONY", "\t")):
            defined.update(match.group(1).split())
    assert [target for target in MAKE_TARGETS if target not in defined] == []
    assert "MIGRATION_MESSAGE" in makefile


@cells
def test_start_script_is_executable(stack: Stack) -> None:
    start = files_of(stack)["scripts/start.sh"]
    assert start.executable
    assert start.content.startswith(b"#!")


@cells
def test_start_script_is_executable_once_written(stack: Stack, tmp_path: Path) -> None:
    files = files_of(stack)
    write_tree(tmp_path, [files["scripts/start.sh"]])
    assert (tmp_path / "scripts" / "start.sh").stat().st_mode & 0o100


@cells
def test_dockerfile_is_multi_stage_and_not_root(stack: Stack) -> None:
    dockerfile = text(files_of(stack), "Dockerfile")
    instructions = [line.strip() for line in dockerfile.splitlines()]
    stages = [line for line in instructions if re.match(r"FROM\s", line, re.IGNORECASE)]
    assert len(stages) >= 2, "the Dockerfile is not multi-stage"
    users = [line.split()[1] for line in instructions if re.match(r"USER\s", line, re.IGNORECASE)]
    assert users, "the Dockerfile never switches away from root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert stack.package_manager.value in dockerfile


@cells
def test_env_example_has_database_url(stack: Stack) -> None:
    example = text(files_of(stack), ".env.example")
    assert re.search(r"^DATABASE_URL=sqlite:///\./app\.db\s*$", example, re.MULTILINE)


@cells
def test_design_shape(stack: Stack) -> None:
    files = files_of(stack)
    if stack.design is Design.DDD:
        packages = [
            "config",
            "domain",
            "operational",
            "presentation",
            "infrastructure",
            "infrastructure/database",
        ]
        modules: list[str] = []
    else:
        packages = ["config", "models", "views", "middlewares"]
        modules = ["src/app/urls.py"]
    for package in packages:
        assert f"src/app/{package}/__init__.py" in files, package
    for module in modules:
        assert module in files
    assert "README.md" in files


# Where the templates shared by both designs (path keys) must land, stated independently.
SHARED_MODULES = {
    Design.DDD: [
        "src/app/presentation/responses.py",
        "src/app/presentation/fields.py",
        "src/app/infrastructure/database/connection.py",
        "src/app/infrastructure/database/tables.py",
    ],
    Design.MVC: [
        "src/app/views/responses.py",
        "src/app/views/fields.py",
        "src/app/models/database.py",
        "src/app/models/models.py",
    ],
}


@cells
def test_shared_templates_land_in_the_designs_modules(stack: Stack) -> None:
    files = files_of(stack)
    for module in SHARED_MODULES[stack.design]:
        assert module in files, module
    keys = [path for path in files if re.search(r"(^|/)__(?!init__|main__)\w+__", path)]
    assert keys == [], "path keys left in generated paths"


@pytest.mark.parametrize(
    "stack", [s for s in STACKS if s.orm is Orm.SQLALCHEMY], ids=lambda s: str(s.id)
)
def test_sqlalchemy_connection_imports_the_designs_tables(stack: Stack) -> None:
    connection, tables = SHARED_MODULES[stack.design][2:]
    dotted = tables.removeprefix("src/").removesuffix(".py").replace("/", ".")
    assert f"from {dotted} import Base\n" in text(files_of(stack), connection)


# --- on disk: git ignore rules and ruff ----------------------------------------------------


@pytest.fixture
def written(stack: Stack, tmp_path: Path) -> Path:
    return write_tree(tmp_path / NAME, _render(stack, None))


@cells
def test_gitignore_ignores_secrets_databases_caches_and_venvs(written: Path) -> None:
    git(written, "init", "-q")
    probes = [".env", "app.db", ".venv/bin/python", "src/app/__pycache__/x.cpython-311.pyc"]
    completed = subprocess.run(
        ["git", "check-ignore", "--no-index", *probes],
        cwd=written,
        capture_output=True,
        text=True,
        check=False,
    )
    assert sorted(completed.stdout.split()) == sorted(probes)


@cells
def test_no_generated_file_is_gitignored(written: Path, stack: Stack) -> None:
    # create commits every generated path; `git add` refuses ignored ones.
    git(written, "init", "-q")
    paths = sorted(files_of(stack))
    completed = subprocess.run(
        ["git", "check-ignore", "--no-index", *paths],
        cwd=written,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.stdout.split() == []


@cells
def test_ruff_check_passes_with_the_projects_own_config(written: Path) -> None:
    assert "ruff" in tomllib.loads((written / "pyproject.toml").read_text())["tool"]
    completed = subprocess.run(
        [str(RUFF), "check", "--no-cache", "."],
        cwd=written,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


@cells
def test_ruff_format_check_passes(written: Path) -> None:
    completed = subprocess.run(
        [str(RUFF), "format", "--check", "--no-cache", "."],
        cwd=written,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
