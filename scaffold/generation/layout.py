"""Where each design keeps the modules that every design has, so their templates exist once.

A project template shared by both designs names such a module by a path key: its first path
segment is ``__<key>__`` (``base/__routes__/responses.py.jinja``,
``orm/tortoise/__connection__.py.jinja``), which the renderer replaces by ``PATHS[design][key]``.
Templates import the same modules through ``modules`` in the render context
(``from {{ modules.tables }} import Base``).
"""

from __future__ import annotations

from types import MappingProxyType

from scaffold.matrix import Design

__all__ = ["PATHS", "module_names"]

# Paths relative to the project root, without ``.py`` for modules. ``tables`` and ``routes``
# are also `add`'s defaults (DEFAULT_ADD_PATHS); tests/test_templates.py checks they agree.
PATHS: MappingProxyType[Design, MappingProxyType[str, str]] = MappingProxyType(
    {
        Design.DDD: MappingProxyType(
            {
                "routes": "src/app/presentation",
                "connection": "src/app/infrastructure/database/connection",
                "tables": "src/app/infrastructure/database/tables",
            }
        ),
        Design.MVC: MappingProxyType(
            {
                "routes": "src/app/views",
                "connection": "src/app/models/database",
                "tables": "src/app/models/models",
            }
        ),
    }
)


def module_names(design: Design) -> dict[str, str]:
    """The dotted import name of each path of ``design`` (``src/app/views`` is ``app.views``)."""
    return {
        key: ".".join(path.removeprefix("src/").split("/")) for key, path in PATHS[design].items()
    }
