"""Error onset: the load at which errors begin, by kind.

Errors are HTTP statuses of 400 and up and the engine's error kinds
(``timeout``, ``reset``, ``refused``, ...). The onset is the first second whose
error rate reaches ``ONSET_RATE`` and stays there in most of the seconds after
it; errors from the very first loaded second on are not about load at all and
are worded so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from redline.diagnose._finding import Category, Evidence, Finding, Severity
from redline.diagnose._timeline import Second, Timeline

__all__ = ["error_onset", "error_kinds"]

#: A second is failing when this share of its requests failed.
ONSET_RATE = 0.01
#: After the onset, at least this share of seconds keep failing.
SUSTAINED_SHARE = 0.6
#: Above this overall error share the finding is high severity.
HIGH_ERROR_SHARE = 0.05
SOURCE = "per-second outcomes of the load"
#: What each kind of error usually means, and what to do.
ADVICE: dict[str, str] = {
    "503": "the server sheds load (503) past a concurrency: raise its limit or its capacity, "
    "or have clients back off",
    "429": "a rate limit answers 429: raise it for this load or spread the clients",
    "5xx": "the server fails under load: read its logs at the onset second",
    "4xx": "client errors grow with load: check the test data (reused or exhausted rows)",
    "timeout": "responses take longer than the timeout: requests queue; find the bottleneck "
    "(other findings) or raise capacity",
    "connect_timeout": "connections are not accepted in time: the accept queue is full or the "
    "server is not accepting",
    "reset": "connections are reset: accept-queue overflow or the server closing connections",
    "refused": "connections are refused: the server stopped listening or its backlog is full",
}


def error_kinds(outcomes: Mapping[str, int]) -> Counter[str]:
    """The failed outcomes of a second: statuses >= 400 and error kinds."""
    kinds: Counter[str] = Counter()
    for outcome, count in outcomes.items():
        if outcome.isdigit():
            if int(outcome) >= 400:
                kinds[outcome] += count
        else:
            kinds[outcome] += count
    return kinds


def error_onset(timeline: Timeline) -> list[Finding]:
    """The error-onset finding, when errors begin (and stay) at some load."""
    seconds = [s for s in timeline.seconds if s.count > 0]
    onset = _onset(seconds)
    if onset is None:
        return []
    after = seconds[onset:]
    kinds = sum((error_kinds(s.outcomes) for s in after), Counter())
    total = sum(s.count for s in seconds)
    failed = sum(kinds.values())
    first = seconds[onset]
    from_start = onset == 0 or first.load <= min(s.load for s in seconds)
    return [_finding(timeline, first, kinds, failed / total, from_start=from_start)]


def _onset(seconds: list[Second]) -> int | None:
    failing = [s.failures / s.count >= ONSET_RATE for s in seconds]
    for index, fails in enumerate(failing):
        rest = failing[index:]
        if fails and sum(rest) / len(rest) >= SUSTAINED_SHARE:
            return index
    return None


def _finding(
    timeline: Timeline, first: Second, kinds: Counter[str], share: float, *, from_start: bool
) -> Finding:
    failed = sum(kinds.values())
    listed = ", ".join(f"{k} {n / failed:.0%}" for k, n in kinds.most_common(4))
    top = kinds.most_common(1)[0][0]
    advice = ADVICE.get(top) or ADVICE.get(f"{top[0]}xx" if top.isdigit() else "", "")
    where = (
        f"from the start ({first.load:g} {timeline.unit})"
        if from_start
        else (f"at {first.load:g} {timeline.unit} (second {first.second})")
    )
    return Finding(
        rule="error-onset",
        category=Category.CONFIGURATION if from_start else Category.CAPACITY,
        severity=Severity.HIGH if share >= HIGH_ERROR_SHARE else Severity.MEDIUM,
        confidence=0.9,
        title=f"Errors begin {where}: {listed}",
        evidence=(
            Evidence(
                "first failing second",
                f"second {first.second}: "
                f"{first.failures:,} of {first.count:,} requests failed at "
                f"{first.load:g} {timeline.unit}",
                SOURCE,
            ),
            Evidence("errors from there on, by kind", listed, SOURCE),
            Evidence("error share of the whole run", f"{share:.1%}", SOURCE),
        ),
        location=None,
        recommendation=advice or "read the server's logs at the onset second",
        expected_effect=f"no errors below the load the fix reaches; today they start at "
        f"{first.load:g} {timeline.unit}",
    )
