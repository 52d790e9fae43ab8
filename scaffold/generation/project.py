"""What `create` writes for one cell: the template context and the rendered project files."""

from __future__ import annotations

import re
from typing import Any

from scaffold import __version__
from scaffold.generation.render import RenderedFile, layers_for, render_layers, template_root
from scaffold.matrix import Stack
from scaffold.project.entities import IdType
from scaffold.project.layout import DEFAULT_ADD_PATHS, TEMPLATE_PATHS, module_name

__all__ = ["PYTHON_VERSION", "project_context", "project_files"]

# The interpreter line the generated project targets (and its Dockerfile's base image).
PYTHON_VERSION = "3.11"


def project_context(
    *, name: str, stack: Stack, index_url: str | None, id_type: IdType = IdType.INT
) -> dict[str, Any]:
    """The variables every project template may use; ``id_type`` is the service's default key
    type for the entities `add` makes."""
    return {
        "project_name": name,
        "project_slug": re.sub(r"[-_.]+", "-", name).lower(),
        "design": stack.design.value,
        "orm": stack.orm.value,
        "package_manager": stack.package_manager.value,
        "stack_id": stack.id,
        "index_url": index_url or "",
        "id_type": id_type.value,
        "template_version": __version__,
        "python_version": PYTHON_VERSION,
        "modules": {key: module_name(path) for key, path in TEMPLATE_PATHS[stack.design].items()},
        "add_paths": dict(DEFAULT_ADD_PATHS[stack.design]),
    }


def project_files(
    *, name: str, stack: Stack, index_url: str | None, id_type: IdType = IdType.INT
) -> list[RenderedFile]:
    """Render the project tree for ``stack`` in memory."""
    context = project_context(name=name, stack=stack, index_url=index_url, id_type=id_type)
    return render_layers(
        template_root() / "project", layers_for(stack), context, paths=TEMPLATE_PATHS[stack.design]
    )
