"""`add-fields`: new fields on an existing entity, all or nothing.

What changes, and nothing else: the entity's table or model class in the shared tables
module (the new column lines inserted by syntax tree, every other line kept), the files `add`
generated for the entity that depend on its fields (contracts, domain entity, repository,
routes or views, the entity's tests), `[tool.robyn-config.entities]` and add's record of the
entity's files. A generated file the operator has not changed is generated again with every
field; one they changed gets the new fields by a three-way merge, and a merge whose changes
overlap refuses the whole command (docs/decisions.md, "How add-fields keeps the operator's
work"). Every field added must let the rows the table already holds take a value: a default,
or null (optional); a unique field cannot have a default, which every row would share.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from scaffold.errors import UsageError
from scaffold.generation.entity import EntityFiles, render_entity, table_attributes
from scaffold.matrix import Orm

# The entity commands' helpers for edited files, their layout and their diffs: add-fields
# shows and lays out its changes exactly as add and remove do.
from scaffold.operations.entity_sources import (
    edited_sources,
    refuse_without_list_support,
    relative,
    report_files,
    tidy_sources,
    unified_diff,
)
from scaffold.project.config import ProjectConfig, load_project
from scaffold.project.entities import EntityName, Field, FieldType, parse_entity_name, parse_fields
from scaffold.project.entity_files import file_digest, read_record, record_path, updated_record
from scaffold.project.references import refuse_bad_targets
from scaffold.reporting import FileStatus, Reporter, SilentReporter
from scaffold.safety.guard import refuse_dirty
from scaffold.safety.transaction import Transaction, checkpoint
from scaffold.sources import tidy as lint
from scaffold.sources.class_edits import (
    EnsureClassFields,
    InsertClassBefore,
    ReplaceClass,
    class_attributes,
    class_code,
    class_names,
)
from scaffold.sources.edits import MergeSnippet, SourceEdit, SourceShapeError
from scaffold.sources.three_way import merge_text

__all__ = ["AddFieldsResult", "add_fields"]


@dataclass
class AddFieldsResult:
    """What `add-fields` did (or, in a dry run, would do)."""

    project: Path
    entity: EntityName
    added: tuple[Field, ...]
    fields: tuple[Field, ...]  # every field of the entity afterwards
    modified: list[Path] = field(default_factory=list)
    # Generated files the operator had changed: the new fields were merged into their version.
    merged: list[Path] = field(default_factory=list)
    diffs: dict[Path, str] = field(default_factory=dict)
    dry_run: bool = False


def _quoted(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)


def _existing_entity(config: ProjectConfig, entity: str) -> tuple[EntityName, tuple[Field, ...]]:
    """The entity as `add` recorded it in ``[tool.robyn-config.entities]``, with its fields."""
    name = parse_entity_name(entity)
    if name.module not in config.entities:
        known = ", ".join(sorted(config.entities)) or "none yet"
        raise UsageError(
            f"The entity {name.module!r} does not exist in {config.root} (entities: {known}); "
            f"add it with 'robyn-config add {name.module}'."
        )
    return name, config.entity_fields(name.module)


def _refuse_without_a_value(item: Field) -> None:
    """A new column on a table with rows: each row needs a value, and unique ones their own."""
    optional = dataclasses.replace(item, optional=True, default=None).spec
    if item.unique and item.default is not None:
        raise UsageError(
            f"Field {item.name!r} is unique and has a default: every row the table already "
            f"holds would get that value and collide; leave the default out and make it "
            f"optional ({optional!r})."
        )
    if item.optional or item.default is not None:
        return
    if item.unique:
        raise UsageError(
            f"Field {item.name!r} is required and unique, but the rows the table already holds "
            f"have no value for it; make it optional ({optional!r})."
        )
    if item.type is FieldType.REF:
        # A reference has no default: which row each existing one refers to is not knowable.
        raise UsageError(
            f"Field {item.name!r} is a required reference, but the rows the table already "
            f"holds refer to no row; make it nullable ({optional!r})."
        )
    raise UsageError(
        f"Field {item.name!r} is required, but the rows the table already holds have no "
        f"value for it; give it a default or make it optional ({optional!r})."
    )


def _new_fields(
    config: ProjectConfig, existing: tuple[Field, ...], entity: EntityName, spec: str | None
) -> tuple[Field, ...]:
    if spec is None or not spec.replace(",", " ").strip():
        raise UsageError(
            "add-fields needs the fields to add: --fields 'name:type ...', "
            "e.g. --fields 'phone:str? stock:int=0'."
        )
    added = parse_fields(spec)
    held = [item.name for item in added if item.name in {old.name for old in existing}]
    if held:
        raise UsageError(
            f"The entity {entity.module!r} already has the field{'s' if len(held) > 1 else ''} "
            f"{_quoted(held)}; add-fields only adds new ones."
        )
    _refuse_column_clashes(existing, entity, added)
    _refuse_references(config, entity, added)
    for item in added:
        _refuse_without_a_value(item)
    return added


def _refuse_column_clashes(
    existing: tuple[Field, ...], entity: EntityName, added: tuple[Field, ...]
) -> None:
    """A new field whose name or column is an existing field's column or name.

    A reference's column is ``<name>_id``: ``customer:ref`` and ``customer_id:int`` would be
    one column (and one request field) twice.
    """
    taken = {key: old for old in existing for key in (old.name, old.column)}
    for item in added:
        for key in dict.fromkeys((item.name, item.column)):
            old = taken.get(key)
            if old is None:
                continue
            if key == old.column != old.name:
                raise UsageError(
                    f"Field {item.name!r} would clash with the column {key} of the reference "
                    f"{old.name!r} that {entity.module!r} has; choose another name."
                )
            raise UsageError(
                f"Field {item.name!r} is a reference whose column {key} is the field "
                f"{old.name!r} that {entity.module!r} has; choose another name."
            )


def _refuse_references(config: ProjectConfig, entity: EntityName, added: tuple[Field, ...]) -> None:
    """A new reference names an entity of the service, in a stack that can migrate it."""
    refs = [item for item in added if item.type is FieldType.REF]
    if refs and config.stack.orm is Orm.TORTOISE:
        # docs/decisions.md, "No new reference on a Tortoise table": Aerich 0.10.1 writes
        # the new foreign key as ALTER TABLE ... ADD CONSTRAINT, which SQLite has not.
        raise UsageError(
            f"Field {refs[0].name!r} is a reference, which add-fields cannot add to an "
            "existing table in a Tortoise service: Aerich writes its foreign key as "
            "'ALTER TABLE ... ADD CONSTRAINT', which SQLite does not have."
        )
    refuse_bad_targets(config, entity.module, added)


# --- the files add generated for the entity -------------------------------------------------


@dataclass(frozen=True)
class _Regenerated:
    text: str  # what the file holds afterwards
    merged: bool  # the operator's version with the new fields merged in


def _regenerated(
    config: ProjectConfig, before: EntityFiles, after: EntityFiles
) -> dict[Path, _Regenerated]:
    """The entity's generated files that depend on its fields, as they are afterwards.

    A file that holds exactly what is generated for the fields before is generated again; one
    the operator changed gets the difference merged in. Overlapping changes, or a file gone,
    refuse the command naming every such file.
    """
    changed = [path for path, content in after.files.items() if before.files.get(path) != content]
    if not changed:
        return {}
    missing = [str(relative(config, path)) for path in changed if not path.is_file()]
    if missing:
        raise UsageError(
            f"{_quoted(missing)}, generated by add for the entity, "
            f"{'is' if len(missing) == 1 else 'are'} missing; restore "
            f"{'it' if len(missing) == 1 else 'them'} from git, then add the fields."
        )
    generated = lint.tidy(config.root, {p: before.files[p].decode("utf-8") for p in changed})
    wanted = lint.tidy(config.root, {p: after.files[p].decode("utf-8") for p in changed})
    plan: dict[Path, _Regenerated] = {}
    overlapping: list[str] = []
    for path in changed:
        current = path.read_text(encoding="utf-8")
        if current == generated[path]:
            plan[path] = _Regenerated(wanted[path], merged=False)
            continue
        merged = merge_text(current, generated[path], wanted[path])
        if merged is None or not _compiles(merged, path):
            overlapping.append(str(relative(config, path)))
            continue
        plan[path] = _Regenerated(merged, merged=True)
    if overlapping:
        raise UsageError(
            f"{_quoted(overlapping)} changed since add generated "
            f"{'it' if len(overlapping) == 1 else 'them'} and the new fields cannot be merged "
            "in (the changes overlap); add the fields to them by hand, or undo your changes "
            "there first and redo them after add-fields."
        )
    return plan


def _compiles(source: str, path: Path) -> bool:
    try:
        compile(source, str(path), "exec")
    except SyntaxError:
        return False
    return True


# --- the shared modules: the table class, and MVC's repository class ------------------------


def _snippet_edits(
    config: ProjectConfig,
    target: Path,
    before: str | None,
    after: str,
    added: tuple[Field, ...],
    table: bool,
) -> list[SourceEdit]:
    """The edits of a shared module that holds one of the entity's classes (``after``'s)."""
    shown = str(relative(config, target))
    current = target.read_text(encoding="utf-8") if target.is_file() else ""
    edits: list[SourceEdit] = []
    if table:
        [name] = class_names(after)
        attributes = class_attributes(current, name)
        if attributes is None:
            raise SourceShapeError(
                f"{shown} has no class {name!r} of the entity; restore it (or its name) first."
            )
        new = tuple(name for item in added for name in table_attributes(item, config.stack.orm))
        held = sorted(set(new) & attributes)
        if held:
            raise UsageError(
                f"The class {name} in {shown} already has {_quoted(held)}; remove "
                f"{'it' if len(held) == 1 else 'them'} there or choose other names."
            )
        edits.append(EnsureClassFields(name, after, new))
    elif before is not None and before != after:
        # MVC's repository class depends on the unique fields only: when they change it is
        # generated again, unless the operator changed it since.
        generated = lint.tidy(config.root, {target: before})[target]
        wanted = lint.tidy(config.root, {target: after})[target]
        names = class_names(after)
        for position, name in enumerate(names):
            previous = class_code(generated, name)
            if previous is None:
                # New to the entity (ConflictError), unless another entity's unique fields
                # brought it already: where add puts it, before the next class of the snippet.
                following = [later for later in names[position + 1 :] if class_code(current, later)]
                if following:
                    edits.append(InsertClassBefore(name, wanted, following[0]))
                continue
            if class_code(current, name) != previous:
                raise UsageError(
                    f"The class {name} in {shown} changed since add generated it, and it "
                    "must change to handle the new unique field; add the field by hand."
                )
            edits.append(ReplaceClass(name, wanted))
    # The imports the new fields' types need (and a class of the snippet that is missing).
    edits.append(MergeSnippet(after))
    return edits


def _shared_edits(
    config: ProjectConfig, before: EntityFiles, after: EntityFiles, added: tuple[Field, ...]
) -> dict[Path, list[SourceEdit]]:
    table_module = config.add_paths["database_table_path"]
    edits: dict[Path, list[SourceEdit]] = {}
    for target, snippet in after.snippets.items():
        old = before.snippets.get(target)
        if target != table_module and old == snippet:
            continue
        edits[target] = _snippet_edits(
            config, target, old, snippet, added, table=target == table_module
        )
    return edits


# --- the operation --------------------------------------------------------------------------


def add_fields(
    *,
    project: Path,
    entity: str,
    fields: str | None,
    allow_dirty: bool = False,
    dry_run: bool = False,
    reporter: Reporter | None = None,
) -> AddFieldsResult:
    """Add ``fields`` to the existing ``entity`` of the project at ``project``.

    Everything is computed in memory first; nothing is written in a dry run or when any input
    or edit is refused. The writes go through one `Transaction`, as add's do.
    """
    report = reporter or SilentReporter()
    config = load_project(project)
    refuse_without_list_support(config)
    name, existing = _existing_entity(config, entity)
    added = _new_fields(config, existing, name, fields)
    if not dry_run:
        refuse_dirty(config.root, allow_dirty=allow_dirty)
    combined = existing + added
    before = render_entity(config, name, existing)
    after = render_entity(config, name, combined)

    regenerated = _regenerated(config, before, after)
    sources = edited_sources(config, _shared_edits(config, before, after, added), "add-fields")
    for path, plan in regenerated.items():
        sources[path] = (path.read_text(encoding="utf-8"), plan.text)
    _, operators_layout = tidy_sources(config, sources, {})
    # The record follows the files it lists that add-fields wrote over add's bytes (a merged
    # file still holds the operator's changes: its digest stays theirs to tell apart).
    recorded = read_record(config.root, name.module) or {}
    rewritten = {
        path: sources[path][1].encode("utf-8")
        for path, plan in regenerated.items()
        if not plan.merged and recorded.get(path) == file_digest(sources[path][0].encode("utf-8"))
    }
    record = updated_record(config.root, name.module, rewritten)
    if record is not None:
        path = record_path(config.root, name.module)
        sources[path] = (path.read_text(encoding="utf-8"), record.decode("utf-8"))
    sources[config.pyproject] = (
        config.pyproject.read_text(encoding="utf-8"),
        config.with_entity(name.module, " ".join(item.spec for item in combined)),
    )

    result = AddFieldsResult(
        project=config.root, entity=name, added=added, fields=combined, dry_run=dry_run
    )
    result.modified = sorted(path for path, (old, new) in sources.items() if old != new)
    result.merged = sorted(path for path, plan in regenerated.items() if plan.merged)
    result.diffs = {path: unified_diff(config, path, *sources[path]) for path in result.modified}
    status = FileStatus.WOULD_MODIFY if dry_run else FileStatus.MODIFY
    if dry_run:
        report_files(report, config, [(status, result.modified)])
        return result

    planned = {path: sources[path][1].encode("utf-8") for path in result.modified}
    fields_text = " ".join(item.name for item in added)
    with Transaction(
        root=config.root,
        name="add-fields",
        description=f"add-fields {name.module} {fields_text}",
        undone="the project is as it was before add-fields",
    ) as transaction:
        transaction.write_files(planned)
        python_files = [
            p for p in result.modified if p.suffix == ".py" and p not in operators_layout
        ]
        lint.check_files(config.root, python_files)
        checkpoint("add-fields:linted")
    report_files(report, config, [(status, result.modified)])
    return result
