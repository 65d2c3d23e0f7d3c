"""What the dashboard page is sent: one message per merged second, and the run's summary.

Every message is a JSON-ready dict; ``/events`` sends each as one server-sent event
(``event: second`` or ``event: end``). Latencies are in milliseconds (``*_ms``),
response time from the intended start, as in the terminal summary.

Glossary:

- **point**: the few figures of one second that the page's charts plot; a page
  that connects mid-run first gets the points of the seconds it missed.
- **row**: one endpoint in the page's table, over the run so far (the request
  rate is the last second's while the run goes on, the run's average at the end).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from redline.load import Progress, RunResult, RunStatus
from redline.metrics import IntervalStats, Outcome
from redline.plan import Phase

__all__ = [
    "ERROR_STATUS_MIN",
    "endpoint_rows",
    "errors_by_kind",
    "second_message",
    "stage_at",
    "summary_message",
]

#: HTTP statuses from this one up count as errors by kind (as in the terminal summary).
ERROR_STATUS_MIN = 400
#: Microseconds per millisecond.
US_PER_MS = 1000.0
#: Percentiles in the page's table and charts, as (name, percentile).
PAGE_PERCENTILES = (("p50_ms", 50.0), ("p95_ms", 95.0), ("p99_ms", 99.0))


def errors_by_kind(outcomes: Mapping[Outcome, int]) -> dict[str, int]:
    """Error kinds (``timeout``, ``connect``...) and HTTP statuses of 400 or more, by count."""
    kinds = {
        str(kind): count
        for kind, count in outcomes.items()
        if isinstance(kind, str) or kind >= ERROR_STATUS_MIN
    }
    return dict(sorted(kinds.items(), key=lambda item: (-item[1], item[0])))


def _latencies_ms(stats: IntervalStats) -> dict[str, float | None]:
    if not stats.count:
        return {name: None for name, _ in PAGE_PERCENTILES}
    values = stats.response.percentiles(p for _, p in PAGE_PERCENTILES)
    return {name: values[p] / US_PER_MS for name, p in PAGE_PERCENTILES}


def endpoint_rows(
    totals: Mapping[str, IntervalStats], rates: Mapping[str, float]
) -> list[dict[str, Any]]:
    """The page's endpoint table: one row per endpoint, in the order given.

    Args:
        totals: each endpoint's statistics over the run so far.
        rates: each endpoint's requests per second to show (0 when missing).
    """
    rows = []
    for name, stats in totals.items():
        rows.append(
            {
                "name": name,
                "count": stats.count,
                "rps": rates.get(name, 0.0),
                "failures": stats.failures,
                "error_rate": stats.error_rate,
                **_latencies_ms(stats),
                "max_ms": stats.response.max / US_PER_MS if stats.count else None,
            }
        )
    return rows


def stage_at(phases: Sequence[Phase], elapsed_s: float) -> dict[str, Any] | None:
    """The phase of the second that ended at ``elapsed_s``, and how long it has left.

    None when no phase holds that second (after the last one).
    """
    for index, phase in enumerate(phases, start=1):
        if phase.start_s < elapsed_s <= phase.end_s:
            return {
                "name": phase.name,
                "kind": str(phase.kind),
                "index": index,
                "count": len(phases),
                "level": phase.level,
                "unit": phase.unit,
                "left_s": phase.end_s - elapsed_s,
            }
    return None


def second_message(
    progress: Progress, phases: Sequence[Phase], totals: Mapping[str, IntervalStats]
) -> dict[str, Any]:
    """The message for one merged second.

    Args:
        progress: what the runner told its observers.
        phases: the plan's phases (``plan.phases()``), for the stage.
        totals: each endpoint's statistics over the run so far.
    """
    series = progress.series
    last = series.at(progress.second)
    generator = series.generator_at(progress.second)
    rates = {name: float(series.at(progress.second, name).count) for name in totals}
    point = {
        "t": progress.elapsed_s,
        "rps": float(last.count),
        "errors": last.failures,
        **_latencies_ms(last),
        "vus": generator.active_vus if generator is not None else None,
        "iterations": generator.iterations if generator is not None else None,
    }
    return {
        "plan": progress.plan.name,
        "second": progress.second,
        "elapsed_s": progress.elapsed_s,
        "planned_s": progress.planned_s,
        "left_s": max(0.0, progress.planned_s - progress.elapsed_s),
        "stage": stage_at(phases, progress.elapsed_s),
        "point": point,
        "errors": errors_by_kind(last.outcomes),
        "dropped_iterations": generator.dropped_iterations if generator is not None else 0,
        "endpoints": endpoint_rows(totals, rates),
        "total": _total(totals.values()),
    }


def _total(totals: Any) -> dict[str, Any]:
    count = failures = 0
    for stats in totals:
        count += stats.count
        failures += stats.failures
    return {"count": count, "failures": failures, "error_rate": failures / count if count else 0.0}


#: What the page says about how the run ended, by status.
STATUS_TEXT: dict[RunStatus, str] = {
    RunStatus.COMPLETED: "completed",
    RunStatus.INTERRUPTED: "stopped before the plan's end (partial)",
    RunStatus.ABORTED: "aborted by a threshold",
    RunStatus.BROKE: "stopped at the breaking point",
    RunStatus.FAILED: "failed",
}


def summary_message(
    result: RunResult, *, stopped_here: bool = False, report: str | None = None
) -> dict[str, Any]:
    """The message sent once the run has ended: the final figures, thresholds and links.

    Args:
        result: the run.
        stopped_here: the run was stopped from the dashboard.
        report: the path of the HTML report written for the run, if any.
    """
    series = result.series
    elapsed_s = result.elapsed_s
    totals = {name: series.total(name) for name in series.endpoints()}
    rates = {name: s.count / elapsed_s if elapsed_s else 0.0 for name, s in totals.items()}
    everything = series.total()
    return {
        "status": result.status.value,
        "status_text": STATUS_TEXT[result.status],
        "partial": result.partial,
        "stopped_here": stopped_here,
        "run_id": result.run_id,
        "plan": result.plan.name,
        "elapsed_s": elapsed_s,
        "total": {
            **_total(totals.values()),
            "rps": everything.count / elapsed_s if elapsed_s else 0.0,
            **_latencies_ms(everything),
        },
        "errors": errors_by_kind(everything.outcomes),
        "endpoints": endpoint_rows(totals, rates),
        "thresholds": [
            {"source": t.threshold.source, "passed": t.passed, "observed": t.observed}
            for t in result.thresholds
        ],
        "aborted_by": result.aborted_by,
        "report": report,
    }
