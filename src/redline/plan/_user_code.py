"""Importing the user's own Python files: scenarios and load-shape functions.

One way to do it, so both report a missing file, a file Python cannot load and
a module that raises while importing the same way; each caller words the error
for its own field.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["UserCodeError", "import_python_file"]


class UserCodeError(Exception):
    """Why a user's Python file could not be imported.

    ``raised`` is the exception the module raised while importing
    (``"ValueError: boom"``), or None when the file is missing or not Python;
    ``reason`` then says which, in words that follow the path.
    """

    def __init__(self, reason: str, *, raised: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.raised = raised


def import_python_file(path: Path, *, prefix: str) -> ModuleType:
    """Import ``path`` as a fresh module named ``prefix`` + a hash of its path.

    Raises:
        UserCodeError: the file is missing, cannot be loaded, or raised while importing.
    """
    if not path.is_file():
        raise UserCodeError("is not a file")
    module_name = f"{prefix}{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UserCodeError("cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's module failed: say how, in one line
        what = f"{type(exc).__name__}: {exc}"
        raise UserCodeError(f"raised {what} while importing", raised=what) from exc
    return module
