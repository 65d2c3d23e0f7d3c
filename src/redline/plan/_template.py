"""``${name}`` placeholders in a request's URL path and query, header values and body.

A placeholder is replaced, per request, by the virtual user's variable of that
name (set by ``extract``, or by a data feeder). Text without ``${`` is not a
template and is sent as prepared, byte for byte.

Glossary:

- **template**: text with at least one placeholder.
- **part**: a piece of a template: literal text (``str``) or a :class:`Variable`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from redline.plan._problem import Problem, short

__all__ = ["PLACEHOLDER_START", "Variable", "check_template", "origin_of", "template_parts"]

#: What starts a placeholder; text without it is never a template.
PLACEHOLDER_START = "${"
#: A whole placeholder: ``${`` + a variable name + ``}``; a name may be dotted, as a
#: data feeder's fields are (``${users.email}``).
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")


@dataclass(frozen=True, slots=True)
class Variable:
    """A placeholder in a template: replaced by the variable ``name``."""

    name: str


def template_parts(text: str) -> tuple[str | Variable, ...]:
    """Split ``text`` into literal text and variables, in order (no empty literals).

    Example::

        template_parts("/users/${id}/cart")  # ("/users/", Variable("id"), "/cart")

    Raises:
        Problem: a ``${`` that does not open a well-formed placeholder.
    """
    check_template(text)
    parts: list[str | Variable] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > position:
            parts.append(text[position : match.start()])
        parts.append(Variable(match.group(1)))
        position = match.end()
    if position < len(text):
        parts.append(text[position:])
    return tuple(parts)


def check_template(text: str) -> None:
    """Refuse a ``${`` that is not ``${name}`` with a name of letters, digits and ``_``.

    Raises:
        Problem: naming the malformed placeholder.
    """
    start = text.find(PLACEHOLDER_START)
    while start >= 0:
        match = _PLACEHOLDER.match(text, start)
        if match is None:
            bad = text[start : start + 20]
            raise Problem(
                f"{short(bad)} is not a placeholder; allowed ${{name}} with a name of "
                "letters, digits and _ (not starting with a digit), dotted as ${users.email}"
            )
        start = text.find(PLACEHOLDER_START, match.end())


def origin_of(url: str) -> str:
    """The ``scheme://host[:port]`` part of an absolute URL, as written."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].split('?', 1)[0].split('#', 1)[0]}"
