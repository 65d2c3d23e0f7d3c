"""Turn run records into medians, ratios and Markdown tables.

Every figure is the median over a tool's successful runs; a ratio is the ratio of two
medians. The raw runs stay in the JSON results file.

CPU per request comes in two figures (see bench/README.md): "during load" leaves out
the generator's start-up, "whole life" does not. The issue's targets are judged on
the first; the second is shown beside it.
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
            "load_cpu_us_per_req": median_of(runs, lambda r: r.load_cpu_us_per_req),
            "errors": median_of(runs, lambda r: r.errors),
            "dropped": median_of(runs, lambda r: r.dropped),
            "peak_rss_kib": median_of(runs, lambda r: r.peak_rss_kib),
            "peak_pss_kib": median_of(runs, lambda r: r.peak_pss_kib),
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


def verdict(value: float | None, ok: Callable[[float], bool], goal: str, beside: str = "") -> str:
    """One goal line; beside (e.g. the whole-life figure) is shown after, not judged."""
    beside = f" ({beside})" if beside else ""
    if value is None:
        return f"- {goal}: not measured{beside}"
    return f"- {goal}: {value:.2f} → {'PASS' if ok(value) else 'FAIL'}{beside}"


def load_cpu(r: RunRecord) -> float | None:
    return r.load_cpu_us_per_req


def life_cpu(r: RunRecord) -> float | None:
    return r.cpu_us_per_req


def cpu_verdict(records: list[RunRecord], tool: str, reference: str, limit: float) -> str:
    """Judge tool's CPU/req during load against reference's; whole life shown beside."""
    goal = f"{tool} CPU/req during load ÷ {reference} ≤ {limit}"
    value = redline_vs(records, tool, reference, load_cpu)
    life = redline_vs(records, tool, reference, life_cpu)
    return verdict(value, lambda v: v <= limit, goal, f"whole life: {fmt(life, '.2f')}")


def failures(records: list[RunRecord]) -> str:
    failed = [r for r in records if not r.ok]
    lines = [f"- run {r.run} {r.tool}: {(r.failure or '').strip()[-300:]}" for r in failed]
    return ("\n\nFailed runs:\n" + "\n".join(lines)) if lines else ""


# --- one renderer per benchmark -----------------------------------------------------------


def closed_rows(records: list[RunRecord], reference: str) -> list[list[str]]:
    ref = ok_runs(records, reference)
    ref_rps = median_of(ref, lambda r: r.rps)
    ref_load, ref_life = median_of(ref, load_cpu), median_of(ref, life_cpu)
    rows = []
    for tool in tools_in_order(records):
        runs = ok_runs(records, tool)
        rps = median_of(runs, lambda r: r.rps)
        load, life = median_of(runs, load_cpu), median_of(runs, life_cpu)
        rows.append([
            tool,
            spread(runs, lambda r: r.rps),
            fmt(ratio(rps, ref_rps), ".2f", "×"),
            fmt(load, ".2f"),
            fmt(ratio(load, ref_load), ".2f", "×"),
            fmt(life, ".2f"),
            fmt(ratio(life, ref_life), ".2f", "×"),
            fmt(median_of(runs, lambda r: r.errors)),
            f"{len(runs)}/{sum(r.tool == tool for r in records)}",
        ])  # fmt: skip
    return rows


CLOSED_HEADER = [
    "tool", "req/s median (min–max)", "req/s ÷ wrk",
    "CPU µs/req during load", "÷ wrk", "CPU µs/req whole life", "÷ wrk",
    "errors", "runs ok",
]  # fmt: skip


def redline_vs(
    records: list[RunRecord], tool: str, reference: str, get: Callable[[RunRecord], float | None]
) -> float | None:
    """Return median(get) of tool over median(get) of reference."""
    mine, theirs = ok_runs(records, tool), ok_runs(records, reference)
    return ratio(median_of(mine, get), median_of(theirs, get))


def render_plain(records: list[RunRecord]) -> str:
    lines = [table(CLOSED_HEADER, closed_rows(records, "wrk"))]
    if "redline" in tools_in_order(records):
        goal = f"redline req/s ÷ wrk ≥ {PLAIN_MIN_RPS_RATIO}"
        value = redline_vs(records, "redline", "wrk", lambda r: r.rps)
        lines.append(verdict(value, lambda v: v >= PLAIN_MIN_RPS_RATIO, goal))
        lines.append(cpu_verdict(records, "redline", "wrk", PLAIN_MAX_CPU_RATIO))
    return "\n".join(lines) + failures(records)


def render_check(records: list[RunRecord]) -> str:
    lines = [table(CLOSED_HEADER, closed_rows(records, "wrk"))]
    for r in records:
        failed_checks = r.extra.get("checks_failed")
        if failed_checks:
            lines.append(f"- run {r.run} {r.tool}: {failed_checks} failed checks")
    redlines = [tool for tool in tools_in_order(records) if tool.startswith("redline")]
    lines += [cpu_verdict(records, tool, "wrk", CHECK_MAX_CPU_RATIO) for tool in redlines]
    lines.append("\nwrk sends plain GETs here (no check, no extraction): the reference.")
    return "\n".join(lines) + failures(records)


def render_open(records: list[RunRecord]) -> str:
    header = [
        "tool", "target req/s", "achieved req/s", "off target", "dropped",
        "CPU µs/req during load", "CPU µs/req whole life",
    ]  # fmt: skip
    rows = []
    for tool in tools_in_order(records):
        runs = ok_runs(records, tool)
        rps = median_of(runs, lambda r: r.rps)
        off = ratio(rps, OPEN_RATE_PER_S)
        rows.append([
            tool, f"{OPEN_RATE_PER_S:,}", spread(runs, lambda r: r.rps),
            fmt(None if off is None else 100 * (off - 1), "+.2f", " %"),
            fmt(median_of(runs, lambda r: r.dropped)),
            fmt(median_of(runs, load_cpu), ".2f"),
            fmt(median_of(runs, life_cpu), ".2f"),
        ])  # fmt: skip
    lines = [table(header, rows)]
    if "redline" in tools_in_order(records):
        lines.append(cpu_verdict(records, "redline", "k6", OPEN_MAX_CPU_RATIO))
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
        "tool", "requests", "dropped", "service p99", "service max",
        "response p99", "response max",
    ]  # fmt: skip
    rows = []
    for tool in tools_in_order(records):
        runs = ok_runs(records, tool)
        sent = "service" if tool.startswith("redline") else "sent"
        rows.append([
            tool,
            fmt(median_of(runs, lambda r: r.count)),
            fmt(median_of(runs, lambda r: r.dropped)),
            latency_ms(runs, sent, "p99"), latency_ms(runs, sent, "max"),
            latency_ms(runs, "response", "p99"), latency_ms(runs, "response", "max"),
        ])  # fmt: skip
    note = (
        f"\n\nTarget {STALL_RATE_PER_S:,} req/s for the run, at most {STALL_MAX_VUS} connections; "
        "the server stalls 1 s once, 40 % into the run. Service time runs from when the "
        "request was sent; response time from its intended start on the schedule (redline "
        "only). redline (queue) holds an arrival that finds every VU busy until one is free "
        "(at most the request timeout), so the stall shows in its response time; redline "
        "(drop), like k6, counts such arrivals as dropped. k6 and wrk report one latency, "
        "from send, shown as service time. wrk 4 post-corrects its histogram "
        "(stats_correct adds synthetic samples at the mean per-connection interval), so its "
        "percentiles are an estimate, not measured."
    )
    return table(header, rows) + note + failures(records)


def render_idle(records: list[RunRecord]) -> str:
    header = [
        "tool", "connections seen by nginx", "time to open all (from spawn)",
        "peak RSS (sum)", f"RSS @{IDLE_BASELINE_CONNS}", "RSS KiB per extra conn",
        "peak PSS (sum)", "PSS KiB per extra conn", "errors",
    ]  # fmt: skip
    rows = []
    for tool in dict.fromkeys(r.tool.rsplit(" @", 1)[0] for r in records):
        base = [r for r in records if r.tool == f"{tool} @{IDLE_BASELINE_CONNS}" and r.ok]
        full = [r for r in records if r.tool.startswith(f"{tool} @") and r not in base and r.ok]
        conns = median_of(full, lambda r: r.extra.get("nginx_peak_active"))
        conns_wanted = median_of(full, lambda r: r.extra.get("conns"))
        rss = median_of(full, lambda r: r.peak_rss_kib)
        rss_base = median_of(base, lambda r: r.peak_rss_kib)
        pss = median_of(full, lambda r: r.peak_pss_kib)
        pss_base = median_of(base, lambda r: r.peak_pss_kib)
        rows.append([
            tool, f"{fmt(conns)} of {fmt(conns_wanted)}",
            fmt(median_of(full, lambda r: r.extra.get("open_from_spawn_s")), ".2f", " s"),
            fmt(None if rss is None else rss / 1024, ",.1f", " MiB"),
            fmt(None if rss_base is None else rss_base / 1024, ",.1f", " MiB"),
            fmt(per_connection(rss, rss_base, conns_wanted), ".2f"),
            fmt(None if pss is None else pss / 1024, ",.1f", " MiB"),
            fmt(per_connection(pss, pss_base, conns_wanted), ".2f"),
            fmt(median_of(full, lambda r: r.errors)),
        ])  # fmt: skip
    notes = dict.fromkeys(str(r.extra["note"]) for r in records if r.extra.get("note"))
    note = "".join(f"\n\nNote: {n}." for n in notes)
    hold = next((r.extra.get("hold_s") for r in records if r.extra.get("hold_s")), None)
    method = (
        f"\n\nEach connection sends one GET and then idles; each run holds them {hold} s. "
        "Time to open: from the generator's spawn (start-up included) to the first poll "
        "(every 50 ms) at which nginx's stub_status shows them all active. Memory: the "
        "peak over the run of the generator tree's summed VmRSS (forked workers share "
        "pages, which that sum counts once per process, so it overstates) and summed Pss "
        "(shared pages split among their sharers); per extra connection against the "
        f"{IDLE_BASELINE_CONNS}-connection run of the same tool and worker count."
    )
    return table(header, rows) + method + note + failures(records)


def per_connection(peak: float | None, base: float | None, conns: float | None) -> float | None:
    """KiB per connection above the baseline run's, or None when either is missing."""
    if peak is None or base is None or conns is None or conns <= IDLE_BASELINE_CONNS:
        return None
    return (peak - base) / (conns - IDLE_BASELINE_CONNS)


RENDERERS: dict[str, Callable[[list[RunRecord]], str]] = {
    "plain-get": render_plain,
    "check-extract": render_check,
    "open-rate": render_open,
    "stall": render_stall,
    "idle-conns": render_idle,
}
