"""The dashboard's HTTP server: stdlib ``http.server`` on a thread of its own.

Routes (see :data:`GET_ROUTES` and :data:`POST_ROUTES`)::

    GET  /          the page (HTML, CSS and JS inlined; no other request but these)
    GET  /events    server-sent events: history, then one "second" message a second, then "end"
    GET  /metrics   the Prometheus text exposition format
    GET  /report    the run's HTML report, once written (with ``--report FILE``)
    POST /stop      stop the run as Ctrl-C does (results kept, marked interrupted)

Everything the server sends is prepared by the run's thread (:class:`Hub`): handler
threads only copy strings out, so the run never waits on a browser and the run's
objects are never read from two threads.

Access: with a token, every request carries it (``?token=`` or ``Authorization:
Bearer``). On loopback the ``Host`` header must name loopback (a page elsewhere
cannot reach the dashboard through DNS rebinding), and a ``POST`` from a page of
another origin is refused (a page elsewhere cannot stop the run).
"""

from __future__ import annotations

import collections
import errno
import hmac
import http
import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final, cast
from urllib.parse import parse_qs, urlsplit

from redline.errors import ConfigError
from redline.report.dashboard._config import DashboardConfig
from redline.report.dashboard._page import Page
from redline.report.dashboard._prometheus import CONTENT_TYPE as METRICS_CONTENT_TYPE

__all__ = ["DashboardServer", "Hub"]

#: How often an idle event stream gets a comment, so proxies and browsers keep it open.
KEEPALIVE_S: Final = 15.0
#: Seconds of chart points kept for a page that connects mid-run (an hour at 1 s).
HISTORY_POINTS: Final = 3600
#: Messages kept for streams that fell behind (a slow browser skips older ones).
RECENT_MESSAGES: Final = 64
#: How often the serving thread checks for shutdown.
POLL_INTERVAL_S: Final = 0.2
#: How long closing waits for the serving thread.
CLOSE_TIMEOUT_S: Final = 5.0


class Hub:
    """The messages and metrics the server hands out, published by the run's thread.

    Thread-safe: one publisher, any number of readers (one per event stream).
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._seq = 0
        self._recent: collections.deque[tuple[int, str, str]] = collections.deque(
            maxlen=RECENT_MESSAGES
        )
        self._points: collections.deque[str] = collections.deque(maxlen=HISTORY_POINTS)
        self._latest: str | None = None
        self._end: str | None = None
        self._metrics = ""
        self._closed = False

    def publish_second(self, message: dict[str, Any]) -> None:
        """One merged second's message (with its chart ``point``)."""
        data = json.dumps(message, separators=(",", ":"))
        point = json.dumps(message["point"], separators=(",", ":"))
        with self._changed:
            self._seq += 1
            self._recent.append((self._seq, "second", data))
            self._points.append(point)
            self._latest = data
            self._changed.notify_all()

    def publish_end(self, message: dict[str, Any]) -> None:
        """The run's summary, sent once it has ended (and to every page that connects later)."""
        data = json.dumps(message, separators=(",", ":"))
        with self._changed:
            self._seq += 1
            self._recent.append((self._seq, "end", data))
            self._end = data
            self._changed.notify_all()

    def set_metrics(self, text: str) -> None:
        """The exposition text ``/metrics`` serves from now on."""
        self._metrics = text  # one reference, replaced whole: readers see old or new

    @property
    def metrics(self) -> str:
        """The latest exposition text."""
        return self._metrics

    def backlog(self) -> tuple[int, list[tuple[str, str]]]:
        """What a new stream starts with: the chart history, the latest second, the end."""
        with self._changed:
            events = [("history", '{"points":[' + ",".join(self._points) + "]}")]
            if self._latest is not None:
                events.append(("second", self._latest))
            if self._end is not None:
                events.append(("end", self._end))
            return self._seq, events

    def wait_after(self, seq: int, timeout_s: float) -> tuple[int, list[tuple[str, str]], bool]:
        """Messages published after ``seq``: (the new seq, the messages, whether closed).

        Waits up to ``timeout_s`` for one; returns none when the time is up.
        """
        with self._changed:
            self._changed.wait_for(lambda: self._closed or self._seq > seq, timeout_s)
            news = [(event, data) for n, event, data in self._recent if n > seq]
            return self._seq, news, self._closed

    def close(self) -> None:
        """End every event stream."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()


class _HTTPServer(ThreadingHTTPServer):
    """The stdlib server with a reference back to the dashboard it serves."""

    daemon_threads = True
    app: DashboardServer


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "redline-dashboard"

    def do_GET(self) -> None:  # the name http.server dispatches to
        self._dispatch(GET_ROUTES)

    def do_POST(self) -> None:  # the name http.server dispatches to
        self._dispatch(POST_ROUTES)

    def log_message(self, format: str, *args: Any) -> None:  # stdlib's parameter name
        """Quiet: library code never prints (the CLI prints the address once)."""

    def _dispatch(self, routes: dict[str, Callable[[_Handler], None]]) -> None:
        app = self.server.app
        split = urlsplit(self.path)
        refusal = app.refusal(self.headers, parse_qs(split.query), post=routes is POST_ROUTES)
        if refusal is not None:
            self.send_text(refusal[0], refusal[1])
            return
        route = routes.get(split.path)
        if route is None:
            allowed = GET_ROUTES if routes is POST_ROUTES else POST_ROUTES
            status = (
                http.HTTPStatus.METHOD_NOT_ALLOWED
                if split.path in allowed
                else http.HTTPStatus.NOT_FOUND
            )
            self.send_text(status, f"{status.phrase}: {split.path}")
            return
        try:
            route(self)
        except ConnectionError:
            pass  # the browser left; nothing to answer

    def send_text(
        self,
        status: int,
        body: str,
        content_type: str = "text/plain; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _page(handler: _Handler) -> None:
    page = handler.server.app.page
    handler.send_text(
        http.HTTPStatus.OK,
        page.html,
        "text/html; charset=utf-8",
        {"Content-Security-Policy": page.content_security_policy},
    )


def _metrics(handler: _Handler) -> None:
    handler.send_text(http.HTTPStatus.OK, handler.server.app.hub.metrics, METRICS_CONTENT_TYPE)


def _events(handler: _Handler) -> None:
    hub = handler.server.app.hub
    handler.send_response(http.HTTPStatus.OK)
    handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
    handler.send_header("Cache-Control", "no-store")
    handler.end_headers()
    seq, events = hub.backlog()
    closed = False
    while not closed:
        # One write per batch: every message is "event: ...\ndata: ...\n\n" (the JSON has
        # no newline), and a comment line keeps an idle stream open (WHATWG HTML 9.2).
        chunk = "".join(f"event: {event}\ndata: {data}\n\n" for event, data in events)
        handler.wfile.write((chunk or ": keep-alive\n\n").encode())
        seq, events, closed = hub.wait_after(seq, KEEPALIVE_S)


def _stop(handler: _Handler) -> None:
    if handler.server.app.request_stop():
        handler.send_text(http.HTTPStatus.ACCEPTED, '{"stopping":true}', "application/json")
    else:
        handler.send_text(
            http.HTTPStatus.CONFLICT, '{"error":"the run has already ended"}', "application/json"
        )


def _report(handler: _Handler) -> None:
    path = handler.server.app.report
    if path is None or not path.is_file():
        handler.send_text(http.HTTPStatus.NOT_FOUND, "no HTML report for this run (yet)")
        return
    handler.send_text(
        http.HTTPStatus.OK, path.read_text(encoding="utf-8"), "text/html; charset=utf-8"
    )


#: GET routes by path.
GET_ROUTES: dict[str, Callable[[_Handler], None]] = {
    "/": _page,
    "/events": _events,
    "/metrics": _metrics,
    "/report": _report,
}
#: POST routes by path.
POST_ROUTES: dict[str, Callable[[_Handler], None]] = {"/stop": _stop}


class DashboardServer:
    """Serves the page, the event stream, ``/metrics``, the report and the stop button.

    Binding (:meth:`bind`) and serving (:meth:`serve`) are separate: the CLI binds
    before the run, to print the address and refuse a busy port before any load,
    and the run serves from its start, once the worker processes are forked (a
    process with a second thread must spawn its workers, which is slower).

    Example::

        server = DashboardServer(config, page=Page.load(), on_stop=stop.set)
        server.bind()
        server.serve()
        ...
        server.close()
    """

    def __init__(
        self,
        config: DashboardConfig,
        *,
        page: Page,
        on_stop: Callable[[], bool],
        report: Path | None = None,
    ) -> None:
        self.config = config
        self.page = page
        self.hub = Hub()
        #: The HTML report ``/report`` serves, when the run writes one.
        self.report = report
        self._on_stop = on_stop
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port listened on (the free one picked, for port 0); 0 before :meth:`bind`."""
        return 0 if self._httpd is None else int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The page's address, with the token when there is one."""
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        token = f"?token={self.config.token}" if self.config.token else ""
        return f"http://{host}:{self.port}/{token}"

    def bind(self) -> None:
        """Listen on the configured address (nothing is served until :meth:`serve`).

        Raises:
            ConfigError: the port is in use, or the address is not this machine's.
        """
        server_class = _HTTPServer6 if ":" in self.config.host else _HTTPServer
        try:
            httpd = server_class((self.config.host, self.config.port), _Handler)
        except OSError as error:
            raise _bind_error(self.config, error) from None
        httpd.app = self
        self._httpd = httpd

    def serve(self) -> None:
        """Start answering requests on a thread of its own (again: nothing happens)."""
        if self._httpd is None or self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL_S},
            name="redline-dashboard",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """End the event streams, stop serving and release the port."""
        self.hub.close()
        if self._httpd is None:
            return
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(CLOSE_TIMEOUT_S)
            self._thread = None
        self._httpd.server_close()
        self._httpd = None

    def request_stop(self) -> bool:
        """``POST /stop``: True when the run was told to stop, False when it has ended."""
        return self._on_stop()

    def refusal(
        self, headers: Any, query: dict[str, list[str]], *, post: bool
    ) -> tuple[int, str] | None:
        """Why a request is refused (status, text), or None to answer it."""
        token = self.config.token
        if token is not None and not _carries(headers, query, token):
            return http.HTTPStatus.UNAUTHORIZED, "this dashboard needs its token (?token=...)"
        host = cast(str | None, headers.get("Host"))
        if self.config.loopback and host not in self._loopback_hosts():
            return http.HTTPStatus.FORBIDDEN, f"unexpected Host header {host!r}"
        origin = cast(str | None, headers.get("Origin"))
        if post and origin is not None and origin != f"http://{host}":
            return http.HTTPStatus.FORBIDDEN, f"cross-origin request from {origin!r} refused"
        return None

    def _loopback_hosts(self) -> set[str]:
        names = {"127.0.0.1", "localhost", "[::1]", self.config.host}
        return names | {f"{name}:{self.port}" for name in names}


def _carries(headers: Any, query: dict[str, list[str]], token: str) -> bool:
    """Whether a request carries ``token`` (compared in constant time)."""
    given = query.get("token", [""])[-1]
    authorization = cast(str, headers.get("Authorization") or "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer":
        given = credentials.strip()
    return hmac.compare_digest(given.encode(), token.encode())


def _bind_error(config: DashboardConfig, error: OSError) -> ConfigError:
    if error.errno == errno.EADDRINUSE:
        return ConfigError(
            f"--dashboard-port: {config.port} is in use on {config.host}",
            hint="pick another port, or leave --dashboard-port out for a free one",
        )
    return ConfigError(
        f"--dashboard-host: cannot listen on {config.host!r}: {error.strerror or error}",
        hint="use an address of this machine",
    )
