"""A request's ``checks``: what a response must satisfy to pass.

Written on the request::

    checks = { status = [200, 201], body_contains = "welcome", json = { "$.ok" = true } }

Every check that is given must pass. A response that fails one is recorded with
the outcome ``check_failed`` and counts as failed; the run goes on (as k6 checks
do). Without ``status``, any status below 400 passes.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from redline.plan._bounds import STATUS_RANGE, whole_number_in
from redline.plan._json_path import json_path_from_text
from redline.plan._problem import Problem, short
from redline.plan._section import Section

__all__ = ["Checks", "StatusCode", "check_statuses"]

StatusCode = Annotated[int, BeforeValidator(whole_number_in(STATUS_RANGE))]


def check_statuses(statuses: list[int] | None) -> list[int] | None:
    """Refuse an empty list of passing statuses (``[]`` would fail every response)."""
    if statuses is not None and not statuses:
        raise Problem("[] is empty; list the statuses that pass (e.g. [200]) or leave the key out")
    return statuses


class Checks(Section):
    """The checks on one request's responses.

    Attributes:
        status: the statuses that pass (``expect_status`` is the older spelling).
        body_contains: text the body must contain (compared as UTF-8 bytes).
        json_fields: JSON path -> the value the field must equal (``true``, ``"x"``, ``3``);
            written ``json = { "$.ok" = true }``.
    """

    status: list[StatusCode] | None = None
    body_contains: str | None = None
    json_fields: dict[str, Any] = Field(
        default={}, validation_alias="json", serialization_alias="json"
    )

    @field_validator("status")
    @classmethod
    def _check_status(cls, statuses: list[int] | None) -> list[int] | None:
        return check_statuses(statuses)

    @field_validator("body_contains")
    @classmethod
    def _check_body_contains(cls, text: str | None) -> str | None:
        if text is not None and not text:
            raise Problem("'' is empty; give the text the body must contain, or leave the key out")
        return text

    @field_validator("json_fields")
    @classmethod
    def _check_json_fields(cls, fields: dict[str, Any]) -> dict[str, Any]:
        for path in fields:
            try:
                json_path_from_text(path)
            except Problem as problem:
                raise Problem(problem.detail, at=(path,)) from None
        return fields

    @property
    def reads_body(self) -> bool:
        """Whether a check needs the response body."""
        return self.body_contains is not None or bool(self.json_fields)

    def describe(self) -> str:
        """The checks in one line, for messages."""
        return short(self.model_dump(exclude_defaults=True))
