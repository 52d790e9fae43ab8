"""robyn-config: create Robyn backend services and keep operating them.

The public engine API: typed entry points that the CLI, nox and tests all call. They are
imported on first use, so that ``import scaffold`` (and every command's start) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from scaffold.errors import Interrupted, OperationFailed, ScaffoldError, UsageError
from scaffold.matrix import DEFAULT_STACK, STACKS, Design, Orm, PackageManager, Stack

__version__ = "0.1.0"

# Public name -> the module that defines it.
_ENGINE = {
    "create_project": "scaffold.operations.create",
    "CreateResult": "scaffold.operations.create",
    "add_entity": "scaffold.operations.add",
    "AddResult": "scaffold.operations.add",
    "add_fields": "scaffold.operations.add_fields",
    "AddFieldsResult": "scaffold.operations.add_fields",
    "remove_entity": "scaffold.operations.remove",
    "RemoveResult": "scaffold.operations.remove",
    "make_migration": "scaffold.operations.migrations",
    "migrate": "scaffold.operations.migrations",
    "run_doctor": "scaffold.operations.doctor",
    "DoctorResult": "scaffold.operations.doctor",
    "load_runbook": "scaffold.operations.runbooks",
    "runbook_names": "scaffold.operations.runbooks",
    "run_runbook": "scaffold.operations.runbook_runner",
    "recover_pending": "scaffold.safety.recovery",
    "Transaction": "scaffold.safety.transaction",
    "load_project": "scaffold.project.config",
    "FileStatus": "scaffold.reporting",
    "Reporter": "scaffold.reporting",
}

__all__ = [
    "DEFAULT_STACK",
    "STACKS",
    "Design",
    "Interrupted",
    "OperationFailed",
    "Orm",
    "PackageManager",
    "ScaffoldError",
    "Stack",
    "UsageError",
    "__version__",
    *sorted(_ENGINE),
]


def __getattr__(name: str) -> Any:
    if name in _ENGINE:
        return getattr(importlib.import_module(_ENGINE[name]), name)
    raise AttributeError(f"module 'scaffold' has no attribute {name!r}")
