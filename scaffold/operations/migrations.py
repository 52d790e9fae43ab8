"""`makemigration` and `migrate`: the ORM's migration tool, run as the project's Makefile does.

The commands are the Makefile's (``make makemigration`` / ``make migrate``) run through the
project's package manager with the same environment (``PYTHONPATH=src``, Aerich's warning
switch) and never the caller's virtual environment. A makemigration that fails or finds no
change leaves no new file in the migrations folder.
"""

from __future__ import annotations

import ast
import os
import re
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from scaffold.errors import OperationFailed, UsageError
from scaffold.matrix import Orm
from scaffold.project.config import ProjectConfig, load_project
from scaffold.reporting import Reporter, SilentReporter
from scaffold.safety.transaction import Transaction
from scaffold.tools import package_managers, processes
from scaffold.tools.package_managers import project_environment, tool_command
from scaffold.tools.processes import Runner, run_subprocess

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DatabaseTarget",
    "MakeMigrationResult",
    "MigrateResult",
    "database_target",
    "failure_summary",
    "make_migration",
    "migrate",
    "require_reachable",
]

DEFAULT_DATABASE_URL = "sqlite:///./app.db"
POSTGRES_DEFAULT_PORT = 5432
CONNECT_TIMEOUT_SECONDS = 3.0
MIGRATIONS_FOLDER = "migrations"
ALEMBIC_VERSIONS = Path(MIGRATIONS_FOLDER) / "versions"
AERICH_VERSIONS = Path(MIGRATIONS_FOLDER) / "models"
NO_CHANGES = "No changes detected"

# --- DATABASE_URL --------------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseTarget:
    """Where DATABASE_URL points, described without its password."""

    backend: str  # "sqlite" or "postgresql"
    source: str  # where the URL came from, for messages
    host: str = ""
    port: int = 0
    path: str = ""

    @property
    def describe(self) -> str:
        if self.backend == "sqlite":
            return f"the SQLite database {self.path or ':memory:'}"
        return f"the PostgreSQL server at {self.host}:{self.port}"


def _dotenv_value(dotenv: Path, key: str) -> str | None:
    """``key`` from a ``.env`` file as pydantic-settings reads it (case-insensitive key)."""
    if not dotenv.is_file():
        return None
    found = None
    for raw in dotenv.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        if name.strip().lower() != key.lower():
            continue
        value = value.strip()
        if value[:1] in {"'", '"'} and value.find(value[0], 1) > 0:
            value = value[1 : value.find(value[0], 1)]  # quoted: up to the closing quote
        else:
            value = value.split(" #", 1)[0].strip()
        found = value  # the last assignment wins, as in python-dotenv
    return found


def _redacted(parts: SplitResult) -> str:
    if parts.password is None:
        return parts.geturl()
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def database_target(root: Path, environ: Mapping[str, str] | None = None) -> DatabaseTarget:
    """Where the project's tools will connect: DATABASE_URL from the environment, else .env."""
    environ = os.environ if environ is None else environ
    if environ.get("DATABASE_URL"):
        url, source = environ["DATABASE_URL"], "DATABASE_URL in the environment"
    elif (value := _dotenv_value(root / ".env", "DATABASE_URL")) is not None:
        url, source = value, f"DATABASE_URL in {root / '.env'}"
    else:
        url, source = DEFAULT_DATABASE_URL, "the default DATABASE_URL"
    parts = urlsplit(url)
    backend = parts.scheme.split("+", 1)[0].lower()
    if backend == "sqlite":
        path = parts.path.removeprefix("/") if parts.path.startswith("//") else parts.path[1:]
        return DatabaseTarget(backend="sqlite", source=source, path=path)
    if backend in {"postgresql", "postgres"}:
        try:
            port = parts.port or POSTGRES_DEFAULT_PORT
        except ValueError:
            raise UsageError(
                f"{source} ({_redacted(parts)}) has an invalid port; "
                "use a URL like postgresql://user:password@host:5432/db."
            ) from None
        host = parts.hostname or "localhost"
        return DatabaseTarget(backend="postgresql", source=source, host=host, port=port)
    raise UsageError(
        f"{source} ({_redacted(parts) if parts.scheme else '<not a URL>'}) is not supported; "
        "use sqlite:///./app.db or postgresql://user:password@host:5432/db."
    )


def require_reachable(root: Path, target: DatabaseTarget) -> None:
    """Fail in one sentence (host and port, never the password) when the database is away."""
    if target.backend == "sqlite":
        if target.path and target.path != ":memory:":
            folder = (root / target.path).parent
            if not folder.is_dir():
                raise OperationFailed(
                    f"Cannot open {target.describe} ({target.source}): the folder {folder} "
                    "does not exist; create it or fix DATABASE_URL."
                )
        return
    try:
        with socket.create_connection((target.host, target.port), CONNECT_TIMEOUT_SECONDS):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise OperationFailed(
            f"Cannot reach {target.describe} ({target.source}): {reason.lower()}; "
            "start the database or fix DATABASE_URL."
        ) from None


# --- running the tool, leaving nothing behind ---------------------------------------------


def _entries(folder: Path) -> set[Path]:
    return set(folder.rglob("*")) if folder.is_dir() else set()


_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')


def failure_summary(output: str, root: Path) -> str:
    """The tool's last line, and the last traceback frame inside the project, if any.

    The project's traceback is the tool's business: the operator gets its conclusion and
    where in their code it happened, not forty lines of frames.
    """
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    if not lines:
        return "it printed nothing"
    summary = lines[-1].strip().rstrip(".")
    # A wrapper (the Aerich script) may print its own last line after the tool's traceback:
    # the exception line (the first unindented one after the frames) says more.
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent")]
    if starts:
        after = lines[starts[-1] + 1 :]
        exception = next((line for line in after if not line.startswith((" ", "\t"))), None)
        if exception is not None:
            summary = exception.strip().rstrip(".")
    for match in reversed(list(_FRAME.finditer(output))):
        path = Path(match["path"])
        if path.is_relative_to(root) and ".venv" not in path.relative_to(root).parts:
            summary += f" (at {path.relative_to(root).as_posix()}, line {match['line']})"
            break
    return summary


def _run_tool(
    runner: Runner,
    command: Sequence[str],
    config: ProjectConfig,
    env: Mapping[str, str],
) -> str:
    completed = runner(command, config.root, env)
    output = (completed.stdout or "") + "\n" + (completed.stderr or "")
    if completed.returncode != 0:
        shown = " ".join([Path(command[0]).name, *command[1:]])
        hint = ""
        if "Target database is not up to date" in output:
            hint = " Apply the existing migrations first with 'robyn-config migrate'."
        summary = failure_summary(output, config.root)
        raise OperationFailed(processes.failed(shown, completed, summary) + hint)
    return output


def _is_empty_revision(path: Path) -> bool:
    """An Alembic autogenerate revision whose upgrade() and downgrade() only ``pass``."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return False
    bodies = {
        node.name: node.body
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in {"upgrade", "downgrade"}
    }
    return len(bodies) == 2 and all(
        all(isinstance(statement, ast.Pass) for statement in body) for body in bodies.values()
    )


# --- the commands ---------------------------------------------------------------------------


@dataclass
class MakeMigrationResult:
    """What makemigration did: the new revision file, or None when nothing changed."""

    project: Path
    orm: Orm
    revision: Path | None
    output: str


@dataclass
class MigrateResult:
    """What migrate did."""

    project: Path
    orm: Orm
    target: DatabaseTarget
    applied: bool
    output: str


def _prepare(project: Path) -> ProjectConfig:
    config = load_project(project)
    package_managers.require_manager(config.stack.package_manager)
    return config


def make_migration(
    *,
    project: Path,
    message: str | None,
    reporter: Reporter | None = None,
    runner: Runner | None = None,
) -> MakeMigrationResult:
    """Generate the next migration of ``project`` from its models (``make makemigration``).

    Returns the new revision, or None when the models match the migrations ("No changes
    detected"); an empty Alembic revision is deleted. On failure (Ctrl-C included) every file
    the tool added to the migrations folder is removed.
    """
    report = reporter or SilentReporter()
    run = runner or run_subprocess
    text = (message or "").strip()
    if not text:
        raise UsageError(
            'The --message is empty; describe the change, e.g. --message "add products".'
        )
    config = _prepare(project)
    orm = config.stack.orm
    if orm is Orm.SQLALCHEMY:
        # Autogenerate compares the models with the live database: reach it first.
        require_reachable(config.root, database_target(config.root))
        arguments = ["alembic", "revision", "--autogenerate", "-m", text]
        versions, label = config.root / ALEMBIC_VERSIONS, "Alembic"
    else:
        # The project's script runs Aerich offline for each dialect: no database needed.
        arguments = ["python", "scripts/makemigration.py", text]
        versions, label = config.root / AERICH_VERSIONS, "Aerich"
    command = tool_command(config.stack.package_manager, *arguments)
    folder = config.root / MIGRATIONS_FOLDER
    before = _entries(versions)
    with Transaction(
        root=config.root,
        name="makemigration",
        description=f"makemigration {text!r}",
        undone="no migration file was left behind",
    ) as transaction:
        with (
            report.step(f"Generating a migration with {label}"),
            transaction.tool(
                f"Generating a migration with {label}", step="generate", adds_to=[folder]
            ),
        ):
            output = _run_tool(run, command, config, project_environment(config.stack.orm))
        new = sorted(p for p in _entries(versions) - before if p.suffix == ".py")
        if len(new) == 1 and orm is Orm.SQLALCHEMY and _is_empty_revision(new[0]):
            transaction.revert()  # nothing changed: the tool's empty revision goes too
            new = []
    return MakeMigrationResult(
        project=config.root, orm=orm, revision=new[-1] if new else None, output=output
    )


def migrate(
    *, project: Path, reporter: Reporter | None = None, runner: Runner | None = None
) -> MigrateResult:
    """Apply the migrations of ``project`` to its DATABASE_URL (``make migrate``)."""
    report = reporter or SilentReporter()
    run = runner or run_subprocess
    config = _prepare(project)
    target = database_target(config.root)
    orm = config.stack.orm
    if orm is Orm.TORTOISE and not (config.root / AERICH_VERSIONS).is_dir():
        # Aerich refuses `upgrade` until its first migration exists; Alembic would no-op.
        return MigrateResult(config.root, orm, target, applied=False, output="")
    require_reachable(config.root, target)
    arguments = ["alembic", "upgrade", "head"] if orm is Orm.SQLALCHEMY else ["aerich", "upgrade"]
    command = tool_command(config.stack.package_manager, *arguments)
    label = "Alembic" if orm is Orm.SQLALCHEMY else "Aerich"
    with report.step(f"Applying the migrations with {label}"):
        output = _run_tool(run, command, config, project_environment(config.stack.orm))
    return MigrateResult(config.root, orm, target, applied=True, output=output)
