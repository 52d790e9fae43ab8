"""Where things are in a generated project, by design: the one place these facts live.

`create` writes this layout, `add` edits it, `doctor` checks it, and the templates are placed
and import each other by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType

from scaffold.matrix import Design

__all__ = [
    "APP_LAYOUT",
    "DEFAULT_ADD_PATHS",
    "ID_TYPES_TABLE",
    "REGISTRY_FUNCTION",
    "SECTION",
    "TEMPLATE_PATHS",
    "RouteRegistry",
    "module_name",
    "module_path",
    "project_modules",
    "route_registry",
]

SECTION = "[tool.robyn-config]"
# The sub-table of [tool.robyn-config] recording each entity whose key is not an int.
ID_TYPES_TABLE = "id_types"
# The function of the route registry that `add` appends ``<module>.register(app)`` to.
REGISTRY_FUNCTION = "register_routes"

# `[tool.robyn-config.add]`: where `add` puts an entity's pieces (create writes these).
DEFAULT_ADD_PATHS: MappingProxyType[Design, MappingProxyType[str, str]] = MappingProxyType(
    {
        Design.DDD: MappingProxyType(
            {
                "domain_path": "src/app/domain",
                "operational_path": "src/app/operational",
                "presentation_path": "src/app/presentation",
                "database_repository_path": "src/app/infrastructure/database/repository",
                "database_table_path": "src/app/infrastructure/database/tables.py",
            }
        ),
        Design.MVC: MappingProxyType(
            {
                "views_path": "src/app/views",
                "database_repository_path": "src/app/models/repository.py",
                "database_table_path": "src/app/models/models.py",
                "urls_path": "src/app/urls.py",
            }
        ),
    }
)
# The `add` key of the folder holding the route modules.
_ROUTES_KEY = {Design.DDD: "presentation_path", Design.MVC: "views_path"}
_CONNECTION = {
    Design.DDD: "src/app/infrastructure/database/connection",
    Design.MVC: "src/app/models/database",
}
# What a list request asks of a repository (no framework, no ORM): the domain's in DDD.
_LISTING = {Design.DDD: "src/app/domain/listing", Design.MVC: "src/app/models/listing"}
# How the ORM runs such a request: beside the connection.
_QUERIES = {
    Design.DDD: "src/app/infrastructure/database/queries",
    Design.MVC: "src/app/models/queries",
}


def _template_paths(design: Design) -> MappingProxyType[str, str]:
    add = DEFAULT_ADD_PATHS[design]
    return MappingProxyType(
        {
            "routes": add[_ROUTES_KEY[design]],
            "connection": _CONNECTION[design],
            "tables": add["database_table_path"].removesuffix(".py"),
            "listing": _LISTING[design],
            "queries": _QUERIES[design],
        }
    )


# The modules every design has, by path key: a project template shared by both designs names
# its place by its first path segment ``__<key>__`` (``base/__routes__/responses.py.jinja``,
# ``orm/tortoise/__connection__.py.jinja``), and the renderer puts it at this path (without
# ``.py``); templates import the same modules as ``modules.<key>`` of the render context.
TEMPLATE_PATHS: MappingProxyType[Design, MappingProxyType[str, str]] = MappingProxyType(
    {design: _template_paths(design) for design in Design}
)

# What `doctor` expects under src/app (a trailing '/' is a folder).
APP_LAYOUT: MappingProxyType[Design, tuple[str, ...]] = MappingProxyType(
    {
        Design.DDD: (
            "config/",
            "domain/",
            "operational/",
            "presentation/",
            "infrastructure/database/",
        ),
        Design.MVC: ("config/", "models/", "views/", "urls.py", "middlewares/"),
    }
)


def module_name(relative: PurePosixPath | str) -> str:
    """The dotted import name of a project path: ``src/app/views`` and ``src/app/urls.py``
    are ``app.views`` and ``app.urls`` (sources live under ``src/``)."""
    path = PurePosixPath(relative)
    parts = list(path.with_suffix("").parts if path.suffix == ".py" else path.parts)
    return ".".join(parts[1:] if parts[:1] == ["src"] else parts)


def module_path(project: Path, target: Path) -> str:
    """The dotted import name of ``target`` (a package folder or a ``.py`` file) in ``project``."""
    return module_name(PurePosixPath(target.relative_to(project).as_posix()))


def project_module_paths(
    design: Design, project: Path, add_paths: Mapping[str, Path]
) -> dict[str, PurePosixPath]:
    """Where the modules ``TEMPLATE_PATHS`` places are (without ``.py``), in a project whose add
    paths are ``add_paths``: a module create put at or inside an add path moved with it (the
    domain's ``listing`` with ``domain_path``, ``responses`` with ``presentation_path``)."""
    defaults = DEFAULT_ADD_PATHS[design]
    modules: dict[str, PurePosixPath] = {}
    for key, placed in TEMPLATE_PATHS[design].items():
        where = PurePosixPath(placed)
        for add_key, default in defaults.items():
            folder = PurePosixPath(default.removesuffix(".py"))
            if where.is_relative_to(folder):
                moved = PurePosixPath(add_paths[add_key].relative_to(project).as_posix())
                where = moved.with_suffix("") / where.relative_to(folder)
                break
        modules[key] = where
    return modules


def project_modules(design: Design, project: Path, add_paths: Mapping[str, Path]) -> dict[str, str]:
    """The dotted names of the modules ``project_module_paths`` finds."""
    paths = project_module_paths(design, project, add_paths)
    return {key: module_name(path) for key, path in paths.items()}


@dataclass(frozen=True)
class RouteRegistry:
    """Where route modules live and the file whose `register_routes` registers them."""

    folder: Path
    registry: Path

    def package(self, project: Path) -> str:
        return module_path(project, self.folder)


def route_registry(design: Design, add_paths: Mapping[str, Path]) -> RouteRegistry:
    """The route registry of a project of ``design`` with its configured ``add_paths``."""
    folder = add_paths[_ROUTES_KEY[design]]
    registry = folder / "__init__.py" if design is Design.DDD else add_paths["urls_path"]
    return RouteRegistry(folder=folder, registry=registry)
