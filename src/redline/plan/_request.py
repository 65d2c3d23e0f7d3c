"""One request of a plan's mix: what to send, how often relative to the others, what to check."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, field_validator

from redline.plan._bounds import STATUS_RANGE, whole_number_in
from redline.plan._problem import Problem, short
from redline.plan._scope import url_from_text
from redline.plan._section import Section, Weight

#: An HTTP token: method and header names (RFC 9110 section 5.6.2).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Characters that would end a header line early or split a request (RFC 9110 section 5.5).
_FORBIDDEN_IN_HEADER_VALUE = frozenset("\r\n\0")
#: A variable name for ``extract``, usable later as ``${name}``.
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Longest request name; it labels every table row and chart series.
MAX_NAME_LENGTH = 100

StatusCode = Annotated[int, BeforeValidator(whole_number_in(STATUS_RANGE))]


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
            ``None`` keeps the default (a status of 400 or more fails).
        extract: variable name -> regular expression with exactly one group, applied
            to the response body; the group's text becomes the variable's value.

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
    extract: dict[str, str] = {}

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
        if url.startswith("/"):
            return url  # a path, joined to base_url by the plan
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
        return headers

    @field_validator("expect_status")
    @classmethod
    def _check_expect_status(cls, statuses: list[int] | None) -> list[int] | None:
        if statuses is not None and not statuses:
            raise Problem(
                "[] is empty; list the statuses that pass (e.g. [200]) or leave the key out"
            )
        return statuses

    @field_validator("extract")
    @classmethod
    def _check_extract(cls, extract: dict[str, str]) -> dict[str, str]:
        for variable, pattern in extract.items():
            if not _VARIABLE.fullmatch(variable):
                raise Problem(
                    f"{short(variable)} is not a variable name; use letters, digits and _"
                )
            try:
                groups = re.compile(pattern).groups
            except re.error as exc:
                raise Problem(
                    f"{short(pattern)} is not a regular expression: {exc}", at=(variable,)
                ) from None
            if groups != 1:
                raise Problem(
                    f"{short(pattern)} has {groups} groups; allowed exactly 1, around the value",
                    at=(variable,),
                )
        return extract
