"""Memory growth, error onset, sockets and the run's own findings, on synthetic runs."""

from __future__ import annotations

import random

from redline.diagnose import Category, Finding, Severity, diagnose
from redline.diagnose._rule_errors import error_onset
from redline.diagnose._rule_memory import memory_growth
from redline.diagnose._rule_sockets import sockets
from redline.diagnose._timeline import Timeline
from tests.unit.diagnose.diagnose_docs import Sec, document, server, stepped

MIB = 1024 * 1024


def steady(rss: list[float], *, count: int = 500, host: dict | None = None) -> Timeline:
    seconds = [Sec(8, count, 2000, server=server(0.2, rss_bytes=int(r)), host=host) for r in rss]
    return Timeline.of(document(seconds))


def test_rss_that_keeps_growing_is_a_leak_per_1000_requests() -> None:
    # 1 MiB a second at 500 req/s: 2 MiB per 1,000 requests.
    timeline = steady(
        [50 * MIB + s * MIB for s in range(30)], host={"mem_available_bytes": 3600 * MIB}
    )
    [finding] = memory_growth(timeline)
    assert finding.category is Category.MEMORY
    assert finding.title == (
        "Server memory grows 2.0 MiB per 1,000 requests and keeps growing: a leak"
    )
    assert finding.severity is Severity.HIGH  # an hour to go
    assert any(e.value == "1.0 h at this rate" for e in finding.evidence)


def test_rss_that_plateaus_is_a_bounded_cache() -> None:
    rss = [50 * MIB + min(s, 15) * MIB for s in range(40)]
    [finding] = memory_growth(steady(rss))
    assert "plateaus: a bounded cache" in finding.title
    assert finding.severity is Severity.LOW


def test_rss_that_only_wobbles_is_not_reported() -> None:
    noise = random.Random(7)
    assert memory_growth(steady([50 * MIB + noise.randint(0, MIB) for _ in range(40)])) == []


def test_errors_that_begin_at_a_load_name_it_and_their_kinds() -> None:
    seconds = [
        Sec(
            n, 400, 5000, outcomes={"200": 400} if n < 12 else {"200": 100, "503": 290, "reset": 10}
        )
        for n in (4, 4, 8, 8, 12, 12, 16, 16)
    ]
    [finding] = error_onset(Timeline.of(document(seconds)))
    assert finding.title == "Errors begin at 12 VUs (second 4): 503 97%, reset 3%"
    assert finding.category is Category.CAPACITY
    assert finding.severity is Severity.HIGH
    assert "sheds load" in finding.recommendation


def test_errors_from_the_first_second_are_not_about_load() -> None:
    seconds = [Sec(n, 100, 5000, outcomes={"200": 90, "404": 10}) for n in (4, 8, 12)]
    [finding] = error_onset(Timeline.of(document(seconds)))
    assert finding.category is Category.CONFIGURATION
    assert finding.title.startswith("Errors begin from the start (4 VUs)")


def test_one_bad_second_is_not_an_onset() -> None:
    outcomes = [{"200": 100}] * 3 + [{"200": 50, "timeout": 50}] + [{"200": 100}] * 6
    seconds = [Sec(8, 100, 5000, outcomes=o) for o in outcomes]
    assert error_onset(Timeline.of(document(seconds))) == []


def test_listen_overflows_fd_limit_and_time_wait_are_each_found() -> None:
    host = {"listen_overflows": 12, "tcp_time_wait": 27_000, "mem_available_bytes": 1}
    seconds = [
        Sec(
            8,
            100,
            5000,
            server=server(0.2, fd_soft_limit=1024, max_open_fds_per_process=1000),
            host=host,
        )
        for _ in range(5)
    ]
    timeline = Timeline.of(
        document(seconds, host_info={"cpus": 2, "somaxconn": 128, "ephemeral_ports": 28_232})
    )
    found = {f.rule: f for f in sockets(timeline)}
    assert set(found) == {"listen-overflow", "fd-limit", "time-wait"}
    assert "60 times" in found["listen-overflow"].title
    assert "somaxconn = 128" in (found["listen-overflow"].location or "")
    assert (
        found["fd-limit"].title
        == "Open files near the limit: a server process holds 1,000 of 1,024"
    )
    assert found["time-wait"].severity is Severity.HIGH


def test_a_saturated_generator_makes_the_run_inconclusive_and_silences_latency_rules() -> None:
    seconds = stepped(
        [4.0, 8.0, 12.0, 16.0],
        latency_us=lambda n: n / 500 * 1e6,
        throughput=lambda n: 500,
        server_at=lambda n: server(1.0),
    )
    check = {"generator_bound": True, "reasons": ["generator CPU 97% of a core"]}
    diagnosis = diagnose(document(seconds, self_check=check))
    assert diagnosis.inconclusive
    assert [f.rule for f in diagnosis.findings] == ["generator-saturation"]
    assert diagnosis.findings[0].evidence[0].value == "generator CPU 97% of a core"
    assert diagnose(document(seconds)).findings[0].rule == "cpu-bound"


def test_a_server_that_exited_ranks_first() -> None:
    seconds = [Sec(8, 100, 5000, outcomes={"200": 50, "refused": 50}) for _ in range(6)]
    diagnosis = diagnose(document(seconds, notes=["server process 77 exited at 3 s"]))
    assert [f.rule for f in diagnosis.findings] == ["server-exited", "error-onset"]
    assert diagnosis.findings[0].title == "The server (process 77) exited during the run, at 3 s"


def test_findings_round_trip_through_their_dict() -> None:
    seconds = [Sec(8, 100, 5000, outcomes={"200": 50, "refused": 50}) for _ in range(6)]
    diagnosis = diagnose(document(seconds, notes=["server process 77 exited at 3 s"]))
    again = [Finding.from_dict(f) for f in diagnosis.to_dict()["findings"]]
    assert again == diagnosis.findings
    assert len(again) == 2
