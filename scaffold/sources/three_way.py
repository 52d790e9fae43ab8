"""A three-way merge of one text file with `git merge-file`, outside the project.

`add-fields` regenerates a file the operator changed since `add` wrote it: the change from
what was generated (base) to what is generated now (theirs) is merged into the operator's
file (ours). The three texts are written to a temporary folder outside the project, so a dry
run writes nothing in it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from scaffold.tools.git import run_git

__all__ = ["merge_text"]


def merge_text(ours: str, base: str, theirs: str) -> str | None:
    """``ours`` with the change from ``base`` to ``theirs``; None when the two changes
    overlap (a conflict) or git cannot merge (not installed)."""
    if ours == base:
        return theirs
    if theirs == base:
        return ours
    with tempfile.TemporaryDirectory(prefix="robyn-config-merge-") as folder:
        names = ("ours", "base", "theirs")
        for name, text in zip(names, (ours, base, theirs), strict=True):
            (Path(folder) / name).write_text(text, encoding="utf-8")
        try:
            completed = run_git(Path(folder), "merge-file", "--stdout", "--quiet", *names)
        except FileNotFoundError:
            return None
    # The status is the number of conflicts (negative on an error): only 0 is a clean merge.
    return completed.stdout if completed.returncode == 0 else None
