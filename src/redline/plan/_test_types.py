"""Test types: the performance engineer's names for load shapes, derived from one target.

``[test] type = "stress", target = 200, duration = "5m"`` (or ``redline run URL
--type stress --target 200 --duration 5m``) becomes a ramping executor whose
stages follow the type, plus the run's *phases*: named spans of time that the
analysis reports on one by one (warm-up excluded, steady state detected).

Glossary:
    target: the expected load, in VUs (``200``) or as an arrival rate
        (``"500/s"``); every type scales its levels from it.
    phase: a named span of the run with one purpose (``ramp-up``, ``step 3``,
        ``spike``); its first ``warmup_s`` seconds are left out of its statistics.
    judged window: a span in which the plan's thresholds (and the stress error
        limit) are judged while the run goes on; stress and breakpoint stop at the
        first window that breaks them, and the last window that held is the
        breaking point.

Each shape is a pure function of the :class:`TestConfig` (one per type, in
:data:`SHAPES`): it computes stages and phases and runs nothing.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Self, TypeVar

from pydantic import BeforeValidator, Field, model_validator

from redline.plan._bounds import (
    BASELINE_REPEAT_RANGE,
    BODY_SIZE_RANGE,
    DATA_ROWS_RANGE,
    DURATION_S_RANGE,
    ERROR_LIMIT_RANGE,
    JUDGE_WINDOW_S_RANGE,
    RAMP_S_RANGE,
    RATE_PER_S_RANGE,
    SPIKE_FACTOR_RANGE,
    TEST_STEPS_RANGE,
    VUS_RANGE,
    bytes_in,
    fraction_in,
    per_second_in,
    seconds_in,
    whole_number_in,
)
from redline.plan._problem import Problem, short
from redline.plan._section import Section
from redline.plan._units import format_duration

__all__ = [
    "SHAPES",
    "JudgedWindow",
    "Phase",
    "PhaseKind",
    "Shape",
    "TestConfig",
    "TestType",
]


class TestType(enum.StrEnum):
    """The test types a plan can name."""

    #: Ramp to the expected load, hold, ramp down.
    LOAD = "load"
    #: Steps beyond the expected load until a threshold breaks; finds the breaking point.
    STRESS = "stress"
    #: A sudden jump to many times the load, a hold, a drop back; measures recovery.
    SPIKE = "spike"
    #: A long steady load; measures drift.
    SOAK = "soak"
    #: The load test's shape with large payloads; reports bytes/s.
    VOLUME = "volume"
    #: Steps of increasing load, each with a steady window; the capacity table.
    SCALABILITY = "scalability"
    #: A continuous ramp until thresholds break; the highest sustainable load.
    BREAKPOINT = "breakpoint"
    #: A short fixed load repeated, for comparisons.
    BASELINE = "baseline"


class PhaseKind(enum.StrEnum):
    """What a phase is for."""

    #: Load rising to the next level.
    RAMP_UP = "ramp-up"
    #: Load held at one level.
    HOLD = "hold"
    #: Load falling.
    RAMP_DOWN = "ramp-down"
    #: The high level of a spike.
    SPIKE = "spike"
    #: Back at the normal level after a spike.
    RECOVERY = "recovery"
    #: No load, between repeats.
    PAUSE = "pause"


#: Fraction of a load/volume test spent ramping up, and down.
LOAD_RAMP_FRACTION = 0.1
#: Fraction of a soak spent ramping up (at most SOAK_RAMP_MAX_S).
SOAK_RAMP_FRACTION = 0.05
SOAK_RAMP_MAX_S = 300.0
#: Fraction of each step spent ramping to the step's level.
STEP_RAMP_FRACTION = 0.1
#: Fraction of a hold left out of its statistics (the system settling), at least 1 s.
WARMUP_FRACTION = 0.2
#: A spike test: share of the run before the spike, and the spike's own share.
SPIKE_BEFORE_FRACTION = 0.3
SPIKE_HOLD_FRACTION = 0.2
#: How long the jump to the spike level takes ("within seconds").
SPIKE_RISE_S = 1.0
#: Where a breakpoint ramp starts, as a fraction of its target.
BREAKPOINT_START_FRACTION = 0.05
#: No load between the repeats of a baseline.
BASELINE_PAUSE_S = 2.0
#: Defaults of the type parameters.
DEFAULT_STEPS = 5
DEFAULT_SPIKE_FACTOR = 10.0
DEFAULT_REPEAT = 3
DEFAULT_ERROR_LIMIT = 0.05
DEFAULT_JUDGE_WINDOW_S = 5.0


@dataclass(frozen=True)
class Phase:
    """A named span of the run: ``start_s`` (inclusive) to ``end_s`` (exclusive).

    ``level`` is the load the phase holds (or ramps to), in the target's unit.
    """

    name: str
    kind: PhaseKind
    start_s: float
    end_s: float
    level: float
    warmup_s: float = 0.0
    #: What ``level`` counts: ``"VUs"`` or ``"/s"`` (an arrival rate).
    unit: str = "VUs"
    #: The requests whose figures are the phase's (a scenario's); empty: every request.
    requests: tuple[str, ...] = ()

    @property
    def steady_start_s(self) -> float:
        """Where the phase's statistics start: after its warm-up."""
        return self.start_s + self.warmup_s

    def to_dict(self) -> dict[str, object]:
        """The phase for a results file."""
        return {
            "name": self.name,
            "kind": self.kind.value,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "level": self.level,
            "unit": self.unit,
            "warmup_s": self.warmup_s,
            "requests": list(self.requests),
        }


@dataclass(frozen=True)
class JudgedWindow:
    """A span judged against the thresholds during the run (stress, breakpoint)."""

    name: str
    start_s: float
    end_s: float
    level: float


@dataclass(frozen=True)
class Shape:
    """What a test type derives: stages for a ramping executor, and the phases."""

    #: ``(duration_s, level)`` ramps, from ``start_level``.
    stages: list[tuple[float, float]]
    phases: list[Phase]
    start_level: float = 0.0
    judged: list[JudgedWindow] = field(default_factory=list)


def _target(raw: object) -> int | str:
    """A target is VUs (a whole number) or a rate (``"500/s"``); kept as written here."""
    if isinstance(raw, str) and raw.strip().endswith("/s"):
        per_second_in(RATE_PER_S_RANGE)(raw)
        return raw.strip()
    if isinstance(raw, str) and raw.strip().isdigit():
        return whole_number_in(VUS_RANGE)(int(raw))  # a flag's text: VUs
    if isinstance(raw, str):
        raise Problem(
            f"{short(raw)} is not a target; give VUs as a number (e.g. 100) "
            "or an arrival rate (e.g. '500/s')"
        )
    return whole_number_in(VUS_RANGE)(raw)


Target = Annotated[int | str, BeforeValidator(_target)]

_T = TypeVar("_T")


def _optional(validate: Callable[[object], _T]) -> Callable[[object], _T | None]:
    return lambda raw: None if raw is None else validate(raw)


#: Methods whose requests carry a body; a volume test's ``body_size`` fills theirs.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def volume_body(size: int) -> str:
    """A JSON document of exactly ``size`` bytes (``{"pad":"xxx..."}``), for any JSON API."""
    frame = '{"pad":""}'
    return frame[:-2] + "x" * (size - len(frame)) + frame[-2:]


class TestConfig(Section):
    """The ``[test]`` table: a test type and the load it is scaled from.

    Example (TOML)::

        [test]
        type = "stress"
        target = 200          # VUs; or "500/s" for an arrival rate
        duration = "5m"
        steps = 5
    """

    type: TestType
    target: Target
    duration_s: Annotated[float, BeforeValidator(seconds_in(DURATION_S_RANGE))] = Field(
        default=60.0, validation_alias="duration", serialization_alias="duration"
    )
    #: stress and scalability: how many load levels.
    steps: Annotated[int, BeforeValidator(whole_number_in(TEST_STEPS_RANGE))] = DEFAULT_STEPS
    #: spike: the spike's level as a multiple of the target.
    spike_factor: Annotated[float, BeforeValidator(fraction_in(SPIKE_FACTOR_RANGE))] = (
        DEFAULT_SPIKE_FACTOR
    )
    #: baseline: how many times the load is repeated (``duration`` is per repeat).
    repeat: Annotated[int, BeforeValidator(whole_number_in(BASELINE_REPEAT_RANGE))] = DEFAULT_REPEAT
    #: stress and breakpoint: the error rate that breaks a step, besides the thresholds.
    error_limit: Annotated[float, BeforeValidator(fraction_in(ERROR_LIMIT_RANGE))] = (
        DEFAULT_ERROR_LIMIT
    )
    #: breakpoint: the length of each judged window along the ramp.
    window_s: Annotated[float, BeforeValidator(seconds_in(JUDGE_WINDOW_S_RANGE))] = Field(
        default=DEFAULT_JUDGE_WINDOW_S, validation_alias="window", serialization_alias="window"
    )

    #: load, volume and soak: how long the ramp to the target takes (and, for load and
    #: volume, the ramp down); None: a share of ``duration`` (10 %, soak 5 %), at most 1 h.
    ramp_up_s: Annotated[float | None, BeforeValidator(_optional(seconds_in(RAMP_S_RANGE)))] = (
        Field(default=None, validation_alias="ramp_up", serialization_alias="ramp_up")
    )

    #: volume: the size of the generated body of every POST, PUT and PATCH without one.
    body_size: Annotated[int | None, BeforeValidator(_optional(bytes_in(BODY_SIZE_RANGE)))] = None

    #: volume: the size of the data set: each iteration's ``${row}`` is drawn from 0..rows-1.
    rows: Annotated[int | None, BeforeValidator(_optional(whole_number_in(DATA_ROWS_RANGE)))] = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        for key in ("body_size", "rows"):
            value = getattr(self, key)
            if value is not None and self.type is not TestType.VOLUME:
                raise Problem(
                    f"{value!r} applies only to a volume test, not {self.type}", at=(key,)
                )
        self._check_ramp_up()
        shape = self.shape()
        peak = max([shape.start_level] + [level for _, level in shape.stages])
        limit = RATE_PER_S_RANGE.high if self.is_rate else VUS_RANGE.high
        if peak > limit:
            raise Problem(
                f"{short(self.target)} makes a {self.type} test peak at {peak:g}, above the "
                f"most allowed ({limit:g}); lower the target or the steps/spike_factor",
                at=("target",),
            )
        return self

    def _check_ramp_up(self) -> None:
        if self.ramp_up_s is None:
            return
        shown = repr(format_duration(self.ramp_up_s))
        ramps = RAMPS_OF_TYPE.get(self.type)
        if ramps is None:
            raise Problem(
                f"{shown} applies only to load, volume and soak tests, not {self.type}",
                at=("ramp_up",),
            )
        if ramps * self.ramp_up_s >= self.duration_s:
            share = "half the duration" if ramps == 2 else "the duration"
            raise Problem(
                f"{shown} leaves no steady load in a {format_duration(self.duration_s)} "
                f"{self.type} test; allowed less than {share}",
                at=("ramp_up",),
            )

    @property
    def is_rate(self) -> bool:
        """Whether the target is an arrival rate (open model) rather than VUs."""
        return isinstance(self.target, str)

    @property
    def level(self) -> float:
        """The target as a number: VUs, or arrivals per second."""
        if isinstance(self.target, str):
            return per_second_in(RATE_PER_S_RANGE)(self.target)
        return float(self.target)

    @property
    def unit(self) -> str:
        """How levels read: ``"VUs"`` or ``"/s"``."""
        return "/s" if self.is_rate else "VUs"

    def shape(self) -> Shape:
        """The stages and phases of this test (pure; nothing runs)."""
        shape = SHAPES[self.type](self)
        phases = [dataclasses.replace(p, unit=self.unit) for p in shape.phases]
        return dataclasses.replace(shape, phases=phases)


class _Builder:
    """Appends stages and the phase each makes, keeping time and level."""

    def __init__(self, start_level: float = 0.0) -> None:
        self.t_s = 0.0
        self.level = start_level
        self.start_level = start_level
        self.stages: list[tuple[float, float]] = []
        self.phases: list[Phase] = []
        self.judged: list[JudgedWindow] = []

    def ramp(self, name: str, kind: PhaseKind, duration_s: float, level: float) -> Phase:
        """Go linearly (or at once, with 0 s) to ``level`` over ``duration_s``."""
        duration_s = round(duration_s, 3)
        self.stages.append((duration_s, level))
        phase = Phase(name, kind, self.t_s, self.t_s + duration_s, level)
        if duration_s > 0:
            self.phases.append(phase)
        self.t_s = round(self.t_s + duration_s, 3)
        self.level = level
        return phase

    def hold(self, name: str, kind: PhaseKind, duration_s: float, *, warmup: bool = True) -> Phase:
        """Stay at the current level; the first part is warm-up unless ``warmup`` is False."""
        duration_s = round(duration_s, 3)
        self.stages.append((duration_s, self.level))
        warmup_s = round(max(1.0, duration_s * WARMUP_FRACTION), 3) if warmup else 0.0
        phase = Phase(name, kind, self.t_s, self.t_s + duration_s, self.level, warmup_s)
        self.phases.append(phase)
        self.t_s = round(self.t_s + duration_s, 3)
        return phase

    def shape(self) -> Shape:
        return Shape(self.stages, self.phases, self.start_level, self.judged)


def _whole(config: TestConfig, level: float) -> float:
    # VUs are whole; a step's level never rounds down to nothing.
    return level if config.is_rate else float(max(1, math.ceil(level)))


def _ramp_up_s(config: TestConfig, fraction: float, most_s: float) -> float:
    """The ramp-up as given, or ``fraction`` of the duration, at most ``most_s``."""
    if config.ramp_up_s is not None:
        return config.ramp_up_s
    return min(most_s, config.duration_s * fraction)


def _load_shape(config: TestConfig) -> Shape:
    total = config.duration_s
    ramp_s = _ramp_up_s(config, LOAD_RAMP_FRACTION, RAMP_S_RANGE.high)
    b = _Builder()
    b.ramp("ramp-up", PhaseKind.RAMP_UP, ramp_s, config.level)
    b.hold("steady", PhaseKind.HOLD, total - 2 * ramp_s)
    b.ramp("ramp-down", PhaseKind.RAMP_DOWN, ramp_s, 0.0)
    return b.shape()


def _soak_shape(config: TestConfig) -> Shape:
    ramp_s = _ramp_up_s(config, SOAK_RAMP_FRACTION, SOAK_RAMP_MAX_S)
    b = _Builder()
    b.ramp("ramp-up", PhaseKind.RAMP_UP, ramp_s, config.level)
    b.hold("soak", PhaseKind.HOLD, config.duration_s - ramp_s)
    return b.shape()


def _step_levels(config: TestConfig) -> list[float]:
    n = config.steps
    if config.type is TestType.STRESS:
        # Half the expected load, the expected load, then beyond it in equal steps.
        return [_whole(config, config.level * (k + 1) / 2) for k in range(n)]
    return [_whole(config, config.level * (k + 1) / n) for k in range(n)]


def _steps_shape(config: TestConfig) -> Shape:
    """stress and scalability: a ramp and a hold per level; each hold is judged (stress)."""
    levels = _step_levels(config)
    step_s = config.duration_s / len(levels)
    ramp_s = step_s * STEP_RAMP_FRACTION
    b = _Builder()
    for k, level in enumerate(levels, start=1):
        b.ramp(f"ramp to step {k}", PhaseKind.RAMP_UP, ramp_s, level)
        hold = b.hold(f"step {k}", PhaseKind.HOLD, step_s - ramp_s)
        if config.type is TestType.STRESS:
            b.judged.append(JudgedWindow(hold.name, hold.steady_start_s, hold.end_s, level))
    return b.shape()


def _spike_shape(config: TestConfig) -> Shape:
    total = config.duration_s
    before_s = total * SPIKE_BEFORE_FRACTION
    spike_s = total * SPIKE_HOLD_FRACTION
    b = _Builder(start_level=config.level)
    b.hold("before", PhaseKind.HOLD, before_s)
    peak = _whole(config, config.level * config.spike_factor)
    b.ramp("rise", PhaseKind.RAMP_UP, SPIKE_RISE_S, peak)
    b.hold("spike", PhaseKind.SPIKE, spike_s - SPIKE_RISE_S, warmup=False)
    b.ramp("drop", PhaseKind.RAMP_DOWN, 0.0, config.level)
    # Recovery is measured from the drop's first second: no warm-up.
    b.hold("recovery", PhaseKind.RECOVERY, total - b.t_s, warmup=False)
    return b.shape()


def _breakpoint_shape(config: TestConfig) -> Shape:
    """A linear ramp from 5 % to the target, judged window by window."""
    total = config.duration_s
    start = _whole(config, config.level * BREAKPOINT_START_FRACTION)
    b = _Builder(start_level=start)
    b.ramp("ramp", PhaseKind.RAMP_UP, total, config.level)
    windows = max(1, int(total // config.window_s))
    for k in range(windows):
        start_s, end_s = k * config.window_s, (k + 1) * config.window_s
        mid = (start_s + end_s) / 2
        level = start + (config.level - start) * mid / total
        b.judged.append(JudgedWindow(f"window {k + 1}", start_s, end_s, level))
    return b.shape()


def _baseline_shape(config: TestConfig) -> Shape:
    b = _Builder()
    for k in range(1, config.repeat + 1):
        if k > 1:
            b.ramp("stop", PhaseKind.RAMP_DOWN, 0.0, 0.0)
            b.hold(f"pause {k - 1}", PhaseKind.PAUSE, BASELINE_PAUSE_S, warmup=False)
        b.ramp("start", PhaseKind.RAMP_UP, 0.0, config.level)
        b.hold(f"repeat {k}", PhaseKind.HOLD, config.duration_s)
    return b.shape()


#: Each test type's shape.
#: The test types with a ramp-up given by ``ramp_up``, and how many ramps of that length
#: they have (load and volume ramp down as long as they ramp up).
RAMPS_OF_TYPE = {TestType.LOAD: 2, TestType.VOLUME: 2, TestType.SOAK: 1}

SHAPES: dict[TestType, Callable[[TestConfig], Shape]] = {
    TestType.LOAD: _load_shape,
    TestType.VOLUME: _load_shape,
    TestType.SOAK: _soak_shape,
    TestType.STRESS: _steps_shape,
    TestType.SCALABILITY: _steps_shape,
    TestType.SPIKE: _spike_shape,
    TestType.BREAKPOINT: _breakpoint_shape,
    TestType.BASELINE: _baseline_shape,
}
