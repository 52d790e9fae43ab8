"""The package index this machine reaches, derived at run time (never written down)."""

from __future__ import annotations

import subprocess

from tests.support.project_env import base_python

__all__ = ["index_url"]


def index_url() -> str:
    """pip's simple index URL, as the base interpreter's pip knows it.

    Asked of the base interpreter: uv-made environments (nox sessions) carry no pip.
    """
    code = "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"
    return subprocess.check_output([str(base_python()), "-c", code], text=True).strip()
