"""``redline demo``: the bundled shop, investigated end to end.

Thin: a fresh shop database and the shop's ``redline.toml`` in ``--out-dir``,
a free loopback port, then ``investigate --quick --optimize`` with its own run
history and journal in that folder (so the demo leaves the user's history
alone). The investigation starts the shop with its server command and stops
it by its PID; nothing is left running.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Annotated

import typer

from redline.cli._exit import ExitCode
from redline.cli._investigate import _console, investigate_context, parse_budgets
from redline.cli._run import stop_on_signals
from redline.errors import ConfigError
from redline.plan import load_context

__all__ = ["demo"]

#: The demo's run history, inside its folder (the journal sits beside it).
HISTORY_NAME = "redline.db"


def demo(
    out_dir: Annotated[
        Path, typer.Option(help="Where the shop's database, report.html and the runs go.")
    ] = Path("redline-demo"),
) -> None:
    """Start the bundled shop, find its bottlenecks, fix what is safe, report; stop it."""
    from redline.demo.shop_app import QUERIES_FILE, write_files  # starlette: only when asked

    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out-dir: {str(out_dir)!r} is a file; give a folder")
    database = out_dir / "shop.db"
    database.unlink(missing_ok=True)  # a fresh shop: an index applied last time is gone
    _, context_file = write_files(out_dir, port=_free_loopback_port(), db=database)
    stop = threading.Event()
    stop_on_signals(stop)
    summary = investigate_context(
        load_context(context_file), budgets=parse_budgets([], quick=True), optimize=True,
        out_dir=out_dir, history=out_dir / HISTORY_NAME, console=_console(), stop=stop,
        queries=QUERIES_FILE,
    )  # fmt: skip
    raise typer.Exit(int(ExitCode.OK if summary else ExitCode.TARGET))


def _free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
