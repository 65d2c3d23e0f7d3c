"""``redline verify``: the validation checklist after an experiment, each check pass or fail
with the figure it is judged on.

- **health**: each health URL answers 200 (:func:`check_health`; loopback or the
  plan's allowed hosts only, refused before any request otherwise);
- **baseline**: a short run of the plan matches the stored baseline within
  ±5 % on p95 and throughput (:func:`check_baseline`): the compare code's
  verdict at a 5 % minimum effect is *no significant change* for both, i.e.
  the change is under 5 % or its confidence interval holds zero;
- **processes**: no process redline started is still running
  (:func:`check_processes`, from the :class:`~redline.optimize.PidRegistry`);
- **test data**: every test-data entry of the journal is undone and, with the
  database's DSN (``--db``; SQLite needs none), its table's row count is back
  to the one recorded before the data went in (:func:`check_test_data`);
- **journal**: no entry is half-applied: intent without result, failed, or
  whose undo failed (:func:`check_journal`).

Nothing here prints; ``redline verify`` renders the :class:`Check` list.
"""

from __future__ import annotations

import enum
import http.client
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from redline.compare import ComparedRun, Metric, NotComparable, Verdict, compare_runs
from redline.optimize._applier import ChangeError
from redline.optimize._change import Change, ChangeKind
from redline.optimize._journal import JournalEntry, JournalStatus
from redline.optimize._pids import PidRegistry
from redline.plan import check_scope

#: Counts a test-data entry's table now: (rows still tagged, rows in all).
RowsNow = Callable[[Change, Mapping[str, str]], tuple[int, int]]

__all__ = [
    "BASELINE_TOLERANCE",
    "Check",
    "CheckStatus",
    "check_baseline",
    "check_health",
    "check_journal",
    "check_processes",
    "check_test_data",
    "http_status",
]

#: How far a short run's p95 and throughput may stray from the baseline's (±5 %).
BASELINE_TOLERANCE: Final = 0.05
#: How long a health request may take, seconds.
HEALTH_TIMEOUT_S: Final = 5.0
#: The one answer a health check accepts.
HEALTHY_STATUS: Final = 200
#: Journal statuses of a half-applied entry.
HALF_APPLIED: Final = (JournalStatus.INTENT, JournalStatus.FAILED, JournalStatus.UNDO_FAILED)
#: The figures of a baseline check.
BASELINE_METRICS: Final = (Metric.P95, Metric.THROUGHPUT)

#: Fetches a URL and returns its HTTP status, or raises OSError.
StatusOf = Callable[[str], int]


class CheckStatus(enum.Enum):
    """How a check ended."""

    #: The system is as it should be.
    PASS = "pass"
    #: It is not; the figure says how.
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One line of the checklist."""

    name: str
    status: CheckStatus
    #: What was measured or found, in a few words.
    figure: str

    @property
    def passed(self) -> bool:
        return self.status is CheckStatus.PASS


def _check(name: str, passed: bool, figure: str) -> Check:
    return Check(name, CheckStatus.PASS if passed else CheckStatus.FAIL, figure)


def http_status(url: str, *, timeout_s: float = HEALTH_TIMEOUT_S) -> int:
    """GET ``url`` once (no redirects followed) and return the status code.

    Raises:
        OSError: it could not be reached or answered nothing HTTP.
    """
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname or "", parts.port, timeout=timeout_s)
    try:
        conn.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        return conn.getresponse().status
    except http.client.HTTPException as exc:
        raise OSError(f"not an HTTP answer: {exc!r}") from None
    finally:
        conn.close()


def check_health(
    urls: Sequence[str], *, allowed_hosts: Iterable[str] = (), status_of: StatusOf = http_status
) -> list[Check]:
    """One check per URL: it answers 200.

    Raises:
        ScopeError: a URL's host is neither loopback nor allowed (before any request).
    """
    check_scope(urls, allowed_hosts, field="--health")
    checks = []
    for url in urls:
        try:
            status = status_of(url)
        except OSError as exc:
            checks.append(_check(f"health {url}", False, f"no answer: {exc.strerror or exc}"))
            continue
        checks.append(_check(f"health {url}", status == HEALTHY_STATUS, f"HTTP {status}"))
    return checks


def check_baseline(baseline: ComparedRun, candidate: ComparedRun) -> Check:
    """A short run against the stored baseline: p95 and throughput within ±5 % (see above)."""
    name = f"baseline {baseline.name}"
    result = compare_runs(baseline, candidate, min_effect=BASELINE_TOLERANCE)
    if isinstance(result, NotComparable):
        return _check(name, False, "not comparable: " + "; ".join(result.reasons))
    overall = result.overall()
    figures, passed = [], True
    for metric in BASELINE_METRICS:
        delta = overall.deltas[metric]
        change = "n/a" if delta.change is None else f"{delta.change:+.1%}"
        figures.append(f"{metric.value} {change}")
        passed = passed and delta.verdict is Verdict.NO_CHANGE
    return _check(name, passed, f"{', '.join(figures)} (allowed ±{BASELINE_TOLERANCE:.0%})")


def check_processes(registry: PidRegistry) -> Check:
    """No process redline started still runs."""
    live = registry.live()
    if not live:
        return _check("processes", True, "none left running")
    shown = ", ".join(f"{p.role} pid {p.pid} ({' '.join(p.cmdline)[:60]})" for p in live)
    return _check("processes", False, f"{len(live)} still running: {shown}")


def check_test_data(entries: Sequence[JournalEntry], *, rows_now: RowsNow | None = None) -> Check:
    """Every test-data entry of the journal is undone and, where ``rows_now`` can count
    them, its table holds no tagged row and as many rows as before the data went in."""
    data = [e for e in entries if e.change.kind is ChangeKind.TEST_DATA]
    if not data:
        return _check("test data", True, "none journaled")
    left = [f"{e.id} ({e.status.value})" for e in data if e.status is not JournalStatus.UNDONE]
    counted, uncounted = 0, []
    for entry in data:
        if rows_now is None or entry.status is not JournalStatus.UNDONE:
            continue
        try:
            tagged, rows = rows_now(entry.change, entry.state)
        except ChangeError as exc:
            uncounted.append(f"{entry.id}: {exc}")
            continue
        counted += 1
        before = int(entry.state.get("rows_before", rows))
        if tagged or rows != before:
            left.append(f"{entry.id} ({entry.state.get('table')}: {rows:,} rows, "
                        f"{before:,} before; {tagged:,} still tagged)")  # fmt: skip
    if left or uncounted:
        return _check("test data", False, f"{len(left) + len(uncounted)} of {len(data)} not "
                      f"undone or not back: {', '.join(left + uncounted)}")  # fmt: skip
    how = f"; {counted} row count(s) back to their recorded values" if counted else ""
    return _check("test data", True, f"{len(data)} test-data change(s), all undone{how}")


def check_journal(entries: Sequence[JournalEntry]) -> Check:
    """No journal entry is half-applied (intent only, failed, or its undo failed)."""
    half = [e for e in entries if e.status in HALF_APPLIED]
    if not half:
        return _check("journal", True, f"{len(entries)} entries, none half-applied")
    shown = ", ".join(f"{e.id} {e.status.value}: {e.change.summary[:40]}" for e in half)
    return _check("journal", False, f"{len(half)} half-applied: {shown}")
