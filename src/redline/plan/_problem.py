"""One bad value, and how it becomes a one-line :class:`ConfigError`.

Parsers and field validators raise :class:`Problem` with the *detail* only
(``"'5s' is out of range; allowed 10s..24h"``): they do not know where the value
came from. Whoever knows the place adds it in front: the public parsers add
their ``field`` argument, and :func:`redline.plan._validation.config_errors`
adds the TOML key path of a pydantic error (``executor.stages[1].duration``).
Every message therefore reads
``<where>: <bad value !r> <what is wrong>; <what is allowed>``, on one line.

``Problem`` subclasses ``ValueError`` because pydantic turns only ``ValueError``
raised in a validator into a field error; it keeps the original exception in the
error's ``ctx``, which is how its detail, path suffix and hint survive.

A problem is a :class:`ConfigError` unless it says otherwise: a plan that names
production is well-formed but out of bounds for redline, so that one becomes a
:class:`ScopeError`, as a host outside ``allowed_hosts`` does.
"""

from __future__ import annotations

import json
import re
import reprlib
from collections.abc import Sequence

from redline.errors import ConfigError, ScopeError

#: The errors bad input becomes: malformed or out of range, or out of scope.
InputError = ConfigError | ScopeError

#: Keys TOML accepts without quotes; others are shown quoted in a path.
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

#: Long inputs (a request body, a whole table) are cut short in messages.
_SHORT = reprlib.Repr()  # keyword arguments arrived only in Python 3.12
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlist = _SHORT.maxdict = 4


class Problem(ValueError):
    """What is wrong with one value, without saying where the value is.

    Args:
        detail: the message after ``<where>: ``, e.g. ``"0 is out of range; allowed 1..50000"``.
        at: keys to append to the location pydantic reports (for checks that span a
            whole table but blame one key in it).
        hint: what the user can do about it.
        error: the error it becomes: :class:`ConfigError`, or :class:`ScopeError` for
            input that is well-formed but outside what redline may touch.
    """

    def __init__(
        self,
        detail: str,
        *,
        at: Sequence[str | int] = (),
        hint: str | None = None,
        error: type[InputError] = ConfigError,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.at = tuple(at)
        self.hint = hint
        self.error = error

    def at_field(self, field: str) -> InputError:
        """The error (a :class:`ConfigError` unless said otherwise) for this problem in the
        field named ``field``."""
        return self.error(f"{join_path(field, self.at)}: {self.detail}", hint=self.hint)


def short(value: object) -> str:
    """``repr(value)``, cut short so a message stays on one readable line."""
    return _SHORT.repr(value)


def join_path(base: str, parts: Sequence[str | int]) -> str:
    """Append TOML keys and list indexes to a dotted path: ``executor`` + ``(stages, 1)``."""
    text = base
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if _BARE_KEY.fullmatch(part) else json.dumps(part)
            text = f"{text}.{key}" if text else key
    return text
