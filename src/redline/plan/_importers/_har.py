"""HAR 1.2 recordings (a browser's or a proxy's "Save all as HAR") to a plan draft.

One request per entry, in the recording's order (see the HAR 1.2 spec,
``log.entries[].request`` and ``.response``), and one ``[[steps]]`` entry per
request in that order, so each iteration replays the journey; the pause after a
step is the recorded one (:mod:`~redline.plan._importers._pauses`), and values a
request reuses from an earlier JSON response are chained
(:mod:`~redline.plan._importers._chains`). With ``mix`` the plan has no steps: each
iteration picks one request by weight. Each request keeps its method, URL, the
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
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from redline.plan._importers._chains import Chain, RecordedResponse, chained, find_chains
from redline.plan._importers._document import (
    Where,
    expect_list,
    expect_mapping,
    expect_text,
    parse_json,
    require,
    require_text,
)
from redline.plan._importers._draft import DraftRequest, DraftStep, PlanDraft
from redline.plan._importers._headers import CREDENTIAL_HEADERS, replayable_headers
from redline.plan._importers._names import UniqueNames, name_for
from redline.plan._importers._origin import (
    checked_base_url,
    host_of,
    origin_of,
    relative_to,
    scope_note,
)
from redline.plan._importers._pauses import (
    MAX_THINK_TIME_S,
    MIN_THINK_TIME_S,
    THINK_TIME_STEP_S,
    Timing,
    recorded_pauses,
)
from redline.plan._importers._static import is_static
from redline.plan._problem import Problem
from redline.plan._scope import url_from_text
from redline.plan._units import format_duration

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
        mix: write a weighted mix (no steps): each iteration picks one request.
        think_time: give each step the recorded pause after it.
        chain: extract values later requests reuse from earlier JSON responses.
    """

    base_url: str | None = None
    keep_auth: bool = False
    include_static: bool = False
    mix: bool = False
    think_time: bool = True
    chain: bool = True


@dataclass(frozen=True, slots=True)
class _Recorded:
    """One entry's request as recorded, its timing, and what of its response we use."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: str | None
    body_type: str | None
    status: int | None
    response: RecordedResponse
    timing: Timing

    @property
    def media_type(self) -> str:
        """The response's media type (``""``: not recorded)."""
        return self.response.media_type


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


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _response_facts(entry: dict[str, Any]) -> tuple[int | None, RecordedResponse]:
    response = entry.get("response")
    if not isinstance(response, dict):
        return None, RecordedResponse()
    status = response.get("status")
    content = response.get("content")
    content = content if isinstance(content, dict) else {}
    recorded = status if isinstance(status, int) and status in RECORDED_STATUS_RANGE else None
    return recorded, RecordedResponse(
        text=_text_or_none(content.get("text")),
        media_type=_text_or_none(content.get("mimeType")) or "",
        encoding=_text_or_none(content.get("encoding")),
    )


def _timing(entry: dict[str, Any], where: Where) -> Timing:
    """When the entry started (``startedDateTime``, ISO 8601) and its ``time`` (ms)."""
    raw = entry.get("startedDateTime")
    if raw is None:
        return Timing(None)  # required by HAR 1.2, but hand-written files leave it out
    try:
        started_s = datetime.fromisoformat(expect_text(raw, where / "startedDateTime")).timestamp()
    except ValueError:
        raise (where / "startedDateTime").error(
            f"{raw!r} is not a date and time; allowed ISO 8601, e.g. '2025-03-04T10:00:00.000Z'"
        ) from None
    time_ms = entry.get("time", 0)
    if not isinstance(time_ms, int | float) or isinstance(time_ms, bool):
        raise (where / "time").error(f"{time_ms!r} is not a number of milliseconds")
    # HAR 1.2 writes -1 for a timing it does not know; count that as no time.
    return Timing(started_s, max(float(time_ms), 0.0) / 1000)


def _recorded(raw_entry: object, where: Where) -> _Recorded:
    entry = expect_mapping(raw_entry, where)
    request = expect_mapping(require(entry, "request", where), where / "request")
    method = require_text(request, "method", where / "request")
    url = require_text(request, "url", where / "request")
    headers = _header_pairs(request.get("headers", []), where / "request" / "headers")
    body, body_type = _body(request, where / "request" / "postData")
    status, response = _response_facts(entry)
    timing = _timing(entry, where)
    return _Recorded(method, url, headers, body, body_type, status, response, timing)


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


def _steps(
    kept: list[_Recorded], requests: list[DraftRequest], think_time: bool
) -> tuple[list[DraftStep], int]:
    """One step per request, with its recorded pause; and how many pauses were capped."""
    pauses = recorded_pauses([recorded.timing for recorded in kept])
    after_s = pauses.after_s if think_time else [0.0] * len(requests)
    steps = [DraftStep(r.name, pause_s) for r, pause_s in zip(requests, after_s, strict=True)]
    return steps, pauses.capped if think_time else 0


def _order_notes(
    steps: list[DraftStep], capped: int, chains: list[Chain], think_time: bool
) -> list[str]:
    if not steps:
        return ["Written as a mix (--mix); without it, steps replay the recording in order."]
    notes = []
    if think_time:
        note = (
            "Steps replay the recording in order; think_time is the recorded gap to the next "
            f"request (rounded to {format_duration(THINK_TIME_STEP_S)}, none under "
            f"{format_duration(MIN_THINK_TIME_S)}, at most {format_duration(MAX_THINK_TIME_S)}"
        )
        if capped:
            note += f"; {capped} longer cut to {format_duration(MAX_THINK_TIME_S)}"
        notes.append(note + "). --no-think-time leaves them out; --mix writes a weighted mix.")
    else:
        notes.append("Steps replay the recording in order, without pauses (--no-think-time).")
    if chains:
        variables = ", ".join(f"${{{chain.variable}}}" for chain in chains)
        notes.append(
            f"Chained from earlier JSON responses (extract) into later requests: {variables}; "
            "a comment on each request that uses one says where it comes from."
        )
    return notes


def import_har(text: str, *, source: str, config: HarImportConfig | None = None) -> PlanDraft:
    """Read a HAR 1.2 recording into a :class:`PlanDraft` (see the module docstring).

    Args:
        text: the HAR file's text (JSON).
        source: the file's name, for messages and the plan's first comment.
        config: what to keep, where to send it and in what order; the defaults when ``None``.

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
    requests = [_draft(r, origin, names, config.keep_auth) for r in selection.kept]
    steps: list[DraftStep] = []
    capped = 0
    chains: list[Chain] = []
    if not config.mix:
        steps, capped = _steps(selection.kept, requests, config.think_time)
    if not config.mix and config.chain:
        chains = find_chains(requests, [recorded.response for recorded in selection.kept])
        requests = chained(requests, chains)
    notes = _notes(
        selection, len(entries), base_url=base_url, origin=origin, keep_auth=config.keep_auth
    )
    return PlanDraft(
        name=Path(source).stem,
        origin=f"the HAR file {Path(source).name}",
        base_url=base_url,
        requests=requests,
        steps=steps,
        notes=[*notes, *_order_notes(steps, capped, chains, config.think_time)],
    )
