"""The layout shows the architecture (docs/design.md §2): facts that would drift if unchecked.

Subpackages by concern, git reached one way, shared constants defined once, the matrix's
defaults in one place, one copy of each test process helper, and no reference to files
outside the repository.
"""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
from pathlib import Path

import pytest

from scaffold.cli import tasks
from scaffold.matrix import DEFAULT_STACK, STACKS, Design, Orm, PackageManager
from tests.helpers import REPO_ROOT

ENGINE = REPO_ROOT / "scaffold"
SUBPACKAGES = {"cli", "operations", "generation", "sources", "safety", "tools", "project"}
TOP_LEVEL_MODULES = {"__init__", "__main__", "errors", "matrix", "reporting"}


def engine_modules() -> list[Path]:
    return [path for path in ENGINE.rglob("*.py") if "templates" not in path.parts]


def literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_the_engine_is_in_subpackages_by_concern() -> None:
    modules = {path.stem for path in ENGINE.glob("*.py")}
    assert modules == TOP_LEVEL_MODULES
    packages = {path.parent.name for path in ENGINE.glob("*/__init__.py")}
    assert packages == SUBPACKAGES
    for package in SUBPACKAGES:
        assert ast.get_docstring(ast.parse((ENGINE / package / "__init__.py").read_text()))


def test_only_tools_git_runs_git_and_no_module_imports_gitpython() -> None:
    runs_git = []
    for path in engine_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert "git" not in [alias.name.split(".")[0] for alias in node.names], path
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert (node.module or "").split(".")[0] != "git", f"{path} imports GitPython"
            if isinstance(node, ast.List) and node.elts:
                first = node.elts[0]
                if isinstance(first, ast.Constant) and first.value == "git":
                    runs_git.append(path.relative_to(ENGINE).as_posix())
    assert set(runs_git) == {"tools/git.py"}


# Deleting a path is undone only through the transaction's journal; the one other deletion
# is poetry's in-project virtualenv, made and removed by `lock` before create journals it.
DELETERS = {"unlink", "rmdir", "rmtree", "removedirs"}  # and os.remove (not list.remove)
DELETES_OUTSIDE_SAFETY = {"tools/package_managers.py"}


def test_only_the_safety_package_deletes_paths() -> None:
    deleting = set()
    for path in engine_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and (
                    node.func.attr in DELETERS
                    or (node.func.attr == "remove" and ast.unparse(node.func.value) == "os")
                )
            ):
                deleting.add(path.relative_to(ENGINE).as_posix())
    outside = {name for name in deleting if not name.startswith("safety/")}
    assert outside == DELETES_OUTSIDE_SAFETY


@pytest.mark.parametrize("constant", ["[tool.robyn-config]", "register_routes"])
def test_shared_constants_are_written_once(constant: str) -> None:
    defined = [
        path.relative_to(ENGINE).as_posix()
        for path in engine_modules()
        if constant in literals(path)
    ]
    assert defined == ["project/layout.py"]


def test_create_s_defaults_are_the_default_stack() -> None:
    assert DEFAULT_STACK in STACKS
    parameters = inspect.signature(tasks.create.body).parameters
    assert parameters["design"].default == DEFAULT_STACK.design.value
    assert parameters["orm"].default == DEFAULT_STACK.orm.value
    assert parameters["package_manager"].default == DEFAULT_STACK.package_manager.value
    # ... and not written out again in the CLI: no choice is spelt there.
    choices = {member.value for member in (*Design, *Orm, *PackageManager)}
    assert not choices & set(literals(ENGINE / "cli" / "tasks.py"))


@pytest.mark.parametrize("helper", ["free_port", "group_alive", "index_url", "wait_for_status"])
def test_each_process_helper_is_defined_once(helper: str) -> None:
    pattern = re.compile(rf"^\s*def {helper}\(", re.MULTILINE)
    files = [REPO_ROOT / "noxfile.py", *(REPO_ROOT / "tests").rglob("*.py"), *engine_modules()]
    defining = [path for path in files if pattern.search(path.read_text(encoding="utf-8"))]
    assert len(defining) == 1, defining


def test_nothing_refers_to_files_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    outside = re.compile(r"\.\./shared|/work/shared|shared/DESIGN|DESIGN §|STYLE\.md")
    offenders = [
        name
        for name in tracked
        if name != "tests/test_architecture.py"
        and (REPO_ROOT / name).is_file()
        and outside.search((REPO_ROOT / name).read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []


# --- a thin noxfile ---------------------------------------------------------------------------

SESSION_BODY_LINES = 15  # a session calls into tests/support; its body is a few lines


def nox_sessions() -> dict[str, ast.FunctionDef]:
    tree = ast.parse((REPO_ROOT / "noxfile.py").read_text(encoding="utf-8"))
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any("nox.session" in ast.unparse(decorator) for decorator in node.decorator_list)
    }


def test_nox_session_bodies_are_a_few_lines() -> None:
    sessions = nox_sessions()
    assert {"lint", "typecheck", "tests", "matrix", "pg", "runbook", "reliability"} <= set(sessions)
    for name, function in sessions.items():
        body = function.body[1:] if ast.get_docstring(function) else function.body
        lines = (body[-1].end_lineno or 0) - body[0].lineno + 1
        assert lines <= SESSION_BODY_LINES, f"nox session {name} has {lines} lines"


def test_heavy_sessions_are_opt_in_and_ci_still_runs_them() -> None:
    decorators = {
        name: " ".join(ast.unparse(decorator) for decorator in function.decorator_list)
        for name, function in nox_sessions().items()
    }
    for name in ("matrix", "pg", "runbook", "reliability", "bench"):
        assert "default=False" in decorators[name], name
    for name in ("lint", "typecheck", "tests", "runbook", "reliability"):
        assert "'ci'" in decorators[name], name
    # matrix and pg carry `ci` on each cell's parameters.
    for name in ("matrix", "pg"):
        assert "_cell_params" in decorators[name], name
