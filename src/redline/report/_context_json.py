"""``redline context``: the performance context of a system, as one JSON document.

An agent (or a person) asks with a request on stdin::

    {"requesting_agent": "planner", "request_type": "get_performance_context",
     "payload": {"query": "why is checkout slow?"}}

and gets back what redline knows, from ``redline.toml`` and the stored runs (newest first).
The fields (``schema_version`` 1):

- ``agent``: ``"redline"``; ``request_type``, ``requesting_agent``, ``query``: echoed
  (null without a request).
- ``config``: the ``redline.toml`` read, or null.
- ``slas``: one entry per SLA of the config: ``threshold`` (``"p95<=300ms"``), ``metric``,
  ``limit`` (µs for latency, a fraction for error_rate, per second for rps), ``latest``
  (the latest run's figure in the same unit, or null) and ``met`` (null when unknown).
- ``current_metrics``: the latest run (``run_id``, ``name``, ``started_at``, ``test_type``,
  ``target``, ``requests``, ``rps``, ``error_rate``, ``latency_us`` with p50/p95/p99/max of
  response time), and ``recent``: the same figures, in short, of up to 5 runs; null without runs.
- ``architecture``: ``targets`` (the config's URLs, else the runs' targets); ``server``
  (the config's pid or command, redacted, and what the latest sampled run saw: ``processes``,
  ``threads``, ``busiest_thread`` (its name), ``cores_available``, ``rss_bytes``, from
  ``resources.server``); ``host`` (``resources.host_info``); ``databases`` and ``caches``
  (``dsn`` redacted, ``kind``, ``version`` when a run stored it).
- ``load_patterns``: ``runs`` (how many), ``test_types`` (runs per type, ``plain`` for none),
  ``peak_rps`` (the busiest second of any run), ``peak_concurrency`` (most active VUs in a
  second), ``rps_by_endpoint`` (the latest run's).
- ``pain_points``: the top findings (``rule``, ``category``, ``severity``, ``title``,
  ``location``, ``recommendation``) of the latest run with a stored diagnosis, else of the
  latest run diagnosed now; ``run_id``.
- ``scalability``: ``expected_peak_rps`` and ``growth_per_month`` (from the config),
  ``capacity_rps`` (one instance, from the latest run with held load levels: the highest
  throughput within the p95 SLA, by the USL fit where it holds, else measured; the highest
  measured throughput without a p95 SLA), ``capacity_run_id``, ``capacity_source``,
  ``headroom`` (capacity / expected peak), ``months_of_headroom`` (months until the peak
  passes capacity: 0 already, null beyond the forecast horizon) and ``forecast`` (a sentence).
- ``notes``: what could not be answered and why.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redline.diagnose import (
    USL_MIN_POINTS,
    LoadPoint,
    diagnose,
    fit_usl,
    fitted_within_sla,
    forecast,
    load_points,
    measured_within_sla,
)
from redline.errors import ConfigError
from redline.plan import Context, Metric, Threshold, redact_passwords

__all__ = [
    "CONTEXT_SCHEMA_VERSION",
    "REQUEST_TYPES",
    "ContextRequest",
    "parse_context_request",
    "performance_context",
]

#: Version of the document's layout. 1: first version.
CONTEXT_SCHEMA_VERSION = 1
#: The request types ``redline context`` answers.
REQUEST_TYPES = ("get_performance_context",)
#: Runs summarised under ``current_metrics.recent``.
RECENT_RUNS = 5
#: Findings listed under ``pain_points``.
TOP_FINDINGS = 5
#: The latency percentiles reported, as the results file names them.
PERCENTILES = ("p50", "p95", "p99", "max")


@dataclass(frozen=True)
class ContextRequest:
    """A performance-context request, as read from stdin."""

    requesting_agent: str
    request_type: str
    query: str | None


def parse_context_request(text: str) -> ContextRequest | None:
    """The request in ``text`` (None when it is blank: no request is fine).

    Raises:
        ConfigError: not JSON, not an object, a field of the wrong type, or an unknown
            ``request_type``: ``stdin: request_type: 'x' is not a request type; allowed ...``.
    """
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"stdin: not a JSON request: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError("stdin: the request is not a JSON object")
    agent = data.get("requesting_agent", "")
    kind = data.get("request_type", REQUEST_TYPES[0])
    payload = data.get("payload", {})
    if not isinstance(agent, str):
        raise ConfigError(f"stdin: requesting_agent: {agent!r} is not a string")
    if kind not in REQUEST_TYPES:
        allowed = ", ".join(REQUEST_TYPES)
        raise ConfigError(f"stdin: request_type: {kind!r} is not a request type; allowed {allowed}")
    if not isinstance(payload, dict):
        raise ConfigError(f"stdin: payload: {payload!r} is not an object")
    query = payload.get("query")
    if query is not None and not isinstance(query, str):
        raise ConfigError(f"stdin: payload.query: {query!r} is not a string")
    return ContextRequest(agent, kind, query)


def performance_context(
    context: Context | None,
    documents: Sequence[Mapping[str, Any]],
    request: ContextRequest | None = None,
) -> dict[str, Any]:
    """The performance context (see the module docstring for the fields).

    Args:
        context: the ``redline.toml`` read, or None without one.
        documents: stored results documents, newest first.
        request: the request being answered, echoed back.
    """
    notes: list[str] = []
    latest = documents[0] if documents else None
    if context is None:
        notes.append("no redline.toml: no SLAs, targets or expected load (run redline init)")
    if latest is None:
        notes.append("no stored runs: no metrics, load patterns or capacity (run redline run)")
    return {
        "schema_version": CONTEXT_SCHEMA_VERSION,
        "agent": "redline",
        "request_type": request.request_type if request else REQUEST_TYPES[0],
        "requesting_agent": request.requesting_agent if request else None,
        "query": request.query if request else None,
        "config": str(context.source) if context and context.source else None,
        "slas": [_sla(threshold, latest) for threshold in (context.slas if context else ())],
        "current_metrics": _current(documents),
        "architecture": _architecture(context, documents),
        "load_patterns": _load_patterns(documents),
        "pain_points": _pain_points(documents, notes),
        "scalability": _scalability(context, documents, notes),
        "notes": notes,
    }


# --- figures of one run ------------------------------------------------------------------


def _total(document: Mapping[str, Any]) -> Mapping[str, Any]:
    return (document.get("summary") or {}).get("total") or {}


def _latency(document: Mapping[str, Any]) -> dict[str, Any]:
    response = _total(document).get("response") or {}
    return {name: response.get(name) for name in PERCENTILES}


def _figure(threshold: Threshold, document: Mapping[str, Any]) -> float | None:
    total = _total(document)
    if threshold.metric is Metric.ERROR_RATE:
        return total.get("error_rate")
    if threshold.metric is Metric.RPS:
        return total.get("rps")
    value = (total.get("response") or {}).get(threshold.metric.value)
    return None if value is None else float(value)


def _sla(threshold: Threshold, latest: Mapping[str, Any] | None) -> dict[str, Any]:
    figure = _figure(threshold, latest) if latest is not None else None
    return {
        "threshold": threshold.source,
        "metric": threshold.metric.value,
        "limit": threshold.value,
        "latest": figure,
        "met": None if figure is None else threshold.holds(figure),
    }


def _run_line(document: Mapping[str, Any]) -> dict[str, Any]:
    run = document.get("run") or {}
    total = _total(document)
    return {
        "run_id": run.get("id"),
        "name": run.get("name"),
        "started_at": run.get("started_at"),
        "test_type": _test_type(document),
        "rps": total.get("rps"),
        "error_rate": total.get("error_rate"),
        "p95_us": (total.get("response") or {}).get("p95"),
    }


def _test_type(document: Mapping[str, Any]) -> str | None:
    analysis = document.get("analysis") or {}
    test = (document.get("plan") or {}).get("test") or {}
    found = analysis.get("type") or test.get("type")
    return str(found) if found else None


def _current(documents: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    if not documents:
        return None
    latest = documents[0]
    return {
        **_run_line(latest),
        "target": _targets([latest])[0] if _targets([latest]) else None,
        "requests": _total(latest).get("count"),
        "latency_us": _latency(latest),
        "recent": [_run_line(document) for document in documents[:RECENT_RUNS]],
    }


# --- architecture ------------------------------------------------------------------------


def _targets(documents: Sequence[Mapping[str, Any]]) -> list[str]:
    urls = [
        str(request.get("url"))
        for document in documents
        for request in (document.get("plan") or {}).get("requests") or []
    ]
    return list(dict.fromkeys(urls))


def _sampled(documents: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The resources of the latest run that sampled its server."""
    for document in documents:
        resources = document.get("resources") or {}
        if resources.get("server"):
            return resources
    return None


def _server(context: Context | None, documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    spec = context.server if context else None
    server: dict[str, Any] = {
        "pid": spec.pid if spec else None,
        "command": redact_passwords(spec.command) if spec and spec.command else None,
    }
    resources = _sampled(documents)
    samples = list((resources or {}).get("server") or [])
    if not samples:
        return {**server, "sampled": False}
    last = samples[-1]
    return {
        **server,
        "sampled": True,
        "processes": max(s.get("processes") or 1 for s in samples),
        "threads": max((s.get("threads") or 0 for s in samples), default=None) or None,
        "busiest_thread": last.get("max_thread_name"),
        "cores_available": last.get("cores_available"),
        "rss_bytes": max((s.get("rss_bytes") or 0 for s in samples), default=None) or None,
    }


def _stored_version(found: Mapping[str, Any] | None) -> str | None:
    if not found:
        return None
    server = found.get("server") or {}
    version = found.get("version") or found.get("server_version") or server.get("version")
    return None if version is None else str(version)


def _stores(
    configured: Sequence[object], documents: Sequence[Mapping[str, Any]], key: str
) -> list[dict[str, Any]]:
    """The config's databases (``key`` "database") or caches, with what runs stored of them."""
    stored = [document[key] for document in documents if document.get(key)]
    rows: list[dict[str, Any]] = []
    for dsn in configured:
        text = str(dsn)
        match = next((s for s in stored if s.get("dsn") == text), None)
        rows.append(
            {"dsn": text, "kind": text.partition("://")[0], "version": _stored_version(match)}
        )
    known = {row["dsn"] for row in rows}
    for found in stored:
        text = redact_passwords(str(found.get("dsn", "")))
        if text and text not in known:
            known.add(text)
            kind = found.get("kind") or text.partition("://")[0]
            rows.append({"dsn": text, "kind": kind, "version": _stored_version(found)})
    return rows


def _architecture(
    context: Context | None, documents: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    targets = [spec.url for spec in context.plan.requests] if context else _targets(documents)
    resources = _sampled(documents) or next(
        (d.get("resources") for d in documents if d.get("resources")), None
    )
    return {
        "environment": context.environment if context else None,
        "targets": targets,
        "server": _server(context, documents),
        "host": dict((resources or {}).get("host_info") or {}),
        "databases": _stores(context.databases if context else (), documents, "database"),
        "caches": _stores(context.caches if context else (), documents, "cache"),
    }


# --- load patterns, pain points ----------------------------------------------------------


def _peak_rps(document: Mapping[str, Any]) -> float:
    rows = (document.get("series") or {}).get("overall") or []
    return max((r.get("count", 0) / (r.get("duration_s") or 1) for r in rows), default=0.0)


def _peak_concurrency(document: Mapping[str, Any]) -> float:
    rows = (document.get("series") or {}).get("generator") or []
    return max((float(r.get("active_vus") or 0) for r in rows), default=0.0)


def _load_patterns(documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    types = Counter(_test_type(document) or "plain" for document in documents)
    endpoints = (documents[0].get("summary") or {}).get("endpoints") or {} if documents else {}
    return {
        "runs": len(documents),
        "test_types": dict(types.most_common()),
        "peak_rps": max((_peak_rps(d) for d in documents), default=None),
        "peak_concurrency": max((_peak_concurrency(d) for d in documents), default=None),
        "rps_by_endpoint": {name: figures.get("rps") for name, figures in endpoints.items()},
    }


def _pain_points(documents: Sequence[Mapping[str, Any]], notes: list[str]) -> dict[str, Any]:
    diagnosed = next((d for d in documents if d.get("diagnosis")), None)
    if diagnosed is None and not documents:
        return {"run_id": None, "findings": []}
    document = diagnosed if diagnosed is not None else documents[0]
    if diagnosed is not None:
        run_id, findings = diagnosed["run"]["id"], diagnosed["diagnosis"].get("findings") or []
    else:
        diagnosis = diagnose(document)
        run_id, findings = diagnosis.run_id, [f.to_dict() for f in diagnosis.findings]
    sampled = bool((document.get("resources") or {}).get("server"))
    if not findings:
        hint = "" if sampled else " (sample the server with --server-pid to see more)"
        notes.append(f"run {run_id}: no findings{hint}")
    keys = ("rule", "category", "severity", "title", "location", "recommendation")
    return {
        "run_id": run_id,
        "findings": [{k: f.get(k) for k in keys} for f in findings[:TOP_FINDINGS]],
    }


# --- scalability -------------------------------------------------------------------------


def _p95_limit_us(context: Context | None) -> float | None:
    for threshold in context.slas if context else ():
        if threshold.metric is Metric.P95:
            return threshold.value
    return None


def _capacity(points: list[LoadPoint], limit_us: float | None) -> tuple[float | None, str]:
    """One instance's throughput within the p95 limit, and how it was found (as ``capacity``)."""
    if limit_us is None:
        return max(p.rps for p in points), "measured maximum (no p95 SLA)"
    measured = measured_within_sla(points, limit_us)
    if len(points) >= USL_MIN_POINTS:
        fit = fit_usl([p.concurrency for p in points], [p.rps for p in points])
        fitted = fitted_within_sla(fit, points, limit_us)
        if fit.holds and fitted.rps is not None:
            return fitted.rps, fitted.source.value
    return measured.rps, measured.source.value


def _stepped(documents: Sequence[Mapping[str, Any]]) -> tuple[str, list[LoadPoint]] | None:
    for document in documents:
        try:
            return str(document["run"]["id"]), load_points(document)
        except ConfigError:
            continue
    return None


def _scalability(
    context: Context | None, documents: Sequence[Mapping[str, Any]], notes: list[str]
) -> dict[str, Any]:
    peak = context.expected_peak_rps if context else None
    growth = context.growth_per_month if context else None
    answer: dict[str, Any] = {
        "expected_peak_rps": peak,
        "growth_per_month": growth,
        "capacity_rps": None,
        "capacity_run_id": None,
        "capacity_source": None,
        "headroom": None,
        "months_of_headroom": None,
        "forecast": None,
    }
    stepped = _stepped(documents)
    if stepped is None:
        if documents:
            notes.append(
                "no stepped run: capacity unknown (run redline run URL --type scalability)"
            )
        return answer
    run_id, points = stepped
    capacity_rps, source = _capacity(points, _p95_limit_us(context))
    answer.update(capacity_rps=capacity_rps, capacity_run_id=run_id, capacity_source=source)
    if capacity_rps is None or not capacity_rps > 0 or peak is None:
        return answer
    answer["headroom"] = capacity_rps / peak
    if growth is not None:
        result = forecast(peak_rps=peak, growth=growth, capacity_rps=capacity_rps)
        answer["months_of_headroom"] = result.breaks_in_months
        answer["forecast"] = result.explanation()
    return answer
