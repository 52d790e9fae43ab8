"""Every command and option refuses bad input the same way, through the real console script.

One table, one assertion: exit status 2, exactly one sentence on stderr (no traceback), and
the tree unchanged — the project, the operator's other directories and the current directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ProjectFactory, tree_state
from tests.helpers import CONSOLE_SCRIPT, assert_usage_error, git, manifest, run_program


@dataclass
class World:
    """The directories a case may point at (``{name}`` placeholders in its arguments)."""

    root: Path
    places: dict[str, Path] = field(default_factory=dict)
    bare_path: str = ""

    def fill(self, argument: str) -> str:
        for name, path in self.places.items():
            argument = argument.replace("{" + name + "}", str(path))
        return argument

    def state(self) -> dict[str, object]:
        """The whole tree under ``root``; git repositories through ``tree_state``."""
        repositories = [path for path in self.places.values() if (path / ".git").is_dir()]
        outside = {
            path: entry
            for path, entry in manifest(self.root).items()
            if not any(
                path == repo.relative_to(self.root).as_posix()
                or path.startswith(repo.relative_to(self.root).as_posix() + "/")
                for repo in repositories
            )
        }
        return {"outside": outside, **{str(repo): tree_state(repo) for repo in repositories}}


def _edit_pyproject(project: Path, edit: Callable[[str], str]) -> None:
    path = project / "pyproject.toml"
    path.write_text(edit(path.read_text()))


@pytest.fixture(scope="module")
def world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per module (create runs in-process with a fake lock), copied per test."""
    from scaffold.matrix import Stack
    from scaffold.operations.create import create_project
    from scaffold.tools import package_managers

    root = tmp_path_factory.mktemp("world")
    environment = dict(os.environ)
    os.environ.update(
        {
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@localhost",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@localhost",
        }
    )
    real_lock = package_managers.lock

    def fake_lock(project: Path, manager: object) -> Path:
        lock_path = project / "uv.lock"
        lock_path.write_text("# fake lock\n")
        return lock_path

    package_managers.lock = fake_lock
    try:
        for name, git_repo in (("project", True), ("nogit", False)):
            create_project(
                name="demo",
                stack=Stack.from_id("ddd-sqlalchemy-uv"),
                destination=root / name,
                git=git_repo,
            )
        for name in ("broken_toml", "bad_design", "escaping_path", "not_a_table", "has_product"):
            shutil.copytree(root / "nogit", root / name)
    finally:
        package_managers.lock = real_lock
        os.environ.clear()
        os.environ.update(environment)
    _edit_pyproject(root / "broken_toml", lambda text: text + "\n[tool.robyn-config\n")
    _edit_pyproject(
        root / "bad_design", lambda text: text.replace('design = "ddd"', 'design = "hexagonal"')
    )
    _edit_pyproject(
        root / "escaping_path",
        lambda text: text.replace(
            'domain_path = "src/app/domain"', 'domain_path = "../../outside"'
        ),
    )
    _edit_pyproject(
        root / "not_a_table",
        lambda text: text.replace(
            "[tool.robyn-config.add]\n", '[tool.robyn-config.add]\nviews_path = "src/app/views"\n'
        ),
    )
    _edit_pyproject(
        root / "has_product",
        lambda text: text + '\n[tool.robyn-config.entities]\nproduct = "name:str"\n',
    )
    (root / "plain").mkdir()
    (root / "plain" / "notes.txt").write_text("not a project\n")
    (root / "a_file").write_text("a file, not a directory\n")
    return root


@pytest.fixture
def world(world_template: Path, tmp_path: Path, bare_path: str) -> World:
    root = tmp_path / "world"
    shutil.copytree(world_template, root, symlinks=True)
    places = {name: root / name for name in sorted(os.listdir(root))}
    places["missing"] = root / "no-such-dir"
    places["dirty"] = places["project"]
    return World(root=root, places=places, bare_path=bare_path)


@dataclass(frozen=True)
class Case:
    """``args`` for the console script, run in ``cwd`` (a place), expecting ``fragment``."""

    id: str
    args: tuple[str, ...]
    fragment: str
    cwd: str = "root"
    env: tuple[tuple[str, str], ...] = ()
    bare_path: bool = False
    dirty: bool = False


def case(
    id: str,
    *args: str,
    fragment: str,
    cwd: str = "root",
    env: dict[str, str] | None = None,
    bare_path: bool = False,
    dirty: bool = False,
) -> Case:
    return Case(id, args, fragment, cwd, tuple((env or {}).items()), bare_path, dirty)


def fields_case(id: str, fields: str, fragment: str) -> Case:
    """``add product`` into the project with a bad ``--fields`` specification."""
    return case(id, "add", "product", "{project}", "--fields", fields, fragment=fragment)


CASES = [
    # create: names, choices, destinations, options, tools
    case("create-empty-name", "create", "", fragment="name"),
    case("create-name-digit", "create", "1demo", fragment="1demo"),
    case("create-name-space", "create", "my service", fragment="my service"),
    case("create-name-slash", "create", "a/b", fragment="a/b"),
    case("create-name-dots", "create", "..", fragment=".."),
    case("create-name-unicode", "create", "dém", fragment="dém"),
    case("create-name-option-like", "create", "--nope", fragment="--nope"),
    case("create-design", "create", "demo", "--design", "hexagonal", fragment="hexagonal"),
    case("create-orm", "create", "demo", "--orm", "django", fragment="django"),
    case("create-manager", "create", "demo", "--package-manager", "pip", fragment="pip"),
    case("create-design-case", "create", "demo", "--design", "DDD", fragment="DDD"),
    case("create-dest-file", "create", "demo", "{a_file}", fragment="a_file"),
    case("create-dest-under-file", "create", "demo", "{a_file}/sub", fragment="a_file"),
    case("create-dest-overwrites", "create", "demo", "{nogit}", fragment="would overwrite"),
    case("create-index-url-bare", "create", "demo", "--index-url", "mirror", fragment="mirror"),
    case(
        "create-index-url-scheme",
        "create",
        "demo",
        "--index-url",
        "ftp://mirror/simple",
        fragment="ftp://mirror/simple",
    ),
    case("create-no-tool", "create", "demo", fragment="not installed", bare_path=True),
    # add: entity names, fields, projects, configuration, git state
    case("add-empty-name", "add", "", "{project}", fragment="entity"),
    case("add-keyword", "add", "class", "{project}", fragment="class"),
    case("add-digit", "add", "1product", "{project}", fragment="1product"),
    case("add-shadow-app", "add", "app", "{project}", fragment="app"),
    case("add-too-long", "add", "x" * 41, "{project}", fragment="x" * 41),
    case("add-sql", "add", "p; DROP TABLE x", "{project}", fragment="DROP TABLE"),
    case("add-path-traversal", "add", "../../etc", "{project}", fragment="../../etc"),
    fields_case("add-field-type", "p:money", "money"),
    fields_case("add-field-no-type", "price", "price"),
    fields_case("add-field-twice", "a:int a:str", "'a'"),
    fields_case("add-field-keyword", "def:str", "def"),
    fields_case("add-field-id", "id:int", "id"),
    fields_case("add-field-reserved", "fields:str", "fields"),
    fields_case("add-fields-empty", "   ", "field"),
    case("add-missing-project", "add", "product", "{missing}", fragment="no-such-dir"),
    case("add-project-is-file", "add", "product", "{a_file}", fragment="a_file"),
    case("add-not-a-project", "add", "product", "{plain}", fragment="pyproject.toml"),
    case("add-broken-toml", "add", "product", "{broken_toml}", fragment="TOML"),
    case("add-bad-design", "add", "product", "{bad_design}", fragment="hexagonal"),
    case("add-path-escapes", "add", "product", "{escaping_path}", fragment="domain_path"),
    case("add-unknown-add-key", "add", "product", "{not_a_table}", fragment="views_path"),
    case("add-exists", "add", "product", "{has_product}", fragment="already exists"),
    case("add-dirty-tree", "add", "product", "{project}", fragment="uncommitted", dirty=True),
    case("add-unknown-option", "add", "product", "{project}", "--colour", fragment="--colour"),
    # makemigration / migrate: messages, projects, databases, tools
    case("makemigration-no-message", "makemigration", "{nogit}", fragment="--message"),
    case(
        "makemigration-empty-message",
        "makemigration",
        "{nogit}",
        "--message",
        " ",
        fragment="message",
    ),
    case(
        "makemigration-not-project",
        "makemigration",
        "{plain}",
        "--message",
        "m",
        fragment="pyproject",
    ),
    case(
        "makemigration-bad-url",
        "makemigration",
        "{nogit}",
        "--message",
        "m",
        fragment="mysql",
        env={"DATABASE_URL": "mysql://u:p@h/db"},
    ),
    case(
        "makemigration-no-uv",
        "makemigration",
        "{nogit}",
        "--message",
        "m",
        fragment="uv",
        bare_path=True,
    ),
    case("migrate-missing", "migrate", "{missing}", fragment="no-such-dir"),
    case("migrate-broken-toml", "migrate", "{broken_toml}", fragment="TOML"),
    case(
        "migrate-bad-url",
        "migrate",
        "{nogit}",
        fragment="DATABASE_URL",
        env={"DATABASE_URL": "nonsense"},
    ),
    case("migrate-no-uv", "migrate", "{nogit}", fragment="uv", bare_path=True),
    # doctor
    case("doctor-missing", "doctor", "{missing}", fragment="no-such-dir"),
    case("doctor-not-project", "doctor", "{plain}", fragment="robyn-config project"),
    case("doctor-broken-toml", "doctor", "{broken_toml}", fragment="TOML"),
    # runbooks
    case("runbook-show-unknown", "runbook", "show", "nope", fragment="nope"),
    case("runbook-show-traversal", "runbook", "show", "../README", fragment="../README"),
    case("runbook-run-unknown", "runbook", "run", "nope", fragment="nope"),
    case("runbook-run-step-zero", "runbook", "run", "rollback", "--from-step", "0", fragment="0"),
    case("runbook-run-step-text", "runbook", "run", "rollback", "--from-step", "x", fragment="'x'"),
    case(
        "runbook-run-step-big", "runbook", "run", "rollback", "--from-step", "999", fragment="999"
    ),
    case(
        "runbook-run-project-missing",
        "runbook",
        "run",
        "add-entity",
        "--project",
        "{missing}",
        fragment="no-such-dir",
    ),
    case(
        "runbook-run-project-file",
        "runbook",
        "run",
        "add-entity",
        "--project",
        "{a_file}",
        fragment="a_file",
    ),
]


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    commands = {c.args[0] if c.args[0] != "runbook" else " ".join(c.args[:2]) for c in CASES}
    assert commands >= {
        "create",
        "add",
        "makemigration",
        "migrate",
        "doctor",
        "runbook show",
        "runbook run",
    }


@pytest.mark.parametrize("bad", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_sentence_exit_2_and_changes_nothing(
    bad: Case, world: World, cli_env: dict[str, str]
) -> None:
    if bad.dirty:
        (world.places["project"] / "README.md").write_text("the operator's edit\n")
    env = {**cli_env, **dict(bad.env)}
    if bad.bare_path:
        env["PATH"] = world.bare_path
    before = world.state()
    completed = run_program(
        CONSOLE_SCRIPT,
        *(world.fill(argument) for argument in bad.args),
        cwd=world.places.get(bad.cwd, world.root),
        env=env,
    )
    line = assert_usage_error(completed)
    assert world.fill(bad.fragment) in line or bad.fragment in line, line
    assert world.state() == before
    if bad.dirty:
        assert git(world.places["project"], "status", "--porcelain") == " M README.md\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
def test_create_in_an_unwritable_directory(tmp_path: Path, cli_env: dict[str, str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        completed = run_program(
            CONSOLE_SCRIPT, "create", "demo", str(locked / "demo"), cwd=tmp_path, env=cli_env
        )
        assert completed.returncode == 2
        assert "not writable" in completed.stderr
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_add_into_a_project_whose_files_cannot_be_written_rolls_back(
    new_project: ProjectFactory, cli_env: dict[str, str]
) -> None:
    """A write that fails half-way (a directory where add puts a file): exit 1, tree intact."""
    project = new_project("mvc-sqlalchemy-uv")
    # A directory where add will write tests/test_product_api.py: the write fails mid-way.
    (project / "tests" / "test_product_api.py").mkdir()
    (project / "tests" / "test_product_api.py" / "keep").write_text("")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "obstacle")
    before = tree_state(project)
    completed = run_program(
        CONSOLE_SCRIPT, "add", "product", str(project), cwd=project.parent, env=cli_env
    )
    assert completed.returncode in {1, 2}, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    assert tree_state(project) == before
