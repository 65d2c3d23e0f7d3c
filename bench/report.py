"""Turn run records into medians, ratios and Markdown tables.

Every figure is the median over a tool's successful runs; a ratio is the ratio of two
medians. The raw runs stay in the JSON results file.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

from benchmarks import (
    IDLE_BASELINE_CONNS,
    OPEN_RATE_PER_S,
    STALL_MAX_VUS,
    STALL_RATE_PER_S,
    RunRecord,
)

#: Benchmark 1: redline's rps must reach this fraction of wrk's ...
PLAIN_MIN_RPS_RATIO = 0.9
#: ... at no more than this multiple of wrk's CPU per request.
PLAIN_MAX_CPU_RATIO = 1.25
#: Benchmark 2: redline with checks and extraction, CPU per request vs plain wrk.
CHECK_MAX_CPU_RATIO = 3.0
#: Benchmark 3: achieved rate within this fraction of the target, and redline's CPU per
#: request at most this fraction of k6's.
OPEN_RATE_TOLERANCE = 0.01
OPEN_MAX_CPU_RATIO = 0.25


def tools_in_order(records: list[RunRecord]) -> list[str]:
    """Return tool names in the order they first ran."""
    return list(dict.fromkeys(r.tool for r in records))


def ok_runs(records: list[RunRecord], tool: str) -> list[RunRecord]:
    return [r for r in records if r.tool == tool and r.ok]


def median_of(runs: list[RunRecord], get: Callable[[RunRecord], float | None]) -> float | None:
    values = [v for v in map(get, runs) if v is not None]
    return statistics.median(values) if values else None


def summarize(records: list[RunRecord]) -> dict[str, dict[str, float | int | None]]:
    """Return per-tool medians of the headline figures, for the JSON results file."""
    summary: dict[str, dict[str, float | int | None]] = {}
    for tool in tools_in_order(records):
        runs = ok_runs(records, tool)
        summary[tool] = {
            "runs_ok": len(runs),
            "runs": sum(r.tool == tool for r in records),
            "rps": median_of(runs, lambda r: r.rps),
            "count": median_of(runs, lambda r: r.count),
            "cpu_us_per_req": median_of(runs, lambda r: r.cpu_us_per_req),
            "errors": median_of(runs, lambda r: r.errors),
            "dropped": median_of(runs, lambda r: r.dropped),
            "peak_rss_kib": median_of(runs, lambda r: r.peak_rss_kib),
        }
    return summary


def fmt(value: float | None, spec: str = ",.0f", suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def spread(runs: list[RunRecord], get: Callable[[RunRecord], float | None]) -> str:
    """Return 'median (min–max)' of a figure over runs."""
    values = [v for v in map(get, runs) if v is not None]
    if not values:
        return "n/a"
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(value: float | None, ok: Callable[[float], bool], goal: str) -> str:
    if value is None:
        return f"- {goal}: not measured"
    return f"- {goal}: {value:.2f} → {'PASS' if ok(value) else 'FAIL'}"


def failures(records: list[RunRecord]) -> str:
    failed = [r for r in records if not r.ok]
    lines = [f"- run {r.run} {r.tool}: {(r.failure or '').strip()[-300:]}" for r in failed]
    return ("\n\nFailed runs:\n" + "\n".join(lines)) if lines else ""


# --- one renderer per benchmark -----------------------------------------------------------


def closed_rows(records: list[RunRecord], reference: str) -> list[list[str]]:
    ref = ok_runs(records, reference)
    ref_rps = median_of(ref, lambda r: r.rps)
    ref_cpu = median_of(ref, lambda r: r.cpu_us_per_req)
    rows = []
    for tool in tools_in_order(records):
        runs = ok_runs(records, tool)
        rps = median_of(runs, lambda r: r.rps)
        cpu = median_of(runs, lambda r: r.cpu_us_per_req)
        errors = median_of(runs, lambda r: r.errors)
        rows.append([
            tool,
            spread(runs, lambda r: r.rps),
            fmt(cpu, ".2f"),
            fmt(ratio(rps, ref_rps), ".2f", "×"),
            fmt(ratio(cpu, ref_cpu), ".2f", "×"),
            fmt(errors),
            f"{len(runs)}/{sum(r.tool == tool for r in records)}",
        ])  # fmt: skip
    return rows


CLOSED_HEADER = [
    "tool", "req/s median (min–max)", "CPU µs/req", "req/s ÷ wrk", "CPU/req ÷ wrk",
    "errors", "runs ok",
]  # fmt: skip


def redline_vs(records: list[RunRecord], tool: str, reference: str, key: str) -> float | None:
    """Return median(key) of tool over median(key) of reference."""
    get: Callable[[RunRecord], float | None] = lambda r: getattr(r, key)  # noqa: E731
    mine, theirs = ok_runs(records, tool), ok_runs(records, reference)
    return ratio(median_of(mine, get), median_of(theirs, get))


def render_plain(records: list[RunRecord]) -> str:
    lines = [table(CLOSED_HEADER, closed_rows(records, "wrk"))]
    if "redline" in tools_in_order(records):
        goal = f"redline req/s ÷ wrk ≥ {PLAIN_MIN_RPS_RATIO}"
        value = redline_vs(records, "redline", "wrk", "rps")
        lines.append(verdict(value, lambda v: v >= PLAIN_MIN_RPS_RATIO, goal))
        goal = f"redline CPU/req ÷ wrk ≤ {PLAIN_MAX_CPU_RATIO}"
        value = redline_vs(records, "redline", "wrk", "cpu_us_per_req")
        lines.append(verdict(value, lambda v: v <= PLAIN_MAX_CPU_RATIO, goal))
    return "\n".join(lines) + failures(records)


def render_check(records: list[RunRecord]) -> str:
    lines = [table(CLOSED_HEADER, closed_rows(records, "wrk"))]
    for r in records:
        failed_checks = r.extra.get("checks_failed")
        if failed_checks:
            lines.append(f"- run {r.run} {r.tool}: {failed_checks} failed checks")
    if "redline (plan)" in tools_in_order(records):
        goal = f"redline (plan) CPU/req ÷ plain wrk ≤ {CHECK_MAX_CPU_RATIO}"
        value = redline_vs(records, "redline (plan)", "wrk", "cpu_us_per_req")
        lines.append(verdict(value, lambda v: v <= CHECK_MAX_CPU_RATIO, goal))
    return "\n".join(lines) + failures(records)


def render_open(records: list[RunRecord]) -> str:
    header = ["tool", "target req/s", "achieved req/s", "off target", "dropped", "CPU µs/req"]
    rows = []
    for tool in tools_in_order(records):
        runs = ok_runs(records, tool)
        rps = median_of(runs, lambda r: r.rps)
        off = ratio(rps, OPEN_RATE_PER_S)
        rows.append([
            tool, f"{OPEN_RATE_PER_S:,}", spread(runs, lambda r: r.rps),
            fmt(None if off is None else 100 * (off - 1), "+.2f", " %"),
            fmt(median_of(runs, lambda r: r.dropped)),
            fmt(median_of(runs, lambda r: r.cpu_us_per_req), ".2f"),
        ])  # fmt: skip
    lines = [table(header, rows)]
    if "redline" in tools_in_order(records):
        goal = f"redline CPU/req ÷ k6 ≤ {OPEN_MAX_CPU_RATIO}"
        value = redline_vs(records, "redline", "k6", "cpu_us_per_req")
        lines.append(verdict(value, lambda v: v <= OPEN_MAX_CPU_RATIO, goal))
        achieved = median_of(ok_runs(records, "redline"), lambda r: r.rps)
        off = ratio(achieved, OPEN_RATE_PER_S)
        goal = f"redline |achieved ÷ target − 1| ≤ {OPEN_RATE_TOLERANCE}"
        value = None if off is None else abs(off - 1)
        lines.append(verdict(value, lambda v: v <= OPEN_RATE_TOLERANCE, goal))
    return "\n".join(lines) + failures(records)


def latency_ms(runs: list[RunRecord], kind: str, stat: str) -> str:
    value = median_of(runs, lambda r: r.latency_us.get(kind, {}).get(stat))
    return fmt(None if value is None else value / 1e3, ",.1f", " ms")


def render_stall(records: list[RunRecord]) -> str:
    header = [
        "tool", "requests", "dropped", "p99 from send", "max from send",
        "p99 from intended start", "max from intended start",
    ]  # fmt: skip
    rows = []
    for tool in tools_in_order(records):
        runs = ok_runs(records, tool)
        sent = "service" if tool == "redline" else "sent"
        rows.append([
            tool,
            fmt(median_of(runs, lambda r: r.count)),
            fmt(median_of(runs, lambda r: r.dropped)),
            latency_ms(runs, sent, "p99"), latency_ms(runs, sent, "max"),
            latency_ms(runs, "response", "p99"), latency_ms(runs, "response", "max"),
        ])  # fmt: skip
    note = (
        f"\nTarget {STALL_RATE_PER_S:,} req/s for the run, at most {STALL_MAX_VUS} connections; "
        "the server stalls 1 s once, 40 % into the run. 'From send' is redline's service "
        "time and the others' own latency; 'from intended start' is redline's response time. "
        "k6 counts the starts it could not serve as dropped and times only what it sent; "
        "wrk 4 post-corrects its histogram (stats_correct adds synthetic samples at the mean "
        "per-connection interval), so its percentiles are an estimate, not measured."
    )
    return table(header, rows) + note + failures(records)


def render_idle(records: list[RunRecord]) -> str:
    header = [
        "tool", "connections seen by nginx", "time to open all (from spawn)", "peak RSS",
        f"RSS @{IDLE_BASELINE_CONNS}", "KiB per extra connection",
    ]  # fmt: skip
    rows = []
    for tool in dict.fromkeys(r.tool.rsplit(" @", 1)[0] for r in records):
        base = [r for r in records if r.tool == f"{tool} @{IDLE_BASELINE_CONNS}" and r.ok]
        full = [r for r in records if r.tool.startswith(f"{tool} @") and r not in base and r.ok]
        conns = median_of(full, lambda r: r.extra.get("nginx_peak_active"))
        conns_wanted = median_of(full, lambda r: r.extra.get("conns"))
        rss = median_of(full, lambda r: r.peak_rss_kib)
        rss_base = median_of(base, lambda r: r.peak_rss_kib)
        per_conn = None
        if None not in (rss, rss_base, conns_wanted) and conns_wanted > IDLE_BASELINE_CONNS:
            per_conn = (rss - rss_base) / (conns_wanted - IDLE_BASELINE_CONNS)
        rows.append([
            tool, f"{fmt(conns)} of {fmt(conns_wanted)}",
            fmt(median_of(full, lambda r: r.extra.get("open_from_spawn_s")), ".2f", " s"),
            fmt(None if rss is None else rss / 1024, ",.1f", " MiB"),
            fmt(None if rss_base is None else rss_base / 1024, ",.1f", " MiB"),
            fmt(per_conn, ".2f"),
        ])  # fmt: skip
    note = next((r.extra.get("note") for r in records if r.extra.get("note")), None)
    note = f"\nNote: {note}." if note else ""
    return table(header, rows) + note + failures(records)


RENDERERS: dict[str, Callable[[list[RunRecord]], str]] = {
    "plain-get": render_plain,
    "check-extract": render_check,
    "open-rate": render_open,
    "stall": render_stall,
    "idle-conns": render_idle,
}
