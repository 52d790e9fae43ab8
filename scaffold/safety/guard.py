"""The git guard of commands that edit a project: refuse a work tree with uncommitted changes."""

from __future__ import annotations

from pathlib import Path

from scaffold.errors import UsageError
from scaffold.tools.git import dirty_paths, work_tree_top

__all__ = ["SHOWN_DIRTY_PATHS", "refuse_dirty"]

SHOWN_DIRTY_PATHS = 10


def refuse_dirty(project: Path, *, allow_dirty: bool = False) -> None:
    """Raise a UsageError listing the dirty paths of the work tree holding ``project``.

    Nothing happens outside git, or with ``allow_dirty``. Ignored files never make a tree
    dirty.
    """
    if allow_dirty:
        return
    top = work_tree_top(project)
    if top is None:
        return
    dirty = dirty_paths(top)
    if not dirty:
        return
    shown = ", ".join(dirty[:SHOWN_DIRTY_PATHS])
    if len(dirty) > SHOWN_DIRTY_PATHS:
        shown += f" and {len(dirty) - SHOWN_DIRTY_PATHS} more"
    raise UsageError(
        f"The work tree has uncommitted changes: {shown}. "
        "Commit or stash them, or pass --allow-dirty."
    )
