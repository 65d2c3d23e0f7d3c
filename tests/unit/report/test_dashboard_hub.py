"""The dashboard's hub: what event streams and ``/metrics`` read, published by the run's thread."""

from __future__ import annotations

import json
import threading

from redline.report.dashboard import Hub


def _second(t: float) -> dict[str, object]:
    return {"point": {"t": t, "rps": 10.0}, "second": int(t) - 1}


def test_a_new_stream_starts_with_the_history_the_latest_second_and_the_end() -> None:
    hub = Hub()
    seq, events = hub.backlog()
    assert (seq, events) == (0, [("history", '{"points":[]}')])
    hub.publish_second(_second(1.0))
    hub.publish_second(_second(2.0))
    hub.publish_end({"status": "completed"})
    seq, events = hub.backlog()
    assert seq == 3
    assert [event for event, _ in events] == ["history", "second", "end"]
    assert json.loads(events[0][1]) == {
        "points": [{"t": 1.0, "rps": 10.0}, {"t": 2.0, "rps": 10.0}]
    }
    assert json.loads(events[1][1])["second"] == 1


def test_wait_after_returns_what_was_published_since() -> None:
    hub = Hub()
    hub.publish_second(_second(1.0))
    seq, news, closed = hub.wait_after(0, timeout_s=0.0)
    assert (seq, [e for e, _ in news], closed) == (1, ["second"], False)
    assert hub.wait_after(seq, timeout_s=0.0) == (1, [], False)


def test_wait_after_wakes_on_publish_and_on_close() -> None:
    hub = Hub()
    got: list[tuple[int, list[tuple[str, str]], bool]] = []
    reader = threading.Thread(target=lambda: got.append(hub.wait_after(0, timeout_s=10.0)))
    reader.start()
    hub.publish_end({"status": "completed"})
    reader.join(5.0)
    assert got[0][0] == 1 and got[0][1][0][0] == "end"
    hub.close()
    assert hub.wait_after(1, timeout_s=10.0) == (1, [], True)


def test_metrics_are_replaced_whole() -> None:
    hub = Hub()
    assert hub.metrics == ""
    hub.set_metrics("redline_active_vus 3\n")
    assert hub.metrics == "redline_active_vus 3\n"
