"""The generated Docker Compose file, Dockerfile and compose Makefile targets, checked statically.

No Docker engine is needed: ``docker-compose.yml`` is validated against the compose-spec JSON
schema (vendored by check-jsonschema) and held to the service's structure; the Makefile's
compose targets run with a recording ``docker`` stand-in first on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from scaffold.matrix import STACKS, Orm, PackageManager, Stack
from tests.helpers import git, write_tree
from tests.test_generation import NAME, _render, files_of, text

cells = pytest.mark.parametrize("stack", STACKS, ids=[s.id for s in STACKS])

LOCK_FILES = {PackageManager.UV: "uv.lock", PackageManager.POETRY: "poetry.lock"}
POSTGRES_DATA = "/var/lib/postgresql/data"


def compose_schema() -> dict[str, Any]:
    """The compose-spec JSON schema as check-jsonschema ships it (no download)."""
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text("utf-8"))
    return schema


def validator() -> jsonschema.protocols.Validator:
    schema = compose_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def compose_of(stack: Stack) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(text(files_of(stack), "docker-compose.yml"))
    return data


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of the two spec forms it uses."""
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def healthcheck_command(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(str(part) for part in test)


# -- docker-compose.yml ---------------------------------------------------------------------


@cells
def test_compose_file_is_valid_against_the_compose_spec(stack: Stack) -> None:
    errors = sorted(validator().iter_errors(compose_of(stack)), key=str)
    assert [f"{list(error.absolute_path)}: {error.message}" for error in errors] == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", "app", "depends_on", "db", "condition"), "healthy"),
        (("services", "db", "healthcheck", "intervall"), "5s"),
        (("services", "app", "restart"), ["always"]),
    ],
    ids=["bad depends_on condition", "unknown healthcheck key", "restart not a string"],
)
def test_the_schema_rejects_a_broken_compose_file(path: tuple[str, ...], value: object) -> None:
    compose = compose_of(STACKS[0])
    node = compose
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert list(validator().iter_errors(compose)), f"{path} = {value!r} was accepted"


@cells
def test_compose_has_exactly_the_app_and_its_database(stack: Stack) -> None:
    services = compose_of(stack)["services"]
    assert set(services) == {"app", "db"}
    assert services["db"]["image"] == "postgres:15"
    assert services["app"]["build"] in (".", {"context": "."})
    assert "Dockerfile" in files_of(stack)


@cells
def test_both_services_have_healthchecks(stack: Stack) -> None:
    services = compose_of(stack)["services"]
    db_env = environment(services["db"])
    probe = healthcheck_command(services["db"])
    assert "pg_isready" in probe
    assert f"-U {db_env['POSTGRES_USER']}" in probe
    assert f"-d {db_env['POSTGRES_DB']}" in probe
    app_env = environment(services["app"])
    assert f"127.0.0.1:{app_env['PORT']}/healthcheck" in healthcheck_command(services["app"])
    for service in services.values():
        assert service["healthcheck"].get("retries", 0) >= 1


@cells
def test_app_waits_for_a_healthy_database(stack: Stack) -> None:
    depends = compose_of(stack)["services"]["app"]["depends_on"]
    assert isinstance(depends, dict), "the list form only waits for the db to start"
    assert depends == {"db": {"condition": "service_healthy"}}


@cells
def test_app_database_url_points_at_the_db_service(stack: Stack) -> None:
    services = compose_of(stack)["services"]
    url = urlsplit(environment(services["app"])["DATABASE_URL"])
    db_env = environment(services["db"])
    assert url.scheme == "postgresql"
    assert url.hostname == "db"
    assert url.port == 5432
    assert url.username == db_env["POSTGRES_USER"]
    assert url.password == db_env["POSTGRES_PASSWORD"]
    assert url.path == f"/{db_env['POSTGRES_DB']}"


@cells
def test_app_listens_on_all_interfaces_on_its_published_port(stack: Stack) -> None:
    app = compose_of(stack)["services"]["app"]
    env = environment(app)
    assert env["HOST"] == "0.0.0.0"
    published = [str(port) for port in app["ports"]]
    assert published == ["${APP_PORT:-8080}:" + env["PORT"]]


@cells
def test_app_runs_the_start_script(stack: Stack) -> None:
    """The compose file leaves the command to the image, whose CMD migrates, then serves."""
    app = compose_of(stack)["services"]["app"]
    command = app.get("command") or app.get("entrypoint")
    if command is None:
        command = dockerfile_cmd(text(files_of(stack), "Dockerfile"))
    if isinstance(command, str):
        command = shlex.split(command)
    assert command[-1].endswith("scripts/start.sh"), command
    start = text(files_of(stack), "scripts/start.sh")
    migrate = "alembic upgrade head" if stack.orm is Orm.SQLALCHEMY else "aerich upgrade"
    assert start.index(migrate) < start.index("exec python -m app")


@cells
def test_database_keeps_its_data_in_a_named_volume(stack: Stack) -> None:
    compose = compose_of(stack)
    mounts = [str(volume).split(":") for volume in compose["services"]["db"]["volumes"]]
    data_mounts = [source for source, target, *_ in mounts if target == POSTGRES_DATA]
    assert len(data_mounts) == 1
    assert data_mounts[0] in compose["volumes"], "the data volume is not a declared named volume"


@cells
def test_database_publishes_no_host_port(stack: Stack) -> None:
    """Only the app reaches PostgreSQL, over the compose network; README says how to reach it."""
    assert "ports" not in compose_of(stack)["services"]["db"]


# -- Dockerfile -----------------------------------------------------------------------------


def dockerfile_cmd(dockerfile: str) -> list[str]:
    lines = [line for line in dockerfile.splitlines() if line.startswith("CMD ")]
    assert len(lines) == 1, "the Dockerfile must have exactly one CMD"
    command: list[str] = json.loads(lines[0].removeprefix("CMD "))  # exec form: a JSON array
    return command


def stages(dockerfile: str) -> list[list[str]]:
    """The Dockerfile's instructions, one list per stage (comments dropped)."""
    result: list[list[str]] = []
    for line in dockerfile.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.upper().startswith("FROM "):
            result.append([])
        if result:
            result[-1].append(stripped)
    return result


@cells
def test_dockerfile_builds_from_the_lock_file_and_runs_the_start_script(stack: Stack) -> None:
    dockerfile = text(files_of(stack), "Dockerfile")
    builder, final = stages(dockerfile)
    assert re.fullmatch(r"FROM \S+ AS builder", builder[0])
    lock = LOCK_FILES[stack.package_manager]
    assert any(line.startswith("COPY ") and lock in line.split() for line in builder)
    install = (
        "uv sync --frozen --no-dev"
        if stack.package_manager is PackageManager.UV
        else ("poetry sync --only main")
    )
    assert any(install in line for line in builder)
    assert "COPY --from=builder /app/.venv /app/.venv" in final
    assert not any(lock in line for line in final), "the runtime stage needs no lock file"
    for copied in ("migrations", "src", "scripts"):
        assert any(re.fullmatch(rf"COPY {copied} \./{copied}", line) for line in final), copied
    if stack.orm is Orm.SQLALCHEMY:
        assert any(line.startswith("COPY ") and "alembic.ini" in line for line in final)
    assert dockerfile_cmd(dockerfile) == ["./scripts/start.sh"]
    assert files_of(stack)["scripts/start.sh"].executable


@cells
def test_dockerfile_runs_as_a_non_root_user_after_copying(stack: Stack) -> None:
    final = stages(text(files_of(stack), "Dockerfile"))[-1]
    users = [index for index, line in enumerate(final) if line.startswith("USER ")]
    assert users, "the runtime stage never leaves root"
    assert final[users[-1]].split()[1] not in {"root", "0"}
    copies = [index for index, line in enumerate(final) if line.startswith("COPY ")]
    assert max(copies) < users[-1]
    assert final.index('CMD ["./scripts/start.sh"]') > users[-1]


@cells
def test_dockerignore_keeps_secrets_venvs_and_databases_out_of_the_image(stack: Stack) -> None:
    ignored = set(text(files_of(stack), ".dockerignore").split())
    assert {".env", ".venv/", "*.db", ".git"} <= ignored
    # What the Dockerfile copies must not be ignored.
    assert not {"src", "scripts", "migrations", LOCK_FILES[stack.package_manager]} & ignored


# -- Makefile compose targets ---------------------------------------------------------------

RECORDER = """#!/bin/sh
# Stand-in: record "<cwd>\\t<name> <args...>" and succeed (or fail with $STANDIN_EXIT).
printf '%s\\t%s' "$PWD" "$(basename "$0")" >> "$STANDIN_RECORD"
for argument in "$@"; do printf ' %s' "$argument" >> "$STANDIN_RECORD"; done
printf '\\n' >> "$STANDIN_RECORD"
exit "${STANDIN_EXIT:-0}"
"""


@pytest.fixture
def compose_project(tmp_path: Path) -> Path:
    """The ``ddd-sqlalchemy-uv`` project written to disk (the compose targets are in base)."""
    return write_tree(tmp_path / NAME, _render(STACKS[0], None))


@pytest.fixture
def standins(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "standins"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(RECORDER)
    docker.chmod(0o755)
    return bin_dir


def run_make(project: Path, standins: Path, target: str, **env: str) -> tuple[int, list[str]]:
    """``make TARGET`` with the stand-ins first on PATH; its status and the recorded calls."""
    record = project.parent / "calls.txt"
    record.unlink(missing_ok=True)
    completed = subprocess.run(
        ["make", "-C", str(project), target],
        env={
            **os.environ,
            "PATH": os.pathsep.join([str(standins), os.environ["PATH"]]),
            "STANDIN_RECORD": str(record),
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    calls = record.read_text().splitlines() if record.exists() else []
    return completed.returncode, calls


@pytest.mark.parametrize(
    ("target", "command"),
    [
        ("run.compose", "docker compose up -d --build"),
        ("backend.status", "docker compose ps"),
        ("backend.stop", "docker compose down"),
    ],
)
def test_compose_targets_call_docker_compose_in_the_project(
    compose_project: Path, standins: Path, target: str, command: str
) -> None:
    status, calls = run_make(compose_project, standins, target)
    assert status == 0
    assert calls == [f"{compose_project}\t{command}"]


def test_a_failing_docker_fails_the_target(compose_project: Path, standins: Path) -> None:
    status, calls = run_make(compose_project, standins, "run.compose", STANDIN_EXIT="1")
    assert status != 0
    assert len(calls) == 1


def _clone_with_remote(tmp_path: Path, project: Path) -> Path:
    """``project`` committed, with a local bare remote as upstream; a colleague's clone of it."""
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Create")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(project), str(remote))
    git(project, "remote", "add", "origin", str(remote))
    git(project, "fetch", "-q", "origin")
    git(project, "branch", "-q", "--set-upstream-to=origin/main")
    upstream = tmp_path / "colleague"
    git(tmp_path, "clone", "-q", str(remote), str(upstream))
    return upstream


def test_backend_update_pulls_then_rebuilds(
    tmp_path: Path, compose_project: Path, standins: Path
) -> None:
    colleague = _clone_with_remote(tmp_path, compose_project)
    (colleague / "CHANGELOG.md").write_text("a change from upstream\n")
    git(colleague, "add", "CHANGELOG.md")
    git(colleague, "commit", "-q", "-m", "Upstream change")
    git(colleague, "push", "-q", "origin", "main")

    status, calls = run_make(compose_project, standins, "backend.update")

    assert status == 0
    assert (compose_project / "CHANGELOG.md").read_text() == "a change from upstream\n"
    assert calls == [f"{compose_project}\tdocker compose up -d --build"]


def test_backend_update_stops_when_the_pull_fails(
    tmp_path: Path, compose_project: Path, standins: Path
) -> None:
    """No rebuild from stale code: a failed ``git pull`` (no upstream here) ends the target."""
    git(compose_project, "init", "-q", "-b", "main")
    git(compose_project, "add", "-A")
    git(compose_project, "commit", "-q", "-m", "Create")

    status, calls = run_make(compose_project, standins, "backend.update")

    assert status != 0
    assert calls == []


def test_backend_update_runs_git_pull_before_docker(compose_project: Path, standins: Path) -> None:
    """With a recording ``git`` too, the order of the two calls is visible."""
    git_standin = standins / "git"
    git_standin.write_text(RECORDER)
    git_standin.chmod(0o755)

    status, calls = run_make(compose_project, standins, "backend.update")

    assert status == 0
    assert calls == [
        f"{compose_project}\tgit pull",
        f"{compose_project}\tdocker compose up -d --build",
    ]
