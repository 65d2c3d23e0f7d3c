"""GIL contention from two py-spy ``--threads`` recordings: holding, waiting, CPU, the verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from redline.errors import ConfigError, ProfileError
from redline.probes import _gil
from redline.probes._gil import (
    CLOCK_TICKS_PER_S,
    CONTENDED_WAIT_SHARE,
    GilReport,
    ThreadGil,
    gil_contention,
    gil_report,
    thread_cpu_s,
)
from redline.probes._stacks import StackSamples

BOOT = "Thread._bootstrap (threading.py:1002);Thread.run (threading.py:982)"

#: Four threads in one pure-Python loop (two lines of it), 200 looks: each holds the
#: GIL about a quarter of the time and waits the rest; the main thread joins them.
CONTENDED_EVERY = f"""\
thread (101): MainThread;<module> (app.py:9);Thread.join (threading.py:1119) 200
thread (102): worker-0;{BOOT};spin (app.py:5) 150
thread (102): worker-0;{BOOT};spin (app.py:6) 50
thread (103): worker-1;{BOOT};spin (app.py:5) 160
thread (103): worker-1;{BOOT};spin (app.py:6) 40
thread (104): worker-2;{BOOT};spin (app.py:5) 200
thread (105): worker-3;{BOOT};spin (app.py:5) 200
"""
CONTENDED_HOLDING = f"""\
thread (102): worker-0;{BOOT};spin (app.py:5) 40
thread (102): worker-0;{BOOT};spin (app.py:6) 10
thread (103): worker-1;{BOOT};spin (app.py:5) 45
thread (104): worker-2;{BOOT};spin (app.py:5) 50
thread (105): worker-3;{BOOT};spin (app.py:5) 50
"""

#: One thread computing; one sleeping in a loop, caught once holding the GIL at its
#: sleep line; one unnamed thread (no ": NAME") in C code with the GIL released.
QUIET_EVERY = f"""\
thread (201): MainThread;<module> (app.py:9);Thread.join (threading.py:1119) 200
thread (202): cpu;{BOOT};spin (app.py:5) 200
thread (203): napper;{BOOT};nap (app.py:12) 200
thread (204);compress (app.py:20) 200
"""
QUIET_HOLDING = f"""\
thread (202): cpu;{BOOT};spin (app.py:5) 197
thread (203): napper;{BOOT};nap (app.py:12) 1
thread (204);compress (app.py:20) 2
"""


def report(every: str, holding: str, cpu_s: dict[int, float] | None = None) -> GilReport:
    return gil_report(StackSamples.from_collapsed(every), StackSamples.from_collapsed(holding),
                      pid=100, wall_s=2.0, rate_hz=100, cpu_s=cpu_s)  # fmt: skip


def test_threads_in_a_python_loop_wait_for_the_gil_where_they_also_run() -> None:
    result = report(CONTENDED_EVERY, CONTENDED_HOLDING, {102: 0.5, 103: 0.4, 101: 0.0})
    by_name = {t.name: t for t in result.threads}
    w0, w1 = by_name["worker-0"], by_name["worker-1"]
    assert (w0.samples, w0.holding, w0.waiting) == (200, 50, 150)
    # worker-1 never held the GIL at line 6: it is not counted as waiting there
    assert (w1.samples, w1.holding, w1.waiting) == (200, 45, 115)
    assert w0.holding_share == 0.25 and w0.waiting_share == 0.75
    assert w0.cpu_share == 0.25 and by_name["worker-2"].cpu_share is None
    main = by_name["MainThread"]
    assert (main.holding, main.waiting) == (0, 0)
    assert [t.name for t in result.threads][:3] == ["worker-0", "worker-2", "worker-3"]
    assert result.python_threads == 4
    assert result.wait_share == pytest.approx(565 / (565 + 195))
    assert result.busy_share == pytest.approx(195 / 200)
    assert result.contended
    assert result.summary().startswith(
        "4 threads ran Python and waited for the GIL 74% of the time they wanted it; "
        "the GIL was held in 98% of samples: contended"
    )


def test_a_sleeping_thread_caught_once_holding_the_gil_is_not_waiting() -> None:
    result = report(QUIET_EVERY, QUIET_HOLDING)
    by_id = {t.thread_id: t for t in result.threads}
    # the computing thread gave the GIL up in 3 looks (to the others): it waited then
    assert by_id["202"].holding == 197 and by_id["202"].waiting == 3
    assert by_id["203"].holding == 1 and by_id["203"].waiting == 0  # one hold is chance
    # two holds in 200 looks are under 2 %: releasing the GIL, not waiting for it
    assert by_id["204"].name == "thread 204" and by_id["204"].waiting == 0
    assert by_id["204"].tid == 204
    assert result.wait_share == pytest.approx(3 / (3 + 197 + 1 + 2))
    assert not result.contended
    assert result.summary().endswith(f"not contended (threshold {CONTENDED_WAIT_SHARE:.0%})")


def test_one_thread_alone_is_never_contended() -> None:
    every = f"thread (2): solo;{BOOT};spin (app.py:5) 100\n"
    holding = f"thread (2): solo;{BOOT};spin (app.py:5) 50\n"
    result = report(every, holding)
    assert result.wait_share == 0.5 and result.python_threads == 1
    assert not result.contended


def test_python_thread_ids_and_foreign_lines_are_read_or_left_out() -> None:
    every = f"thread (0x7F3A): w;{BOOT};spin (app.py:5) 10\nno_thread_root (app.py:1) 5\n"
    result = report(every, f"thread (0x7F3A): w;{BOOT};spin (app.py:5) 4\n", {1: 1.0})
    [thread] = result.threads
    assert thread.thread_id == "0x7F3A" and thread.tid is None and thread.cpu_share is None
    assert (thread.samples, thread.holding, thread.waiting) == (10, 4, 6)


def test_an_empty_recording_is_an_empty_uncontended_report() -> None:
    result = report("", "")
    assert result.threads == [] and result.wait_share == 0.0 and result.busy_share == 0.0
    assert not result.contended
    assert ThreadGil("1", "x", 0, 0, 0).holding_share == 0.0
    assert ThreadGil("1", "x", 0, 0, 0).waiting_share == 0.0


def test_the_report_round_trips_through_json() -> None:
    result = report(CONTENDED_EVERY, CONTENDED_HOLDING, {102: 0.5})
    result.notes.append("a note")
    document = json.loads(json.dumps(result.to_dict()))
    assert document["schema_version"] == 1
    assert document["contended"] is True and document["contended_wait_share"] == 0.2
    assert GilReport.from_dict(document) == result


def test_a_newer_report_is_refused() -> None:
    with pytest.raises(ValueError, match="schema_version 9 is newer than this redline reads"):
        GilReport.from_dict({"schema_version": 9, "pid": 1, "duration_s": 1, "rate_hz": 1})


def test_thread_cpu_times_come_from_each_tasks_stat(tmp_path: Path) -> None:
    task = tmp_path / "42" / "task"
    for tid, utime, stime in ((42, 100, 50), (43, 7, 3)):
        (task / str(tid)).mkdir(parents=True)
        (task / str(tid) / "stat").write_text(
            f"{tid} (py thread) S 1 1 1 0 -1 0 0 0 0 0 {utime} {stime} 0 0 20 0 2 0\n"
        )
    (task / "44").mkdir()  # a thread that ended between the listing and the read
    assert thread_cpu_s(42, str(tmp_path)) == {
        42: 150 / CLOCK_TICKS_PER_S,
        43: 10 / CLOCK_TICKS_PER_S,
    }
    assert thread_cpu_s(99, str(tmp_path)) == {}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pid": 1, "duration_s": 2, "rate_hz": 0}, r"--rate: 0 samples a second is out of range"),
        ({"pid": 1, "duration_s": 0}, r"--duration: 0 seconds is out of range; allowed > 0"),
        ({"pid": 2**22 + 1, "duration_s": 1}, r"--pid: no process 4194305 is running"),
    ],
)
def test_bad_input_is_refused_before_py_spy_starts(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        gil_contention(**kwargs)


def test_py_spy_failures_are_translated_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def refused(argv: list[str], duration_s: float, stop: object) -> tuple[str, bool]:
        calls.append(argv)
        return "Error: Permission denied (os error 13)\n", False

    monkeypatch.setattr(_gil, "_run", refused)
    monkeypatch.setattr(_gil, "process_exists", lambda pid: True)
    with pytest.raises(ProfileError, match="may not read process 77's memory") as caught:
        gil_contention(77, 1.5, rate_hz=50)
    assert caught.value.hint is not None and "SYS_PTRACE" in caught.value.hint
    assert len(calls) == 2
    every, holding = calls
    for argv in calls:
        assert {"--threads", "--nonblocking", "--idle"} <= set(argv)
        assert argv[argv.index("--duration") + 1] == "2" and argv[argv.index("--rate") + 1] == "50"
        assert "--subprocesses" not in argv and "--function" not in argv
    assert "--gil" not in every and "--gil" in holding
