"""``redline http audit URL... | PLAN``: how the endpoints answer browser and CDN caches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from redline.cli._history import PIPE_WIDTH, DbOption, run_document
from redline.diagnose import Diagnosis
from redline.diagnose._finding import ranked
from redline.diagnose._http_cache_rules import (
    Cacheability,
    CacheVerdict,
    cache_verdict,
    http_cache_findings,
    http_cache_notes,
)
from redline.errors import ConfigError, TargetError
from redline.load import RunResult
from redline.plan import (
    AUDIT_TIMEOUT_S_RANGE,
    Plan,
    check_scope,
    check_timeout,
    load_plan,
    load_yaml_plan,
)
from redline.probes._http_cache import (
    DEFAULT_AUDIT_TIMEOUT_S,
    AuditTarget,
    HttpCacheAudit,
    audit_http_cache,
    target_name,
    targets_from_plan,
)
from redline.report import render_diagnosis

__all__ = ["http_app", "http_audit_diagnosis", "with_http_audit"]

http_app = typer.Typer(name="http", help="Audit HTTP endpoints: caching, validators, compression.",
                       no_args_is_help=True)  # fmt: skip

#: How a target that is a plan file is read, by its suffix.
PLAN_READERS = {".toml": load_plan, ".yaml": load_yaml_plan, ".yml": load_yaml_plan}
#: The colour of each verdict in the table.
_VERDICT_STYLES = {
    Cacheability.CACHEABLE: "green",
    Cacheability.MUST_NOT: "yellow",
    Cacheability.UNKNOWN: "dim",
}


@http_app.command("audit")
def audit(
    targets: Annotated[
        list[str], typer.Argument(metavar="URL... | PLAN", help="URLs, or one plan file.")
    ],
    run: Annotated[
        str | None,
        typer.Option(
            "--run",
            metavar="RUN",
            help="A run (id or results file) whose request rates size the savings.",
        ),
    ] = None,
    timeout: Annotated[str, typer.Option(help="Limit for each request (100ms..1m).")] = (
        f"{DEFAULT_AUDIT_TIMEOUT_S:g}s"
    ),
    history: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Per endpoint: Cache-Control, validators and 304s, Vary, compression; what could be cached.

    At most 4 requests per GET endpoint (twice the same, once conditional, once
    accepting gzip), one at a time; other methods get none.
    """
    timeout_s = _timeout_s(timeout)
    endpoints = _endpoint_rates(history, run)
    wanted = _targets(targets, endpoints)
    result = audit_http_cache(wanted, timeout_s=timeout_s)
    if len(result.unreachable) == len(result.endpoints) and result.endpoints:
        first = result.unreachable[0]
        raise TargetError(
            f"http audit: {first.error}", hint="is the server running, on this host and port?"
        )
    diagnosis = http_audit_diagnosis(result, run_id=run or "http audit")
    verdicts = [cache_verdict(e) for e in result.endpoints]
    if as_json:
        out = {**result.to_dict(), "verdicts": [v.to_dict() for v in verdicts],
               **diagnosis.to_dict()}  # fmt: skip
        typer.echo(json.dumps(out, indent=1, ensure_ascii=False))
        return
    console = Console()
    console = console if console.is_terminal else Console(width=PIPE_WIDTH)
    _render_verdicts(verdicts, result, console)
    render_diagnosis(diagnosis, console, title="HTTP caching findings")


def http_audit_diagnosis(audit: HttpCacheAudit, *, run_id: str) -> Diagnosis:
    """The audit's findings and notes as a :class:`Diagnosis` (also for ``run --http-audit``)."""
    return Diagnosis(run_id, http_cache_findings(audit), False, http_cache_notes(audit))


def _timeout_s(text: str) -> float:
    return check_timeout(text, field="--timeout", allowed=AUDIT_TIMEOUT_S_RANGE)


def _endpoint_rates(history: Path | None, run: str | None) -> dict[str, Any]:
    """The run's per-endpoint summary (``rps``, ``count``), or nothing without ``--run``."""
    if run is None:
        return {}
    document = run_document(history, run)
    endpoints: dict[str, Any] = (document.get("summary") or {}).get("endpoints") or {}
    return endpoints


def _targets(given: list[str], endpoints: dict[str, Any]) -> list[AuditTarget]:
    """The plan's requests, or one GET per URL; scope is checked before any request.

    Raises:
        ConfigError: a plan file with URLs, or several plan files.
        ScopeError: a host that is not loopback nor in the plan's allowed_hosts.
    """
    plans = [t for t in given if Path(t).suffix in PLAN_READERS and "://" not in t]
    if plans:
        if len(given) > 1:
            raise ConfigError(
                f"http audit: give one plan file or URLs, not both; got {' '.join(given)!r}"
            )
        plan: Plan = PLAN_READERS[Path(plans[0]).suffix](Path(plans[0]))
        plan.validate_scope()
        return targets_from_plan(plan, endpoints)
    check_scope(given, [], field="http audit")
    names = [target_name(url) for url in given]
    return [
        AuditTarget(
            name=name if names.count(name) == 1 else url,
            method="GET",
            url=url,
            **_rates(endpoints.get(name)),
        )
        for name, url in zip(names, given, strict=True)
    ]


def _rates(summary: dict[str, Any] | None) -> dict[str, Any]:
    if not summary:
        return {}
    return {"rate_per_s": float(summary.get("rps") or 0.0), "requests": summary.get("count")}


def _render_verdicts(verdicts: list[CacheVerdict], audit: HttpCacheAudit, console: Console) -> None:
    table = Table(title="HTTP caching by endpoint", title_justify="left", title_style="bold")
    for column in ("endpoint", "status", "cacheability", "why", "caching headers"):
        table.add_column(column, overflow="fold")
    for verdict, endpoint in zip(verdicts, audit.endpoints, strict=True):
        first = endpoint.first
        status = str(first.status) if first is not None else "-"
        table.add_row(
            verdict.name,
            status,
            Text(verdict.cacheability.value, _VERDICT_STYLES[verdict.cacheability]),
            verdict.reason,
            verdict.policy,
        )
    console.print(table)


def with_http_audit(diagnosis: Diagnosis, result: RunResult) -> Diagnosis:
    """``run --http-audit``: the run's diagnosis with the audit of its plan's endpoints.

    The audit runs after the load, so its few requests are not in the run's figures;
    each endpoint's rate is the run's. An endpoint that cannot be audited is a note.
    """
    elapsed_s = result.elapsed_s
    rates = {
        name: {"rps": stats.count / elapsed_s if elapsed_s > 0 else 0.0, "count": stats.count}
        for name in result.series.endpoints()
        for stats in (result.series.total(name),)
    }
    audit = audit_http_cache(targets_from_plan(result.plan, rates))
    found = http_audit_diagnosis(audit, run_id=diagnosis.run_id)
    return Diagnosis(
        diagnosis.run_id,
        ranked([*diagnosis.findings, *found.findings]),
        diagnosis.inconclusive,
        [*diagnosis.notes, *found.notes],
    )
