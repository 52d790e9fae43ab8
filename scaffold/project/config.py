"""A generated project's `[tool.robyn-config]`: read, validated, and updated with tomlkit."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from tomlkit.items import Table

from scaffold.errors import UsageError
from scaffold.matrix import Design, Orm, PackageManager, Stack, parse_choice
from scaffold.project.entities import Field, IdType, parse_fields
from scaffold.project.layout import DEFAULT_ADD_PATHS, ID_TYPES_TABLE, SECTION

__all__ = ["DEFAULT_ADD_PATHS", "ProjectConfig", "load_project"]


@dataclass
class ProjectConfig:
    """What later commands know about a project, from its pyproject.toml alone."""

    root: Path
    stack: Stack
    template_version: str
    add_paths: dict[str, Path]
    entities: dict[str, str]
    document: tomlkit.TOMLDocument
    # The service's default key type (``id_type``; absent: int, as before keys were typed),
    # and the entities whose key is not an int (``[tool.robyn-config.id_types]``).
    id_type: IdType = IdType.INT
    id_types: dict[str, IdType] = dataclasses.field(default_factory=dict)

    @property
    def pyproject(self) -> Path:
        return self.root / "pyproject.toml"

    def entity_fields(self, module: str) -> tuple[Field, ...]:
        """The fields recorded for the entity ``module`` (listed in ``entities``)."""
        spec = self.entities[module]
        try:
            return parse_fields(spec)
        except UsageError as error:
            raise UsageError(
                f"{error.message.rstrip('.')} (in [tool.robyn-config.entities] {module} = "
                f"{spec!r}); restore that entry from git."
            ) from None

    def entity_id_type(self, module: str) -> IdType:
        """The key type of the entity ``module``: recorded in ``id_types`` unless an int."""
        return self.id_types.get(module, IdType.INT)

    def with_entity(self, module: str, fields_spec: str, id_type: IdType | None = None) -> str:
        """The pyproject text with ``module`` recorded in ``[tool.robyn-config.entities]``.

        A key type other than int is recorded in ``[tool.robyn-config.id_types]`` too;
        ``None`` keeps what is recorded (add-fields).
        """
        original = tomlkit.dumps(self.document)
        document = tomlkit.parse(original)
        section = document["tool"]["robyn-config"]
        _set_entry(section, "entities", module, fields_spec)
        if id_type is not None and id_type is not IdType.INT:
            _set_entry(section, ID_TYPES_TABLE, module, id_type.value)
        text = tomlkit.dumps(document)
        if text.endswith("\n\n") and not original.endswith("\n\n"):
            text = text.rstrip("\n") + "\n"  # the new table is the last one: no blank at EOF
        return text

    def without_entity(self, module: str) -> str:
        """The pyproject text without ``module`` in ``[tool.robyn-config.entities]``.

        The inverse of `with_entity`: the table goes too once it is empty, as before the
        first add, and every other line stays as the operator left it.
        """
        original = tomlkit.dumps(self.document)
        document = tomlkit.parse(original)
        section = document["tool"]["robyn-config"]
        for table in ("entities", ID_TYPES_TABLE):
            entries = section.get(table)
            if entries is None or module not in entries:
                continue
            del entries[module]
            if not entries:
                del section[table]
        text = tomlkit.dumps(document)
        if text.endswith("\n\n") and not original.endswith("\n\n"):
            text = text.rstrip("\n") + "\n"  # it was the last table: its blank line goes too
        return text


def _set_entry(section: Any, table: str, key: str, value: str) -> None:
    """``key = value`` in the sub-table ``table`` of ``section``, made when absent."""
    if table in section:
        section[table][key] = value
        return
    entries = tomlkit.table()
    entries.add(key, value)
    entries.add(tomlkit.nl())  # a blank line before the next table, like the others
    section[table] = entries


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict | Table):
        raise UsageError(f"{where} in pyproject.toml must be a table.")
    return dict(value)


def _inside(root: Path, key: str, value: Any) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"[tool.robyn-config.add] {key} must be a path relative to the project.")
    resolved = (root / value).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise UsageError(
            f"[tool.robyn-config.add] {key} = {value!r} leaves the project root {root}; "
            "use a path inside the project."
        )
    return resolved


def load_project(root: Path) -> ProjectConfig:
    """Read and validate the project at ``root``; every problem is one UsageError sentence."""
    # Resolved, like the configured paths (and git's top level) it is compared with: a project
    # reached through a symlink is the same project.
    root = root.resolve()
    pyproject = root / "pyproject.toml"
    if not root.is_dir():
        raise UsageError(f"PROJECT {root} is not a directory.")
    if not pyproject.is_file():
        raise UsageError(
            f"{root} is not a robyn-config project: it has no pyproject.toml "
            "(create one with 'robyn-config create')."
        )
    try:
        document = tomlkit.parse(pyproject.read_text(encoding="utf-8"))
    except tomlkit.exceptions.ParseError as error:
        raise UsageError(
            f"{pyproject} is not valid TOML at line {error.line}, column {error.col}; fix it first."
        ) from None
    section = document.get("tool", {}).get("robyn-config")
    if section is None:
        raise UsageError(
            f"{root} is not a robyn-config project: its pyproject.toml has no {SECTION} table."
        )
    settings = _table(section, SECTION)
    stack = Stack(
        parse_choice(Design, str(settings.get("design", "")), f"{SECTION} design"),
        parse_choice(Orm, str(settings.get("orm", "")), f"{SECTION} orm"),
        parse_choice(
            PackageManager, str(settings.get("package_manager", "")), f"{SECTION} package_manager"
        ),
    )
    defaults = DEFAULT_ADD_PATHS[stack.design]
    configured = _table(settings.get("add", {}), "[tool.robyn-config.add]")
    unknown = sorted(set(configured) - set(defaults))
    if unknown:
        raise UsageError(
            f"Unknown key {unknown[0]!r} in [tool.robyn-config.add] for the {stack.design.value} "
            f"design; expected: {', '.join(defaults)}."
        )
    add_paths = {
        key: _inside(root, key, configured.get(key, default)) for key, default in defaults.items()
    }
    entities = {
        str(k): str(v)
        for k, v in _table(settings.get("entities", {}), "[tool.robyn-config.entities]").items()
    }
    recorded = _table(settings.get(ID_TYPES_TABLE, {}), f"[tool.robyn-config.{ID_TYPES_TABLE}]")
    return ProjectConfig(
        root=root,
        stack=stack,
        template_version=str(settings.get("template_version", "")),
        add_paths=add_paths,
        entities=entities,
        document=document,
        id_type=parse_choice(IdType, str(settings.get("id_type", "int")), f"{SECTION} id_type"),
        id_types={
            str(module): parse_choice(
                IdType, str(value), f"[tool.robyn-config.{ID_TYPES_TABLE}] {module}"
            )
            for module, value in recorded.items()
        },
    )
