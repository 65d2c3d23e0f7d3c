"""What ``extract`` takes from a response into a variable: four kinds, one per table.

Written in a request's ``extract`` table, variable name -> what to take::

    extract = { token = { json = "$.data.token" },         # a JSON field of the body
                next  = { header = "Location" },          # a response header
                sid   = { cookie = "session" },           # a cookie the response sets
                id    = 'id="(\\d+)"' }                   # a regex: its one group, from the body

A plain string is a regex, as before; ``{ regex = "..." }`` is the same.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import (
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)

from redline.plan._json_path import JsonPath, json_path_from_text
from redline.plan._problem import Problem, short
from redline.plan._section import Section

__all__ = ["ExtractKind", "Extraction", "ExtractionField", "extraction_of"]

#: An HTTP header (or cookie) name: a token (RFC 9110 section 5.6.2).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class ExtractKind(enum.Enum):
    """Where an extraction looks; the value is its key in the table."""

    #: A regular expression with one group, searched in the body.
    REGEX = "regex"
    #: A JSON path into the body, parsed as JSON.
    JSON = "json"
    #: A response header, by name (any case); its first value.
    HEADER = "header"
    #: A cookie set by the response (``Set-Cookie``), by name.
    COOKIE = "cookie"


#: The kinds that read the response headers rather than the body.
HEADER_KINDS = frozenset({ExtractKind.HEADER, ExtractKind.COOKIE})


def check_pattern(pattern: str) -> str:
    """Refuse a regex that does not compile or has other than one group."""
    try:
        groups = re.compile(pattern).groups
    except re.error as exc:
        raise Problem(f"{short(pattern)} is not a regular expression: {exc}") from None
    if groups != 1:
        raise Problem(f"{short(pattern)} has {groups} groups; allowed exactly 1, around the value")
    return pattern


class Extraction(Section):
    """One variable's extraction: exactly one of ``regex``, ``json``, ``header``, ``cookie``.

    Attributes:
        regex: a regular expression with exactly one group, searched in the body.
        json_path: a JSON path (``$.data.token``) into the body.
        header: a response header name.
        cookie: a cookie name, from the response's ``Set-Cookie`` headers.
    """

    regex: str | None = None
    json_path: str | None = Field(default=None, validation_alias="json", serialization_alias="json")
    header: str | None = None
    cookie: str | None = None

    @field_validator("regex")
    @classmethod
    def _check_regex(cls, pattern: str | None) -> str | None:
        return None if pattern is None else check_pattern(pattern)

    @field_validator("json_path")
    @classmethod
    def _check_json_path(cls, path: str | None) -> str | None:
        if path is not None:
            json_path_from_text(path)
        return path

    @field_validator("header", "cookie")
    @classmethod
    def _check_name(cls, name: str | None) -> str | None:
        if name is not None and not _TOKEN.fullmatch(name):
            raise Problem(f"{short(name)} is not a header or cookie name; e.g. 'Location'")
        return name

    @model_validator(mode="after")
    def _check_one_kind(self) -> Self:
        given = [kind.value for kind in ExtractKind if self._source(kind) is not None]
        if len(given) != 1:
            allowed = ", ".join(kind.value for kind in ExtractKind)
            raise Problem(
                f"{len(given)} kinds given ({', '.join(given)}); allowed one of {allowed}"
            )
        return self

    def _source(self, kind: ExtractKind) -> str | None:
        return {
            ExtractKind.REGEX: self.regex,
            ExtractKind.JSON: self.json_path,
            ExtractKind.HEADER: self.header,
            ExtractKind.COOKIE: self.cookie,
        }[kind]

    @property
    def kind(self) -> ExtractKind:
        """Which of the four kinds this is."""
        return next(kind for kind in ExtractKind if self._source(kind) is not None)

    @property
    def source(self) -> str:
        """The regex, JSON path, header name or cookie name, as written."""
        source = self._source(self.kind)
        assert source is not None  # one kind is always given once validated
        return source

    @property
    def parsed_path(self) -> JsonPath:
        """The parsed JSON path (only for the ``json`` kind)."""
        return json_path_from_text(self.source)

    @property
    def reads_headers(self) -> bool:
        """Whether the response's headers are needed (header and cookie kinds)."""
        return self.kind in HEADER_KINDS

    @model_serializer
    def _as_written(self) -> dict[str, str]:
        return {self.kind.value: self.source}


def _extraction(raw: Any) -> str | Extraction:
    if isinstance(raw, Extraction):
        return raw
    if isinstance(raw, str):
        return check_pattern(raw)  # the original form, kept as written: a regex on the body
    if not isinstance(raw, Mapping):
        allowed = ", ".join(kind.value for kind in ExtractKind)
        raise Problem(
            f"{short(raw)} is not a regex or a table; allowed a table with one of {allowed}"
        )
    try:
        return Extraction.model_validate(raw)
    except ValidationError as exc:
        raise _first_problem(exc) from None


def _first_problem(exc: ValidationError) -> Problem:
    """The first error of a nested table, as a :class:`Problem` that keeps its place."""
    error = exc.errors()[0]
    cause = error.get("ctx", {}).get("error")
    at = tuple(error["loc"])
    if isinstance(cause, Problem):
        return Problem(cause.detail, at=at + cause.at, hint=cause.hint)
    return Problem(f"{short(error['input'])} is invalid; {error['msg'].lower()}", at=at)


def _as_written(value: str | Extraction) -> Any:
    return value if isinstance(value, str) else value.model_dump()


def extraction_of(value: str | Extraction) -> Extraction:
    """The :class:`Extraction` a validated ``extract`` value stands for."""
    return value if isinstance(value, Extraction) else Extraction.model_validate({"regex": value})


#: An ``extract`` value: a regex string (kept as written), or a table naming the kind.
ExtractionField = Annotated[
    str | Extraction,
    PlainValidator(_extraction),
    PlainSerializer(_as_written),
    WithJsonSchema({"type": ["string", "object"]}),
]
