"""Fixtures of the real-fault tests: the console script with the tests' isolated environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.kit import Cli, open_folder


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Cli:
    """The real console script, with the isolated git configuration and the tool caches."""
    return Cli(cli_env)


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary folder another user (nobody) may enter, unlike pytest's own."""
    with open_folder() as folder:
        yield folder
