"""``redline cache analyze DSN``: a Redis or memcached server's figures and what they mean."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from redline.cli._history import PIPE_WIDTH
from redline.diagnose import Diagnosis
from redline.errors import ConfigError
from redline.plan import SCAN_S_RANGE, Dsn, check_dsn_scope, check_number, parse_dsn
from redline.report import render_diagnosis

__all__ = ["cache_app"]

cache_app = typer.Typer(name="cache", help="Analyze a cache: Redis or memcached.",
                        no_args_is_help=True)  # fmt: skip
#: ``--scan-seconds`` bounds: the key sample reads the server, so it stays short.
MAX_SCAN_S = SCAN_S_RANGE.high
#: The key sample's time budget when ``--scan-seconds`` is not given.
DEFAULT_SCAN_S = 2.0


@cache_app.command("analyze")
def analyze(
    dsn_text: Annotated[str, typer.Argument(metavar="DSN", help="redis:// or memcached://")],
    scan_seconds: Annotated[
        float | None,
        typer.Option(
            "--scan-seconds",
            help=f"Redis: time budget of the key sample (SCAN), 0..{MAX_SCAN_S:g} s; "
            f"0 skips it. Default {DEFAULT_SCAN_S:g}.",
        ),
    ] = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            metavar="HOST",
            help="A host besides loopback that may be analyzed (repeatable); yours only.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Hit ratio, evictions, memory, slow commands, big keys and TTLs, as ranked findings.

    The server must be on loopback or given with --allow-host: the key sample reads it.
    """
    dsn = parse_dsn(dsn_text, field="DSN", schemes=tuple(ANALYZERS))
    check_dsn_scope(dsn, allow_host or [], field="DSN")
    _check(dsn, scan_seconds)
    # Here, not at the top: the drivers are loaded only by the commands that need them.
    from redline.diagnose import cache_findings

    analysis = ANALYZERS[dsn.scheme](dsn, DEFAULT_SCAN_S if scan_seconds is None else scan_seconds)
    diagnosis = Diagnosis(str(dsn), cache_findings(analysis), False, analysis.notes)
    if as_json:
        out = {"dsn": str(dsn), **analysis.to_dict(), **diagnosis.to_dict()}
        typer.echo(json.dumps(out, indent=1, ensure_ascii=False, default=str))
        return
    console = Console()
    console = console if console.is_terminal else Console(width=PIPE_WIDTH)
    _render_summary(analysis.summary(), console, title=f"cache figures ({dsn})")
    render_diagnosis(diagnosis, console, title=f"diagnosis of cache {dsn}")


def _check(dsn: Dsn, scan_seconds: float | None) -> None:
    if scan_seconds is None:
        return
    if dsn.scheme != "redis":
        raise ConfigError("--scan-seconds: for Redis only (memcached has no key scan)")
    check_number(scan_seconds, SCAN_S_RANGE, field="--scan-seconds")


def _redis(dsn: Dsn, scan_s: float) -> Any:
    from redline.probes import analyze_redis

    return analyze_redis(dsn, scan_s=scan_s)


def _memcached(dsn: Dsn, scan_s: float) -> Any:
    from redline.probes import analyze_memcached

    return analyze_memcached(dsn)


#: The analysis of each scheme (the DSN's), given the DSN and the key sample's budget.
ANALYZERS: dict[str, Callable[[Dsn, float], Any]] = {
    "redis": _redis,
    "memcached": _memcached,
}


def _render_summary(rows: list[tuple[str, str, str]], console: Console, *, title: str) -> None:
    table = Table(title=title, title_justify="left", show_header=False, box=None,
                  padding=(0, 1, 0, 0))  # fmt: skip
    table.add_column("figure")
    table.add_column("value")
    table.add_column("source", style="dim")
    for row in rows:
        table.add_row(*row)
    console.print(table)
