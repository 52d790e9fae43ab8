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

from scaffold.generation.render import layers_for, render_layers, template_root
from scaffold.matrix import Stack
from scaffold.project.config import ProjectConfig
from scaffold.project.entities import EntityName, Field, FieldType

__all__ = ["EntityFiles", "entity_context", "module_path", "render_entity"]

# Per field type: the Python annotation used in contracts and entities, a JSON sample that
# validates, and a JSON value that must be refused with 422.
PYTHON_TYPES = {
    FieldType.STR: "str",
    FieldType.TEXT: "str",
    FieldType.INT: "int",
    FieldType.FLOAT: "float",
    FieldType.DECIMAL: "Decimal",
    FieldType.BOOL: "bool",
    FieldType.DATE: "date",
    FieldType.DATETIME: "datetime",
    FieldType.UUID: "UUID",
    FieldType.JSON: "dict[str, Any]",
}
SAMPLES: dict[FieldType, Any] = {
    FieldType.STR: "sample",
    FieldType.TEXT: "a longer text",
    FieldType.INT: 42,
    FieldType.FLOAT: 1.5,
    FieldType.DECIMAL: "19.99",
    FieldType.BOOL: True,
    FieldType.DATE: "2024-05-17",
    FieldType.DATETIME: "2024-05-17T10:30:00",
    FieldType.UUID: "6f1c1a39-3c1e-4a39-8a4e-1d2a8f0b9c11",
    FieldType.JSON: {"key": "value"},
}
UPDATED_SAMPLES: dict[FieldType, Any] = {
    FieldType.STR: "changed",
    FieldType.TEXT: "another text",
    FieldType.INT: 7,
    FieldType.FLOAT: 2.25,
    FieldType.DECIMAL: "5.50",
    FieldType.BOOL: False,
    FieldType.DATE: "2025-01-02",
    FieldType.DATETIME: "2025-01-02T08:00:00",
    FieldType.UUID: "0b8e2f44-6a57-4f0e-9d7c-5a3b1e2c4d6f",
    FieldType.JSON: {"other": [1, 2]},
}
INVALID_SAMPLES: dict[FieldType, Any] = {
    FieldType.STR: {"not": "a string"},
    FieldType.TEXT: ["not", "text"],
    FieldType.INT: "not a number",
    FieldType.FLOAT: "not a number",
    FieldType.DECIMAL: "not a number",
    FieldType.BOOL: "not a bool",
    FieldType.DATE: "not a date",
    FieldType.DATETIME: "not a datetime",
    FieldType.UUID: "not-a-uuid",
    FieldType.JSON: "not an object",
}


@dataclass(frozen=True)
class EntityFiles:
    """The rendered entity: new files by project path, and snippets by the file they merge into."""

    files: dict[Path, bytes]
    snippets: dict[Path, str]


def module_path(project: Path, target: Path) -> str:
    """The dotted import path of ``target`` (a package directory or a ``.py`` file)."""
    relative = (
        target.relative_to(project).with_suffix("")
        if target.suffix == ".py"
        else target.relative_to(project)
    )
    parts = list(relative.parts)
    if parts and parts[0] == "src":
        parts = parts[1:]
    return ".".join(parts)


def entity_context(
    config: ProjectConfig, entity: EntityName, fields: tuple[Field, ...]
) -> dict[str, Any]:
    """The variables every entity template may use."""
    modules = {
        key.removesuffix("_path"): module_path(config.root, path)
        for key, path in config.add_paths.items()
    }
    return {
        "entity": entity,
        "fields": fields,
        "design": config.stack.design.value,
        "orm": config.stack.orm.value,
        "modules": modules,
        "python_types": {field.name: PYTHON_TYPES[field.type] for field in fields},
        "samples": {field.name: SAMPLES[field.type] for field in fields},
        "updated_samples": {field.name: UPDATED_SAMPLES[field.type] for field in fields},
        "invalid_samples": {field.name: INVALID_SAMPLES[field.type] for field in fields},
        "field_types": {field.name: field.type.value for field in fields},
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
