"""Generated services made by the ``reliability`` nox session, served on fresh SQLite files.

``RELIABILITY_PROJECTS`` is a JSON object ``{cell id: project path}`` of installed projects
(each with the ``product`` entity); without it these tests are skipped (the plain ``tests``
session has no generated project with an installed environment).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.service_kit import PROJECTS_VARIABLE, Service, create_schema, serve_project


def projects() -> dict[str, Path]:
    raw = os.environ.get(PROJECTS_VARIABLE)
    if not raw:
        return {}
    return {cell: Path(path) for cell, path in json.loads(raw).items()}


def cells() -> list[str]:
    return sorted(projects()) or ["no-project"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if projects():
        return
    skip = pytest.mark.skip(reason=f"{PROJECTS_VARIABLE} is not set (run: nox -s reliability)")
    for item in items:
        if "tests/reliability/service" in str(item.path):
            item.add_marker(skip)


class Running:
    """A served project and the SQLite file it serves."""

    def __init__(self, cell: str, project: Path, database: Path, service: Service) -> None:
        self.cell = cell
        self.project = project
        self.database = database
        self.service = service

    @property
    def url(self) -> str:
        return self.service.base_url


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Running]:
    """The cell the test's parameter names, on an empty database.

    ``CELL@N`` serves it from N processes (``WEB_CONCURRENCY``).
    """
    cell, _, processes = str(request.param).partition("@")
    project = projects()[cell]
    database = tmp_path / "reliability.db"
    url = f"sqlite:///{database}"
    create_schema(project, url)
    log_path = tmp_path / "server.log"
    with serve_project(project, url, log_path, processes=int(processes or 1)) as service:
        yield Running(cell, project, database, service)
    log = service.log()
    assert "Traceback (most recent call last)" not in log, log[-3000:]
