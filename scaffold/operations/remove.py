"""`remove`: an entity taken out of a service, the exact inverse of `add`, all or nothing.

The entity's files go (those `add` recorded in ``.robyn-config/<module>.toml``, the record
too); the edits `add` made to shared files are undone by syntax tree, and its entry leaves
``[tool.robyn-config.entities]``. A file the operator changed since `add` wrote it refuses
the whole command unless ``--force``; so does another entity's reference to it, naming the
entity and its field (docs/design.md §3 remove).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scaffold.errors import UsageError
from scaffold.generation.entity import EntityFiles, render_entity
from scaffold.operations.entity_sources import (
    Sources,
    edited_sources,
    entity_edits,
    inverse_edits,
    relative,
    report_files,
    tidy_sources,
    unified_diff,
)
from scaffold.project.config import ProjectConfig, load_project
from scaffold.project.entities import EntityName, parse_entity_name
from scaffold.project.entity_files import compare_files, file_digest, read_record, record_path
from scaffold.project.references import references_to
from scaffold.reporting import FileStatus, Reporter, SilentReporter
from scaffold.safety.guard import refuse_dirty
from scaffold.safety.transaction import Transaction, checkpoint
from scaffold.sources import tidy as lint

__all__ = ["RemoveResult", "remove_entity"]

BYTECODE_FOLDER = "__pycache__"


@dataclass
class RemoveResult:
    """What `remove` did (or, in a dry run, would do)."""

    project: Path
    entity: EntityName
    deleted: list[Path] = field(default_factory=list)
    modified: list[Path] = field(default_factory=list)
    diffs: dict[Path, str] = field(default_factory=dict)
    # Deleted under --force although the operator had changed them.
    changed: list[Path] = field(default_factory=list)
    # Files of the entity that were already gone: nothing to delete.
    missing: list[Path] = field(default_factory=list)
    dry_run: bool = False


def _expected_files(
    config: ProjectConfig, module: str, rendered: EntityFiles, sources: Sources
) -> tuple[dict[Path, str], bool]:
    """The entity's files and the sha256 add wrote for each; whether add recorded them.

    Without a record (an entity added before add kept one) the files are rendered again from
    the recorded fields and laid out as add lays them out. A record that lists one of the
    files remove edits (``sources``) is refused: that file is not the entity's to delete.
    """
    record = read_record(config.root, module)
    if record is None:
        laid_out, _ = tidy_sources(config, {}, rendered.files)
        return {path: file_digest(content) for path, content in laid_out.items()}, False
    edited = {*sources, config.pyproject}
    for path in record:
        if path in edited:
            raise UsageError(
                f"{record_path(config.root, module).relative_to(config.root).as_posix()} lists "
                f"{relative(config, path)}, a file remove edits rather than deletes; restore "
                "the record from git."
            )
    return record, True


def _refuse_changed(
    config: ProjectConfig, name: EntityName, changed: list[Path], recorded: bool
) -> None:
    names = ", ".join(str(relative(config, path)) for path in changed)
    since = (
        "changed since add created them"
        if recorded
        else "differ from what add generates for it (added before add recorded its files)"
    )
    raise UsageError(
        f"Not removing {name.module!r}: {names} {since}; nothing was written, pass --force "
        "to delete them too."
    )


def _refuse_referred_to(config: ProjectConfig, name: EntityName) -> None:
    """Other entities' references to the entity (its own do not count) refuse the remove."""
    references = references_to(config, name.module)
    if not references:
        return
    fields = ", ".join(str(reference) for reference in references)
    referrers = ", ".join(dict.fromkeys(reference.entity for reference in references))
    one = len(references) == 1
    raise UsageError(
        f"Not removing {name.module!r}: {fields} refer{'s' if one else ''} to it; remove "
        f"{referrers} first, or take {'that field' if one else 'those fields'} out of the "
        "code and of [tool.robyn-config.entities] by hand."
    )


def _bytecode(files: list[Path]) -> list[Path]:
    """The cached bytecode of the deleted modules (``__pycache__/<name>.*.pyc``).

    Left behind, it would keep the entity's folders, which `add` of the same name then finds.
    """
    found: list[Path] = []
    for path in files:
        if path.suffix == ".py":
            cache = path.parent / BYTECODE_FOLDER
            found += sorted(p for p in cache.glob(f"{path.stem}.*.pyc") if p.is_file())
    return found


def _emptied_folders(config: ProjectConfig, deleted: list[Path]) -> list[Path]:
    """The folders that hold nothing but deleted paths (the entity's own), deepest first.

    The project's own folders (the add paths, ``tests``) stay even when emptied.
    """
    root = config.root
    kept = {root, root / "tests"}
    for path in config.add_paths.values():
        kept.update({path, *path.parents})
    candidates = {
        parent
        for path in deleted
        for parent in path.parents
        if parent.is_relative_to(root) and parent not in kept
    }
    gone = set(deleted)
    emptied: list[Path] = []
    for folder in sorted(candidates, key=lambda item: len(item.parts), reverse=True):
        if folder.is_dir() and not folder.is_symlink() and set(folder.iterdir()) <= gone:
            gone.add(folder)
            emptied.append(folder)
    return emptied


def remove_entity(
    *,
    project: Path,
    entity: str,
    force: bool = False,
    allow_dirty: bool = False,
    dry_run: bool = False,
    reporter: Reporter | None = None,
) -> RemoveResult:
    """Remove ``entity`` from the project at ``project``: the exact inverse of `add_entity`.

    Everything is computed in memory first; nothing is written in a dry run or when the
    entity does not exist, the tree is dirty, or a file of the entity was changed (unless
    ``force``). The writes and deletions go through one `Transaction`: on failure (Ctrl-C
    included) the tree is put back path by path.
    """
    report = reporter or SilentReporter()
    config = load_project(project)
    name = parse_entity_name(entity)
    if name.module not in config.entities:
        raise UsageError(
            f"The entity {name.module!r} does not exist in {config.root}: "
            "[tool.robyn-config.entities] does not list it."
        )
    _refuse_referred_to(config, name)
    if not dry_run:
        refuse_dirty(config.root, allow_dirty=allow_dirty)
    rendered = render_entity(config, name, config.entity_fields(name.module))
    edits = inverse_edits(entity_edits(config, name, rendered))
    sources = edited_sources(config, edits, "remove")
    expected, recorded = _expected_files(config, name.module, rendered, sources)
    states = compare_files(expected)
    if states.not_files:
        raise UsageError(
            f"{relative(config, states.not_files[0])}, a file of the entity, is now a "
            "directory or a link; move it away, then run remove again."
        )
    present, changed, missing = states.present, states.changed, states.missing
    if changed and not force:
        _refuse_changed(config, name, changed, recorded)
    _, operators_layout = tidy_sources(config, sources, {})
    sources[config.pyproject] = (
        config.pyproject.read_text(encoding="utf-8"),
        config.without_entity(name.module),
    )
    record = record_path(config.root, name.module)
    deleted = sorted({*present, *([record] if record.is_file() else [])})

    result = RemoveResult(project=config.root, entity=name, dry_run=dry_run)
    result.deleted = deleted
    result.changed = changed
    result.missing = missing
    result.modified = sorted(path for path, (old, new) in sources.items() if old != new)
    result.diffs = {path: unified_diff(config, path, *sources[path]) for path in result.modified}
    if dry_run:
        report_files(
            report,
            config,
            [(FileStatus.WOULD_DELETE, result.deleted), (FileStatus.WOULD_MODIFY, result.modified)],
        )
        return result

    bytecode = _bytecode(deleted)
    folders = _emptied_folders(config, [*deleted, *bytecode])
    planned = {path: sources[path][1].encode() for path in result.modified}
    with Transaction(
        root=config.root,
        name="remove",
        description=f"remove {name.module}",
        undone="the project is as it was before remove",
    ) as transaction:
        transaction.write_files(planned)
        transaction.delete_files([*deleted, *bytecode], folders)
        python_files = [
            p for p in result.modified if p.suffix == ".py" and p not in operators_layout
        ]
        lint.check_files(config.root, python_files)
        checkpoint("remove:linted")
    report_files(
        report,
        config,
        [(FileStatus.DELETE, result.deleted), (FileStatus.MODIFY, result.modified)],
    )
    return result
