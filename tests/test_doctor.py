"""doctor with a fake runner: one line per check, the right problem and fix, exit status 1.

The real tools run in ``test_migrations_e2e.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from invoke.context import Context
from invoke.exceptions import Exit

from scaffold.cli import tasks as commands
from scaffold.errors import UsageError
from scaffold.operations import migrations as migrations_module
from scaffold.operations.doctor import DoctorResult, run_doctor
from tests.conftest import ProjectFactory, tree_state


class ToolFake:
    """Answers each tool doctor runs; ``outcomes`` maps a command word to (status, output)."""

    def __init__(self, **outcomes: tuple[int, str]) -> None:
        self.outcomes = outcomes
        self.aerich_writes = False
        self.calls: list[list[str]] = []

    def __call__(
        self, command: Sequence[str], cwd: Path, env: Mapping[str, str]
    ) -> subprocess.CompletedProcess[str]:
        arguments = list(command[1:])
        self.calls.append(arguments)
        key = next(
            (word for word in ("lock", "env", "upgrade", "check", "aerich") if word in arguments),
            "",
        )
        if key == "check" and "alembic" not in arguments:
            key = "lock"  # poetry check --lock
        if key == "aerich":
            assert env["DATABASE_URL"] == "sqlite:///:memory:"
            settings = Path(arguments[arguments.index("-c") + 1])
            location = Path(tomllib.loads(settings.read_text())["tool"]["aerich"]["location"])
            assert not location.is_relative_to(cwd), "doctor must not touch the project"
            if self.aerich_writes:
                (location / "models" / "1_doctor.py").write_text("# new\n")
                return subprocess.CompletedProcess(command, 0, "Success creating migration", "")
            return subprocess.CompletedProcess(command, 0, "No changes detected", "")
        if key in {"upgrade", "check"}:
            assert (
                env["DATABASE_URL"].startswith("sqlite:///") and "doctor.db" in env["DATABASE_URL"]
            )
        status, output = self.outcomes.get(key, (0, "/some/venv" if key == "env" else ""))
        return subprocess.CompletedProcess(command, status, output, "")


def installed(project: Path) -> Path:
    python = project / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    return project


def lines(result: DoctorResult) -> list[str]:
    return [check.line() for check in result.checks]


def problems(result: DoctorResult) -> list[str]:
    return [check.line() for check in result.problems]


@pytest.fixture(autouse=True)
def no_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("UV_PROJECT_ENVIRONMENT", raising=False)


def test_a_fresh_project_is_all_ok(new_project: ProjectFactory) -> None:
    project = installed(new_project("ddd-sqlalchemy-uv"))
    before = tree_state(project)
    fake = ToolFake()
    result = run_doctor(project=project, runner=fake)
    assert lines(result) == [
        "ok  [tool.robyn-config] values",
        "ok  [tool.robyn-config.add] paths",
        "ok  src/app layout (ddd)",
        "ok  uv.lock in sync with pyproject.toml",
        "ok  migration tool (Alembic)",
        "ok  route registry (src/app/presentation/__init__.py)",
        "ok  migrations up to date (Alembic)",
    ]
    assert ["lock", "--check"] in fake.calls
    assert ["run", "--frozen", "--no-sync", "alembic", "upgrade", "head"] in fake.calls
    assert ["run", "--frozen", "--no-sync", "alembic", "check"] in fake.calls
    assert tree_state(project) == before


def test_a_project_after_add_is_all_ok(new_project: ProjectFactory) -> None:
    from scaffold.operations.add import add_entity

    project = installed(new_project("mvc-sqlalchemy-uv"))
    add_entity(project=project, entity="order-item")
    add_entity(project=project, entity="product", allow_dirty=True)
    assert problems(run_doctor(project=project, runner=ToolFake())) == []


def test_without_an_installed_environment_the_migration_check_says_so(
    new_project: ProjectFactory,
) -> None:
    project = new_project("ddd-sqlalchemy-uv")
    fake = ToolFake()
    assert problems(run_doctor(project=project, runner=fake)) == [
        "problem  migrations up to date (Alembic): the project's environment is not installed "
        "— run 'make install.dev' in the project"
    ]
    assert not any("alembic" in call for call in fake.calls)


def test_poetry_environment_is_asked_of_poetry(new_project: ProjectFactory) -> None:
    project = new_project("ddd-sqlalchemy-poetry")
    fake = ToolFake(env=(1, ""))
    result = run_doctor(project=project, runner=fake)
    assert ["check", "--lock"] in fake.calls
    assert ["env", "info", "--path"] in fake.calls
    assert [c.name for c in result.problems] == ["migrations up to date (Alembic)"]
    fake = ToolFake()
    assert problems(run_doctor(project=project, runner=fake)) == []
    assert ["run", "alembic", "check"] in fake.calls


@pytest.mark.parametrize(
    ("stack_id", "folder", "registry"),
    [
        ("ddd-sqlalchemy-uv", "src/app/presentation", "src/app/presentation/__init__.py"),
        ("mvc-tortoise-uv", "src/app/views", "src/app/urls.py"),
    ],
)
def test_an_unregistered_route_module(
    new_project: ProjectFactory, stack_id: str, folder: str, registry: str
) -> None:
    project = installed(new_project(stack_id))
    (project / "migrations/models").mkdir(exist_ok=True)
    (project / folder / "extra.py").write_text(
        "from robyn import Robyn\n\n\ndef register(app: Robyn) -> None:\n    pass\n"
    )
    package = folder.removeprefix("src/").replace("/", ".")
    assert problems(run_doctor(project=project, runner=ToolFake())) == [
        f"problem  route registry ({registry}): the route module {folder}/extra.py is not "
        f"registered — add 'from {package} import extra' and 'extra.register(app)' to "
        f"register_routes in {registry}, or delete the module"
    ]


def test_the_files_of_each_entity_are_compared_with_add_s_record(
    new_project: ProjectFactory,
) -> None:
    from scaffold.operations.add import add_entity

    project = installed(new_project("mvc-tortoise-uv"))
    add_entity(project=project, entity="order-item")
    add_entity(project=project, entity="product", allow_dirty=True)
    assert "ok  files of entity order_item" in lines(run_doctor(project=project, runner=ToolFake()))
    view = project / "src/app/views/product.py"
    view.write_text(view.read_text() + "\n# The operator's note.\n")
    found = lines(run_doctor(project=project, runner=ToolFake()))
    assert "ok  files of entity order_item" in found
    assert (
        "ok  files of entity product: changed since add: src/app/views/product.py "
        "(remove keeps them unless --force)"
    ) in found
    (project / "tests/test_order_item_api.py").unlink()
    assert (
        "problem  files of entity order_item: tests/test_order_item_api.py missing since add "
        "created them — restore them from git, or 'robyn-config remove order_item'"
    ) in problems(run_doctor(project=project, runner=ToolFake()))
    (project / ".robyn-config/product.toml").unlink()
    assert (
        "ok  files of entity product: added before add recorded its files; none compared"
    ) in lines(run_doctor(project=project, runner=ToolFake()))


def test_an_unreadable_record_is_a_problem(new_project: ProjectFactory) -> None:
    from scaffold.operations.add import add_entity

    project = installed(new_project("ddd-sqlalchemy-uv"))
    add_entity(project=project, entity="product")
    (project / ".robyn-config/product.toml").write_text("files = [\n")
    [found] = problems(run_doctor(project=project, runner=ToolFake()))
    assert found.startswith("problem  files of entity product: .robyn-config/product.toml is not")
    assert found.endswith("— restore the record from git")


def test_a_reference_to_an_entity_that_is_not_there_is_a_problem(
    new_project: ProjectFactory,
) -> None:
    from scaffold.operations.add import add_entity

    project = installed(new_project("ddd-sqlalchemy-uv"))
    add_entity(project=project, entity="customer")
    order = "customer:ref buyer:ref(customer)? parent:ref(order)?"
    add_entity(project=project, entity="order", fields=order, allow_dirty=True)
    found = lines(run_doctor(project=project, runner=ToolFake()))
    assert "ok  fields of entity customer" in found and "ok  fields of entity order" in found
    # The customer's entry taken out by hand: both references of order now point nowhere.
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('customer = "name:str"\n', ""))
    fix = (
        "restore the entry of customer in [tool.robyn-config.entities] from git, or "
        "'robyn-config add customer'"
    )
    assert problems(run_doctor(project=project, runner=ToolFake())) == [
        "problem  fields of entity order: order.customer refers to 'customer', which is not an "
        f"entity of this service — {fix}",
        "problem  fields of entity order: order.buyer refers to 'customer', which is not an "
        f"entity of this service — {fix}",
    ]


def test_an_entity_entry_that_does_not_parse_is_a_problem(new_project: ProjectFactory) -> None:
    from scaffold.operations.add import add_entity

    project = installed(new_project("mvc-sqlalchemy-uv"))
    add_entity(project=project, entity="product")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('product = "name:str"', 'product = "x:ref("')
    )
    assert problems(run_doctor(project=project, runner=ToolFake())) == [
        "problem  fields of entity product: Unknown type 'ref(' for field 'x'; choose one of: "
        "str text int float decimal bool date datetime uuid json ref (in "
        "[tool.robyn-config.entities] product = 'x:ref(') — restore that entry from git"
    ]


def test_a_registered_module_that_is_missing(new_project: ProjectFactory) -> None:
    project = installed(new_project("ddd-sqlalchemy-uv"))
    registry = project / "src/app/presentation/__init__.py"
    text = registry.read_text()
    text = text.replace(
        "from app.presentation import healthcheck",
        "from app.presentation import ghost, healthcheck",
    )
    registry.write_text(text + "    ghost.register(app)\n    stray.register(app)\n")
    found = problems(run_doctor(project=project, runner=ToolFake()))
    assert found == [
        "problem  route registry (src/app/presentation/__init__.py): "
        "src/app/presentation/__init__.py registers app.presentation.ghost, which does not exist "
        "— remove its import and 'ghost.register(app)', or restore the module",
        "problem  route registry (src/app/presentation/__init__.py): "
        "src/app/presentation/__init__.py registers app.presentation.stray, which does not exist "
        "— remove its import and 'stray.register(app)', or restore the module",
    ]


def test_an_imported_but_unregistered_entity(new_project: ProjectFactory) -> None:
    from scaffold.operations.add import add_entity

    project = installed(new_project("ddd-sqlalchemy-uv"))
    add_entity(project=project, entity="product")
    registry = project / "src/app/presentation/__init__.py"
    registry.write_text(registry.read_text().replace("    product.register(app)\n", ""))
    [line] = problems(run_doctor(project=project, runner=ToolFake()))
    assert "the route module src/app/presentation/product is not registered" in line


def test_a_registry_without_its_function(new_project: ProjectFactory) -> None:
    project = installed(new_project("mvc-sqlalchemy-uv"))
    (project / "src/app/urls.py").write_text("x = 1\n")
    [line] = problems(run_doctor(project=project, runner=ToolFake()))
    assert "src/app/urls.py has no register_routes(app) function" in line


def test_a_stale_and_a_missing_lock_file(new_project: ProjectFactory) -> None:
    project = installed(new_project("ddd-sqlalchemy-uv"))
    stale = ToolFake(lock=(1, "The lockfile needs to be updated"))
    assert problems(run_doctor(project=project, runner=stale)) == [
        "problem  uv.lock in sync with pyproject.toml: uv.lock is out of date "
        "(The lockfile needs to be updated) — run 'uv lock' and commit uv.lock"
    ]
    (project / "uv.lock").unlink()
    assert problems(run_doctor(project=project, runner=ToolFake())) == [
        "problem  uv.lock in sync with pyproject.toml: uv.lock is missing "
        "— run 'uv lock' and commit uv.lock"
    ]


def test_models_ahead_of_the_alembic_migrations(new_project: ProjectFactory) -> None:
    project = installed(new_project("ddd-sqlalchemy-uv"))
    fake = ToolFake(check=(255, "New upgrade operations detected: [('add_table', ...)]"))
    assert problems(run_doctor(project=project, runner=fake)) == [
        "problem  migrations up to date (Alembic): the models have changes that no migration has "
        "— run 'robyn-config makemigration --message \"describe the change\"'"
    ]


def test_revisions_that_do_not_apply(new_project: ProjectFactory) -> None:
    project = installed(new_project("ddd-sqlalchemy-uv"))
    fake = ToolFake(upgrade=(1, "KeyError: 'abc'"))
    [line] = problems(run_doctor(project=project, runner=fake))
    assert "do not apply to an empty SQLite database (KeyError: 'abc')" in line


def test_aerich_checks_on_a_copy(new_project: ProjectFactory) -> None:
    project = installed(new_project("mvc-tortoise-uv"))
    [line] = problems(run_doctor(project=project, runner=ToolFake()))
    assert line.startswith("problem  migrations up to date (Aerich): Aerich has no migrations yet")
    (project / "migrations/models").mkdir()
    (project / "migrations/models/0_init.py").write_text("# init\n")
    before = tree_state(project)
    fake = ToolFake()
    assert problems(run_doctor(project=project, runner=fake)) == []
    fake.aerich_writes = True
    assert problems(run_doctor(project=project, runner=fake)) == [
        "problem  migrations up to date (Aerich): the models have changes that no migration has "
        "— run 'robyn-config makemigration --message \"describe the change\"'"
    ]
    assert tree_state(project) == before


def test_layout_and_migration_tool(new_project: ProjectFactory) -> None:
    project = installed(new_project("ddd-sqlalchemy-uv"))
    shutil.rmtree(project / "src/app/domain")
    (project / "alembic.ini").unlink()
    found = problems(run_doctor(project=project, runner=ToolFake()))
    assert found[:2] == [
        "problem  [tool.robyn-config.add] paths: not on disk: domain_path = src/app/domain "
        "— restore them or fix the paths",
        "problem  src/app layout (ddd): src/app lacks domain/ — restore them (the ddd design "
        "expects config/ domain/ operational/ presentation/ infrastructure/database/)",
    ]
    assert "problem  migration tool (Alembic): alembic.ini missing — restore them from git" in found


def test_bad_config_values_stop_early(new_project: ProjectFactory) -> None:
    project = new_project("ddd-sqlalchemy-uv")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('orm = "sqlalchemy"', 'orm = "django"'))
    result = run_doctor(project=project, runner=ToolFake())
    assert lines(result) == [
        "problem  [tool.robyn-config] values: Unknown [tool.robyn-config] orm 'django'; choose "
        "one of: sqlalchemy, tortoise — fix the value in pyproject.toml"
    ]


def test_an_add_path_outside_the_project(new_project: ProjectFactory) -> None:
    project = new_project("mvc-sqlalchemy-uv")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('views_path = "src/app/views"', 'views_path = "../views"')
    )
    result = run_doctor(project=project, runner=ToolFake())
    names = [c.name for c in result.checks]
    assert names == ["[tool.robyn-config] values", "[tool.robyn-config.add] paths"]
    assert "leaves the project root" in lines(result)[1]


def test_not_a_project_and_missing_manager_are_usage_errors(
    tmp_path: Path,
    new_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    bare_path: str,
) -> None:
    with pytest.raises(UsageError, match="is not a robyn-config project"):
        run_doctor(project=tmp_path, runner=ToolFake())
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    with pytest.raises(UsageError, match=r"no \[tool.robyn-config\] table"):
        run_doctor(project=tmp_path, runner=ToolFake())
    project = new_project("ddd-sqlalchemy-uv")
    monkeypatch.setenv("PATH", bare_path)
    with pytest.raises(UsageError, match="'uv' is not installed"):
        run_doctor(project=project, runner=ToolFake())


def test_doctor_task_prints_one_line_per_check_and_exits_1(
    new_project: ProjectFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = installed(new_project("ddd-sqlalchemy-uv"))
    monkeypatch.setattr(migrations_module, "run_subprocess", ToolFake())
    from scaffold.operations import doctor as doctor_module

    monkeypatch.setattr(doctor_module, "run_subprocess", ToolFake())
    commands.doctor(Context(), str(project))
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 7 and all(x.startswith("ok  ") for x in out.splitlines())
    monkeypatch.setattr(doctor_module, "run_subprocess", ToolFake(lock=(1, "stale")))
    with pytest.raises(Exit) as caught:
        commands.doctor(Context(), str(project))
    assert caught.value.code == 1
    assert "doctor found 1 problem." in str(caught.value.message)
    out = capsys.readouterr().out
    assert sum(line.startswith("problem  ") for line in out.splitlines()) == 1
    with pytest.raises(Exit) as caught:
        commands.doctor(Context(), str(project / "nowhere"))
    assert caught.value.code == 2


def test_aerich_without_its_configuration(new_project: ProjectFactory) -> None:
    project = installed(new_project("ddd-tortoise-uv"))
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace('tortoise_orm = "app.config.database.TORTOISE_ORM"\n', ""))
    found = problems(run_doctor(project=project, runner=ToolFake()))
    assert found == [
        "problem  migration tool (Aerich): pyproject.toml has no [tool.aerich] tortoise_orm "
        '— add [tool.aerich] tortoise_orm = "app.config.database.TORTOISE_ORM"',
        "problem  migrations up to date (Aerich): Aerich is not configured "
        "— fix [tool.aerich] first (see above)",
    ]
