"""Think time: how long a virtual user pauses between two iterations, drawn anew each time.

A plan chooses the model with ``think_time``::

    think_time = "2s"                                              # constant (also: 2)
    think_time = { dist = "constant", value = "2s" }
    think_time = { dist = "uniform", min = "1s", max = "3s" }
    think_time = { dist = "exponential", mean = "2s" }             # optional max
    think_time = { dist = "normal", mean = "2s", stddev = "500ms" }  # optional min, max
    think_time = { dist = "lognormal", median = "1s", sigma = 0.5 }  # optional min, max

Glossary:
    mean: the average pause; with pauses of mean *m* after each iteration, one
        VU runs at most ``1 / (m + response time)`` iterations a second.
    exponential: memoryless pauses; a VU's arrivals form a Poisson process
        (when response times are small beside the mean).
    lognormal: ``exp(N(ln median, sigma))``, the skewed shape measured human
        think times usually have. ``median`` is the typical pause; ``sigma``
        (unitless, the standard deviation of the pause's logarithm) its spread:
        0 is constant, 0.5 puts the middle 68 % of pauses between
        ``median / 1.65`` and ``median x 1.65``. The mean is ``median x exp(sigma**2 / 2)``.
    bounds: ``min`` and ``max`` of the exponential (max only), normal and
        lognormal models, by default ``0s`` and ``1m`` (the longest pause a plan
        accepts). A draw outside them is *drawn again* (the shape within the
        bounds is kept: a truncated distribution), up to :data:`MAX_DRAWS` times,
        then clamped. The central value (mean, or median) must lie within the
        bounds, so a redraw succeeds with good odds and a clamp is rare. Clamping
        alone would pile the cut-off tail onto the bound and shift the mean.

Every duration here is within ``THINK_TIME_S_RANGE``. A ``think_time`` table
reports its first problem only, as one line naming the key, e.g.
``think_time.min: '5s' is above max ('3s'); allowed min <= max``.
"""

from __future__ import annotations

import difflib
import math
import random
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import (
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from redline.plan._bounds import THINK_TIME_S_RANGE, seconds_in
from redline.plan._problem import Problem, short
from redline.plan._section import LognormalSigma, Section, ThinkMedianS, ThinkTimeS
from redline.plan._units import format_duration

__all__ = [
    "MAX_DRAWS",
    "THINK_TIME_MODELS",
    "ConstantThinkTimeConfig",
    "ExponentialThinkTimeConfig",
    "LognormalThinkTimeConfig",
    "NormalThinkTimeConfig",
    "ThinkTimeConfig",
    "ThinkTimeField",
    "UniformThinkTimeConfig",
    "think_time_from_raw",
]

#: Draws a bounded model makes before it clamps the last one to its bounds.
MAX_DRAWS = 32
#: The ``max`` of bounded models when none is given: the longest pause a plan accepts.
DEFAULT_MAX_S = THINK_TIME_S_RANGE.high

Sampler = Callable[[], float]


def _shown(seconds: float) -> str:
    return repr(format_duration(seconds))


def _check_at_most(key: str, value_s: float, limit_key: str, limit_s: float, rule: str) -> None:
    if value_s > limit_s:
        raise Problem(
            f"{_shown(value_s)} is above {limit_key} ({_shown(limit_s)}); allowed {rule}",
            at=(key,),
        )


def _check_within(key: str, value_s: float, min_s: float, max_s: float) -> None:
    """``min <= value <= max``, blaming ``min`` when the bounds are crossed."""
    _check_at_most("min", min_s, "max", max_s, "min <= max")
    _check_at_most(key, value_s, "max", max_s, f"min <= {key} <= max")
    if value_s < min_s:
        raise Problem(
            f"{_shown(value_s)} is below min ({_shown(min_s)}); allowed min <= {key} <= max",
            at=(key,),
        )


def _bounded(draw: Sampler, min_s: float, max_s: float) -> Sampler:
    """Draw until a value is within ``[min_s, max_s]``, at most :data:`MAX_DRAWS` times."""

    def sample() -> float:
        value = min_s
        for _ in range(MAX_DRAWS):
            value = draw()
            if min_s <= value <= max_s:
                return value
        return min(max_s, max(min_s, value))

    return sample


def _normal_cdf(z: float) -> float:
    # erfc keeps its precision far into the lower tail, where 1 + erf would not.
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _normal_pdf(z: float) -> float:
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi) if math.isfinite(z) else 0.0


def _z(value: float, mu: float, sigma: float) -> float:
    return (value - mu) / sigma


class ConstantThinkTimeConfig(Section):
    """The same pause every time.

    Example (TOML)::

        think_time = "2s"  # or 2, or { dist = "constant", value = "2s" }
    """

    dist: Literal["constant"] = "constant"
    value_s: ThinkTimeS = Field(validation_alias="value", serialization_alias="value")

    def mean_s(self) -> float:
        """The pause, seconds."""
        return self.value_s

    def sampler(self, rng: random.Random) -> Sampler:
        """A function returning the pause in seconds (``rng`` is not used)."""
        value_s = self.value_s
        return lambda: value_s


class UniformThinkTimeConfig(Section):
    """Pauses spread evenly between ``min_s`` and ``max_s``.

    Example (TOML)::

        think_time = { dist = "uniform", min = "1s", max = "3s" }
    """

    dist: Literal["uniform"] = "uniform"
    min_s: ThinkTimeS = Field(validation_alias="min", serialization_alias="min")
    max_s: ThinkTimeS = Field(validation_alias="max", serialization_alias="max")

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_at_most("min", self.min_s, "max", self.max_s, "min <= max")
        return self

    def mean_s(self) -> float:
        """The average pause, seconds: halfway between the bounds."""
        return (self.min_s + self.max_s) / 2

    def sampler(self, rng: random.Random) -> Sampler:
        """A function drawing one pause in seconds from ``rng``."""
        min_s, max_s = self.min_s, self.max_s
        return lambda: rng.uniform(min_s, max_s)


class ExponentialThinkTimeConfig(Section):
    """Memoryless pauses of mean ``average_s`` (TOML ``mean``), redrawn above ``max_s``.

    Example (TOML)::

        think_time = { dist = "exponential", mean = "2s", max = "20s" }
    """

    dist: Literal["exponential"] = "exponential"
    #: The mean before the cap: written ``mean``, named apart from :meth:`mean_s`.
    average_s: ThinkTimeS = Field(validation_alias="mean", serialization_alias="mean")
    max_s: ThinkTimeS = Field(
        default=DEFAULT_MAX_S, validation_alias="max", serialization_alias="max"
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_at_most("mean", self.average_s, "max", self.max_s, "mean <= max")
        return self

    def mean_s(self) -> float:
        """The average pause, seconds, of the exponential cut off at ``max_s``."""
        mean, cap = self.average_s, self.max_s
        if mean == 0:
            return 0.0
        ratio = cap / mean
        if ratio > math.log(2**53):  # the cut-off tail is below a float's precision
            return mean
        # E[X | X <= cap] for X ~ Exp(1 / mean): mean - cap / (e^(cap / mean) - 1)
        return mean * (1 - ratio / math.expm1(ratio))

    def sampler(self, rng: random.Random) -> Sampler:
        """A function drawing one pause in seconds from ``rng``."""
        if self.average_s == 0:
            return lambda: 0.0
        rate_per_s = 1 / self.average_s
        return _bounded(lambda: rng.expovariate(rate_per_s), 0.0, self.max_s)


class NormalThinkTimeConfig(Section):
    """Pauses around ``average_s`` (TOML ``mean``), spread by ``stddev_s``, within ``min_s..max_s``.

    ``min`` defaults to ``0s`` (no negative pauses) and ``max`` to ``1m``; draws
    outside them are drawn again (see the module's glossary).

    Example (TOML)::

        think_time = { dist = "normal", mean = "2s", stddev = "500ms", min = "1s" }
    """

    dist: Literal["normal"] = "normal"
    #: The mean before the bounds: written ``mean``, named apart from :meth:`mean_s`.
    average_s: ThinkTimeS = Field(validation_alias="mean", serialization_alias="mean")
    stddev_s: ThinkTimeS = Field(validation_alias="stddev", serialization_alias="stddev")
    min_s: ThinkTimeS = Field(default=0.0, validation_alias="min", serialization_alias="min")
    max_s: ThinkTimeS = Field(
        default=DEFAULT_MAX_S, validation_alias="max", serialization_alias="max"
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_within("mean", self.average_s, self.min_s, self.max_s)
        return self

    def mean_s(self) -> float:
        """The average pause, seconds, of the normal truncated to ``min_s..max_s``."""
        mu, sigma = self.average_s, self.stddev_s
        if sigma == 0 or self.min_s == self.max_s:
            return mu
        alpha, beta = _z(self.min_s, mu, sigma), _z(self.max_s, mu, sigma)
        mass = _normal_cdf(beta) - _normal_cdf(alpha)
        return mu + sigma * (_normal_pdf(alpha) - _normal_pdf(beta)) / mass

    def sampler(self, rng: random.Random) -> Sampler:
        """A function drawing one pause in seconds from ``rng``."""
        mu, sigma = self.average_s, self.stddev_s
        if sigma == 0:
            return lambda: mu
        return _bounded(lambda: rng.gauss(mu, sigma), self.min_s, self.max_s)


class LognormalThinkTimeConfig(Section):
    """Skewed pauses: a typical ``median_s`` and a long tail set by ``sigma``.

    A pause is ``exp(N(ln median, sigma))``, redrawn outside ``min_s..max_s``
    (``0s`` and ``1m`` unless given). Its mean, before the bounds, is
    ``median x exp(sigma**2 / 2)``: 1.13 x the median at ``sigma = 0.5``.

    Example (TOML)::

        think_time = { dist = "lognormal", median = "1s", sigma = 0.5 }
    """

    dist: Literal["lognormal"] = "lognormal"
    median_s: ThinkMedianS = Field(validation_alias="median", serialization_alias="median")
    #: The standard deviation of the pause's natural logarithm (no unit).
    sigma: LognormalSigma
    min_s: ThinkTimeS = Field(default=0.0, validation_alias="min", serialization_alias="min")
    max_s: ThinkTimeS = Field(
        default=DEFAULT_MAX_S, validation_alias="max", serialization_alias="max"
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_within("median", self.median_s, self.min_s, self.max_s)
        return self

    def mean_s(self) -> float:
        """The average pause, seconds, of the lognormal truncated to ``min_s..max_s``."""
        median, sigma = self.median_s, self.sigma
        if sigma == 0 or self.min_s == self.max_s:
            return median
        mu = math.log(median)
        low = _z(math.log(self.min_s), mu, sigma) if self.min_s > 0 else -math.inf
        high = _z(math.log(self.max_s), mu, sigma)
        mass = _normal_cdf(high) - _normal_cdf(low)
        # E[X | a <= X <= b] = e^(mu + sigma^2 / 2) (P(z - sigma) between the bounds) / mass
        shifted = _normal_cdf(high - sigma) - _normal_cdf(low - sigma)
        return math.exp(mu + sigma * sigma / 2) * shifted / mass

    def sampler(self, rng: random.Random) -> Sampler:
        """A function drawing one pause in seconds from ``rng``."""
        median, sigma = self.median_s, self.sigma
        if sigma == 0:
            return lambda: median
        mu = math.log(median)
        return _bounded(lambda: rng.lognormvariate(mu, sigma), self.min_s, self.max_s)


ThinkTimeConfig = (
    ConstantThinkTimeConfig
    | UniformThinkTimeConfig
    | ExponentialThinkTimeConfig
    | NormalThinkTimeConfig
    | LognormalThinkTimeConfig
)
"""Any think-time model, chosen in TOML by ``dist``."""

#: Each ``dist`` and the class that configures it.
THINK_TIME_MODELS: dict[str, type[ThinkTimeConfig]] = {
    model.model_fields["dist"].default: model
    for model in (
        ConstantThinkTimeConfig,
        UniformThinkTimeConfig,
        ExponentialThinkTimeConfig,
        NormalThinkTimeConfig,
        LognormalThinkTimeConfig,
    )
}

_MODEL_TYPES = tuple(THINK_TIME_MODELS.values())
_ALLOWED = f"a duration such as '2s', or a table with dist = {', '.join(THINK_TIME_MODELS)}"
_constant_seconds = seconds_in(THINK_TIME_S_RANGE)


def _first_problem(exc: ValidationError) -> Problem:
    """The first error of a model's validation, as a :class:`Problem` under ``think_time``."""
    error = exc.errors()[0]
    loc = tuple(error["loc"])
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, Problem):
        return Problem(cause.detail, at=loc + cause.at, hint=cause.hint)
    if error["type"] == "missing":
        return Problem("missing; this key is required", at=loc)
    return Problem(f"{short(error['input'])} is invalid; {error['msg']}", at=loc)


def _from_table(table: Mapping[Any, Any]) -> ThinkTimeConfig:
    dist = table.get("dist")
    if dist is None:
        raise Problem(f"missing; allowed {', '.join(THINK_TIME_MODELS)}", at=("dist",))
    model = THINK_TIME_MODELS.get(dist) if isinstance(dist, str) else None
    if model is None:
        close = difflib.get_close_matches(str(dist), list(THINK_TIME_MODELS), n=1)
        raise Problem(
            f"{short(dist)} is not a think-time distribution; "
            f"allowed {', '.join(THINK_TIME_MODELS)}",
            at=("dist",),
            hint=f"did you mean {close[0]!r}?" if close else None,
        )
    try:
        return model.model_validate(table)
    except ValidationError as exc:
        raise _first_problem(exc) from None


def think_time_from_raw(raw: object) -> ThinkTimeConfig:
    """The think-time model ``raw`` describes: a duration (constant) or a ``dist`` table.

    Raises:
        Problem: the first thing wrong with ``raw``, without the ``think_time`` prefix.

    Example::

        think_time_from_raw("2s")  # ConstantThinkTimeConfig(value_s=2.0)
        think_time_from_raw({"dist": "uniform", "min": "1s", "max": "3s"}).mean_s()  # 2.0
    """
    if isinstance(raw, _MODEL_TYPES):
        return raw
    if isinstance(raw, Mapping):
        return _from_table(raw)
    if isinstance(raw, str | int | float) and not isinstance(raw, bool):
        return ConstantThinkTimeConfig(value_s=_constant_seconds(raw))
    raise Problem(f"{short(raw)} is not a think time; allowed {_ALLOWED}")


def _as_data(model: ThinkTimeConfig) -> object:
    # A constant is saved as its seconds, as plans were before the models existed.
    if isinstance(model, ConstantThinkTimeConfig):
        return model.value_s
    return model.model_dump()


#: A plan's ``think_time``: any model, given as a duration or a ``dist`` table,
#: and saved the same way (a constant as its number of seconds).
ThinkTimeField = Annotated[
    ThinkTimeConfig,
    PlainValidator(think_time_from_raw),
    PlainSerializer(_as_data, return_type=Any),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "object"}]}),
]
