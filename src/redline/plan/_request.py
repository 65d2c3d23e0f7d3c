"""One request of a plan's mix: what to send, how often relative to the others, what to check."""

from __future__ import annotations

import re
from typing import Self

from pydantic import field_validator, model_validator

from redline.plan._checks import Checks, StatusCode, check_statuses
from redline.plan._extract import Extraction, ExtractionField, extraction_of
from redline.plan._problem import Problem, short
from redline.plan._scope import url_from_text
from redline.plan._section import Section, Weight
from redline.plan._template import PLACEHOLDER_START, check_template, origin_of

#: An HTTP token: method and header names (RFC 9110 section 5.6.2).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Characters that would end a header line early or split a request (RFC 9110 section 5.5).
_FORBIDDEN_IN_HEADER_VALUE = frozenset("\r\n\0")
#: A variable name for ``extract``, usable later as ``${name}``.
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Longest request name; it labels every table row and chart series.
MAX_NAME_LENGTH = 100


class RequestSpec(Section):
    """One request of the mix. Each VU iteration picks one request, in proportion to ``weight``.

    Attributes:
        name: unique within the plan; thresholds name it as ``p95[name]<300ms``.
        method: the HTTP method, upper case.
        url: an absolute http(s) URL. A plan file may give a path (``"/checkout"``);
            :class:`~redline.plan.Plan` joins it to ``base_url``, so a validated plan
            holds absolute URLs only.
        headers: sent with every request.
        body: sent as is, or nothing.
        weight: the request's share of the mix, relative to the other requests.
        expect_status: a check: a response with another status counts as failed.
            ``None`` keeps the default (a status of 400 or more fails). The same
            as ``checks.status``; give one of the two.
        checks: what a response must satisfy (:class:`~redline.plan._checks.Checks`).
        extract: variable name -> what to take from the response: a regular
            expression with exactly one group, applied to the body (the group's
            text becomes the value), or a table ``{ regex | json | header | cookie = ... }``
            (:class:`~redline.plan._extract.Extraction`).

    The URL's path and query, header values and the body may hold ``${name}``
    placeholders, replaced per request by the VU's variable ``name``; the
    scheme, host and port may not (scope is checked before the run).

    Example (TOML)::

        [[requests]]
        name = "checkout"
        method = "POST"
        url = "/checkout"
        headers = { "Content-Type" = "application/json" }
        body = '{"item": 1}'
        expect_status = [200, 201]
    """

    name: str
    method: str = "GET"
    url: str
    headers: dict[str, str] = {}
    body: str | None = None
    weight: Weight = 1
    expect_status: list[StatusCode] | None = None
    checks: Checks | None = None
    extract: dict[str, ExtractionField] = {}

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        if not name.strip() or len(name) > MAX_NAME_LENGTH or not name.isprintable():
            raise Problem(
                f"{short(name)} is not a request name; "
                f"allowed 1..{MAX_NAME_LENGTH} printable characters"
            )
        if "[" in name or "]" in name:
            raise Problem(
                f"{name!r} contains a bracket, which thresholds use to name a request "
                "('p95[name]<300ms'); choose a name without [ or ]"
            )
        return name

    @field_validator("method")
    @classmethod
    def _check_method(cls, method: str) -> str:
        if not _TOKEN.fullmatch(method):
            raise Problem(f"{short(method)} is not an HTTP method; e.g. GET, POST, PUT, DELETE")
        return method.upper()

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        check_template(url)
        if url.startswith("/"):
            return url  # a path, joined to base_url by the plan
        if PLACEHOLDER_START in origin_of(url):
            raise Problem(
                f"{short(url)} has ${{...}} in its scheme, host or port; placeholders are "
                "allowed in the path and query only (scope is checked before the run)"
            )
        try:
            return url_from_text(url)
        except Problem as problem:
            raise Problem(f"{problem.detail}, or a path starting with '/'") from None

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _TOKEN.fullmatch(name):
                raise Problem(f"{short(name)} is not a header name; e.g. 'Content-Type'")
            if _FORBIDDEN_IN_HEADER_VALUE & set(value):
                raise Problem(
                    f"{short(value)} contains a line break or NUL; header values are one line",
                    at=(name,),
                )
            try:
                check_template(value)
            except Problem as problem:
                raise Problem(problem.detail, at=(name,)) from None
        return headers

    @field_validator("body")
    @classmethod
    def _check_body(cls, body: str | None) -> str | None:
        if body is not None:
            check_template(body)
        return body

    @field_validator("expect_status")
    @classmethod
    def _check_expect_status(cls, statuses: list[int] | None) -> list[int] | None:
        return check_statuses(statuses)

    @field_validator("extract")
    @classmethod
    def _check_extract(cls, extract: dict[str, str | Extraction]) -> dict[str, str | Extraction]:
        for variable in extract:
            if not _VARIABLE.fullmatch(variable):
                raise Problem(
                    f"{short(variable)} is not a variable name; use letters, digits and _"
                )
        return extract

    @model_validator(mode="after")
    def _check_one_status_list(self) -> Self:
        if self.expect_status is not None and self.checks and self.checks.status is not None:
            raise Problem(
                f"{self.expect_status} is given with checks.status too; allowed one of the two",
                at=("expect_status",),
            )
        return self

    @property
    def passing_statuses(self) -> list[int] | None:
        """The statuses that pass (``expect_status`` or ``checks.status``), or None."""
        if self.expect_status is not None:
            return self.expect_status
        return self.checks.status if self.checks is not None else None

    @property
    def extractions(self) -> dict[str, Extraction]:
        """``extract`` with every value as an :class:`Extraction` (plain strings are regexes)."""
        return {name: extraction_of(value) for name, value in self.extract.items()}

    @property
    def templated(self) -> bool:
        """Whether the URL, a header value or the body holds a ``${name}`` placeholder."""
        texts = [self.url, *self.headers.values(), self.body or ""]
        return any(PLACEHOLDER_START in text for text in texts)
