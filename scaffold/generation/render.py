"""Render a template tree as overlay layers into an in-memory plan of files.

Layers are applied in a fixed order (base, design, ORM, design-within-ORM, package manager).
A layer may only add paths: two layers providing the same file is a template bug and fails
loudly instead of silently overriding. Files ending in ``.jinja`` are rendered with
``StrictUndefined`` (the suffix is dropped); every other file is copied byte for byte with its
mode. A path segment starting with ``dot-`` becomes a dotfile, so template trees never carry
live ``.gitignore`` files that would affect this repository or the wheel.

A template written once for several cells puts a path key in its first segment:
``__routes__/responses.py.jinja`` with ``paths={"routes": "src/app/views"}`` renders to
``src/app/views/responses.py``. The key is replaced before the layers are compared, so a
shared template still collides with a cell's own file at the same place.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import PurePosixPath
from typing import Any

import jinja2

from scaffold.matrix import Stack

__all__ = ["RenderedFile", "layers_for", "render_layers", "template_root"]

TEMPLATE_SUFFIX = ".jinja"
DOTFILE_PREFIX = "dot-"


@dataclass(frozen=True)
class RenderedFile:
    """One file of the output, relative to the destination, with its bytes and mode."""

    path: PurePosixPath
    content: bytes
    executable: bool = False


def template_root() -> Traversable:
    return resources.files("scaffold") / "templates"


def layers_for(stack: Stack) -> list[str]:
    """The overlay directories of ``templates/project`` for one cell, in application order."""
    return [
        "base",
        f"design/{stack.design.value}",
        f"orm/{stack.orm.value}",
        f"design_orm/{stack.design.value}-{stack.orm.value}",
        f"package_manager/{stack.package_manager.value}",
    ]


def _walk(node: Traversable, prefix: PurePosixPath) -> Iterator[tuple[PurePosixPath, Traversable]]:
    for child in sorted(node.iterdir(), key=lambda item: item.name):
        if child.name == "__pycache__":
            continue
        path = prefix / child.name
        if child.is_dir():
            yield from _walk(child, path)
        else:
            yield path, child


def _path_key(segment: str) -> str | None:
    """``routes`` for ``__routes__`` or ``__routes__.py.jinja``; ``None`` for other segments."""
    head = segment.partition(".")[0]
    if len(head) > 4 and head.startswith("__") and head.endswith("__"):
        return head[2:-2]
    return None


def _output_path(template_path: PurePosixPath, paths: Mapping[str, str]) -> PurePosixPath:
    parts = [
        "." + part[len(DOTFILE_PREFIX) :] if part.startswith(DOTFILE_PREFIX) else part
        for part in template_path.parts
    ]
    if parts[-1].endswith(TEMPLATE_SUFFIX):
        parts[-1] = parts[-1][: -len(TEMPLATE_SUFFIX)]
    # Python's own dunder names (``__init__.py``) are not keys and stay as they are.
    key = _path_key(parts[0])
    if key is not None and key in paths:
        parts[0] = paths[key] + parts[0][len(key) + 4 :]
    return PurePosixPath(*parts)


def _is_executable(node: Traversable) -> bool:
    # Traversables from a wheel on disk are real paths; keep the mode when we can see it.
    try:
        return bool(os.stat(str(node)).st_mode & 0o111)
    except OSError:
        return False


@functools.cache
def _compiled(source: str) -> jinja2.Template:
    """The template for ``source``, compiled once per process (compiling is most of render)."""
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    return environment.from_string(source)


def render_layers(
    root: Traversable,
    layers: list[str],
    context: Mapping[str, Any],
    paths: Mapping[str, str] | None = None,
) -> list[RenderedFile]:
    """Render every file of ``layers`` under ``root``; raise on a path two layers provide.

    Args:
        root: The template tree whose subdirectories are the layers.
        layers: The layers to apply, in order (missing ones are skipped).
        context: The variables of every template.
        paths: Path keys: a first segment ``__key__`` becomes ``paths[key]``.
    """
    rendered: dict[PurePosixPath, tuple[str, RenderedFile]] = {}
    for layer in layers:
        layer_node = root.joinpath(*layer.split("/"))
        if not layer_node.is_dir():
            continue
        for template_path, node in _walk(layer_node, PurePosixPath()):
            output = _output_path(template_path, paths or {})
            if output in rendered:
                raise RuntimeError(
                    f"Template layers {rendered[output][0]!r} and {layer!r} both provide {output}."
                )
            data = node.read_bytes()
            if template_path.name.endswith(TEMPLATE_SUFFIX):
                source = data.decode("utf-8")
                text = _compiled(source).render(**context)
                data = text.encode("utf-8")
            rendered[output] = (
                layer,
                RenderedFile(path=output, content=data, executable=_is_executable(node)),
            )
    return [entry for _, entry in sorted(rendered.values(), key=lambda item: item[1].path)]
