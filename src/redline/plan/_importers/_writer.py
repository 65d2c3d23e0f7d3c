"""Plan drafts written as TOML a person can edit, and checked by loading them back.

Written with tomlkit rather than by hand or with tomli-w: the file starts with
comments (where it came from, what was skipped, which hosts it names), and
request bodies read better as literal strings (``body = '{"id": 1}'``) than
with every quote escaped; tomli-w writes neither. See docs/decisions.md.
"""

from __future__ import annotations

import textwrap
import tomllib
from collections.abc import Mapping
from typing import Any

import tomlkit
from tomlkit.items import AoT, InlineTable, String, Table

from redline.plan._importers._draft import DraftRequest, DraftStep, PlanDraft
from redline.plan._units import format_duration
from redline.plan._validation import plan_from_mapping

#: Comment lines are wrapped to this width (with their ``# ``).
COMMENT_WIDTH = 98
#: Said in every imported plan without steps, because a recording looks like a sequence.
PICK_NOTE = (
    "Each VU iteration picks one request at random by weight; requests are not replayed in order."
)
#: Said in every imported plan with steps.
STEPS_NOTE = "Each VU iteration runs every [[steps]] entry in order."


def _printable(text: str) -> str:
    return "".join(char if char.isprintable() else "?" for char in text)


def _comment_lines(draft: PlanDraft) -> list[str]:
    order = STEPS_NOTE if draft.steps else PICK_NOTE
    paragraphs = [f"Imported by redline from {draft.origin}.", *draft.notes, order]
    return [
        line
        for paragraph in paragraphs
        for line in textwrap.wrap(_printable(paragraph), width=COMMENT_WIDTH - 2)
    ]


def _string(text: str) -> String:
    # A literal string ('...') shows JSON without escapes, but cannot hold ' or control
    # characters; text without quotes or backslashes reads the same either way.
    plain = '"' not in text and "\\" not in text
    literal = not plain and "'" not in text and text.isprintable()
    return tomlkit.string(text, literal=literal)


def _wrapped_comments(table: Table, paragraphs: list[str]) -> None:
    for paragraph in paragraphs:
        for line in textwrap.wrap(_printable(paragraph), width=COMMENT_WIDTH - 2):
            table.add(tomlkit.comment(line))


def _extract_table(extract: dict[str, str]) -> InlineTable:
    table = tomlkit.inline_table()
    for variable, path in extract.items():
        kind = tomlkit.inline_table()
        kind.add("json", _string(path))
        table.add(variable, kind)
    return table


def _request_table(request: DraftRequest) -> Table:
    table = tomlkit.table()
    _wrapped_comments(table, request.comments)
    table.add("name", _string(request.name))
    table.add("method", request.method)
    table.add("url", _string(request.url))
    if request.body is not None:
        table.add("body", _string(request.body))
    if request.expect_status is not None:
        table.add("expect_status", request.expect_status)
    if request.extract:
        table.add("extract", _extract_table(request.extract))
    if request.headers:
        headers = tomlkit.table()
        for name, value in request.headers.items():
            headers.add(name, _string(value))
        table.add("headers", headers)
    return table


def _step_table(step: DraftStep) -> Table:
    table = tomlkit.table()
    table.add("request", _string(step.request))
    if step.think_time_s > 0:
        table.add("think_time", format_duration(step.think_time_s))
    return table


def _executor_table(executor: Mapping[str, Any]) -> Table:
    table = tomlkit.table()
    for key, value in executor.items():
        table.add(key, value)
    return table


def render_plan(draft: PlanDraft, *, executor: Mapping[str, Any]) -> str:
    """The plan file for ``draft`` with ``executor``, as TOML text that loads and validates.

    Args:
        draft: what an importer read.
        executor: the ``[executor]`` table (see :func:`executor_table`).

    Raises:
        ConfigError: the plan would not load, naming the key
            (``"imported plan: requests[2].headers: ..."``); a bug in an importer
            or a value the plan cannot hold.
    """
    document = tomlkit.document()
    for line in _comment_lines(draft):
        document.add(tomlkit.comment(line))
    document.add("name", _string(draft.name))
    if draft.base_url is not None:
        document.add("base_url", _string(draft.base_url))
    if not draft.verify_tls:
        document.add("verify_tls", False)
    document.add(tomlkit.nl())
    document.add("executor", _executor_table(executor))
    if draft.steps:
        # The journey first, then what each request is: steps read as the recording did.
        document.add("steps", AoT([_step_table(step) for step in draft.steps]))
    requests = AoT([_request_table(request) for request in draft.requests])
    document.add("requests", requests)
    text = tomlkit.dumps(document)
    plan_from_mapping(tomllib.loads(text), source="imported plan")
    return text
