"""The edge (docs/design.md §3): every error becomes one sentence and an exit status."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest
from invoke.exceptions import Exit

from scaffold.cli.edge import edge
from scaffold.errors import OperationFailed, UsageError


def run_task(error: BaseException, tmp_path: Path) -> Exit:
    @edge(interrupted="Interrupted.")
    def task(**kwargs: Any) -> None:
        raise error

    with pytest.raises(Exit) as caught:
        task(project=str(tmp_path))
    return caught.value


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (UsageError("Bad value."), 2, "Bad value."),
        (OperationFailed("It failed. Rolled back."), 1, "It failed. Rolled back."),
        (KeyboardInterrupt(), 130, "Interrupted."),
    ],
)
def test_engine_errors_become_their_exit_status(
    error: BaseException, code: int, message: str, tmp_path: Path
) -> None:
    exit_ = run_task(error, tmp_path)
    assert (exit_.code, exit_.message) == (code, message)


def test_an_os_error_outside_a_transaction_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    error = PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "pyproject.toml"))
    exit_ = run_task(error, tmp_path)
    assert exit_.code == 1
    assert exit_.message == "Accessing pyproject.toml failed: Permission denied."
