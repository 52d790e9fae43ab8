"""Mocked write failures: the transaction's n-th file write fails, as a full disk would.

The real-fault tests (tests/faults/) make the operating system fail instead; these cover
every single write point quickly, in-process.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from pathlib import Path

import pytest

from scaffold.safety import transaction
from scaffold.safety.undo import partial_path

__all__ = ["fail_nth_write"]


def fail_nth_write(
    patch: pytest.MonkeyPatch,
    number: int,
    error: BaseException,
    *,
    partial: bool,
    among: Collection[Path] | None = None,
) -> None:
    """The transaction's ``number``-th file write (0-based) raises ``error``.

    Only writes of ``among`` are counted (all when None). With ``partial`` the failing write
    first leaves half its bytes in the temporary sibling, as a disk filling up would.
    """
    original = transaction.replace_file
    counted = None if among is None else {path.absolute() for path in among}
    calls = {"n": 0}

    @functools.wraps(original)
    def replace_file(path: Path, content: bytes, *, executable: bool = False) -> None:
        if counted is not None and path.absolute() not in counted:
            return original(path, content, executable=executable)
        current = calls["n"]
        calls["n"] += 1
        if current == number:
            if partial:
                partial_path(path).write_bytes(content[: len(content) // 2])
            raise error
        return original(path, content, executable=executable)

    patch.setattr(transaction, "replace_file", replace_file)
