"""The live dashboard of one run: an observer of the run and the server that shows it."""

from __future__ import annotations

import threading
from pathlib import Path

from redline.load import Progress, RunResult
from redline.plan import Phase
from redline.report.dashboard._config import DashboardConfig
from redline.report.dashboard._messages import second_message, summary_message
from redline.report.dashboard._page import Page
from redline.report.dashboard._prometheus import RunGauges, prometheus_text
from redline.report.dashboard._server import DashboardServer

__all__ = ["Dashboard"]

#: ``redline_run_info``'s status while the run goes on.
RUNNING = "running"


class Dashboard:
    """A :class:`~redline.load.RunObserver` and :class:`~redline.load.RunWatcher` that serves
    the run live: the page, its event stream, ``/metrics`` and a stop button.

    Its per-second work runs on the run's thread and is small: it turns the merged
    second into one JSON message and the exposition text; browsers and scrapers only
    copy those out (see :class:`~redline.report.dashboard.Hub`). Stopping goes through
    the run's own stop event, as Ctrl-C does.

    Example::

        stop = threading.Event()
        dashboard = Dashboard(DashboardConfig(), stop)
        dashboard.open()                       # listens; print dashboard.url
        runner = LoadRunner(plan, workers=2, observer=dashboard, watchers=(dashboard,))
        result = runner.run(stop)
        dashboard.finish(result)               # the summary; still served
        ...                                    # until the user is done
        dashboard.close()
    """

    def __init__(
        self, config: DashboardConfig, stop: threading.Event, *, report: Path | None = None
    ) -> None:
        self._stop_event = stop
        self._server = DashboardServer(
            config, page=Page.load(), on_stop=self._request_stop, report=report
        )
        self._phases: list[Phase] | None = None
        self._dropped = 0
        self._ended = False
        #: Whether the run was stopped from the page.
        self.stopped_here = False

    @property
    def url(self) -> str:
        """The page's address (with its token, when it has one)."""
        return self._server.url

    @property
    def metrics_url(self) -> str:
        """The address of ``/metrics`` (with its token, when it has one)."""
        base, _, token = self.url.partition("?")
        return f"{base}metrics" + (f"?{token}" if token else "")

    def open(self) -> None:
        """Listen (nothing is answered until the run starts or ends).

        Raises:
            ConfigError: the port is in use, or the host is not this machine's.
        """
        self._server.bind()

    def start(self, start_ns: int) -> None:
        """The run's start: serve from now on (the worker processes exist by now)."""
        self._server.serve()

    def stop(self) -> None:
        """The run's end; the dashboard keeps serving until :meth:`close`."""

    def on_second(self, progress: Progress) -> None:
        """Publish one merged second: its message and the exposition text."""
        if self._phases is None:
            self._phases = progress.plan.phases()
        series = progress.series
        totals = {name: series.total(name) for name in series.endpoints()}
        generator = series.generator_at(progress.second)
        if generator is not None:
            self._dropped += generator.dropped_iterations
        gauges = RunGauges(
            plan=progress.plan.name,
            status=RUNNING,
            elapsed_s=progress.elapsed_s,
            planned_s=progress.planned_s,
            active_vus=generator.active_vus if generator is not None else 0,
            dropped_iterations=self._dropped,
        )
        self._server.hub.set_metrics(prometheus_text(totals, gauges))
        self._server.hub.publish_second(second_message(progress, self._phases, totals))

    def finish(self, result: RunResult) -> None:
        """Publish the run's final figures and summary, and serve them (if not yet serving)."""
        self._ended = True
        series = result.series
        totals = {name: series.total(name) for name in series.endpoints()}
        gauges = RunGauges(
            plan=result.plan.name,
            status=result.status.value,
            elapsed_s=result.elapsed_s,
            planned_s=result.plan.planned_duration_s(),
            active_vus=0,
            dropped_iterations=result.self_check.dropped_iterations,
        )
        self._server.hub.set_metrics(prometheus_text(totals, gauges))
        report = self._server.report
        self._server.hub.publish_end(
            summary_message(
                result,
                stopped_here=self.stopped_here,
                report=str(report) if report is not None else None,
            )
        )
        self._server.serve()

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.close()

    def _request_stop(self) -> bool:
        # Called on a server thread: Event.set is thread-safe, and the run polls it.
        if self._ended:
            return False
        self.stopped_here = True
        self._stop_event.set()
        return True
