"""Values a request sends that an earlier JSON response gave it: ``extract`` and ``${name}``.

A recorded journey often carries a value from one response into a later
request: the id of the item just created, a token from a login. Replayed
as recorded, every iteration would send the recorded value; chained, each
iteration sends the value its own response gave.

A string field of an earlier JSON response (``response.content.text``) is
chained when a later request's URL (path and query), a header value or the body
contains it, and it is at least :data:`MIN_CHAINED_LENGTH` characters long
(shorter values, ``"true"``, ``"admin"``, match by chance). A value that a
request sent before the response held it is the client's own (a name typed into
a form and echoed back), and is not chained. A value found in several responses
is taken from the first.

Glossary:

- **source**: the request whose response holds the value; it gets the ``extract``.
- **use**: a later request that sends the value; it gets ``${name}`` in its place.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from redline.plan._data import RUN_ID_VARIABLE
from redline.plan._importers._draft import DraftRequest
from redline.plan._template import origin_of

#: Shorter values are never chained: they match by chance.
MIN_CHAINED_LENGTH = 8
#: A recorded value is shown in a comment up to this many characters.
SHOWN_VALUE_LENGTH = 40
#: An object key written as ``.key`` in a JSON path; others are written ``["key"]``.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-]+")
#: Characters a variable name may not hold, replaced by ``_``.
_NOT_IN_VARIABLE = re.compile(r"[^A-Za-z0-9_]")
#: Separates the requests' texts in the text searched, so no match spans two of them.
_SEPARATOR = "\0"


@dataclass(frozen=True, slots=True)
class Chain:
    """One value carried from a response to later requests.

    Attributes:
        variable: the name it is extracted as, and used as ``${variable}``.
        path: the JSON path of the value in the source's response, e.g. ``"$.id"``.
        value: the value as recorded.
        source: the index of the request whose response holds it.
        uses: the indices of the later requests that send it.
    """

    variable: str
    path: str
    value: str
    source: int
    uses: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    """A response body as a HAR holds it (``response.content``).

    Attributes:
        text: ``content.text`` (``None``: not recorded).
        media_type: ``content.mimeType``.
        encoding: ``content.encoding``: ``"base64"`` for a body recorded as base64.
    """

    text: str | None = None
    media_type: str = ""
    encoding: str | None = None


def _json_document(response: RecordedResponse) -> object | None:
    text = response.text
    if not text:
        return None
    if response.encoding == "base64":
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
    if "json" not in response.media_type.lower() and not text.lstrip().startswith(("{", "[")):
        return None
    try:
        document: object = json.loads(text)
    except json.JSONDecodeError:
        return None  # a body labelled JSON that is not: nothing to chain from
    return document


def _step_text(key: str | int) -> str | None:
    if isinstance(key, int):
        return f"[{key}]"
    if _PLAIN_KEY.fullmatch(key):
        return f".{key}"
    if '"' not in key:
        return f'["{key}"]'
    return f"['{key}']" if "'" not in key else None


def string_fields(document: object, path: str = "$") -> Iterator[tuple[str, str]]:
    """Every string in a parsed JSON document, with its JSON path, in document order.

    Strings under a key no path can name (one holding both quote characters) are left out.

    Example::

        list(string_fields({"data": {"token": "t1"}, "ids": ["a"]}))
        # [("$.data.token", "t1"), ("$.ids[0]", "a")]
    """
    if isinstance(document, str):
        yield path, document
        return
    items: Iterator[tuple[str | int, object]]
    if isinstance(document, dict):
        items = iter(document.items())
    elif isinstance(document, list):
        items = enumerate(document)
    else:
        return
    for key, value in items:
        step = _step_text(key)
        if step is not None:
            yield from string_fields(value, path + step)


def _url_head_and_tail(url: str) -> tuple[str, str]:
    """``url`` split where placeholders may start: after the origin and the path's first ``/``."""
    head = origin_of(url) if not url.startswith("/") else ""
    return url[: len(head) + 1], url[len(head) + 1 :]


def _sent_texts(request: DraftRequest) -> list[str]:
    """What of ``request`` may hold a chained value: URL path and query, header values, body."""
    texts = [_url_head_and_tail(request.url)[1], *request.headers.values()]
    return texts if request.body is None else [*texts, request.body]


class _Sent:
    """The requests' texts joined, to find in which requests a value is sent."""

    def __init__(self, requests: Sequence[DraftRequest]) -> None:
        self._starts: list[int] = []
        parts = []
        position = 0
        for request in requests:
            self._starts.append(position)
            text = _SEPARATOR.join(_sent_texts(request)) + _SEPARATOR
            parts.append(text)
            position += len(text)
        self._text = "".join(parts)

    def senders(self, value: str) -> list[int]:
        """The indices of the requests that send ``value``, in order, each once."""
        found: list[int] = []
        at = self._text.find(value)
        while at >= 0:
            index = bisect.bisect_right(self._starts, at) - 1
            if not found or found[-1] != index:
                found.append(index)
            at = self._text.find(value, at + 1)
        return found


def _variable_for(path: str, taken: set[str]) -> str:
    """A free variable name from the last key of ``path``: ``$.items[0].id`` -> ``id``."""
    keys = [key for key in re.split(r"[.\[\]\"']+", path) if key and not key.isdigit()]
    stem = _NOT_IN_VARIABLE.sub("_", keys[-1] if len(keys) > 1 else "").strip("_") or "value"
    stem = f"value_{stem}" if stem[0].isdigit() else stem
    name, number = stem, 1
    while name in taken:
        number += 1
        name = f"{stem}_{number}"
    taken.add(name)
    return name


def find_chains(
    requests: Sequence[DraftRequest], responses: Sequence[RecordedResponse]
) -> list[Chain]:
    """The values later requests send from earlier responses (see the module docstring).

    Args:
        requests: the requests in the order they run.
        responses: the recorded response to each, in the same order.
    """
    sent = _Sent(requests)
    taken = {RUN_ID_VARIABLE}
    seen: set[str] = set()
    chains = []
    for source, response in enumerate(responses):
        for path, value in string_fields(_json_document(response)):
            if len(value) < MIN_CHAINED_LENGTH or value in seen:
                continue
            seen.add(value)
            senders = sent.senders(value)
            if senders and senders[0] > source:
                variable = _variable_for(path, taken)
                chains.append(Chain(variable, path, value, source, tuple(senders)))
    return chains


def _shown(value: str) -> str:
    if len(value) <= SHOWN_VALUE_LENGTH:
        return repr(value)
    return repr(value[:SHOWN_VALUE_LENGTH]) + "..."


def _templated(text: str, chains: Sequence[Chain]) -> str:
    # One pass, longest value first: a value inside another is not replaced twice,
    # and no value is looked for inside a ${name} already written.
    by_value = {chain.value: chain.variable for chain in chains}
    pattern = "|".join(re.escape(value) for value in sorted(by_value, key=len, reverse=True))
    return re.sub(pattern, lambda match: f"${{{by_value[match.group()]}}}", text)


def _with_uses(request: DraftRequest, chains: Sequence[Chain], names: list[str]) -> DraftRequest:
    head, tail = _url_head_and_tail(request.url)
    headers = {name: _templated(value, chains) for name, value in request.headers.items()}
    body = None if request.body is None else _templated(request.body, chains)
    comments = [
        f"${{{chain.variable}}} is {chain.path} of the response to {names[chain.source]!r} "
        f"(recorded as {_shown(chain.value)})."
        for chain in chains
    ]
    return replace(
        request,
        url=head + _templated(tail, chains),
        headers=headers,
        body=body,
        comments=[*request.comments, *comments],
    )


def chained(requests: Sequence[DraftRequest], chains: Sequence[Chain]) -> list[DraftRequest]:
    """``requests`` with each chain's ``extract`` on its source and ``${name}`` in its uses.

    Each use gets a comment naming the variable, where it comes from and the recorded value.
    """
    names = [request.name for request in requests]
    result = []
    for index, request in enumerate(requests):
        extract = {c.variable: c.path for c in chains if c.source == index}
        uses = [chain for chain in chains if index in chain.uses]
        if extract:
            request = replace(request, extract={**request.extract, **extract})
        result.append(_with_uses(request, uses, names) if uses else request)
    return result
