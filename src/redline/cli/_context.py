"""``redline init`` (a commented ``redline.toml``) and ``redline context`` (the performance
context, as JSON, for an agent or a person; see docs/context.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from redline.cli._history import DbOption, db_path
from redline.errors import ConfigError
from redline.plan import Context, load_context
from redline.plan._context_example import EXAMPLE_CONTEXT
from redline.report import write_report
from redline.report._context_json import parse_context_request, performance_context
from redline.store import RunStore

__all__ = ["add_context_commands", "context", "init"]

#: The context file, without --config or PATH.
DEFAULT_CONFIG = Path("redline.toml")
#: Stored runs read for the context, newest first.
CONTEXT_RUNS = 50


def init(
    path: Annotated[
        Path, typer.Argument(help="Where to write it.", show_default=True)
    ] = DEFAULT_CONFIG,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example redline.toml: every key, what it is, its range."""
    if path.exists() and not force:
        raise ConfigError(
            f"{path}: already exists; not overwritten", hint="give --force to overwrite it"
        )
    write_report(path, EXAMPLE_CONTEXT, flag="PATH")
    typer.echo(f"wrote {path}: edit [target] and [sla], then run redline context or investigate")


def _read_stdin() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        return ""
    return sys.stdin.read()


def _documents(history: Path) -> list[dict[str, Any]]:
    if not history.exists():
        return []
    with RunStore.open(history) as store:
        return [store.get(run.id).document for run in store.list(limit=CONTEXT_RUNS)]


def _context_file(config: Path | None) -> Context | None:
    if config is not None:
        return load_context(config)
    return load_context(DEFAULT_CONFIG) if DEFAULT_CONFIG.exists() else None


def context(
    config: Annotated[
        Path | None,
        typer.Option(help=f"The context file (default: {DEFAULT_CONFIG}, if there is one)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Print the performance context as JSON: SLAs, current metrics, architecture, load
    patterns, pain points, scalability. Reads an optional request on stdin."""
    request = parse_context_request(_read_stdin())
    answer = performance_context(_context_file(config), _documents(db_path(db)), request)
    typer.echo(json.dumps(answer, indent=1, ensure_ascii=False))


def add_context_commands(app: typer.Typer) -> None:
    """Register ``init`` and ``context`` on the root app."""
    app.command()(init)
    app.command()(context)
