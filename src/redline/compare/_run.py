"""One side of a comparison: a run's series and the little metadata compare needs."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, TypeAlias

from redline.compare._fingerprint import load_shape, plan_fingerprint
from redline.errors import ConfigError, ReportError
from redline.metrics import RunSeries

__all__ = ["ComparedRun", "SteadySpan", "steady_spans_of"]

#: Whole seconds ``(first, last)``, both included, counted from the run's start.
SteadySpan: TypeAlias = tuple[int, int]

#: Without phases, this share of the run's seconds is skipped as warm-up.
WARMUP_SHARE_WITHOUT_PHASES: Final = 0.10
#: The phase kind whose steady part is compared: load held at one level.
HOLD_KIND: Final = "hold"


@dataclass(frozen=True, kw_only=True)
class ComparedRun:
    """A run as :func:`~redline.compare.compare_runs` reads it.

    Build one from a results file with :meth:`from_results`, or directly from
    a :class:`~redline.metrics.RunSeries` and what is known about the run.

    Example::

        run = ComparedRun(series=series, label="v1.4", steady=[(10, 69)])
        run = ComparedRun.from_results(json.loads(path.read_text()), label="v1.5")
    """

    #: The run's per-second, per-endpoint statistics.
    series: RunSeries
    #: How reports name this run (a version, a commit, a file name).
    label: str = ""
    #: The plan's name, for reports.
    plan_name: str = ""
    #: :func:`~redline.compare.plan_fingerprint` of the run's plan; None: unknown.
    plan_fingerprint: str | None = None
    #: :func:`~redline.compare.load_shape` of the run's plan (VUs, rate, duration), for notes.
    load_shape: str | None = None
    #: The steady seconds, one span per held phase (warm-up already left out);
    #: None: the run has no phases, so the first 10 % of its seconds are skipped.
    steady: tuple[SteadySpan, ...] | None = None
    #: True when the generator may have been the bottleneck (``self_check.generator_bound``).
    generator_bound: bool = False
    #: Why the generator flagged itself, for the refusal's reasons.
    generator_reasons: tuple[str, ...] = ()
    #: CPU-seconds the *server* used during the run (from a resource probe); None: not measured.
    server_cpu_s: float | None = None

    def __post_init__(self) -> None:
        if self.server_cpu_s is not None and not (
            math.isfinite(self.server_cpu_s) and self.server_cpu_s >= 0
        ):
            raise ConfigError(
                f"server_cpu_s must be a finite number of seconds >= 0, got {self.server_cpu_s!r}",
                hint="pass None when the server's CPU was not measured",
            )
        for first, last in self.steady or ():
            if last < first:
                raise ConfigError(
                    f"steady span must not end before it starts, got {(first, last)!r}",
                    hint="give (first_second, last_second), both included",
                )

    @property
    def name(self) -> str:
        """The label, else the plan name, else ``"run"``."""
        return self.label or self.plan_name or "run"

    def steady_strata(self) -> list[list[int]]:
        """The steady seconds that have data, grouped by phase (each second once).

        A bootstrap resamples within each group, so runs with several held
        levels (stress steps) keep each level's share of seconds.
        """
        present = self.series.seconds()
        if not present:
            return []
        if self.steady is None:
            skip = math.ceil(len(present) * WARMUP_SHARE_WITHOUT_PHASES)
            return [present[skip:]] if present[skip:] else []
        have = set(present)
        taken: set[int] = set()
        strata: list[list[int]] = []
        for first, last in self.steady:
            seconds = [s for s in range(first, last + 1) if s in have and s not in taken]
            taken.update(seconds)
            if seconds:
                strata.append(seconds)
        return strata

    @classmethod
    def from_results(
        cls,
        data: Mapping[str, Any],
        *,
        label: str = "",
        server_cpu_s: float | None = None,
    ) -> ComparedRun:
        """Read a results file (``redline run --out``) already parsed from JSON.

        The steady spans come from ``analysis.phases`` (held phases, from
        ``start_s + warmup_s`` to ``end_s``); without an analysis the first
        10 % of seconds are skipped instead.

        Raises:
            ReportError: the data lacks a ``series`` or ``plan``.
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("series"), Mapping):
            raise ReportError(
                "a results file needs a 'series' object to be compared",
                hint="compare files written by 'redline run --out FILE'",
            )
        plan = data.get("plan")
        if not isinstance(plan, Mapping):
            raise ReportError(
                "a results file needs a 'plan' object to be compared",
                hint="compare files written by 'redline run --out FILE'",
            )
        self_check = data.get("self_check")
        check = self_check if isinstance(self_check, Mapping) else {}
        analysis = data.get("analysis")
        phases = analysis.get("phases") if isinstance(analysis, Mapping) else None
        run = cls(
            series=RunSeries.from_dict(data["series"]),
            label=label,
            plan_name=str(plan.get("name", "")),
            plan_fingerprint=plan_fingerprint(plan),
            load_shape=load_shape(plan),
            steady=steady_spans_of(phases) if isinstance(phases, list) and phases else None,
            generator_bound=bool(check.get("generator_bound", False)),
            generator_reasons=tuple(str(r) for r in check.get("reasons", []) or []),
            server_cpu_s=server_cpu_s,
        )
        if server_cpu_s is None:
            seconds = {second for stratum in run.steady_strata() for second in stratum}
            run = replace(run, server_cpu_s=_server_cpu_s(data, seconds))
        return run


def steady_spans_of(phases: Iterable[Mapping[str, Any]]) -> tuple[SteadySpan, ...]:
    """The whole seconds of each held phase after its warm-up.

    Each phase is a results file's ``analysis.phases`` entry (or
    ``Phase.to_dict()``): seconds ``[start_s + warmup_s, end_s)``, rounded
    inwards to whole seconds; ramps, spikes and pauses are left out. When no
    phase is held, every phase's steady part is used.
    """
    rows = [p for p in phases if isinstance(p, Mapping)]
    held = [p for p in rows if p.get("kind") == HOLD_KIND] or rows
    spans: list[SteadySpan] = []
    for phase in held:
        start = _number(phase, "start_s") + _number(phase, "warmup_s", default=0.0)
        end = _number(phase, "end_s")
        # A phase cut short by the end of the run is covered only that far.
        end = min(end, _number(phase, "covered_end_s", default=end))
        first, last = math.ceil(start), math.ceil(end) - 1
        if last >= first:
            spans.append((first, last))
    return tuple(spans)


def _number(phase: Mapping[str, Any], name: str, default: float | None = None) -> float:
    value = phase.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReportError(
            f"phase field {name!r} must be a number, got {value!r}",
            hint="read phases written by 'redline run --out FILE' (analysis.phases)",
        )
    return float(value)


def _server_cpu_s(data: Mapping[str, Any], seconds: set[int]) -> float | None:
    """The server's CPU seconds (user + system) over ``seconds``, from the results' ``resources``.

    None when the results sampled no server.
    """
    resources = data.get("resources")
    samples = resources.get("server") if isinstance(resources, Mapping) else None
    if not isinstance(samples, list) or not samples:
        return None
    return sum(
        float(s.get("cpu_user_s", 0.0)) + float(s.get("cpu_system_s", 0.0))
        for s in samples
        if isinstance(s, Mapping) and s.get("second") in seconds
    )
