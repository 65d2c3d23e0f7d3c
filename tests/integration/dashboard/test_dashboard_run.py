"""``redline run --dashboard`` on a real run: the event stream, ``/metrics`` and stop."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.dashboard.conftest import HOLDING, PLAN_DURATION_S, StartRun

#: The exit code of a run stopped before its end (ExitCode.INTERRUPTED).
INTERRUPTED = 130


def _counters(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition text, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _requests_by_endpoint_and_status(text: str) -> dict[tuple[str, str], int]:
    found = {}
    for (name, labels), value in _counters(text).items():
        if name == "redline_requests_total":
            found[(dict(labels)["endpoint"], dict(labels)["status"])] = int(value)
    return found


def _results_by_endpoint_and_status(results: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {
        (endpoint, status): count
        for endpoint, summary in results["summary"]["endpoints"].items()
        for status, count in summary["outcomes"].items()
    }


def test_events_metrics_and_stop_on_a_real_run(dashboard_run: StartRun) -> None:
    run = dashboard_run()
    events = run.events(4)
    assert events[0][0] == "history"
    seconds = [data for event, data in events if event == "second"]
    assert len(seconds) >= 2
    latest = seconds[-1]
    assert latest["plan"] == "dashboard"
    assert latest["planned_s"] == PLAN_DURATION_S
    assert latest["stage"]["name"] in ("stage 1", "stage 2")
    assert {row["name"] for row in latest["endpoints"]} == {"home", "missing"}
    assert latest["point"]["rps"] > 0
    assert latest["total"]["failures"] > 0  # /missing answers 404

    during = run.get("/metrics")
    requests = _requests_by_endpoint_and_status(during)
    assert requests[("home", "200")] > 0 and requests[("missing", "404")] > 0
    running = (("plan", "dashboard"), ("status", "running"))
    assert _counters(during)[("redline_run_info", running)] == 1

    status, _, body = run.request("POST", "/stop")
    assert (status, body) == (202, '{"stopping":true}')
    out = run.wait_for_output(HOLDING)
    assert "stopped from the dashboard" in out

    after = run.get("/metrics")
    results = run.results_data()
    assert results["run"]["status"] == "interrupted"
    assert results["run"]["partial"] is True
    assert results["run"]["elapsed_s"] < PLAN_DURATION_S / 2
    # Every counter is the results file's total.
    assert _requests_by_endpoint_and_status(after) == _results_by_endpoint_and_status(results)
    samples = _counters(after)
    for endpoint, summary in results["summary"]["endpoints"].items():
        labels = (("endpoint", endpoint),)
        assert samples[("redline_request_failures_total", labels)] == summary["failures"]
        assert samples[("redline_request_duration_seconds_count", labels)] == summary["count"]
        assert samples[("redline_received_bytes_total", labels)] == summary["bytes_in"]
    total = results["summary"]["total"]["count"]
    assert sum(_requests_by_endpoint_and_status(after).values()) == total
    assert samples[("redline_run_info", (("plan", "dashboard"), ("status", "interrupted")))] == 1

    end = [data for event, data in run.events(3) if event == "end"]
    assert end and end[0]["status"] == "interrupted" and end[0]["stopped_here"] is True
    assert end[0]["total"]["count"] == total
    assert run.request("POST", "/stop")[0] == 409  # the run has ended
    assert run.terminate() == INTERRUPTED


def test_a_completed_run_keeps_serving_until_sigterm(dashboard_run: StartRun) -> None:
    run = dashboard_run("--vus", "2", "--iterations", "300", target="/")
    run.wait_for_output(HOLDING)
    results = run.results_data()
    assert results["run"]["status"] == "completed"
    metrics = run.get("/metrics")
    assert sum(_requests_by_endpoint_and_status(metrics).values()) == 300
    assert _requests_by_endpoint_and_status(metrics) == _results_by_endpoint_and_status(results)
    assert run.proc.poll() is None  # still up, for the page's summary
    assert run.terminate() == 0


def test_sigterm_during_the_run_stops_it_and_leaves_without_waiting(
    dashboard_run: StartRun,
) -> None:
    run = dashboard_run()
    run.events(2)  # the run is going
    assert run.terminate() == INTERRUPTED
    assert run.results_data()["run"]["status"] == "interrupted"
    assert HOLDING not in run.output()
