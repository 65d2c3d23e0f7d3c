"""A small JSON-path subset, for ``extract`` and ``checks``: ``$``, ``.key``, ``[n]``, ``["key"]``.

Examples: ``$`` (the whole document), ``$.data.token``, ``$.items[0].id``,
``$["odd key"].value``. No wildcards, filters or slices: each path names at
most one value, which is what extracting a variable or checking a field needs.
"""

from __future__ import annotations

import re
from typing import Any

from redline.plan._problem import Problem, short

__all__ = ["JsonPath", "MISSING", "json_path_from_text", "value_at"]

#: One step of a path: a key of an object or an index into an array.
JsonPath = tuple[str | int, ...]

#: One step, as written: ``.key``, ``[n]``, ``["key"]`` or ``['key']``.
_STEP = re.compile(
    r"""\.(?P<key>[A-Za-z0-9_\-]+)"""
    r"""|\[(?P<index>\d+)\]"""
    r"""|\["(?P<dq>[^"]*)"\]"""
    r"""|\['(?P<sq>[^']*)'\]"""
)
#: What a path's text must look like, for the error message.
_EXPECTED = "allowed $ followed by .key, [n] or [\"key\"] steps, e.g. '$.data.token'"


class _Missing:
    """The value at a path that leads nowhere (distinct from JSON ``null``)."""

    def __repr__(self) -> str:
        return "MISSING"


#: What :func:`value_at` returns when the path leads nowhere.
MISSING: Any = _Missing()


def json_path_from_text(text: str) -> JsonPath:
    """Parse ``text`` into a :data:`JsonPath`.

    Raises:
        Problem: the text is not a path of the subset.
    """
    if not text.startswith("$"):
        raise Problem(f"{short(text)} is not a JSON path; {_EXPECTED}")
    steps: list[str | int] = []
    position = 1
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise Problem(
                f"{short(text)} is not a JSON path (at character {position + 1}); {_EXPECTED}"
            )
        index = match.group("index")
        if index is not None:
            steps.append(int(index))
        else:
            steps.append(next(g for g in match.group("key", "dq", "sq") if g is not None))
        position = match.end()
    return tuple(steps)


def value_at(document: object, path: JsonPath) -> Any:
    """The value at ``path`` in a parsed JSON document, or :data:`MISSING`."""
    value: Any = document
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return MISSING
        elif not isinstance(value, dict) or step not in value:
            return MISSING
        value = value[step]
    return value
