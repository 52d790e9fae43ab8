"""The existing files an entity touches: the edits `add` makes there, and `remove` undoes.

`add` wires an entity into the route registry, the repository exports and the table file;
`remove` applies the inverse of the same edits in the reverse order. Both compute the new
sources in memory, lay them out with ruff only where the file was ruff-clean before, and
show them as unified diffs; nothing here writes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from scaffold.errors import UsageError
from scaffold.generation.entity import EntityFiles
from scaffold.matrix import Design
from scaffold.project.config import ProjectConfig
from scaffold.project.entities import EntityName
from scaffold.project.layout import (
    REGISTRY_FUNCTION,
    module_path,
    project_module_paths,
    route_registry,
)
from scaffold.reporting import FileStatus, Reporter
from scaffold.sources import tidy as lint
from scaffold.sources.edits import (
    EnsureAllEntry,
    EnsureImport,
    EnsureRegisterCall,
    MergeSnippet,
    SourceEdit,
    SourceShapeError,
    apply_edits,
)

__all__ = [
    "Sources",
    "edited_sources",
    "entity_edits",
    "inverse_edits",
    "refuse_without_list_support",
    "relative",
    "report_files",
    "tidy_sources",
    "unified_diff",
]

# Each edited file: its text on disk, and the text the command writes.
Sources = dict[Path, tuple[str, str]]


def relative(config: ProjectConfig, path: Path) -> PurePosixPath:
    return PurePosixPath(path.relative_to(config.root).as_posix())


def report_files(
    report: Reporter, config: ProjectConfig, groups: Iterable[tuple[FileStatus, list[Path]]]
) -> None:
    """One status line per path, group by group (``create`` then ``modify``, ...)."""
    for status, paths in groups:
        for path in paths:
            report.file(status, relative(config, path))


def refuse_without_list_support(config: ProjectConfig) -> None:
    """Refuse a project made before the modules an entity's list imports (filters, sort, total).

    Its entity code would import modules the project lacks, and fail only when it starts.
    """
    modules = project_module_paths(config.stack.design, config.root, config.add_paths)
    routes = route_registry(config.stack.design, config.add_paths).folder
    needed = {
        config.root / f"{modules['listing']}.py": None,
        config.root / f"{modules['queries']}.py": None,
        routes / "list_query.py": None,
        routes / "responses.py": "def listed(",
    }
    missing = [
        str(relative(config, path))
        for path, marker in needed.items()
        if not path.is_file() or (marker and marker not in path.read_text(encoding="utf-8"))
    ]
    if missing:
        raise UsageError(
            f"{config.root} predates the entity lists with filters, sort and total: it lacks "
            f"{', '.join(missing)}; copy them from a service this robyn-config creates with "
            "the same design and ORM."
        )


def _registry_edits(config: ProjectConfig, entity: EntityName) -> dict[Path, list[SourceEdit]]:
    """The structural edits of existing files: route registry and repository exports."""
    paths = config.add_paths
    routes = route_registry(config.stack.design, paths)
    repository_class = f"{entity.class_name}Repository"
    edits: dict[Path, list[SourceEdit]] = {
        routes.registry: [
            EnsureImport(routes.package(config.root), entity.module),
            EnsureRegisterCall(REGISTRY_FUNCTION, entity.module),
        ]
    }
    repositories = paths["database_repository_path"]
    if config.stack.design is Design.DDD:
        # A package of repository modules whose __init__ re-exports each class.
        module = f"{module_path(config.root, repositories)}.{entity.module}"
        edits[repositories / "__init__.py"] = [
            EnsureImport(module, repository_class),
            EnsureAllEntry(repository_class),
        ]
    else:
        edits[repositories] = [EnsureAllEntry(repository_class)]
    return edits


def entity_edits(
    config: ProjectConfig, entity: EntityName, rendered: EntityFiles
) -> dict[Path, list[SourceEdit]]:
    """Every edit `add` makes to existing files for ``entity``, by file, in order."""
    edits = _registry_edits(config, entity)
    for target, snippet in rendered.snippets.items():
        edits.setdefault(target, []).insert(0, MergeSnippet(snippet))
    return edits


def inverse_edits(edits: dict[Path, list[SourceEdit]]) -> dict[Path, list[SourceEdit]]:
    """What takes ``edits`` back out: each edit's inverse, the last one first."""
    return {path: [edit.inverse() for edit in reversed(items)] for path, items in edits.items()}


def edited_sources(
    config: ProjectConfig, edits: dict[Path, list[SourceEdit]], command: str
) -> Sources:
    """Old and new text of every edited Python file (not yet laid out by ruff)."""
    sources: Sources = {}
    for path, file_edits in edits.items():
        name = str(relative(config, path))
        if not path.is_file():
            raise SourceShapeError(
                f"{name} does not exist; {command} expected it from [tool.robyn-config.add] "
                "(fix the path there or restore the file)."
            )
        old = path.read_text(encoding="utf-8")
        sources[path] = (old, apply_edits(old, file_edits, name, command=command))
    return sources


def tidy_sources(
    config: ProjectConfig, sources: Sources, new_files: dict[Path, bytes]
) -> tuple[dict[Path, bytes], set[Path]]:
    """Lay out the new files and the edited ones like the rest of the project, in one pass.

    ``sources`` is updated in place. An edited file that was not laid out by ruff before
    keeps the operator's layout (and ruff's checks are not the command's to enforce on it):
    those files are returned beside the tidied new files.
    """
    changed = [path for path, (old, new) in sources.items() if old != new]
    operators_layout = lint.untidy(config.root, changed)
    pending = {path: sources[path][1] for path in changed if path not in operators_layout}
    pending |= {p: c.decode("utf-8") for p, c in new_files.items() if p.suffix == ".py"}
    tidied = lint.tidy(config.root, pending)
    for path in changed:
        if path in tidied:
            sources[path] = (sources[path][0], tidied[path])
    laid_out = {
        path: tidied[path].encode("utf-8") if path in tidied else content
        for path, content in new_files.items()
    }
    return laid_out, operators_layout


def unified_diff(config: ProjectConfig, path: Path, old: str, new: str) -> str:
    name = str(relative(config, path))
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
    )
