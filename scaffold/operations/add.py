"""`add`: an entity module wired into an existing service, all or nothing."""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from scaffold.errors import UsageError
from scaffold.generation.entity import render_entity
from scaffold.operations.entity_sources import (
    edited_sources,
    entity_edits,
    refuse_without_list_support,
    relative,
    report_files,
    tidy_sources,
    unified_diff,
)
from scaffold.project.config import ProjectConfig, load_project
from scaffold.project.entities import EntityName, Field, parse_entity_name, parse_fields
from scaffold.project.entity_files import record_content, record_path
from scaffold.project.references import refuse_bad_targets
from scaffold.reporting import FileStatus, Reporter, SilentReporter
from scaffold.safety.guard import refuse_dirty
from scaffold.safety.transaction import Transaction, checkpoint
from scaffold.sources import tidy as lint

__all__ = ["AddResult", "add_entity"]

# Modules every project has besides what is on disk: an entity must not shadow these.
RESERVED_MODULES = frozenset({"app", "tests", "src"})


@dataclass
class AddResult:
    """What `add` did (or, in a dry run, would do)."""

    project: Path
    entity: EntityName
    fields: tuple[Field, ...]
    created: list[Path] = field(default_factory=list)
    modified: list[Path] = field(default_factory=list)
    diffs: dict[Path, str] = field(default_factory=dict)
    dry_run: bool = False


def _taken_names(config: ProjectConfig) -> frozenset[str]:
    """Module names of the app itself (and of the folders add writes into)."""
    names = set(RESERVED_MODULES)
    folders = [config.root / "src" / "app", *config.add_paths.values()]
    for folder in folders:
        if folder.is_dir():
            names.update(child.stem for child in folder.iterdir() if not child.name.startswith("_"))
    return frozenset(names)


def _imported_names(
    config: ProjectConfig, name: EntityName, fields: tuple[Field, ...]
) -> frozenset[str]:
    """Every name the entity's code imports, or that the files it lands in define.

    Rendered for a probe entity: an entity whose module or class is called like one of
    these names would shadow it (``decimal`` beside ``from decimal import Decimal``,
    ``Base`` beside the declarative base).
    """
    # The entity's references to itself become the probe's.
    probing = tuple(
        dataclasses.replace(item, target="probe") if item.target == name.module else item
        for item in fields
    )
    probe = render_entity(config, parse_entity_name("probe"), probing)
    sources = [c.decode("utf-8") for p, c in probe.files.items() if p.suffix == ".py"]
    sources += [*probe.snippets.values()]
    sources += [p.read_text(encoding="utf-8") for p in probe.snippets if p.is_file()]
    names: set[str] = set()
    for source in sources:
        tree = ast.parse(source)
        names.update(
            node.name
            for node in tree.body
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        )
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                names.update(a.asname or a.name for a in node.names)
                if node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return frozenset(names - {"app", "probe", "Probe"})


def _refuse_shadowing(name: EntityName, imported: frozenset[str]) -> None:
    for spelling in (name.module, name.class_name):
        if spelling in imported:
            raise UsageError(
                f"Invalid entity name {name.module!r}: the generated code imports a name "
                f"{spelling!r} that the entity would shadow; choose another name."
            )


def add_entity(
    *,
    project: Path,
    entity: str,
    fields: str | None = None,
    allow_dirty: bool = False,
    dry_run: bool = False,
    reporter: Reporter | None = None,
) -> AddResult:
    """Add ``entity`` (with ``fields``) to the project at ``project``.

    Everything is computed in memory first; nothing is written in a dry run or when any input
    or edit is refused. The writes go through one `Transaction`: on failure (Ctrl-C included)
    the tree is put back path by path, and the status lines are reported once add succeeded.
    """
    report = reporter or SilentReporter()
    config = load_project(project)
    refuse_without_list_support(config)
    # An entity added before is on disk too: say it exists rather than that it shadows itself.
    name = parse_entity_name(entity, taken=_taken_names(config) - set(config.entities))
    parsed_fields = parse_fields(fields)
    if name.module in config.entities:
        raise UsageError(f"The entity {name.module!r} already exists in {config.root}.")
    # A reference names an entity of this service, or the new entity itself (nullably).
    refuse_bad_targets(config, name.module, parsed_fields)
    if not dry_run:
        refuse_dirty(config.root, allow_dirty=allow_dirty)
    rendered = render_entity(config, name, parsed_fields)
    record = record_path(config.root, name.module)
    existing = sorted(
        str(relative(config, path)) for path in [*rendered.files, record] if path.exists()
    )
    if existing:
        raise UsageError(
            f"The entity {name.module!r} already exists: {', '.join(existing)} "
            "would be overwritten."
        )
    _refuse_shadowing(name, _imported_names(config, name, parsed_fields))

    sources = edited_sources(config, entity_edits(config, name, rendered), "add")
    new_files, operators_layout = tidy_sources(config, sources, rendered.files)
    # Digests of the bytes as written: what `remove` compares with to find the operator's edits.
    new_files[record] = record_content(config.root, name.module, new_files)
    fields_spec = " ".join(item.spec for item in parsed_fields)
    sources[config.pyproject] = (
        config.pyproject.read_text(encoding="utf-8"),
        config.with_entity(name.module, fields_spec),
    )

    result = AddResult(project=config.root, entity=name, fields=parsed_fields, dry_run=dry_run)
    result.created = sorted(new_files)
    result.modified = sorted(path for path, (old, new) in sources.items() if old != new)
    result.diffs = {path: unified_diff(config, path, *sources[path]) for path in result.modified}
    if dry_run:
        report_files(
            report,
            config,
            [(FileStatus.WOULD_CREATE, result.created), (FileStatus.WOULD_MODIFY, result.modified)],
        )
        return result

    planned = {**new_files, **{path: sources[path][1].encode() for path in result.modified}}
    with Transaction(
        root=config.root,
        name="add",
        description=f"add {name.module}",
        undone="the project is as it was before add",
    ) as transaction:
        transaction.write_files(planned)
        python_files = [
            p
            for p in [*result.created, *result.modified]
            if p.suffix == ".py" and p not in operators_layout
        ]
        lint.check_files(config.root, python_files)
        checkpoint("add:linted")
    report_files(
        report,
        config,
        [(FileStatus.CREATE, result.created), (FileStatus.MODIFY, result.modified)],
    )
    return result
