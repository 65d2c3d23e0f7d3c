"""``redline run --dashboard``: its options, its address, and the wait after the run."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from redline.errors import ConfigError
from redline.load import RunResult
from redline.report.dashboard import DEFAULT_HOST, Dashboard, DashboardConfig

__all__ = [
    "DashboardHostOption",
    "DashboardOption",
    "DashboardPortOption",
    "DashboardTokenOption",
    "hold_dashboard",
    "open_dashboard",
]

#: How often the wait after the run looks at its event (signals wake it sooner).
HOLD_POLL_S = 0.5
#: Where the command's context keeps its :class:`_Sigterm` watch.
SIGTERM_KEY = "redline.dashboard.sigterm"

DashboardOption = Annotated[
    bool,
    typer.Option(
        "--dashboard",
        help="Serve a live dashboard and /metrics (Prometheus) on 127.0.0.1 during the run; "
        "it stays up after the run, with the summary, until Ctrl-C (see docs/dashboard.md).",
    ),
]
DashboardPortOption = Annotated[
    int | None,
    typer.Option(help="The dashboard's port, 1..65535 (default: a free one)."),
]
DashboardHostOption = Annotated[
    str | None,
    typer.Option(
        help="Serve the dashboard on this address instead of 127.0.0.1; an address other "
        "than loopback needs --dashboard-token."
    ),
]
DashboardTokenOption = Annotated[
    str | None,
    typer.Option(
        help="A token every dashboard request must carry (?token=... or Authorization: "
        "Bearer ...), 16 characters or more; 'auto' generates one and prints it."
    ),
]


def open_dashboard(
    ctx: typer.Context,
    enabled: bool,
    *,
    port: int | None,
    host: str | None,
    token: str | None,
    stop: threading.Event,
    console: Console,
) -> Dashboard | None:
    """Check the options, listen, and print the address; None without ``--dashboard``.

    Raises:
        ConfigError: an option is out of range, or the port cannot be listened on.
    """
    if not enabled:
        for flag, value in (("port", port), ("host", host), ("token", token)):
            if value is not None:
                raise ConfigError(f"--dashboard-{flag}: needs --dashboard")
        return None
    config = DashboardConfig(host=host or DEFAULT_HOST, port=port or 0, token=token)
    problems = config.validate()
    if problems:
        raise problems[0]
    dashboard = Dashboard(config.with_token(), stop, report=_report_path(ctx))
    dashboard.open()
    # Closed however the command ends (an error, Ctrl-C during the wait, a normal exit).
    ctx.call_on_close(dashboard.close)
    ctx.meta[SIGTERM_KEY] = _Sigterm()
    console.print(
        f"dashboard: {dashboard.url} · Prometheus: {dashboard.metrics_url}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return dashboard


def _report_path(ctx: typer.Context) -> Path | None:
    """The HTML report this run writes (``--report FILE``, where that option exists)."""
    report = ctx.params.get("report")
    return Path(report) if report is not None else None


class _Sigterm:
    """Notes a SIGTERM, then does what the handler before it did (stop the run).

    Ctrl-C during the run stops it and leaves the dashboard up with the summary;
    SIGTERM (a process manager, a CI step's timeout) means leave, so no wait follows.
    """

    def __init__(self) -> None:
        self.seen = False
        self._previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, self)

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.seen = True
        if callable(self._previous):
            self._previous(signum, frame)


def hold_dashboard(
    ctx: typer.Context, dashboard: Dashboard | None, result: RunResult, console: Console
) -> None:
    """Show the run's summary on the dashboard and keep serving it until Ctrl-C or SIGTERM.

    After a SIGTERM during the run, nothing waits: the process leaves as asked.
    """
    if dashboard is None:
        return
    dashboard.finish(result)
    if dashboard.stopped_here:
        console.print("stopped from the dashboard")
    sigterm = ctx.meta.get(SIGTERM_KEY)
    if isinstance(sigterm, _Sigterm) and sigterm.seen:
        return
    console.print(
        f"dashboard still up at {dashboard.url} with the summary: Ctrl-C to leave",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    done = threading.Event()

    def leave(_signum: int, _frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, leave)
    signal.signal(signal.SIGTERM, leave)
    while not done.wait(HOLD_POLL_S):
        pass
    dashboard.close()
