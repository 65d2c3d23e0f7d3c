"""A request's checks and extractions, compiled once for the hot path.

Each check is a function ``Answer -> bool`` and each extractor a function
``Answer -> bytes | None``, made from the plan by the dispatch tables
:data:`EXTRACTORS` (one per :class:`~redline.plan._extract.ExtractKind`) and
:func:`compile_checks`. An :class:`Answer` is made only for requests that have
checks or extractions, and parses the body as JSON at most once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from redline.load._cookies import set_cookies
from redline.plan._checks import Checks
from redline.plan._extract import Extraction, ExtractKind
from redline.plan._json_path import MISSING, JsonPath, json_path_from_text, value_at

__all__ = ["EXTRACTORS", "Answer", "Check", "Extractor", "compile_checks", "compile_extractor"]


#: What :attr:`Answer._json` holds until the body is parsed (JSON ``null`` is None).
_UNPARSED: Any = object()


class Answer:
    """One response, as checks and extractors read it."""

    __slots__ = ("body", "headers", "status", "_json")

    def __init__(
        self, status: int, body: bytes | None, headers: Sequence[tuple[bytes, bytes]] | None
    ) -> None:
        self.status = status
        self.body = body or b""
        self.headers = headers or ()
        self._json: Any = _UNPARSED

    def json(self) -> Any:
        """The body parsed as JSON, or :data:`MISSING` when it is not JSON."""
        if self._json is _UNPARSED:
            try:
                self._json = json.loads(self.body)
            except ValueError:  # includes UnicodeDecodeError
                self._json = MISSING
        return self._json

    def header(self, name: bytes) -> bytes | None:
        """The first value of the header ``name`` (lower case), or None."""
        for field, value in self.headers:
            if field.lower() == name:
                return value
        return None


Check = Callable[[Answer], bool]
Extractor = Callable[[Answer], bytes | None]


def _json_bytes(value: Any) -> bytes:
    # A string is the text itself; anything else as JSON text (42, true, {"a": 1}).
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value, separators=(",", ":")).encode()


def _regex(source: str) -> Extractor:
    pattern = re.compile(source.encode())

    def extract(answer: Answer) -> bytes | None:
        match = pattern.search(answer.body)
        return None if match is None else match.group(1)

    return extract


def _json(source: str) -> Extractor:
    path = json_path_from_text(source)

    def extract(answer: Answer) -> bytes | None:
        value = value_at(answer.json(), path)
        return None if value is MISSING or value is None else _json_bytes(value)

    return extract


def _header(source: str) -> Extractor:
    name = source.lower().encode()
    return lambda answer: answer.header(name)


def _cookie(source: str) -> Extractor:
    wanted = source.encode()

    def extract(answer: Answer) -> bytes | None:
        found = None
        for name, value, removed in set_cookies(answer.headers):
            if name == wanted and not removed:
                found = value  # the last one wins, as in a browser
        return found

    return extract


#: Makes the extractor of each kind from its source text.
EXTRACTORS: dict[ExtractKind, Callable[[str], Extractor]] = {
    ExtractKind.REGEX: _regex,
    ExtractKind.JSON: _json,
    ExtractKind.HEADER: _header,
    ExtractKind.COOKIE: _cookie,
}


def compile_extractor(extraction: Extraction) -> Extractor:
    """The extractor for one ``extract`` entry."""
    return EXTRACTORS[extraction.kind](extraction.source)


def _json_equal(found: Any, wanted: Any) -> bool:
    # true is not 1, though Python says True == 1; 1 and 1.0 are the same number.
    if isinstance(found, bool) or isinstance(wanted, bool):
        return type(found) is type(wanted) and found == wanted
    return bool(found == wanted)


def _body_contains(text: str) -> Check:
    needle = text.encode()
    return lambda answer: needle in answer.body


def _json_field(path: JsonPath, wanted: Any) -> Check:
    return lambda answer: _json_equal(value_at(answer.json(), path), wanted)


def compile_checks(checks: Checks | None) -> tuple[Check, ...]:
    """The body checks of a ``checks`` table (``status`` is checked apart, first)."""
    if checks is None:
        return ()
    compiled: list[Check] = []
    if checks.body_contains is not None:
        compiled.append(_body_contains(checks.body_contains))
    for source, wanted in checks.json_fields.items():
        compiled.append(_json_field(json_path_from_text(source), wanted))
    return tuple(compiled)
