"""The Plan: everything a run needs to know, validated once, at the edge."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Self

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from redline.plan._data import Feeders, Generators
from redline.plan._executors import (
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    DiurnalConfig,
    ExecutorConfig,
    LoadModel,
    RampingArrivalRateConfig,
    ShapeConfig,
)
from redline.plan._phases import (
    executor_for_shape,
    phases_of_executor,
    with_row_generator,
    with_volume_bodies,
)
from redline.plan._problem import Problem, short
from redline.plan._request import RequestSpec
from redline.plan._scenarios import ScenarioConfig, check_scenarios
from redline.plan._scope import (
    Environment,
    check_scope,
    environment_from_text,
    host_from_text,
    url_from_text,
)
from redline.plan._section import PacingS, Section, TimeoutS, Workers
from redline.plan._steps import StepSpec
from redline.plan._template import PLACEHOLDER_START, origin_of
from redline.plan._test_types import JudgedWindow, Phase, TestConfig
from redline.plan._think import ConstantThinkTimeConfig, ThinkTimeField
from redline.plan._threshold import Threshold, threshold_from_text
from redline.plan._units import format_duration

#: Seconds to wait for a TCP (and TLS) connection before counting a connect error.
DEFAULT_CONNECT_TIMEOUT_S = 10.0
#: Seconds to wait for a whole response before counting a timeout.
DEFAULT_REQUEST_TIMEOUT_S = 60.0
#: VUs and seconds of the load when a plan names no executor.
DEFAULT_VUS = 1
DEFAULT_DURATION_S = 10.0
#: The executors of the closed model, where think time and pacing apply.
CLOSED_EXECUTORS = (
    "constant-vus, ramping-vus, per-vu-iterations, shared-iterations, "
    "and shape or diurnal with model 'vus'"
)


def _threshold(raw: object) -> Threshold:
    if isinstance(raw, Threshold):
        return raw
    if not isinstance(raw, str):
        raise Problem(f"{short(raw)} is not a threshold; write a string such as 'p95<300ms'")
    return threshold_from_text(raw)


def _environment(raw: object) -> object:
    return environment_from_text(raw) if isinstance(raw, str) else raw


def _host(raw: object) -> object:
    return host_from_text(raw) if isinstance(raw, str) else raw


def _base_url(raw: object) -> object:
    return url_from_text(raw) if isinstance(raw, str) else raw


#: A threshold, written and saved as its source text (``"p95<300ms"``).
ThresholdField = Annotated[
    Threshold,
    PlainValidator(_threshold),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string"}),
]
EnvironmentField = Annotated[Environment, BeforeValidator(_environment)]
Host = Annotated[str, BeforeValidator(_host)]
BaseUrl = Annotated[str, BeforeValidator(_base_url)]


#: The name of the one scenario of a plan without ``[scenarios]``.
DEFAULT_SCENARIO = "default"


@dataclass(frozen=True)
class ScenarioRun:
    """One scenario as the engine runs it: its executor, its requests, its start."""

    name: str
    executor: ExecutorConfig
    requests: list[RequestSpec]
    start_time_s: float
    #: The scenario's own steps; None: the plan's (a plain plan's ``[[steps]]``).
    steps: list[StepSpec] | None = None


def shifted(phase: Phase, run: ScenarioRun) -> Phase:
    """``phase`` of scenario ``run``: named after it, at its start, of its requests only."""
    return dataclasses.replace(
        phase,
        name=f"{run.name}: {phase.name}",
        start_s=phase.start_s + run.start_time_s,
        end_s=phase.end_s + run.start_time_s,
        requests=tuple(spec.name for spec in run.requests),
    )


def _default_executor() -> ConstantVusConfig:
    return ConstantVusConfig(vus=DEFAULT_VUS, duration_s=DEFAULT_DURATION_S)


def _no_think_time() -> ConstantThinkTimeConfig:
    return ConstantThinkTimeConfig(value_s=0.0)


def _rate_driven(executor: ExecutorConfig) -> str | None:
    """How an open-model executor is written (its VUs neither pause nor pace), else None."""
    if isinstance(executor, ConstantArrivalRateConfig | RampingArrivalRateConfig):
        return repr(executor.type)
    if isinstance(executor, ShapeConfig | DiurnalConfig) and (
        executor.model is LoadModel.ARRIVAL_RATE
    ):
        return f"{executor.type!r} with model {executor.model.value!r}"
    return None


class Plan(Section):
    """A load test: the requests, the executor that shapes the load, and what passes.

    Build one with :func:`~redline.plan.load_plan` (a TOML file),
    :func:`~redline.plan.plan_from_flags` (the CLI), or ``Plan.model_validate(mapping)``.
    A validated plan holds absolute request URLs only. Scope (which hosts may be
    loaded) is checked separately, by :meth:`validate_scope`, so a plan can be
    inspected and reported without being allowed to run.

    Example::

        plan = Plan.model_validate({
            "base_url": "http://127.0.0.1:8080",
            "requests": [{"name": "home", "url": "/"}],
            "executor": {"type": "constant-vus", "vus": 10, "duration": "30s"},
            "thresholds": ["p95<300ms"],
        })
        plan.requests[0].url  # "http://127.0.0.1:8080/"
    """

    name: str = "run"
    #: Joined to every request URL that is a path.
    base_url: BaseUrl | None = None
    requests: list[RequestSpec]
    executor: ExecutorConfig = Field(default_factory=_default_executor)
    thresholds: list[ThresholdField] = []
    environment: EnvironmentField = Environment.LOCAL
    #: Hosts besides loopback that this plan may load, as written (no DNS).
    allowed_hosts: list[Host] = []
    connect_timeout_s: TimeoutS = Field(
        default=DEFAULT_CONNECT_TIMEOUT_S,
        validation_alias="connect_timeout",
        serialization_alias="connect_timeout",
    )
    request_timeout_s: TimeoutS = Field(
        default=DEFAULT_REQUEST_TIMEOUT_S,
        validation_alias="request_timeout",
        serialization_alias="request_timeout",
    )
    verify_tls: bool = Field(default=True, strict=True)
    #: Load-generating processes; ``None`` lets the engine choose.
    workers: Workers | None = None
    #: Closed model: the pause between one VU's iterations, drawn anew each time
    #: (a duration, or a model such as ``{ dist = "uniform", min = "1s", max = "3s" }``).
    think_time: ThinkTimeField = Field(default_factory=_no_think_time)
    #: Closed model: a VU starts an iteration every ``pacing_s`` seconds (None: each
    #: starts when the last one ends, after the think time).
    pacing_s: PacingS | None = Field(
        default=None, validation_alias="pacing", serialization_alias="pacing"
    )
    #: A test type (load, stress, spike, ...) that derives the executor's stages,
    #: unless ``executor`` is given too (explicit stages win).
    test: TestConfig | None = None
    #: Several scenarios, each with its own requests, executor and start time;
    #: then the plan gives no ``executor`` or ``test`` of its own.
    scenarios: dict[str, ScenarioConfig] = {}
    #: True when ``executor`` was derived from ``test`` rather than given.
    _executor_from_test: bool = PrivateAttr(default=False)
    #: The Python scenario file whose iteration function the VUs run, if any
    #: (set by :func:`~redline.plan.load_python_scenario`).
    scenario: str | None = None
    #: The requests every iteration runs, in order (see :mod:`redline.plan._steps`);
    #: empty: each iteration runs one request picked by weight.
    steps: list[StepSpec] = []
    #: A cookie jar per VU: cookies a response sets are sent back on later
    #: requests to the same host. Off by default.
    cookies: bool = Field(default=False, strict=True)
    #: Test data: files whose rows become the variables ``${feeder.field}``.
    data: Feeders = []
    #: Synthetic values made for each iteration, as the variables ``${name}``.
    generate: Generators = []

    @field_validator("requests")
    @classmethod
    def _check_requests(cls, requests: list[RequestSpec]) -> list[RequestSpec]:
        if not requests:
            raise Problem("[] is empty; give at least one [[requests]] entry with a name and url")
        return requests

    @model_validator(mode="after")
    def _check_scenarios(self) -> Self:
        if not self.scenarios:
            return self
        for key in ("executor", "test", "steps"):
            if key in self.model_fields_set:
                raise Problem(
                    f"is given with [scenarios]; each scenario has its own {key} "
                    "(move it into the scenarios, or remove them)",
                    at=(key,),
                )
        check_scenarios(self.scenarios, [spec.name for spec in self.requests])
        return self

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.test is not None and "executor" not in self.model_fields_set:
            self.executor = executor_for_shape(self.test)
            self._executor_from_test = True
        self.requests = [self._absolute(index, spec) for index, spec in enumerate(self.requests)]
        if self.test is not None and self.test.body_size is not None:
            self.requests = with_volume_bodies(self.requests, self.test.body_size)
        if self.test is not None and self.test.rows is not None:
            self.generate = with_row_generator(self.generate, self.test.rows)
        self._check_names()
        self._check_threshold_endpoints()
        return self

    def _absolute(self, index: int, spec: RequestSpec) -> RequestSpec:
        if not spec.url.startswith("/"):
            return spec
        if self.base_url is None:
            raise Problem(
                f"{spec.url!r} is a path but base_url is not set; "
                "allowed an absolute http(s) URL, or set base_url",
                at=("requests", index, "url"),
            )
        # Joined as text, not with urljoin, so base_url "http://h/api" keeps its "/api".
        return spec.model_copy(update={"url": self.base_url.rstrip("/") + spec.url})

    def _check_names(self) -> None:
        seen: set[str] = set()
        for index, spec in enumerate(self.requests):
            if spec.name in seen:
                raise Problem(
                    f"{spec.name!r} is used twice; request names must be unique",
                    at=("requests", index, "name"),
                )
            seen.add(spec.name)

    def _check_threshold_endpoints(self) -> None:
        names = [spec.name for spec in self.requests]
        for index, threshold in enumerate(self.thresholds):
            if threshold.endpoint is not None and threshold.endpoint not in names:
                raise Problem(
                    f"{threshold.source!r} names request {threshold.endpoint!r}, "
                    f"which the plan does not have; allowed {', '.join(names)}",
                    at=("thresholds", index),
                )

    @model_validator(mode="after")
    def _check_steps(self) -> Self:
        names = [spec.name for spec in self.requests]
        for index, step in enumerate(self.steps):
            if step.request not in names:
                raise Problem(
                    f"{step.request!r} is not a request of the plan; allowed {', '.join(names)}",
                    at=("steps", index, "request"),
                )
        for index, spec in enumerate(self.requests):
            self._check_request_templates(index, spec)
            if self.steps and spec.weight != 1:
                raise Problem(
                    f"{spec.weight} is given with [[steps]], which run every step in order; "
                    "allowed only with no steps (remove weight, or the steps)",
                    at=("requests", index, "weight"),
                )
        if self.scenario is not None and self.steps:
            raise Problem(
                "is for TOML plans; a Python scenario orders its requests itself", at=("steps",)
            )
        return self

    def _check_request_templates(self, index: int, spec: RequestSpec) -> None:
        if PLACEHOLDER_START in origin_of(spec.url):
            raise Problem(
                f"{spec.url!r} has ${{...}} in its scheme, host or port (from base_url); "
                "placeholders are allowed in the path and query only",
                at=("base_url",),
            )
        if self.scenario is not None and spec.templated:
            raise Problem(
                "holds a ${name} placeholder; a Python scenario does not fill placeholders",
                at=("requests", index),
            )
        if self.cookies and any(name.lower() == "cookie" for name in spec.headers):
            raise Problem(
                "sets Cookie while cookies = true; allowed one of the two "
                "(the jar sends Cookie itself)",
                at=("requests", index, "headers"),
            )

    @model_validator(mode="after")
    def _check_pacing(self) -> Self:
        if self.pacing_s is None:
            return self
        pacing = repr(format_duration(self.pacing_s))
        if self.think_time.mean_s() > 0:
            raise Problem(
                f"{pacing} is given with think_time too; allowed one of pacing and think_time",
                at=("pacing",),
                hint="pacing already spaces a VU's iterations: remove think_time, "
                "or remove pacing to pause after each iteration instead",
            )
        rate_driven = _rate_driven(self.executor)
        if rate_driven is not None:
            raise Problem(
                f"{pacing} is given with {rate_driven}, which starts iterations at a rate; "
                f"allowed with {CLOSED_EXECUTORS}",
                at=("pacing",),
            )
        return self

    @property
    def think_time_s(self) -> float:
        """The mean pause between one VU's iterations, seconds (0 without think time)."""
        return self.think_time.mean_s()

    def validate_scope(self) -> None:
        """Refuse the plan unless every request URL is loopback or in ``allowed_hosts``.

        Raises:
            ScopeError: naming the hosts out of scope.
        """
        check_scope((spec.url for spec in self.requests), self.allowed_hosts)

    def planned_duration_s(self) -> float:
        """How long the load is planned to last: the executor's, or the last scenario's end."""
        if self.scenarios:
            return max(s.planned_end_s() for s in self.scenarios.values())
        return self.executor.planned_duration_s()

    def runs(self) -> list[ScenarioRun]:
        """What the engine runs: one entry per scenario (one for a plain plan)."""
        if not self.scenarios:
            return [ScenarioRun(DEFAULT_SCENARIO, self.executor, list(self.requests), 0.0)]
        by_name = {spec.name: spec for spec in self.requests}
        runs = []
        for name, scenario in self.scenarios.items():
            names = scenario.requests or [step.request for step in scenario.steps]
            requests = [by_name[r] for r in dict.fromkeys(names)] or list(self.requests)
            runs.append(
                ScenarioRun(
                    name, scenario.executor, requests, scenario.start_time_s, scenario.steps
                )
            )
        return runs

    def phases(self) -> list[Phase]:
        """The run's named spans: the test type's, one per stage, or per scenario and stage."""
        if self.test is not None and self._executor_from_test:
            return self.test.shape().phases
        if self.scenarios:
            return [
                shifted(phase, run)
                for run in self.runs()
                for phase in phases_of_executor(run.executor)
            ]
        return phases_of_executor(self.executor)

    def judged_windows(self) -> list[JudgedWindow]:
        """Spans judged during the run (stress steps, breakpoint windows); else none."""
        if self.test is None or not self._executor_from_test:
            return []
        return self.test.shape().judged
