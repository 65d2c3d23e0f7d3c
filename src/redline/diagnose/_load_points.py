"""A stored run's held levels as the load points capacity planning works from.

Read from a results document (:func:`redline.report.results_to_dict`), as
``redline show`` does: its ``analysis.phases`` of kind ``hold``, each level's
mean response time from the per-second ``series``, and the plan's think time
or pacing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from redline.diagnose._little import LittleCheck, little_check, little_concurrency
from redline.diagnose._phase_stats import window_of
from redline.errors import ConfigError
from redline.plan import THINK_TIME_MODELS, PhaseKind

__all__ = ["LoadPoint", "load_points"]

#: Microseconds in a second.
US_PER_S = 1_000_000
#: The unit of a closed-model level.
VUS_UNIT = "VUs"


@dataclass(frozen=True)
class LoadPoint:
    """One held level: its load, the concurrency it held, and its figures."""

    name: str
    #: The level as planned, in ``unit``: VUs (closed model) or per second (open).
    level: float
    unit: str
    #: N: the VUs of a closed-model level; ``X·R`` (Little's law) of a rate level.
    concurrency: float
    rps: float
    p95_us: int
    error_rate: float
    #: Mean response time over the level's steady part, seconds.
    mean_response_s: float
    #: Closed-model levels: the Little's-law check; None for rate levels.
    little: LittleCheck | None


def load_points(document: Mapping[str, Any]) -> list[LoadPoint]:
    """The held levels of a results document, in run order.

    Raises:
        ConfigError: the document has no analysis, or no held level with requests.
    """
    analysis = document.get("analysis") or {}
    held = [p for p in analysis.get("phases") or [] if p.get("kind") == PhaseKind.HOLD.value]
    run_id = (document.get("run") or {}).get("id", "?")
    if not held:
        raise ConfigError(
            f"run {run_id!r}: has no held load levels (phases of kind 'hold')",
            hint="capacity needs a stepped run: redline run URL --type scalability --steps 6",
        )
    think_s, pacing_s = _think_and_pacing(document.get("plan") or {})
    rows = (document.get("series") or {}).get("intervals") or []
    points = [
        _point(phase, _mean_response_s(rows, phase), think_s, pacing_s)
        for phase in held
        if phase.get("count", 0) > 0
    ]
    if not points:
        raise ConfigError(f"run {run_id!r}: no held level completed a request")
    return points


def _point(
    phase: Mapping[str, Any], mean_s: float, think_s: float, pacing_s: float | None
) -> LoadPoint:
    rps = float(phase["rps"])
    level = float(phase["level"])
    closed = phase.get("unit", VUS_UNIT) == VUS_UNIT
    if pacing_s is not None:  # a paced VU starts an iteration every max(R, pacing)
        think_s = max(pacing_s - mean_s, 0.0)
    return LoadPoint(
        name=str(phase.get("name", "")),
        level=level,
        unit=str(phase.get("unit", VUS_UNIT)),
        concurrency=level if closed else little_concurrency(rps, mean_s),
        rps=rps,
        p95_us=int(phase["p95_us"]),
        error_rate=float(phase["error_rate"]),
        mean_response_s=mean_s,
        little=little_check(vus=level, rps=rps, mean_response_s=mean_s, think_s=think_s)
        if closed
        else None,
    )


def _think_and_pacing(plan: Mapping[str, Any]) -> tuple[float, float | None]:
    pacing = plan.get("pacing")
    pacing_s = float(pacing) if isinstance(pacing, int | float) else None
    return _think_s(plan.get("think_time")), pacing_s


def _think_s(raw: object) -> float:
    """The mean think time of a stored plan: seconds (a constant) or a model's table."""
    if isinstance(raw, int | float):
        return float(raw)
    model = THINK_TIME_MODELS.get(raw.get("dist", "")) if isinstance(raw, Mapping) else None
    if model is None:
        if raw is None:
            return 0.0
        raise ConfigError(f"stored plan: think_time {raw!r} is not a think-time model")
    try:
        return model.model_validate(raw).mean_s()
    except ValidationError:
        raise ConfigError(f"stored plan: think_time {raw!r} is not a think-time model") from None


def _mean_response_s(rows: list[Mapping[str, Any]], phase: Mapping[str, Any]) -> float:
    """The count-weighted mean response time of the phase's steady seconds and requests."""
    start_s = float(phase["start_s"]) + float(phase.get("warmup_s", 0.0))
    seconds = window_of(start_s, float(phase.get("covered_end_s", phase["end_s"])))
    if seconds is None:
        return 0.0
    first, last = seconds
    wanted = set(phase.get("requests") or [])
    total = weighted = 0.0
    for row in rows:
        if not first <= row["second"] <= last or (wanted and row["endpoint"] not in wanted):
            continue
        response = row.get("response") or {}
        if response.get("mean") is not None:
            total += response["count"]
            weighted += response["count"] * response["mean"]
    return weighted / total / US_PER_S if total else 0.0
