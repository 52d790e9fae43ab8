"""`doctor`: the create baseline and the post-add invariants, checked on an existing project.

Each check yields ``ok`` or one problem per thing wrong, with what to do about it. Nothing in
the project is changed: the migration check runs against a throwaway SQLite database (Alembic)
or a throwaway copy of the migrations folder (Aerich).
"""

from __future__ import annotations

import ast
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions

from scaffold.errors import ScaffoldError, UsageError
from scaffold.matrix import Design, Orm, PackageManager, parse_choice
from scaffold.operations.migrations import AERICH_VERSIONS, NO_CHANGES
from scaffold.project.config import ProjectConfig, load_project
from scaffold.project.entity_files import compare_files, read_record
from scaffold.project.layout import APP_LAYOUT, REGISTRY_FUNCTION, SECTION, route_registry
from scaffold.project.references import missing_targets
from scaffold.reporting import Reporter, SilentReporter, shown
from scaffold.tools import package_managers, processes
from scaffold.tools.package_managers import project_environment, tool_command
from scaffold.tools.processes import Runner, run_subprocess

__all__ = ["Check", "DoctorResult", "run_doctor"]

INSTALL_FIX = "run 'make install.dev' in the project"


@dataclass(frozen=True)
class Check:
    """One check's verdict: ``problem`` is None when it passed."""

    name: str
    problem: str | None = None
    fix: str | None = None
    note: str | None = None  # what an ok check found worth knowing

    @property
    def ok(self) -> bool:
        return self.problem is None

    def line(self) -> str:
        if self.problem is None:
            return f"ok  {self.name}" + (f": {self.note}" if self.note else "")
        return f"problem  {self.name}: {self.problem} — {self.fix}"


@dataclass
class DoctorResult:
    project: Path
    checks: list[Check] = field(default_factory=list)

    @property
    def problems(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


def _raw_section(root: Path) -> dict[str, Any]:
    """The ``[tool.robyn-config]`` table, even with bad values (those are doctor's findings).

    Raises:
        UsageError: ``root`` is not a robyn-config project (no readable table at all).
    """
    try:
        load_project(root)
        refusal = None
    except UsageError as error:
        refusal = error
    try:
        document = tomlkit.parse((root / "pyproject.toml").read_text(encoding="utf-8"))
        section = document.get("tool", {}).get("robyn-config")
    except (OSError, tomlkit.exceptions.ParseError):
        section = None
    if not isinstance(section, dict):
        raise refusal or UsageError(f"{root} is not a robyn-config project.")
    return dict(section)


def _config_check(section: dict[str, Any]) -> Check:
    name = f"{SECTION} values"
    try:
        parse_choice(Design, str(section.get("design", "")), f"{SECTION} design")
        parse_choice(Orm, str(section.get("orm", "")), f"{SECTION} orm")
        parse_choice(
            PackageManager, str(section.get("package_manager", "")), f"{SECTION} package_manager"
        )
    except UsageError as error:
        return Check(name, error.message.rstrip("."), "fix the value in pyproject.toml")
    if not str(section.get("template_version", "")).strip():
        return Check(name, "template_version is missing", "restore it in pyproject.toml")
    return Check(name)


def _add_paths_check(root: Path) -> tuple[Check, ProjectConfig | None]:
    name = "[tool.robyn-config.add] paths"
    try:
        config = load_project(root)
    except UsageError as error:
        return Check(name, error.message.rstrip("."), "fix [tool.robyn-config.add]"), None
    missing = [key for key, path in config.add_paths.items() if not path.exists()]
    if missing:
        places = [f"{key} = {shown(config.add_paths[key], config.root)}" for key in missing]
        listed = ", ".join(places)
        return Check(name, f"not on disk: {listed}", "restore them or fix the paths"), config
    return Check(name), config


def _layout_check(config: ProjectConfig) -> Check:
    design = config.stack.design
    name = f"src/app layout ({design.value})"
    app = config.root / "src" / "app"
    missing = [
        entry
        for entry in APP_LAYOUT[design]
        if not ((app / entry).is_dir() if entry.endswith("/") else (app / entry).is_file())
    ]
    if missing:
        return Check(
            name,
            f"src/app lacks {', '.join(missing)}",
            f"restore them (the {design.value} design expects {' '.join(APP_LAYOUT[design])})",
        )
    return Check(name)


def _lock_check(config: ProjectConfig, runner: Runner) -> Check:
    spec = package_managers.spec_for(config.stack.package_manager)
    name = f"{spec.lock_file} in sync with pyproject.toml"
    relock = f"run '{spec.executable} lock' and commit {spec.lock_file}"
    if not (config.root / spec.lock_file).is_file():
        return Check(name, f"{spec.lock_file} is missing", relock)
    executable = package_managers.require_manager(config.stack.package_manager)
    arguments = ["lock", "--check"] if spec.manager is PackageManager.UV else ["check", "--lock"]
    environment = project_environment(config.stack.orm)
    completed = runner([executable, *arguments], config.root, environment)
    if completed.returncode != 0:
        detail = processes.tail(completed.stdout + "\n" + completed.stderr, 1)
        return Check(name, f"{spec.lock_file} is out of date ({detail})", relock)
    return Check(name)


def _migration_tool_check(config: ProjectConfig) -> Check:
    root = config.root
    if config.stack.orm is Orm.SQLALCHEMY:
        name = "migration tool (Alembic)"
        missing = [p for p in ("alembic.ini", "migrations/env.py") if not (root / p).is_file()]
        if missing:
            return Check(name, f"{', '.join(missing)} missing", "restore them from git")
        return Check(name)
    name = "migration tool (Aerich)"
    aerich = config.document.get("tool", {}).get("aerich")
    if not isinstance(aerich, dict) or not aerich.get("tortoise_orm"):
        return Check(
            name,
            "pyproject.toml has no [tool.aerich] tortoise_orm",
            'add [tool.aerich] tortoise_orm = "app.config.database.TORTOISE_ORM"',
        )
    location = root / str(aerich.get("location", "./migrations"))
    if not location.is_dir():
        return Check(name, f"the migrations folder {location} is missing", "restore it")
    return Check(name)


# --- the route registry ---------------------------------------------------------------------


def _defines_register(source: Path) -> bool:
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "register":
            return True
        if isinstance(node, ast.ImportFrom) and any(
            (alias.asname or alias.name) == "register" for alias in node.names
        ):
            return True
    return False


def _route_modules(folder: Path) -> dict[str, Path]:
    """Children of the routes package that define (or re-export) ``register``."""
    modules: dict[str, Path] = {}
    for child in sorted(folder.iterdir()) if folder.is_dir() else []:
        if child.name.startswith(("_", ".")):
            continue
        source = child / "__init__.py" if child.is_dir() else child
        is_module = child.is_dir() or child.suffix == ".py"
        if is_module and source.is_file() and _defines_register(source):
            modules[child.stem] = child
    return modules


def _module_exists(folder: Path, name: str) -> bool:
    return (folder / f"{name}.py").is_file() or (folder / name / "__init__.py").is_file()


def _registry(tree: ast.Module, package: str) -> tuple[set[str], set[str]] | None:
    """(names imported from ``package``, names ``X`` of ``X.register(app)`` in the function)."""
    imported = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == package
        for alias in node.names
    }
    function = next(
        (
            node
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name == REGISTRY_FUNCTION
        ),
        None,
    )
    if function is None:
        return None
    registered = {
        node.func.value.id
        for node in ast.walk(function)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "register"
        and isinstance(node.func.value, ast.Name)
    }
    return imported, registered


def _route_checks(config: ProjectConfig) -> list[Check]:
    routes = route_registry(config.stack.design, config.add_paths)
    folder, registry = routes.folder, routes.registry
    reg = shown(registry, config.root)
    name = f"route registry ({reg})"
    package = routes.package(config.root)
    try:
        tree = ast.parse(registry.read_text(encoding="utf-8"))
    except OSError:
        return [Check(name, f"{reg} is missing", "restore it from git")]
    except (SyntaxError, ValueError) as error:
        return [Check(name, f"{reg} does not parse ({error})", "fix its syntax")]
    parsed = _registry(tree, package)
    if parsed is None:
        return [
            Check(
                name,
                f"{reg} has no {REGISTRY_FUNCTION}(app) function",
                "restore it from git (add edits that function)",
            )
        ]
    imported, registered = parsed
    problems: list[Check] = []
    for module, path in _route_modules(folder).items():
        if module not in imported or module not in registered:
            problems.append(
                Check(
                    name,
                    f"the route module {shown(path, config.root)} is not registered",
                    f"add 'from {package} import {module}' and '{module}.register(app)' to "
                    f"{REGISTRY_FUNCTION} in {reg}, or delete the module",
                )
            )
    for module in sorted(imported | registered):
        if (module in imported or module in registered) and not _module_exists(folder, module):
            problems.append(
                Check(
                    name,
                    f"{reg} registers {package}.{module}, which does not exist",
                    f"remove its import and '{module}.register(app)', or restore the module",
                )
            )
        elif module in registered and module not in imported:
            problems.append(
                Check(
                    name,
                    f"{reg} calls {module}.register(app) without importing {module}",
                    f"add 'from {package} import {module}'",
                )
            )
    return problems or [Check(name)]


# --- migrations up to date ------------------------------------------------------------------


def _environment_installed(config: ProjectConfig, runner: Runner) -> bool:
    if config.stack.package_manager is PackageManager.UV:
        configured = project_environment(config.stack.orm).get("UV_PROJECT_ENVIRONMENT")
        venv = Path(configured or config.root / ".venv")
        venv = venv if venv.is_absolute() else config.root / venv
        return (venv / "bin" / "python").exists() or (venv / "Scripts" / "python.exe").exists()
    executable = package_managers.require_manager(config.stack.package_manager)
    completed = runner([executable, "env", "info", "--path"], config.root, dict(os.environ))
    return completed.returncode == 0 and bool(completed.stdout.strip())


def _fail_line(completed: Any) -> str:
    return processes.tail(f"{completed.stdout}\n{completed.stderr}", 1) or "no output"


def _alembic_up_to_date(config: ProjectConfig, runner: Runner, scratch: Path) -> Check:
    name = "migrations up to date (Alembic)"
    environment = project_environment(
        config.stack.orm,
        DATABASE_URL=f"sqlite:///{scratch / 'doctor.db'}",
        PYTHONDONTWRITEBYTECODE="1",
    )
    manager = config.stack.package_manager
    upgrade = runner(
        tool_command(manager, "alembic", "upgrade", "head", sync=False), config.root, environment
    )
    if upgrade.returncode != 0:
        return Check(
            name,
            f"the migrations do not apply to an empty SQLite database ({_fail_line(upgrade)})",
            "fix the failing revision in migrations/versions",
        )
    check = runner(tool_command(manager, "alembic", "check", sync=False), config.root, environment)
    output = f"{check.stdout}\n{check.stderr}"
    if check.returncode == 0:
        return Check(name)
    if "New upgrade operations detected" in output:
        return Check(
            name,
            "the models have changes that no migration has",
            "run 'robyn-config makemigration --message \"describe the change\"'",
        )
    return Check(name, f"'alembic check' failed ({_fail_line(check)})", "fix the error above")


def _aerich_up_to_date(config: ProjectConfig, runner: Runner, scratch: Path) -> Check:
    name = "migrations up to date (Aerich)"
    aerich = dict(config.document.get("tool", {}).get("aerich", {}))
    if not aerich.get("tortoise_orm"):
        return Check(name, "Aerich is not configured", "fix [tool.aerich] first (see above)")
    location = config.root / str(aerich.get("location", "./migrations"))
    if not (location / AERICH_VERSIONS.name).is_dir():
        return Check(
            name,
            "Aerich has no migrations yet",
            "run 'robyn-config makemigration --message init', then 'robyn-config migrate'",
        )
    # Aerich's offline diff compares the models with the last migration file; run it on a copy
    # of the migrations folder, named by a throwaway config, so the project gains nothing.
    copy = scratch / "migrations"
    shutil.copytree(location, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = set(copy.rglob("*.py"))
    settings = tomlkit.document()
    table = tomlkit.table()
    table.add("tortoise_orm", str(aerich["tortoise_orm"]))
    table.add("location", str(copy))
    table.add("src_folder", str(config.root / str(aerich.get("src_folder", "./src"))))
    settings.add("tool", {"aerich": table})
    settings_file = scratch / "aerich.toml"
    settings_file.write_text(tomlkit.dumps(settings), encoding="utf-8")
    environment = project_environment(
        config.stack.orm, DATABASE_URL="sqlite:///:memory:", PYTHONDONTWRITEBYTECODE="1"
    )
    command = tool_command(
        config.stack.package_manager,
        "aerich",
        "-c",
        str(settings_file),
        "migrate",
        "--name",
        "doctor",
        "--offline",
        sync=False,
    )
    completed = runner(command, config.root, environment)
    if completed.returncode != 0:
        return Check(name, f"'aerich migrate' failed ({_fail_line(completed)})", "fix the error")
    if set(copy.rglob("*.py")) - before:
        return Check(
            name,
            "the models have changes that no migration has",
            "run 'robyn-config makemigration --message \"describe the change\"'",
        )
    if NO_CHANGES not in completed.stdout + completed.stderr:
        return Check(name, "aerich reported neither a change nor none", "run it by hand")
    return Check(name)


def _migrations_check(config: ProjectConfig, runner: Runner, report: Reporter) -> Check:
    label = "Alembic" if config.stack.orm is Orm.SQLALCHEMY else "Aerich"
    name = f"migrations up to date ({label})"
    if not _environment_installed(config, runner):
        return Check(name, "the project's environment is not installed", INSTALL_FIX)
    with (
        report.step(f"Comparing the models with the migrations ({label})"),
        tempfile.TemporaryDirectory(prefix="robyn-config-doctor-") as scratch,
    ):
        if config.stack.orm is Orm.SQLALCHEMY:
            return _alembic_up_to_date(config, runner, Path(scratch))
        return _aerich_up_to_date(config, runner, Path(scratch))


def _shown(config: ProjectConfig, path: Path) -> str:
    return path.relative_to(config.root).as_posix()


def _entity_file_check(config: ProjectConfig, module: str) -> Check:
    """The files add created for ``module``: changed since (worth knowing), or gone (broken)."""
    name = f"files of entity {module}"
    try:
        record = read_record(config.root, module)
    except UsageError as error:
        return Check(name, error.message.rstrip("."), "restore the record from git")
    if record is None:
        return Check(name, note="added before add recorded its files; none compared")
    states = compare_files(record)
    missing = [_shown(config, path) for path in [*states.missing, *states.not_files]]
    changed = [_shown(config, path) for path in states.changed]
    if missing:
        return Check(
            name,
            f"{', '.join(missing)} missing since add created them",
            f"restore them from git, or 'robyn-config remove {module}'",
        )
    if changed:
        return Check(
            name,
            note=f"changed since add: {', '.join(changed)} (remove keeps them unless --force)",
        )
    return Check(name)


def _entity_field_checks(config: ProjectConfig, module: str) -> list[Check]:
    """The recorded fields of ``module`` parse, and each reference names an entity there."""
    name = f"fields of entity {module}"
    try:
        missing = missing_targets(config, module)
    except UsageError as error:
        problem = error.message.removesuffix(".").removesuffix("; restore that entry from git")
        return [Check(name, problem, "restore that entry from git")]
    return [
        Check(
            name,
            f"{reference} refers to {reference.target!r}, which is not an entity of this service",
            f"restore the entry of {reference.target} in [tool.robyn-config.entities] from "
            f"git, or 'robyn-config add {reference.target}'",
        )
        for reference in missing
    ] or [Check(name)]


def _checks(root: Path, runner: Runner, report: Reporter) -> Iterator[Check]:
    section = _raw_section(root)
    config_check = _config_check(section)
    yield config_check
    if not config_check.ok:
        return  # without a valid stack nothing else can be checked
    paths_check, config = _add_paths_check(root)
    yield paths_check
    if config is None:
        return
    package_managers.require_manager(config.stack.package_manager)
    yield _layout_check(config)
    yield _lock_check(config, runner)
    yield _migration_tool_check(config)
    yield from _route_checks(config)
    for module in sorted(config.entities):
        yield _entity_file_check(config, module)
        yield from _entity_field_checks(config, module)
    try:
        yield _migrations_check(config, runner, report)
    except ScaffoldError as error:  # pragma: no cover - defensive: one line, not a traceback
        yield Check("migrations up to date", error.message, "fix the error")


def run_doctor(
    *, project: Path, reporter: Reporter | None = None, runner: Runner | None = None
) -> DoctorResult:
    """Check ``project`` against the create baseline and the post-add invariants.

    Raises UsageError when ``project`` is not a robyn-config project or its package manager is
    missing; every other finding is a ``Check`` in the result.
    """
    report = reporter or SilentReporter()
    run = runner or run_subprocess
    result = DoctorResult(project=project.resolve())
    result.checks.extend(_checks(result.project, run, report))
    return result
