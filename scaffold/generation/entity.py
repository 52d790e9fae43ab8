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
from scaffold.matrix import Stack
from scaffold.project.config import ProjectConfig
from scaffold.project.entities import EntityName, Field, FieldType
from scaffold.project.layout import module_path, project_modules

__all__ = [
    "INVALID_SAMPLES",
    "SAMPLES",
    "UPDATED_SAMPLES",
    "EntityFiles",
    "entity_context",
    "render_entity",
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
