"""The base of every plan table, and the field types that carry the input ranges.

A *section* is one TOML table (the plan, ``[executor]``, a ``[[requests]]`` entry, a
stage). Sections refuse unknown keys with the list of known ones, so a typo such
as ``vu = 10`` is an error rather than a silently ignored line.

Fields whose Python name carries a unit (``duration_s``) are written without it in
TOML (``duration = "30s"``), because there the value carries its own unit. Both
spellings are accepted on input; :meth:`Section.toml_key` tells which is which.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from redline.plan._bounds import (
    DURATION_S_RANGE,
    ITERATIONS_RANGE,
    LOGNORMAL_SIGMA_RANGE,
    PACING_S_RANGE,
    RAMP_S_RANGE,
    RATE_PER_S_RANGE,
    RATE_TARGET_PER_S_RANGE,
    STAGE_DURATION_S_RANGE,
    THINK_MEDIAN_S_RANGE,
    THINK_TIME_S_RANGE,
    TIMEOUT_S_RANGE,
    VU_TARGET_RANGE,
    VUS_RANGE,
    WEIGHT_RANGE,
    WORKERS_RANGE,
    number_in,
    per_second_in,
    seconds_in,
    whole_number_in,
)
from redline.plan._problem import Problem

Vus = Annotated[int, BeforeValidator(whole_number_in(VUS_RANGE))]
VuTarget = Annotated[int, BeforeValidator(whole_number_in(VU_TARGET_RANGE))]
Iterations = Annotated[int, BeforeValidator(whole_number_in(ITERATIONS_RANGE))]
Weight = Annotated[int, BeforeValidator(whole_number_in(WEIGHT_RANGE))]
Workers = Annotated[int, BeforeValidator(whole_number_in(WORKERS_RANGE))]
DurationS = Annotated[float, BeforeValidator(seconds_in(DURATION_S_RANGE))]
StageDurationS = Annotated[float, BeforeValidator(seconds_in(STAGE_DURATION_S_RANGE))]
RampS = Annotated[float, BeforeValidator(seconds_in(RAMP_S_RANGE))]
TimeoutS = Annotated[float, BeforeValidator(seconds_in(TIMEOUT_S_RANGE))]
ThinkTimeS = Annotated[float, BeforeValidator(seconds_in(THINK_TIME_S_RANGE))]
ThinkMedianS = Annotated[float, BeforeValidator(seconds_in(THINK_MEDIAN_S_RANGE))]
LognormalSigma = Annotated[float, BeforeValidator(number_in(LOGNORMAL_SIGMA_RANGE))]
PacingS = Annotated[float, BeforeValidator(seconds_in(PACING_S_RANGE))]
RatePerS = Annotated[float, BeforeValidator(per_second_in(RATE_PER_S_RANGE))]
RateTargetPerS = Annotated[float, BeforeValidator(per_second_in(RATE_TARGET_PER_S_RANGE))]


class Section(BaseModel):
    """One table of a plan: no unknown keys, and validated once, at construction."""

    model_config = ConfigDict(
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        validate_default=True,
    )

    @classmethod
    def toml_key(cls, name: str) -> str:
        """The key a field is written under in TOML (``duration`` for ``duration_s``)."""
        alias = cls.model_fields[name].validation_alias
        return alias if isinstance(alias, str) else name

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data  # an instance already validated, or a type error pydantic reports
        cls._check_keys(data)
        return cls._with_defaults(data)

    @classmethod
    def _check_keys(cls, data: Mapping[Any, Any]) -> None:
        keys = {cls.toml_key(name): name for name in cls.model_fields}
        for key in data:
            if key in keys:
                continue
            if key in cls.model_fields and cls.toml_key(key) in data:
                raise Problem(f"given twice, as {cls.toml_key(key)!r} and {key!r}", at=(key,))
            if key not in cls.model_fields:
                close = difflib.get_close_matches(str(key), list(keys), n=1)
                raise Problem(
                    f"unknown key; allowed {', '.join(sorted(keys))}",
                    at=(str(key),),
                    hint=f"did you mean {close[0]!r}?" if close else None,
                )

    @classmethod
    def _with_defaults(cls, data: Mapping[Any, Any]) -> Mapping[Any, Any]:
        """Defaults that depend on other keys; the identity unless a section needs them."""
        return data
