"""`create`: a new service for one cell of the stack matrix, all or nothing."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from scaffold.errors import UsageError
from scaffold.generation import project as blueprint
from scaffold.generation.render import RenderedFile
from scaffold.matrix import Stack
from scaffold.project.entities import IdType
from scaffold.project.names import validate_project_name
from scaffold.reporting import FileStatus, Reporter, SilentReporter
from scaffold.safety.journal import OUTSIDE_GIT_NAME
from scaffold.safety.transaction import Transaction
from scaffold.tools import git as gitops
from scaffold.tools import package_managers

__all__ = ["CreateResult", "PlannedFile", "create_project"]


@dataclass(frozen=True)
class PlannedFile:
    path: PurePosixPath
    status: FileStatus


@dataclass
class CreateResult:
    """What `create` did (or, in a dry run, would do)."""

    destination: Path
    stack: Stack
    files: list[PlannedFile] = field(default_factory=list)
    lock_file: Path | None = None
    commit: gitops.CommitInfo | None = None
    dry_run: bool = False


def _validate_index_url(index_url: str | None) -> None:
    if index_url is None:
        return
    parsed = urlparse(index_url)
    if parsed.scheme not in {"http", "https", "file"} or not (parsed.netloc or parsed.path):
        raise UsageError(
            f"Invalid --index-url {index_url!r}; give the full URL of a package index "
            "such as https://mirror.example/simple."
        )


def _validate_destination(destination: Path) -> None:
    if destination.exists() and not destination.is_dir():
        raise UsageError(f"DEST {destination} exists and is not a directory; choose a directory.")
    existing = destination
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"DEST {destination} cannot be created: {existing} is not a directory.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"DEST {destination} is not writable: no write permission on {existing}.")


def _plan(destination: Path, files: list[RenderedFile], lock_file: str) -> list[PlannedFile]:
    planned = []
    for rendered in files:
        target = destination / rendered.path
        if not target.exists() and not any(parent.is_file() for parent in target.parents):
            status = FileStatus.CREATE
        elif target.is_file() and target.read_bytes() == rendered.content:
            status = FileStatus.IDENTICAL
        else:
            status = FileStatus.CONFLICT
        planned.append(PlannedFile(rendered.path, status))
    lock_status = FileStatus.CONFLICT if (destination / lock_file).exists() else FileStatus.CREATE
    planned.append(PlannedFile(PurePosixPath(lock_file), lock_status))
    return planned


def create_project(
    *,
    name: str,
    stack: Stack,
    destination: Path | None = None,
    index_url: str | None = None,
    id_type: IdType = IdType.INT,
    git: bool = True,
    dry_run: bool = False,
    reporter: Reporter | None = None,
) -> CreateResult:
    """Create the project ``name`` for ``stack`` in ``destination`` (default ``./name``).

    ``id_type`` is the service's default key type (``[tool.robyn-config] id_type``), which
    `add` gives an entity unless told otherwise.

    Everything is validated before anything is written. On failure (Ctrl-C included) a
    destination that create made is removed; in an existing destination only what create
    generated is removed and every pre-existing file stays byte-identical.
    """
    report = reporter or SilentReporter()
    validate_project_name(name)
    _validate_index_url(index_url)
    destination = (destination or Path(name)).absolute()
    _validate_destination(destination)
    spec = package_managers.spec_for(stack.package_manager)
    if not dry_run:
        package_managers.require_manager(stack.package_manager)
        if git and shutil.which("git") is None:
            raise UsageError("git is not installed or not on PATH; install git or pass --no-git.")

    files = blueprint.project_files(name=name, stack=stack, index_url=index_url, id_type=id_type)
    result = CreateResult(destination=destination, stack=stack, dry_run=dry_run)
    result.files = _plan(destination, files, spec.lock_file)
    conflicts = [str(item.path) for item in result.files if item.status is FileStatus.CONFLICT]
    if conflicts:
        raise UsageError(
            f"DEST {destination} already has files that create would overwrite: "
            f"{', '.join(conflicts)}; move them away or choose another DEST."
        )
    if dry_run:
        for item in result.files:
            report.file(_planned(item.status), item.path)
        return result

    created_root = not destination.exists()
    undone = (
        f"removed {destination}"
        if created_root
        else f"removed what create had written in {destination}; nothing else changed"
    )
    with Transaction(
        root=destination,
        name="create",
        description=f"create {name}",
        undone=undone,
        # In the project folder even when it becomes a work tree: recovery looks there too.
        journal=destination / OUTSIDE_GIT_NAME,
    ) as transaction:
        transaction.make_directory(destination)
        transaction.write_files(
            {destination / item.path: item.content for item in files},
            executable={destination / item.path for item in files if item.executable},
        )
        lock_file = destination / spec.lock_file
        with (
            report.step(f"Locking dependencies with {spec.executable}"),
            # poetry may leave its in-project virtualenv behind on failure.
            transaction.tool(
                f"Locking with {spec.executable}",
                step="lock",
                creates=[lock_file],
                adds_to_top=[destination],
            ),
        ):
            result.lock_file = package_managers.lock(destination, stack.package_manager)
        if git:
            paths = [str(item.path) for item in result.files]
            with (
                report.step("Making the initial git commit"),
                transaction.tool("Committing", step="commit", **_git_writes(destination)),
            ):
                result.commit = gitops.commit_new_project(
                    destination, paths, f"Create {name} ({stack.id}) with robyn-config"
                )
    for item in result.files:
        report.file(item.status, item.path)
    return result


def _planned(status: FileStatus) -> FileStatus:
    """The dry run's word for a status: what would be done."""
    return FileStatus.WOULD_CREATE if status is FileStatus.CREATE else status


def _git_writes(destination: Path) -> dict[str, list[Path]]:
    """What the initial commit may write: a new ``.git``, or the index and branch of one."""
    dot_git = destination / ".git"
    if not dot_git.exists():
        return {"creates": [dot_git]}
    if not dot_git.is_dir():
        return {}  # a worktree's pointer file: its git directory lies elsewhere
    # A failed commit must not leave the operator's index with our files staged, nor their
    # branch pointing at a commit whose files were rolled back.
    changes = [dot_git / "index"]
    head = (dot_git / "HEAD").read_text(encoding="utf-8").strip()
    if head.startswith("ref: "):
        changes.append(dot_git / head.removeprefix("ref: "))
    return {"changes": changes}
