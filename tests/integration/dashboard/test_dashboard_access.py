"""Who may use the dashboard: its token, the Host header on loopback, no cross-origin stop."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.report.dashboard import Dashboard, DashboardConfig
from tests.unit.report import dashboard_runs

TOKEN = "a-token-of-more-than-16-chars"


@pytest.fixture
def stop() -> threading.Event:
    return threading.Event()


def _serve(config: DashboardConfig, stop: threading.Event, **kwargs: Path) -> Iterator[Dashboard]:
    dashboard = Dashboard(config, stop, **kwargs)
    dashboard.open()
    try:
        dashboard.start(0)
        yield dashboard
    finally:
        dashboard.close()


@pytest.fixture
def open_board(stop: threading.Event) -> Iterator[Dashboard]:
    yield from _serve(DashboardConfig(), stop)


@pytest.fixture
def token_board(stop: threading.Event) -> Iterator[Dashboard]:
    yield from _serve(DashboardConfig(token=TOKEN), stop)


def _port(dashboard: Dashboard) -> int:
    return int(dashboard.url.split(":")[2].split("/")[0])


def _request(
    dashboard: Dashboard, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", _port(dashboard), timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_the_page_is_one_self_contained_document(open_board: Dashboard) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", _port(open_board), timeout=10)
    connection.request("GET", "/")
    response = connection.getresponse()
    page = response.read().decode()
    connection.close()
    assert response.status == 200
    assert "<canvas" in page and "EventSource" in page
    assert "http://" not in page and "https://" not in page  # nothing loaded from elsewhere
    policy = response.getheader("Content-Security-Policy", "")
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy


def test_routes_and_methods(open_board: Dashboard, stop: threading.Event) -> None:
    assert _request(open_board, "GET", "/nowhere")[0] == 404
    assert _request(open_board, "GET", "/stop")[0] == 405
    assert _request(open_board, "POST", "/metrics")[0] == 405
    assert _request(open_board, "GET", "/report")[0] == 404  # no --report
    assert not stop.is_set()
    assert _request(open_board, "POST", "/stop") == (202, '{"stopping":true}')
    assert stop.is_set() and open_board.stopped_here


def test_a_token_is_required_on_every_request(token_board: Dashboard) -> None:
    assert token_board.url.endswith(f"/?token={TOKEN}")
    for method, path in (("GET", "/"), ("GET", "/metrics"), ("GET", "/events"), ("POST", "/stop")):
        assert _request(token_board, method, path)[0] == 401
        assert _request(token_board, method, f"{path}?token=wrong-token-of-enough-chars")[0] == 401
    assert _request(token_board, "GET", f"/metrics?token={TOKEN}")[0] == 200
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert _request(token_board, "GET", "/metrics", bearer)[0] == 200


def test_loopback_refuses_other_host_names(open_board: Dashboard) -> None:
    # A page on evil.example whose name was rebound to 127.0.0.1 sends its own name.
    status, body = _request(open_board, "GET", "/metrics", {"Host": "evil.example"})
    assert status == 403 and "Host" in body
    assert (
        _request(open_board, "GET", "/metrics", {"Host": f"localhost:{_port(open_board)}"})[0]
        == 200
    )


def test_a_stop_from_another_origin_is_refused(
    open_board: Dashboard, stop: threading.Event
) -> None:
    status, _ = _request(open_board, "POST", "/stop", {"Origin": "http://evil.example"})
    assert status == 403
    assert not stop.is_set()
    same = {"Origin": f"http://127.0.0.1:{_port(open_board)}"}
    assert _request(open_board, "POST", "/stop", same)[0] == 202


def test_after_the_run_stop_is_refused_and_the_report_served(
    stop: threading.Event, tmp_path: Path
) -> None:
    report = tmp_path / "report.html"
    report.write_text("<html>the report</html>")
    for dashboard in _serve(DashboardConfig(), stop, report=report):
        dashboard.finish(dashboard_runs.result())
        assert _request(dashboard, "POST", "/stop")[0] == 409
        assert _request(dashboard, "GET", "/report") == (200, "<html>the report</html>")
        assert not stop.is_set()


def test_a_busy_port_is_a_config_error(open_board: Dashboard, stop: threading.Event) -> None:
    busy = Dashboard(DashboardConfig(port=_port(open_board)), stop)
    with pytest.raises(ConfigError, match=rf"^--dashboard-port: {_port(open_board)} is in use"):
        busy.open()
