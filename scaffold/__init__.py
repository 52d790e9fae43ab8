"""robyn-config: create Robyn backend services and keep operating them."""

from scaffold.errors import OperationFailed, ScaffoldError, UsageError

__all__ = ["OperationFailed", "ScaffoldError", "UsageError", "__version__"]

__version__ = "0.1.0"
