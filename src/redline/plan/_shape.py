"""Load-shape functions: a Python function of time that sets the load.

Like Locust's ``LoadTestShape.tick``, but a plain function: the ``shape``
executor names it as ``"file.py:function"`` and calls ``function(t_s)`` with
the seconds since the run started. It returns VUs (``int``) or, with
``model = "arrival-rate"``, arrivals per second; ``None`` ends the run.

Example ``shapes.py``::

    def waves(t_s: float) -> int | None:
        if t_s >= 300:
            return None  # done
        return 10 + 40 * (int(t_s) // 60 % 2)

The file is imported once in the parent, where the plan is validated
(:func:`shape_reference`), and once more in each worker (:func:`load_shape`).
A relative path is relative to the directory redline runs in.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from redline.plan._problem import Problem, short
from redline.plan._user_code import UserCodeError, import_python_file

__all__ = ["ShapeFunction", "load_shape", "shape_reference"]

#: A load-shape function: seconds since the start -> a level, or None to end the run.
ShapeFunction = Callable[[float], object]

_EXAMPLE = "write 'file.py:function', e.g. 'shapes.py:diurnal'"


def _split(reference: str) -> tuple[Path, str]:
    path, sep, name = reference.rpartition(":")
    if not sep or not path or not name.isidentifier():
        raise Problem(f"{short(reference)} is not a shape function; {_EXAMPLE}")
    return Path(path), name


def _import(reference: str, path: Path) -> ModuleType:
    try:
        return import_python_file(path, prefix="redline_shape_")
    except UserCodeError as exc:
        if exc.raised is not None:
            raise Problem(
                f"{reference!r}: importing {str(path)!r} raised {exc.raised}; "
                "allowed a file that imports",
                hint="run it with python to see the traceback",
            ) from None
        raise Problem(
            f"{reference!r}: {str(path)!r} {exc.reason}; allowed a Python file, "
            "relative to the directory redline runs in",
        ) from None


def _functions_of(module: ModuleType) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if inspect.isfunction(value) and not name.startswith("_")
    )


def load_shape(reference: str) -> ShapeFunction:
    """Import ``"file.py:function"`` and return the function.

    Raises:
        Problem: the reference is malformed, the file is missing or does not
            import, or it has no such function (the message lists those it has).
    """
    path, name = _split(reference)
    module = _import(reference, path)
    function = getattr(module, name, None)
    if not callable(function):
        found = ", ".join(_functions_of(module)) or "none"
        raise Problem(
            f"{reference!r}: {str(path)!r} has no function {name!r}; allowed {found}",
        )
    shape: ShapeFunction = function
    return shape


def shape_reference(raw: object) -> str:
    """A validator: ``raw`` is ``"file.py:function"`` naming a function that imports.

    The reference is kept as written; the function is loaded again where it runs.
    """
    if not isinstance(raw, str):
        raise Problem(f"{short(raw)} is not a shape function; {_EXAMPLE}")
    load_shape(raw.strip())
    return raw.strip()
