"""Request names for imported plans: readable, within the plan's rules, and unique.

A plan refuses a name that is empty, longer than
:data:`~redline.plan._request.MAX_NAME_LENGTH`, not printable, contains ``[`` or ``]``
(thresholds use brackets: ``p95[name]<300ms``), or is used twice.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from redline.plan._request import MAX_NAME_LENGTH

#: Stand-ins for the characters a request name may not hold.
_REPLACEMENTS = str.maketrans({"[": "(", "]": ")"})


def clean_name(text: str) -> str:
    """``text`` as a request name: brackets become parentheses, other unprintables ``?``.

    Example::

        clean_name("GET /items[0]")  # "GET /items(0)"
    """
    printable = "".join(char if char.isprintable() else "?" for char in text.strip())
    return printable.translate(_REPLACEMENTS)[:MAX_NAME_LENGTH] or "request"


def name_for(method: str, url: str) -> str:
    """The name of a request from its method and its URL's path: ``"POST /api/items"``."""
    path = urlsplit(url).path or "/"
    return clean_name(f"{method.upper()} {path}")


class UniqueNames:
    """Hands out names, adding `` (2)``, `` (3)``... to one already taken.

    Example::

        names = UniqueNames()
        names.claim("GET /")  # "GET /"
        names.claim("GET /")  # "GET / (2)"
    """

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, wanted: str) -> str:
        """``wanted``, or the first free numbered variant of it, now taken."""
        name = clean_name(wanted)
        number = 1
        while name in self._taken:
            number += 1
            suffix = f" ({number})"
            name = clean_name(wanted)[: MAX_NAME_LENGTH - len(suffix)] + suffix
        self._taken.add(name)
        return name
