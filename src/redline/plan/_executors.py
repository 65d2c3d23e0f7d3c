"""Executor configurations: how much load, in what shape, for how long.

The names and meanings follow k6 (``lib/executor/``), so a k6 user can read a
plan without a manual:

- closed model (a fixed population of virtual users, each waiting for its response):
  ``constant-vus``, ``ramping-vus``, ``per-vu-iterations``, ``shared-iterations``;
- open model (requests arrive at a rate, whatever the service's latency):
  ``constant-arrival-rate``, ``ramping-arrival-rate``.

Beyond k6's six, either model (``model = "vus"`` or ``"arrival-rate"``) can follow
``shape``, a Python function of time (Locust's ``LoadTestShape``), or ``diurnal``,
a day's rise and fall. Arrival rates may arrive uniformly (k6) or as a Poisson
process (``arrivals = "poisson"``). See docs/load-shapes.md.

Glossary:
    VU: a virtual user, one loop sending requests one after another.
    iteration: one pass of a VU through the plan's request mix (one weighted pick).
    stage: a ramp from the previous target to ``target`` over ``duration``, in the
        stage's ``ramp`` shape: ``linear`` (k6's), ``step`` (alias ``instant``) or
        ``exponential`` (see :mod:`redline.plan._ramp`).
    pre-allocated VUs: VUs an arrival-rate executor starts before the run, so that
        starting them does not delay the first requests.
    max VUs: the most VUs an arrival-rate executor may use; when all are busy,
        an arrival is dropped and counted as a dropped iteration (``on_busy =
        "drop"``, k6's rule), or waits for the next free VU (``on_busy =
        "queue"``, wrk2's rule) and is dropped only after waiting longer than
        the request timeout. Either way its response time counts from the
        moment it was due.

These classes are configuration only: each computes its schedule
(:meth:`planned_duration_s`, ``target_at``) without running anything. The
executors that run them live in :mod:`redline.load`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BeforeValidator,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from redline.plan._bounds import (
    ITERATIONS_RANGE,
    RATE_TARGET_PER_S_RANGE,
    STAGES_TOTAL_S_RANGE,
    VU_TARGET_RANGE,
    VUS_RANGE,
    Range,
    Unit,
    per_second_in,
    seconds_in,
    whole_number_in,
)
from redline.plan._diurnal import DiurnalCurve
from redline.plan._problem import Problem, short
from redline.plan._ramp import Ramp, RampCurve, check_ramp, ramp_from_text
from redline.plan._section import (
    DurationS,
    Iterations,
    RampS,
    RatePerS,
    RateTargetPerS,
    Section,
    StageDurationS,
    Vus,
    VuTarget,
)
from redline.plan._shape import shape_reference
from redline.plan._units import format_duration


class Arrivals(enum.StrEnum):
    """How an arrival-rate executor spaces its arrivals."""

    #: Evenly: arrival n is due when the integral of the rate reaches n (k6).
    UNIFORM = "uniform"
    #: A Poisson process with the schedule's rate: exponential gaps, as from many
    #: independent users (see :mod:`redline.load._poisson`).
    POISSON = "poisson"


class OnBusy(enum.StrEnum):
    """What an arrival-rate executor does with an arrival when every VU is busy."""

    #: Count it as a dropped iteration (k6).
    DROP = "drop"
    #: Let it wait for the next free VU, up to the request timeout (wrk2).
    QUEUE = "queue"


#: Latency assumed when pre-allocating VUs for an arrival rate. By Little's law
#: (concurrency = rate x latency), 5000/s at 100 ms keeps 500 VUs busy.
PRE_ALLOCATION_LATENCY_S = 0.1
#: Latency assumed for the default ``max_vus``: enough VUs for a 1 s response time
#: before arrivals are dropped.
MAX_VUS_LATENCY_S = 1.0
#: The default ``max_vus`` is never below this, so slow responses at a low rate
#: do not drop iterations at once.
MIN_DEFAULT_MAX_VUS = 100
#: ``max_duration`` of the iteration executors when none is given (k6's default).
DEFAULT_MAX_DURATION_S = 600.0
#: ``graceful_ramp_down`` of ``ramping-vus`` when none is given (k6's default).
DEFAULT_GRACEFUL_RAMP_DOWN_S = 30.0

#: The declared default of ``max_vus`` and ``pre_allocated_vus``. It is never used:
#: ``_with_defaults`` fills both keys from the rate before validation. Declaring it
#: tells type checkers the keys are optional; were it ever used, validation would
#: refuse it (0 is out of range), so it cannot slip into a plan.
FROM_RATE = 0

#: A stage's ramp, written by name (``"exponential"``); see :mod:`redline.plan._ramp`.
RampField = Annotated[Ramp, BeforeValidator(ramp_from_text)]

_STAGES_EXAMPLE = "e.g. stages = [{ duration = '30s', target = 10 }]"


def default_max_vus(peak_rate_per_s: float) -> int:
    """``max_vus`` when the plan gives none: peak rate x 1 s, at least 100, at most 50000."""
    wanted = math.ceil(peak_rate_per_s * MAX_VUS_LATENCY_S)
    return int(min(VUS_RANGE.high, max(MIN_DEFAULT_MAX_VUS, wanted)))


def default_pre_allocated_vus(peak_rate_per_s: float, max_vus: int) -> int:
    """``pre_allocated_vus`` when the plan gives none: the peak rate times 100 ms, 1..max_vus."""
    return min(max_vus, max(1, math.ceil(peak_rate_per_s * PRE_ALLOCATION_LATENCY_S)))


def _valid_or_none(validate: Callable[[object], Any], raw: object) -> Any:
    # For defaults computed from other keys: a bad key is reported by its own field.
    try:
        return validate(raw)
    except Problem:
        return None


def _with_vu_defaults(data: Mapping[Any, Any], peak_rate_per_s: float | None) -> Mapping[Any, Any]:
    # A bad rate (None) is reported by its own field; the defaults it leads to
    # here only keep "missing" errors for max_vus and pre_allocated_vus out of the way.
    peak = peak_rate_per_s or 0.0
    vus = whole_number_in(VUS_RANGE)
    given_max = _valid_or_none(vus, data["max_vus"]) if "max_vus" in data else None
    given_pre = _valid_or_none(vus, data.get("pre_allocated_vus", 1)) or 1
    max_vus = given_max or max(default_max_vus(peak), given_pre)
    return {
        "max_vus": max_vus,
        "pre_allocated_vus": default_pre_allocated_vus(peak, max_vus),
        **data,
    }


def _check_vu_allocation(pre_allocated_vus: int, max_vus: int) -> None:
    if max_vus < pre_allocated_vus:
        raise Problem(
            f"{max_vus!r} is below pre_allocated_vus ({pre_allocated_vus}); "
            f"allowed {pre_allocated_vus}..{int(VUS_RANGE.high)}",
            at=("max_vus",),
        )


def _interpolate(start: float, stages: Sequence[tuple[float, float, Ramp]], t_s: float) -> float:
    # Each stage ramps from the previous target (k6: linearly); a zero-length stage jumps.
    if t_s < 0:
        return start  # before the run (and never 0/0 on a zero-length first stage)
    level = start
    stage_start_s = 0.0
    for duration_s, target, ramp in stages:
        if t_s < stage_start_s + duration_s:
            offset_s = max(0.0, t_s - stage_start_s)
            if ramp is Ramp.LINEAR:
                return level + (target - level) * (offset_s / duration_s)
            return RampCurve(ramp, level, target, duration_s).level_at(offset_s)
        stage_start_s += duration_s
        level = target
    return level


def _check_stages(start: float, stages: Sequence[tuple[float, float, Ramp]]) -> None:
    # To the microsecond, as durations are written: float sums of derived stages
    # (1ms + 23h59m59.998s + 1ms) must not land a hair past 24h.
    total_s = round(math.fsum(duration_s for duration_s, _, _ in stages), 6)
    if total_s not in STAGES_TOTAL_S_RANGE:
        raise Problem(
            f"total duration {format_duration(total_s)!r} is out of range; "
            f"allowed {STAGES_TOTAL_S_RANGE}",
            at=("stages",),
        )
    if start == 0 and all(target == 0 for _, target, _ in stages):
        raise Problem(
            "every target is 0, so nothing would run; give a stage a target above 0",
            at=("stages",),
        )
    level = start
    for index, (_, target, ramp) in enumerate(stages):
        try:
            check_ramp(ramp, level, target)
        except Problem as problem:
            raise Problem(problem.detail, at=("stages", index, *problem.at)) from None
        level = target


def _non_empty(stages: list[Any]) -> list[Any]:
    if not stages:
        raise Problem(f"{short(stages)} is empty; give at least one stage, {_STAGES_EXAMPLE}")
    return stages


class _RampedStage(Section):
    """A stage with a ramp; the default (linear) ramp is left out when saved, so
    plans saved before ramps existed and plans saved now read the same."""

    @model_serializer(mode="wrap")
    def _without_default_ramp(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("ramp") == Ramp.LINEAR:
            del data["ramp"]
        return data


class Stage(_RampedStage):
    """One stage of ``ramping-vus``: ramp to ``target`` VUs over ``duration_s``.

    ``ramp`` is the stage's shape (:class:`Ramp`): linear by default, as in k6.
    """

    duration_s: StageDurationS = Field(validation_alias="duration", serialization_alias="duration")
    target: VuTarget
    ramp: RampField = Ramp.LINEAR


class RateStage(_RampedStage):
    """One stage of ``ramping-arrival-rate``: ramp to ``target_per_s`` arrivals/s.

    ``ramp`` is the stage's shape (:class:`Ramp`): linear by default, as in k6.
    """

    duration_s: StageDurationS = Field(validation_alias="duration", serialization_alias="duration")
    target_per_s: RateTargetPerS = Field(validation_alias="target", serialization_alias="target")
    ramp: RampField = Ramp.LINEAR


class ConstantVusConfig(Section):
    """``vus`` VUs loop over the requests for ``duration_s`` (k6 ``constant-vus``)."""

    type: Literal["constant-vus"] = "constant-vus"
    vus: Vus = 1
    duration_s: DurationS = Field(validation_alias="duration", serialization_alias="duration")

    def planned_duration_s(self) -> float:
        """How long the run lasts."""
        return self.duration_s


class RampingVusConfig(Section):
    """The number of VUs follows ``stages`` from ``start_vus`` (k6 ``ramping-vus``).

    Example (TOML)::

        [executor]
        type = "ramping-vus"
        stages = [{ duration = "10s", target = 20 }, { duration = "30s", target = 20 }]
    """

    type: Literal["ramping-vus"] = "ramping-vus"
    start_vus: VuTarget = 0
    stages: list[Stage]
    #: Time a VU removed by a ramp-down may take to finish its current iteration.
    graceful_ramp_down_s: RampS = Field(
        default=DEFAULT_GRACEFUL_RAMP_DOWN_S,
        validation_alias="graceful_ramp_down",
        serialization_alias="graceful_ramp_down",
    )

    _stages_not_empty = field_validator("stages")(_non_empty)

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_stages(self.start_vus, self._points())
        return self

    def _points(self) -> list[tuple[float, float, Ramp]]:
        return [(stage.duration_s, stage.target, stage.ramp) for stage in self.stages]

    def planned_duration_s(self) -> float:
        """The stages' total; graceful ramp-down time is not included."""
        return sum(stage.duration_s for stage in self.stages)

    def target_at(self, t_s: float) -> float:
        """VUs wanted ``t_s`` seconds into the run (fractional mid-ramp, as k6 computes it)."""
        return _interpolate(self.start_vus, self._points(), t_s)


class ConstantArrivalRateConfig(Section):
    """Start ``rate_per_s`` iterations a second for ``duration_s`` (k6 ``constant-arrival-rate``).

    When ``max_vus`` or ``pre_allocated_vus`` is not given, they default to
    :func:`default_max_vus` and :func:`default_pre_allocated_vus` of the rate.
    """

    type: Literal["constant-arrival-rate"] = "constant-arrival-rate"
    rate_per_s: RatePerS = Field(validation_alias="rate", serialization_alias="rate")
    duration_s: DurationS = Field(validation_alias="duration", serialization_alias="duration")
    pre_allocated_vus: Vus = Field(default=FROM_RATE)
    max_vus: Vus = Field(default=FROM_RATE)
    on_busy: OnBusy = OnBusy.DROP
    arrivals: Arrivals = Arrivals.UNIFORM

    @classmethod
    def _with_defaults(cls, data: Mapping[Any, Any]) -> Mapping[Any, Any]:
        raw_rate = data.get("rate", data.get("rate_per_s"))
        peak = _valid_or_none(per_second_in(RATE_TARGET_PER_S_RANGE), raw_rate)
        return _with_vu_defaults(data, peak)

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_vu_allocation(self.pre_allocated_vus, self.max_vus)
        return self

    def planned_duration_s(self) -> float:
        """How long the run lasts."""
        return self.duration_s


def _raw_target(stage: object) -> object:
    if isinstance(stage, RateStage):
        return stage.target_per_s
    if isinstance(stage, Mapping):
        return stage.get("target", stage.get("target_per_s"))
    return None


class RampingArrivalRateConfig(Section):
    """The arrival rate follows ``stages`` from ``start_rate_per_s`` (k6 ``ramping-arrival-rate``).

    ``max_vus`` and ``pre_allocated_vus`` default as for ``constant-arrival-rate``,
    from the highest rate of any stage.
    """

    type: Literal["ramping-arrival-rate"] = "ramping-arrival-rate"
    start_rate_per_s: RateTargetPerS = Field(
        default=0.0, validation_alias="start_rate", serialization_alias="start_rate"
    )
    stages: list[RateStage]
    pre_allocated_vus: Vus = Field(default=FROM_RATE)
    max_vus: Vus = Field(default=FROM_RATE)
    on_busy: OnBusy = OnBusy.DROP
    arrivals: Arrivals = Arrivals.UNIFORM

    _stages_not_empty = field_validator("stages")(_non_empty)

    @classmethod
    def _with_defaults(cls, data: Mapping[Any, Any]) -> Mapping[Any, Any]:
        rate = per_second_in(RATE_TARGET_PER_S_RANGE)
        raw_rates = [data.get("start_rate", data.get("start_rate_per_s", 0))]
        stages = data.get("stages")
        if isinstance(stages, list):
            raw_rates += [_raw_target(stage) for stage in stages]
        rates = [_valid_or_none(rate, raw) for raw in raw_rates]
        peak = None if None in rates else max(rates)
        return _with_vu_defaults(data, peak)

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_stages(self.start_rate_per_s, self._points())
        _check_vu_allocation(self.pre_allocated_vus, self.max_vus)
        return self

    def _points(self) -> list[tuple[float, float, Ramp]]:
        return [(stage.duration_s, stage.target_per_s, stage.ramp) for stage in self.stages]

    def planned_duration_s(self) -> float:
        """The stages' total."""
        return sum(stage.duration_s for stage in self.stages)

    def target_at(self, t_s: float) -> float:
        """Arrivals per second wanted ``t_s`` seconds into the run."""
        return _interpolate(self.start_rate_per_s, self._points(), t_s)


class LoadModel(enum.StrEnum):
    """What the level of a ``shape`` or ``diurnal`` executor counts."""

    #: Virtual users: the closed model, as ``ramping-vus``.
    VUS = "vus"
    #: Arrivals per second: the open model, as ``ramping-arrival-rate``.
    ARRIVAL_RATE = "arrival-rate"


#: The period of a diurnal pattern: 10 s (compressed, for tests) to a week.
DIURNAL_PERIOD_S_RANGE = Range(10, 7 * 24 * 3600, Unit.SECONDS)

#: Keys only the open model (``model = "arrival-rate"``) reads.
_OPEN_MODEL_KEYS = ("pre_allocated_vus", "on_busy", "arrivals")

_SHAPE_EXAMPLE = "e.g. shape = 'shapes.py:waves'"
PeriodS = Annotated[float, BeforeValidator(seconds_in(DIURNAL_PERIOD_S_RANGE))]


def _shown(value: object) -> str:
    return repr(value.value) if isinstance(value, enum.Enum) else short(value)


class _ModelledConfig(Section):
    """What ``shape`` and ``diurnal`` share: a load model and, for the open model,
    the VU pool, ``on_busy`` and ``arrivals`` of ``ramping-arrival-rate``."""

    model: LoadModel = LoadModel.VUS
    duration_s: DurationS = Field(validation_alias="duration", serialization_alias="duration")
    pre_allocated_vus: Vus | None = None
    max_vus: Vus | None = None
    on_busy: OnBusy = OnBusy.DROP
    arrivals: Arrivals = Arrivals.UNIFORM

    @classmethod
    def _raw_peak_rate(cls, data: Mapping[Any, Any]) -> object:
        """The highest rate as written, for the VU pool's defaults.

        Each subclass reads its own keys (``shape``: ``max_rate``; ``diurnal``: ``max``);
        this base is never validated on its own.
        """
        raise NotImplementedError

    @classmethod
    def _with_defaults(cls, data: Mapping[Any, Any]) -> Mapping[Any, Any]:
        if data.get("model") != LoadModel.ARRIVAL_RATE:
            return data
        peak = _valid_or_none(per_second_in(RATE_TARGET_PER_S_RANGE), cls._raw_peak_rate(data))
        return _with_vu_defaults(data, peak)

    def _check_model_keys(self, open_only: Sequence[str]) -> None:
        """Refuse open-model keys with ``model = "vus"``, so none is silently ignored."""
        if self.model is LoadModel.ARRIVAL_RATE:
            assert self.pre_allocated_vus is not None and self.max_vus is not None  # defaulted
            _check_vu_allocation(self.pre_allocated_vus, self.max_vus)
            return
        for name in open_only:
            if name in self.model_fields_set:
                raise Problem(
                    f"{_shown(getattr(self, name))} is given with model 'vus'; "
                    "allowed only with model 'arrival-rate'",
                    at=(self.toml_key(name),),
                )

    def planned_duration_s(self) -> float:
        """The upper bound ``duration_s``."""
        return self.duration_s

    def vu_pool(self) -> tuple[int, int]:
        """Open model: ``(pre_allocated_vus, max_vus)``, defaulted from the peak rate."""
        return self.pre_allocated_vus or 1, self.max_vus or 1


class ShapeConfig(_ModelledConfig):
    """The load follows a Python function of time (Locust's ``LoadTestShape``).

    ``shape = "file.py:function"`` names ``function(t_s)``, called with the
    seconds since the start every 100 ms (the closed model's control period).
    It returns VUs, at most ``max_vus`` (``model = "vus"``, the default), or
    arrivals per second, at most ``max_rate`` (``model = "arrival-rate"``),
    held for the next 100 ms; ``None`` ends the run, and ``duration`` ends it
    at the latest. A value out of bounds, or an exception, ends the run with
    an error naming the shape, the value and the bounds.

    Example (TOML)::

        [executor]
        type = "shape"
        shape = "shapes.py:waves"
        duration = "5m"
        max_vus = 50
    """

    type: Literal["shape"] = "shape"
    #: ``"file.py:function"``, as written; checked by ``_with_defaults``.
    shape: str
    max_rate_per_s: RatePerS | None = Field(
        default=None, validation_alias="max_rate", serialization_alias="max_rate"
    )

    @classmethod
    def _raw_peak_rate(cls, data: Mapping[Any, Any]) -> object:
        return data.get("max_rate", data.get("max_rate_per_s"))

    @classmethod
    def _with_defaults(cls, data: Mapping[Any, Any]) -> Mapping[Any, Any]:
        # Checked here rather than by a field validator: this key shares its name with
        # the executor type, and an error's path would lose it ("executor: ...").
        if "shape" not in data:
            raise Problem(f"missing; this key is required, {_SHAPE_EXAMPLE}", at=("shape",))
        try:
            reference = shape_reference(data["shape"])
        except Problem as problem:
            raise Problem(problem.detail, at=("shape",), hint=problem.hint) from None
        return super()._with_defaults({**data, "shape": reference})

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.model is LoadModel.VUS and self.max_vus is None:
            raise Problem(
                "missing; a shape with model 'vus' needs the most VUs it may ask for, "
                "e.g. max_vus = 100",
                at=("max_vus",),
            )
        if self.model is LoadModel.ARRIVAL_RATE and self.max_rate_per_s is None:
            raise Problem(
                "missing; a shape with model 'arrival-rate' needs the highest rate it may "
                "ask for, e.g. max_rate = '500/s'",
                at=("max_rate",),
            )
        self._check_model_keys(("max_rate_per_s", *_OPEN_MODEL_KEYS))
        return self

    def level_limit(self) -> float:
        """The most the function may return: ``max_vus`` or ``max_rate``."""
        limit = self.max_vus if self.model is LoadModel.VUS else self.max_rate_per_s
        return float(limit or 0)


def _level(raw: object, info: ValidationInfo) -> float:
    # VUs are whole; a rate may be written "300/m". The model is validated first.
    if info.data.get("model") is LoadModel.ARRIVAL_RATE:
        return per_second_in(RATE_TARGET_PER_S_RANGE)(raw)
    return whole_number_in(VU_TARGET_RANGE)(raw)


class DiurnalConfig(_ModelledConfig):
    """The load rises and falls like a day's traffic, without writing Python.

    A raised cosine between ``min`` and ``max`` (VUs, or arrivals per second
    with ``model = "arrival-rate"``), repeating every ``period``: it starts at
    ``min`` (night) and peaks at half a period (see :mod:`redline.plan._diurnal`).
    VUs are the curve rounded to the nearest whole VU; a rate follows the curve
    exactly. ``period`` may be compressed (``"60s"``) to replay a day quickly.

    Example (TOML)::

        [executor]
        type = "diurnal"
        min = 5
        max = 50
        period = "24h"
        duration = "24h"
    """

    type: Literal["diurnal"] = "diurnal"
    min_level: float = Field(validation_alias="min", serialization_alias="min")
    max_level: float = Field(validation_alias="max", serialization_alias="max")
    period_s: PeriodS = Field(validation_alias="period", serialization_alias="period")

    _levels = field_validator("min_level", "max_level", mode="before")(_level)

    @classmethod
    def _raw_peak_rate(cls, data: Mapping[Any, Any]) -> object:
        return data.get("max", data.get("max_level"))

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.max_level <= 0:
            raise Problem(f"{self.max_level:g} runs nothing; allowed above 0", at=("max",))
        if self.min_level > self.max_level:
            raise Problem(
                f"{self.min_level:g} is above max ({self.max_level:g}); "
                f"allowed 0..{self.max_level:g}",
                at=("min",),
            )
        self._check_model_keys(("max_vus", *_OPEN_MODEL_KEYS))
        return self

    def curve(self) -> DiurnalCurve:
        """The pattern's level over time."""
        return DiurnalCurve(low=self.min_level, high=self.max_level, period_s=self.period_s)

    def target_at(self, t_s: float) -> float:
        """The level ``t_s`` seconds into the run (VUs before rounding, or arrivals/s)."""
        return self.curve().level_at(t_s)


class _IterationsConfig(Section):
    """What the two iteration executors share: VUs, iterations and a time limit."""

    vus: Vus = 1
    iterations: Iterations = 1
    #: The run stops here even if iterations remain.
    max_duration_s: DurationS = Field(
        default=DEFAULT_MAX_DURATION_S,
        validation_alias="max_duration",
        serialization_alias="max_duration",
    )

    def planned_duration_s(self) -> float:
        """The upper bound ``max_duration_s``; the run ends sooner when the iterations are done."""
        return self.max_duration_s


class PerVuIterationsConfig(_IterationsConfig):
    """Each of ``vus`` VUs runs ``iterations`` iterations (k6 ``per-vu-iterations``)."""

    type: Literal["per-vu-iterations"] = "per-vu-iterations"


class SharedIterationsConfig(_IterationsConfig):
    """``vus`` VUs share ``iterations`` iterations between them (k6 ``shared-iterations``)."""

    type: Literal["shared-iterations"] = "shared-iterations"

    @model_validator(mode="after")
    def _check(self) -> Self:
        # As k6: a VU with no iteration to run is a configuration mistake.
        if self.iterations < self.vus:
            raise Problem(
                f"{self.iterations!r} is below vus ({self.vus}); "
                f"allowed {self.vus}..{int(ITERATIONS_RANGE.high)}",
                at=("iterations",),
            )
        return self


ExecutorConfig = Annotated[
    ConstantVusConfig
    | RampingVusConfig
    | ConstantArrivalRateConfig
    | RampingArrivalRateConfig
    | PerVuIterationsConfig
    | SharedIterationsConfig
    | ShapeConfig
    | DiurnalConfig,
    Field(discriminator="type"),
]
"""Any executor's configuration, chosen by its ``type`` key."""

#: Each executor ``type`` and the class that configures it.
EXECUTOR_CONFIGS: dict[str, type[Section]] = {
    config.model_fields["type"].default: config
    for config in (
        ConstantVusConfig,
        RampingVusConfig,
        ConstantArrivalRateConfig,
        RampingArrivalRateConfig,
        PerVuIterationsConfig,
        SharedIterationsConfig,
        ShapeConfig,
        DiurnalConfig,
    )
}
