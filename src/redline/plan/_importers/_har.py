"""HAR 1.2 recordings (a browser's or a proxy's "Save all as HAR") to a plan draft.

One request per entry, in the recording's order (see the HAR 1.2 spec,
``log.entries[].request`` and ``.response``). Each keeps its method, URL, the
headers :func:`~redline.plan._importers._headers.replayable_headers` keeps, and
its ``postData`` as the body; the recorded response status becomes
``expect_status``. Static assets are skipped unless asked for, and so are entries
whose URL is not http(s) (``data:``, ``blob:``, ``chrome-extension:``...).

``base_url`` is the origin of the first imported entry, or the one given; every
entry on that origin is written as a path, so pointing a recording made against
staging at a local copy is one flag. Entries on other origins keep absolute URLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from redline.plan._importers._document import (
    Where,
    expect_list,
    expect_mapping,
    expect_text,
    parse_json,
    require,
    require_text,
)
from redline.plan._importers._draft import DraftRequest, PlanDraft
from redline.plan._importers._headers import CREDENTIAL_HEADERS, replayable_headers
from redline.plan._importers._names import UniqueNames, name_for
from redline.plan._importers._origin import (
    checked_base_url,
    host_of,
    origin_of,
    relative_to,
    scope_note,
)
from redline.plan._importers._static import is_static
from redline.plan._problem import Problem
from redline.plan._scope import url_from_text

#: URL schemes a plan can load; entries with others are skipped.
HTTP_SCHEMES = frozenset({"http", "https"})
#: Statuses that become ``expect_status``; 0 (a request the browser never finished) does not.
RECORDED_STATUS_RANGE = range(100, 600)
_HAR_SHAPE = 'a HAR file is JSON: {"log": {"version": "1.2", "entries": [...]}}'


@dataclass(frozen=True, slots=True)
class HarImportConfig:
    """Choices for :func:`import_har`.

    Attributes:
        base_url: where requests on the recording's first origin go; the recorded
            origin when ``None``.
        keep_auth: keep ``Cookie`` and ``Authorization`` headers.
        include_static: keep images, stylesheets, scripts and fonts.
    """

    base_url: str | None = None
    keep_auth: bool = False
    include_static: bool = False


@dataclass(frozen=True, slots=True)
class _Recorded:
    """One entry's request as recorded, and the two facts about its response we use."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: str | None
    body_type: str | None
    status: int | None
    media_type: str


def _entries(document: object, where: Where) -> list[Any]:
    log = require(expect_mapping(document, where), "log", where, hint=_HAR_SHAPE)
    entries = expect_list(
        require(expect_mapping(log, where / "log"), "entries", where / "log"),
        where / "log" / "entries",
    )
    if not entries:
        raise (where / "log" / "entries").error("[] is empty; the recording has no requests")
    return entries


def _header_pairs(raw: object, where: Where) -> list[tuple[str, str]]:
    pairs = []
    for index, header in enumerate(expect_list(raw, where)):
        field = expect_mapping(header, where / index)
        name = require_text(field, "name", where / index)
        value = expect_text(field.get("value", ""), where / index / "value")
        pairs.append((name, value))
    return pairs


def _body(request: dict[str, Any], where: Where) -> tuple[str | None, str | None]:
    raw = request.get("postData")
    if raw is None:
        return None, None
    post = expect_mapping(raw, where)
    media_type = post.get("mimeType") if isinstance(post.get("mimeType"), str) else None
    text = post.get("text")
    if isinstance(text, str) and text:
        return text, media_type
    params = expect_list(post.get("params", []), where / "params")
    pairs = [
        (str(p.get("name", "")), str(p.get("value", ""))) for p in params if isinstance(p, dict)
    ]
    return (urlencode(pairs), media_type) if pairs else (None, media_type)


def _response_facts(entry: dict[str, Any]) -> tuple[int | None, str]:
    response = entry.get("response")
    if not isinstance(response, dict):
        return None, ""
    status = response.get("status")
    content = response.get("content")
    media_type = content.get("mimeType") if isinstance(content, dict) else None
    recorded = status if isinstance(status, int) and status in RECORDED_STATUS_RANGE else None
    return recorded, media_type if isinstance(media_type, str) else ""


def _recorded(raw_entry: object, where: Where) -> _Recorded:
    entry = expect_mapping(raw_entry, where)
    request = expect_mapping(require(entry, "request", where), where / "request")
    method = require_text(request, "method", where / "request")
    url = require_text(request, "url", where / "request")
    headers = _header_pairs(request.get("headers", []), where / "request" / "headers")
    body, body_type = _body(request, where / "request" / "postData")
    status, media_type = _response_facts(entry)
    return _Recorded(method, url, headers, body, body_type, status, media_type)


def _checked_url(recorded: _Recorded, where: Where) -> None:
    try:
        url_from_text(recorded.url)
    except Problem as problem:
        raise (where / "request" / "url").error(problem.detail) from None


@dataclass
class _Selection:
    """The entries to import, and how many were skipped for which reason."""

    kept: list[_Recorded]
    static: int = 0
    not_http: int = 0


def _select(entries: list[Any], where: Where, config: HarImportConfig) -> _Selection:
    selection = _Selection(kept=[])
    for index, raw_entry in enumerate(entries):
        recorded = _recorded(raw_entry, where / index)
        if urlsplit(recorded.url).scheme.lower() not in HTTP_SCHEMES:
            selection.not_http += 1
        elif not config.include_static and is_static(recorded.url, recorded.media_type):
            selection.static += 1
        else:
            _checked_url(recorded, where / index)
            selection.kept.append(recorded)
    return selection


def _draft(recorded: _Recorded, origin: str, names: UniqueNames, keep_auth: bool) -> DraftRequest:
    headers = replayable_headers(recorded.headers, keep_credentials=keep_auth)
    has_type = any(name.lower() == "content-type" for name in headers)
    if recorded.body is not None and recorded.body_type and not has_type:
        headers["Content-Type"] = recorded.body_type
    return DraftRequest(
        name=names.claim(name_for(recorded.method, recorded.url)),
        method=recorded.method.upper(),
        url=relative_to(recorded.url, origin),
        headers=headers,
        body=recorded.body,
        expect_status=None if recorded.status is None else [recorded.status],
    )


def _notes(
    selection: _Selection, total: int, *, base_url: str, origin: str, keep_auth: bool
) -> list[str]:
    kept = selection.kept
    counts = f"{len(kept)} of {total} entries imported"
    if selection.static:
        counts += f"; {selection.static} static assets skipped (--include-static keeps them)"
    if selection.not_http:
        counts += f"; {selection.not_http} not http(s) skipped"
    hosts = [host_of(recorded.url) for recorded in kept]
    notes = [counts + ".", f"Hosts seen: {', '.join(dict.fromkeys(hosts))}."]
    if base_url != origin:
        notes.append(f"Recorded against {origin}; base_url sends those requests to {base_url}.")
    credentials = {name.lower() for r in kept for name, _ in r.headers} & CREDENTIAL_HEADERS
    if credentials and not keep_auth:
        notes.append("Cookie and Authorization headers were dropped; --keep-auth keeps them.")
    targets = [host_of(r.url) for r in kept if origin_of(r.url) != origin]
    scope = scope_note([host_of(base_url), *targets])
    return notes if scope is None else [*notes, scope]


def import_har(text: str, *, source: str, config: HarImportConfig | None = None) -> PlanDraft:
    """Read a HAR 1.2 recording into a :class:`PlanDraft` (see the module docstring).

    Args:
        text: the HAR file's text (JSON).
        source: the file's name, for messages and the plan's first comment.
        config: what to keep and where to send it; the defaults when ``None``.

    Raises:
        ConfigError: one line naming the place, e.g.
            ``"shop.har: log.entries[2].request.url: missing; this key is required"``.

    Example::

        draft = import_har(Path("shop.har").read_text(), source="shop.har",
                           config=HarImportConfig(base_url="http://127.0.0.1:8080"))
    """
    config = config or HarImportConfig()
    base_url = None if config.base_url is None else checked_base_url(config.base_url)
    where = Where(source)
    entries = _entries(parse_json(text, source=source), where)
    selection = _select(entries, where / "log" / "entries", config)
    if not selection.kept:
        raise (where / "log" / "entries").error(
            f"none of the {len(entries)} entries is left to import "
            f"({selection.static} static, {selection.not_http} not http(s))",
            hint="--include-static keeps images, stylesheets, scripts and fonts",
        )
    origin = origin_of(selection.kept[0].url)
    base_url = base_url or origin
    names = UniqueNames()
    return PlanDraft(
        name=Path(source).stem,
        origin=f"the HAR file {Path(source).name}",
        base_url=base_url,
        requests=[_draft(r, origin, names, config.keep_auth) for r in selection.kept],
        notes=_notes(
            selection, len(entries), base_url=base_url, origin=origin, keep_auth=config.keep_auth
        ),
    )
