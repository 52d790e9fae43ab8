"""What `add` writes for one entity: the template context, new files and merge snippets.

Entity templates live in ``templates/entity/`` as overlay layers (``base``, ``design/<d>``,
``orm/<o>``, ``design_orm/<d>-<o>``) with two kinds of content:

* ``files/<key>/...`` are new files. The first segment ``<key>`` is a key of
  ``[tool.robyn-config.add]`` (``presentation_path``, ``views_path`` ...) or ``tests``; it is
  replaced by the configured path. ``__entity__`` in a segment becomes the entity's module name
  and ``__plural__`` its plural.
* ``snippets/<key>.py.jinja`` is Python merged into the existing file configured at ``<key>``:
  its ``from ... import ...`` lines are ensured and its classes appended when absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from scaffold.generation.field_types import FIELD_TYPES, entity_imports, field_default, list_fields
from scaffold.generation.render import layers_for, render_layers, template_root
from scaffold.matrix import Orm, Stack
from scaffold.project.config import ProjectConfig
from scaffold.project.entities import EntityName, Field, FieldType, parse_entity_name
from scaffold.project.layout import module_path, project_modules

__all__ = [
    "INVALID_SAMPLES",
    "SAMPLES",
    "UPDATED_SAMPLES",
    "EntityFiles",
    "Reference",
    "entity_context",
    "references",
    "render_entity",
    "table_attributes",
]

# Per field type, for `add`'s callers and checks (noxfile.py): a JSON sample that validates,
# another one for PATCH, and a JSON value that must be refused with 422.
SAMPLES: dict[FieldType, Any] = {kind: spec.sample for kind, spec in FIELD_TYPES.items()}
UPDATED_SAMPLES: dict[FieldType, Any] = {
    kind: spec.updated_sample for kind, spec in FIELD_TYPES.items()
}
INVALID_SAMPLES: dict[FieldType, Any] = {
    kind: spec.invalid_sample for kind, spec in FIELD_TYPES.items()
}


@dataclass(frozen=True)
class Reference:
    """A reference field of the entity, with the entity it refers to."""

    field: Field
    target: EntityName
    # The referencing entity's list under a row of the target: ``/customers/:id/orders``, or
    # ``/customers/:id/buyer-orders`` for a reference named unlike its target.
    nested_route: str
    handler: str  # the nested route's handler function: ``list_orders_of_buyer``


# Attributes of pydantic's BaseModel that a field of the same name would replace.
MODEL_ATTRIBUTES = frozenset(
    {"json", "copy", "schema", "schema_json", "construct", "validate", "parse_obj"}
    | {"parse_raw", "parse_file", "from_orm", "update_forward_refs"}
)


def model_attribute(field: Field) -> str:
    """The field's attribute in request and response models: ``json_`` for ``json``."""
    return f"{field.column}_" if field.column in MODEL_ATTRIBUTES else field.column


def table_attributes(field: Field, orm: Orm) -> tuple[str, ...]:
    """The attributes the field gives its table class: a Tortoise reference has two, the
    relation (``customer``) and the column it fills (``customer_id``)."""
    if field.target is not None and orm is Orm.TORTOISE:
        return (field.name, field.column)
    return (field.column,)


def references(entity: EntityName, fields: tuple[Field, ...]) -> tuple[Reference, ...]:
    """The reference fields of ``entity`` (a target of its own name is the entity itself)."""
    found = []
    for field in fields:
        if field.target is None:
            continue
        target = entity if field.target == entity.module else parse_entity_name(field.target)
        listed = entity.route.removeprefix("/")
        if field.name != target.module:
            listed = f"{field.name.replace('_', '-')}-{listed}"
        found.append(
            Reference(
                field=field,
                target=target,
                nested_route=f"{target.route}/:id/{listed}",
                handler=f"list_{entity.plural}_of_{field.name}",
            )
        )
    return tuple(found)


@dataclass(frozen=True)
class RowMaker:
    """How the generated tests make a row of an entity that a reference reaches: the fields a
    POST of it must give (no default, not null), through the entity's own route."""

    entity: EntityName
    samples: dict[str, Any]  # column -> a JSON value, for the plain fields that are not unique
    # column -> a Python expression of ``n`` with a new value for each n, for the unique ones
    unique_samples: dict[str, str]
    references: tuple[Field, ...]  # required references: a row of their target is made first


def row_makers(
    config: ProjectConfig, entity: EntityName, fields: tuple[Field, ...]
) -> tuple[RowMaker, ...]:
    """A maker for each entity the references of ``fields`` reach, through required ones too.

    Required references form no cycle (each needs its target to exist first; a reference to
    the entity itself is nullable), so following them ends.
    """
    makers: dict[str, RowMaker] = {}
    waiting = [field.target for field in fields if field.target is not None]
    while waiting:
        module = waiting.pop()
        if module in makers:
            continue
        own = module == entity.module
        if not own and module not in config.entities:
            continue  # refused before anything is rendered (operations/add.py)
        target_fields = fields if own else config.entity_fields(module)
        required = [
            field for field in target_fields if not field.optional and field.default is None
        ]
        plain = [field for field in required if field.target is None]
        makers[module] = RowMaker(
            entity=entity if own else parse_entity_name(module),
            samples={f.column: FIELD_TYPES[f.type].sample for f in plain if not f.unique},
            unique_samples={
                f.column: str(FIELD_TYPES[f.type].unique_sample) for f in plain if f.unique
            },
            references=tuple(field for field in required if field.target is not None),
        )
        waiting += [field.target for field in required if field.target is not None]
    return tuple(makers[module] for module in sorted(makers))


@dataclass(frozen=True)
class EntityFiles:
    """The rendered entity: new files by project path, and snippets by the file they merge into."""

    files: dict[Path, bytes]
    snippets: dict[Path, str]


def entity_context(
    config: ProjectConfig, entity: EntityName, fields: tuple[Field, ...]
) -> dict[str, Any]:
    """The variables every entity template may use."""
    # The project's own modules (``listing``, ``queries``, ...), and the configured add paths.
    modules = project_modules(config.stack.design, config.root, config.add_paths)
    modules |= {
        key.removesuffix("_path"): module_path(config.root, path)
        for key, path in config.add_paths.items()
    }
    listed = list_fields(fields)
    found = references(entity, fields)
    attributes = {field.name: model_attribute(field) for field in fields}
    return {
        "entity": entity,
        "fields": fields,
        "design": config.stack.design.value,
        "orm": config.stack.orm.value,
        "modules": modules,
        # Each field's row of the field-type table, and the imports their types need.
        "field_types": {field.name: FIELD_TYPES[field.type] for field in fields},
        "imports": entity_imports(fields),
        # How each default is written, for the fields that have one.
        "defaults": {
            field.name: field_default(field.default)
            for field in fields
            if field.default is not None
        },
        "unique_fields": [field for field in fields if field.unique],
        # Each field's attribute in the request and response models, and whether any differs
        # from its name on the wire.
        "model_attributes": attributes,
        "aliased": any(attributes[field.name] != field.column for field in fields),
        "references": found,
        "reference_of": {reference.field.name: reference for reference in found},
        "row_makers": row_makers(config, entity, fields),
        # The list route's columns with their filter parsers, and the parsers to import.
        "list_fields": listed,
        "list_parsers": sorted({column.parser for column in listed if column.parser}),
    }


def _entity_layers(stack: Stack) -> list[str]:
    return [layer for layer in layers_for(stack) if not layer.startswith("package_manager/")]


def render_entity(
    config: ProjectConfig, entity: EntityName, fields: tuple[Field, ...]
) -> EntityFiles:
    context = entity_context(config, entity, fields)
    rendered = render_layers(template_root() / "entity", _entity_layers(config.stack), context)
    files: dict[Path, bytes] = {}
    snippets: dict[Path, str] = {}
    for item in rendered:
        kind, key, *rest = item.path.parts
        if kind == "snippets":
            snippets[config.add_paths[PurePosixPath(key).stem]] = item.content.decode("utf-8")
            continue
        base = config.root / "tests" if key == "tests" else config.add_paths[key]
        names = [
            part.replace("__entity__", entity.module).replace("__plural__", entity.plural)
            for part in rest
        ]
        files[base.joinpath(*names)] = item.content
    return EntityFiles(files=files, snippets=snippets)
