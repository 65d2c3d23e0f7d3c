"""perf profiles: the ``perf script`` parser on written samples, and the command's failures.

The failure and flow tests put a fake ``perf`` first on PATH: a small Python
program that answers each subcommand as ``spec.json`` beside it says, and
logs its arguments, so no test needs perf, root or a kernel that allows it.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from redline.errors import ConfigError, ProfileError
from redline.probes import _perf
from redline.probes._perf import parse_perf_script, perf_available, profile_perf
from redline.probes._stacks import Frame

#: Three samples of a C server: worker threads in user code and in a system call, a
#: thread pool named with a space, symbols perf could not name, a binary since deleted.
SCRIPT = """\
nginx 4242/4242 
\t           2b0c1 ngx_http_write_filter+0x51 (/usr/sbin/nginx)
\t           1f3a0 ngx_http_output_filter (/usr/sbin/nginx)
\t           27310 ngx_worker_process_cycle (/usr/sbin/nginx)
\t           2724a __libc_start_call_main (/usr/lib/x86_64-linux-gnu/libc.so.6)

nginx 4242/4242 
\tffffffff816b89be vfs_write+0x7e ([kernel.kallsyms])
\tffffffff821ec951 do_syscall_64+0x61 ([kernel.kallsyms])
\tffffffff81000130 entry_SYSCALL_64_after_hwframe+0x76 ([kernel.kallsyms])
\t           f8350 __GI___libc_write (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t           2b0c1 ngx_http_write_filter (/usr/sbin/nginx)


cache pool 4242/4250 
\t    7f3c2a1b2c3d [unknown] ([unknown])
\t           91a20 std::vector<int, std::allocator<int> >::push_back(int const&) \
(/opt/app/lib/libcache.so (deleted))
\t           1a2b3 [unknown] (/opt/app/lib/libcache.so (deleted))
"""


def test_each_sample_becomes_a_stack_root_first_under_its_thread_name() -> None:
    samples = parse_perf_script(SCRIPT)
    nginx, libc = "nginx", "libc.so.6"
    kernel = "[kernel.kallsyms]"
    cache = "libcache.so (deleted)"
    assert samples.stacks == {
        (
            Frame("nginx"),
            Frame("__libc_start_call_main", libc),
            Frame("ngx_worker_process_cycle", nginx),
            Frame("ngx_http_output_filter", nginx),
            Frame("ngx_http_write_filter", nginx),
        ): 1,
        (
            Frame("nginx"),
            Frame("ngx_http_write_filter", nginx),
            Frame("__GI___libc_write", libc),
            Frame("entry_SYSCALL_64_after_hwframe", kernel),
            Frame("do_syscall_64", kernel),
            Frame("vfs_write", kernel),
        ): 1,
        (
            Frame("cache pool"),
            Frame("[unknown]", cache),
            Frame("std::vector<int, std::allocator<int> >::push_back(int const&)", cache),
            Frame("[unknown]"),
        ): 1,
    }
    assert samples.unit == "samples"


def test_identical_stacks_add_up_and_the_hottest_leaf_leads() -> None:
    one = "srv 7/7\n\t1 spin (/bin/srv)\n\t2 main (/bin/srv)\n\n"
    other = "srv 7/8\n\t3 [unknown] ([unknown])\n\t2 main (/bin/srv)\n"
    samples = parse_perf_script(one * 3 + other)
    assert samples.stacks[(Frame("srv"), Frame("main", "srv"), Frame("spin", "srv"))] == 3
    first, second, *_ = samples.hotspots()
    assert (first.frame, first.self_share) == (Frame("spin", "srv"), 0.75)
    assert (second.frame, second.self_share) == (Frame("[unknown]"), 0.25)


def test_samples_without_a_call_chain_or_without_any_frame() -> None:
    # Without -g perf prints the sampled address on the header line, and no blank lines.
    text = "srv 7/7  4005d0 spin+0x10 (/bin/srv)\nsrv 7/7\n"
    samples = parse_perf_script(text)
    assert samples.stacks == {
        (Frame("srv"), Frame("spin", "srv")): 1,
        (Frame("srv"), Frame("[unknown]")): 1,
    }


def test_an_empty_recording_has_no_stacks() -> None:
    assert parse_perf_script("").stacks == {}
    assert parse_perf_script("\n\n").total == 0


@pytest.mark.parametrize(
    "text",
    ["\t4005d0 spin (/bin/srv)\n", "not a sample header\n", "srv 7/7\nsrv without pid\n"],
)
def test_lines_that_are_neither_header_nor_frame_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"line \d: .* is not a perf script sample header"):
        parse_perf_script(text)


# --- the commands, against a fake perf -------------------------------------------------

FAKE_PERF = """\
#!{python}
import json, pathlib, signal, sys, time
here = pathlib.Path(__file__).parent
spec = json.loads((here / "spec.json").read_text())
with open(here / "calls.jsonl", "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
command, args = sys.argv[1], sys.argv[2:]
answer = spec.get(command, {{}})
if command == "record" and "-e" in args and "fallback" in spec:
    answer = spec["fallback"]
def write_data(*_):
    pathlib.Path(args[args.index("-o") + 1]).write_bytes(b"PERFILE2")
    sys.exit(0)
if answer.get("data_on_sigint"):  # as perf does
    signal.signal(signal.SIGINT, write_data)
time.sleep(answer.get("sleep_s", 0))
sys.stdout.write(answer.get("stdout", ""))
sys.stderr.write(answer.get("stderr", ""))
sys.stderr.flush()
if answer.get("data"):
    write_data()
sys.exit(answer.get("code", 0))
"""

RECORDED = {"data": True, "stderr": "[ perf record: Captured and wrote 0.016 MB ]\n"}
PARANOID_TEXT = """\
Error:
Access to performance monitoring and observability operations is limited.
Consider adjusting /proc/sys/kernel/perf_event_paranoid setting to open
access to performance monitoring and observability operations for processes
without CAP_PERFMON, CAP_SYS_PTRACE or CAP_SYS_ADMIN Linux capability.
perf_event_paranoid setting is 3:
"""
WRAPPER_TEXT = """\
WARNING: perf not found for kernel 5.15.0-91

  You may need to install the following packages for this specific kernel:
    linux-tools-5.15.0-91-generic
"""

Fake = Callable[..., Path]


@pytest.fixture
def fake_perf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fake:
    """Put a fake perf first on PATH; call with each subcommand's answer. Returns its folder."""
    folder = tmp_path / "bin"
    folder.mkdir()
    perf = folder / "perf"
    perf.write_text(FAKE_PERF.format(python=sys.executable))
    perf.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))
    paranoid = tmp_path / "perf_event_paranoid"
    paranoid.write_text("3\n")
    monkeypatch.setattr(_perf, "PARANOID_FILE", paranoid)

    def configure(**spec: Any) -> Path:
        (folder / "spec.json").write_text(json.dumps(spec))
        return folder

    return configure


def calls(folder: Path) -> list[list[str]]:
    lines = (folder / "calls.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_a_recording_is_read_into_a_whole_profile(fake_perf: Fake) -> None:
    folder = fake_perf(record=RECORDED, script={"stdout": SCRIPT}, evlist={"stdout": "cycles:P\n"})
    profile = profile_perf(os.getpid(), 2.0)
    assert (profile.method, profile.partial, profile.notes) == ("perf", False, [])
    assert profile.samples.total == 3
    assert 0 < profile.duration_s <= 2.0
    record, script, evlist = calls(folder)
    data = record[record.index("-o") + 1]
    assert record == ["record", "-F", "99", "-g", "--no-buildid", "-p", str(os.getpid()),
                      "-o", data, "--", "sleep", "2.000"]  # fmt: skip
    assert script == ["script", "-i", data, "-F", "comm,pid,tid,ip,sym,dso"]
    assert evlist == ["evlist", "-i", data]
    assert not Path(data).exists()  # the scratch folder is gone


def test_without_hardware_counters_it_records_again_on_cpu_clock(fake_perf: Fake) -> None:
    unsupported = "Error:\ncycles: PMU Hardware doesn't support sampling/overflow-interrupts.\n"
    folder = fake_perf(
        record={"stderr": unsupported, "code": 255},
        fallback=RECORDED,
        script={"stdout": SCRIPT},
    )
    profile = profile_perf(os.getpid(), 1.0, rate_hz=49)
    assert profile.samples.total == 3
    assert profile.notes == [
        "the default event cannot sample here (no hardware counters): sampled cpu-clock"
    ]
    first, second = calls(folder)[:2]
    assert "-e" not in first
    assert second[:5] == ["record", "-e", "cpu-clock", "-F", "49"]


def test_kernel_frames_left_out_and_an_idle_process_are_said(fake_perf: Fake) -> None:
    fake_perf(record=RECORDED, script={"stdout": ""}, evlist={"stdout": "cpu-clock:uhppp\n"})
    profile = profile_perf(os.getpid(), 1.0)
    assert profile.samples.total == 0 and not profile.partial
    assert profile.notes == [
        "kernel frames are left out: kernel.perf_event_paranoid is 3 "
        "(run redline as root, or lower it to 1, to see them)",
        f"perf recorded no samples: process {os.getpid()} did not run on a CPU (idle?)",
    ]


def test_a_process_that_exits_during_recording_gives_a_partial_profile(
    fake_perf: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_perf(record=RECORDED, script={"stdout": SCRIPT})
    answers = iter([True, False])  # there when perf starts, gone when it ends
    monkeypatch.setattr(_perf, "process_exists", lambda pid: next(answers))
    profile = profile_perf(4242, 5.0)
    assert profile.partial and profile.samples.total == 3
    assert profile.notes == ["process 4242 exited during profiling"]


def test_a_perf_that_runs_past_the_deadline_is_interrupted(
    fake_perf: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_perf(record={"sleep_s": 30, "data_on_sigint": True}, script={"stdout": SCRIPT})
    monkeypatch.setattr(_perf, "START_GRACE_S", 0.0)
    profile = profile_perf(os.getpid(), 1.0)
    assert profile.partial and profile.samples.total == 3
    assert profile.notes == ["perf did not end on time and was interrupted"]


def test_lost_samples_are_said(fake_perf: Fake) -> None:
    lost = "Processed 5000 events and lost 7 chunks!\n\nCheck IO/CPU overload!\n"
    fake_perf(record={**RECORDED, "stderr": lost}, script={"stdout": SCRIPT})
    profile = profile_perf(os.getpid(), 1.0)
    assert not profile.partial
    assert profile.notes == ["perf lost 7 chunks of samples: profile at a lower --rate"]


def test_stopped_before_perf_wrote_anything_is_an_empty_partial_profile(fake_perf: Fake) -> None:
    fake_perf(record={"sleep_s": 30})
    stop = threading.Event()
    stop.set()
    profile = profile_perf(os.getpid(), 30.0, stop=stop)
    assert profile.partial and profile.samples.total == 0
    assert profile.notes == ["profiling was stopped before perf recorded anything"]


@pytest.mark.parametrize(
    ("stderr", "message", "hint"),
    [
        (PARANOID_TEXT, r"^perf may not profile process \d+: kernel.perf_event_paranoid is 3$",
         "sysctl -w kernel.perf_event_paranoid=1"),
        (WRAPPER_TEXT, "^perf is not installed for this kernel$", "apt-get install linux-perf"),
        ("E: linux-perf-5.10 is not installed.\n", "^perf is not installed for this kernel$",
         "linux-tools-"),
        ("Couldn't create thread/CPU maps: No such process\n",
         r"^process \d+ exited before perf could attach$", "check the PID"),
        ("perf_event_open(..., 0) failed: Operation not permitted\n",
         r"^perf may not profile process \d+$", "--cap-add PERFMON"),
        ("Error:\nThe sys_perf_event_open() syscall failed: Bad address\n",
         r"^perf could not profile process \d+: The sys_perf_event_open\(\) syscall failed",
         None),
    ],
)  # fmt: skip
def test_perf_failures_become_profile_errors_with_a_hint(
    fake_perf: Fake, stderr: str, message: str, hint: str | None
) -> None:
    fake_perf(record={"stderr": stderr, "code": 255})
    with pytest.raises(ProfileError, match=message) as caught:
        profile_perf(os.getpid(), 1.0)
    if hint is None:
        assert caught.value.hint is None
    else:
        assert hint in (caught.value.hint or "")


def test_perf_script_failing_is_a_profile_error(fake_perf: Fake) -> None:
    fake_perf(record=RECORDED, script={"stderr": "incompatible file format\n", "code": 255})
    with pytest.raises(ProfileError, match="^perf script could not read the recording: incompat"):
        profile_perf(os.getpid(), 1.0)


def test_perf_missing_is_a_profile_error_with_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ProfileError, match="^perf is not installed$") as caught:
        profile_perf(os.getpid(), 1.0)
    assert "apt-get install linux-perf" in (caught.value.hint or "")


def test_no_such_process_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_perf, "process_exists", lambda pid: False)
    with pytest.raises(ConfigError, match="^--pid: no process 999999 is running$"):
        profile_perf(999999, 1.0)


@pytest.mark.parametrize(
    ("duration_s", "rate_hz", "message"),
    [
        (0.0, 99, r"^--duration: 0.0 s is out of range; allowed above 0$"),
        (float("nan"), 99, r"^--duration: nan s is out of range"),
        (1.0, 0, r"^--rate: 0 samples a second is out of range; allowed 1..1000$"),
        (1.0, 5000, r"^--rate: 5000 samples a second is out of range"),
    ],
)
def test_bad_duration_or_rate_is_a_config_error(
    duration_s: float, rate_hz: int, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        profile_perf(os.getpid(), duration_s, rate_hz=rate_hz)


# --- perf_available: whether to say perf cannot be used here ------------------------------


def test_perf_available_when_a_trial_stat_works(fake_perf: Fake) -> None:
    folder = fake_perf(stat={"stderr": "0.58,msec,cpu-clock,577633,100.00\n"})
    assert perf_available() is None
    assert calls(folder) == [["stat", "-e", "cpu-clock", "-x,", "--", "true"]]


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        (PARANOID_TEXT, "perf may not profile processes here: kernel.perf_event_paranoid is 3 "
                        "(run redline as root, or lower the setting: sudo sysctl -w "),
        (WRAPPER_TEXT, "perf is not installed for this kernel (install perf: apt-get install "),
    ],
)  # fmt: skip
def test_perf_available_says_why_not(fake_perf: Fake, stderr: str, reason: str) -> None:
    fake_perf(stat={"stderr": stderr, "code": 255})
    assert (perf_available() or "").startswith(reason)


def test_perf_available_says_when_perf_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert perf_available() == f"perf is not installed ({_perf.INSTALL_HINT})"
