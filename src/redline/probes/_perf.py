"""CPU profiles of any running process with Linux ``perf``: servers not written in Python.

Two commands, run in a scratch folder::

    perf record -F RATE -g --no-buildid -p PID -o DIR/perf.data -- sleep DURATION
    perf script -i DIR/perf.data -F comm,pid,tid,ip,sym,dso

``-p PID`` samples every thread of the process; ``sleep`` only times the
recording, so a perf whose caller died still ends on its own. ``-g`` walks
frame pointers (cheap; binaries built without them show shallow stacks).
perf picks its event: hardware ``cycles``, or ``cpu-clock`` by itself on
machines without counters; when it cannot (a PMU that does not sample, as in
some VMs) the recording is retried once with ``-e cpu-clock``.
``--no-buildid`` spares perf a pass over its data at the end and copies of
the binaries in ``~/.debug``: the samples are read at once, against the same
files. SIGINT ends a recording early, and perf still writes what it has. perf
may take up to a second to exit after sampling ends (it waits on a helper
thread), so a whole recording's duration is the ``sleep``'s.

``perf script`` prints each sample as a header line (thread name, pid/tid),
then its frames leaf first, one a line indented with a tab (address, symbol,
binary), then a blank line::

    nginx 4242/4242
            ffffffff816b89be vfs_write+0x7e ([kernel.kallsyms])
                       f8350 __GI___libc_write (/usr/lib/x86_64-linux-gnu/libc.so.6)
                       2b0c1 ngx_http_write_filter (/usr/sbin/nginx)

Each sample becomes one stack, root first, of
:class:`~redline.probes._stacks.Frame` ``(symbol, binary, None)``: the symbol
without its ``+0x..`` offset (``[unknown]`` when perf has none), the binary's
file name (``libc.so.6``, ``[kernel.kallsyms]``; None when unknown), no line.
**The thread's name is the root frame** (``Frame(comm)``): a server's threads
do different jobs (workers, GC, I/O), and a flame graph then shows each apart,
while threads of one pool share a name and merge. Hotspots rank frames by self
time, so the root does not change them.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from redline.errors import ConfigError, ProfileError
from redline.probes._pid import process_exists
from redline.probes._pyspy import CpuProfile
from redline.probes._stacks import Frame, StackSamples

__all__ = ["parse_perf_script", "perf_available", "profile_perf"]

#: Sampling rates perf is asked for (samples a second). 99, not 100, so that
#: sampling does not run in step with timers of the program.
DEFAULT_RATE_HZ, MIN_RATE_HZ, MAX_RATE_HZ = 99, 1, 1000
#: How long ``perf record`` may take to start beyond the duration before it is interrupted.
START_GRACE_S = 15.0
#: How long perf may take to write its data once interrupted.
WRITE_GRACE_S = 15.0
#: How long ``perf script`` may take to resolve symbols and print the samples.
SCRIPT_TIMEOUT_S = 120.0
#: How long the trial ``perf stat`` of :func:`perf_available` may take.
TRIAL_TIMEOUT_S = 10.0
#: How often the wait looks at perf and the stop request.
POLL_S = 0.1
#: The event every Linux kernel can sample: a timer on the CPU the thread runs on.
FALLBACK_EVENT = "cpu-clock"
#: The fields of ``perf script``: the thread's name, then per frame its symbol and binary.
SCRIPT_FIELDS = "comm,pid,tid,ip,sym,dso"
#: The symbol perf prints when it has none.
UNKNOWN = "[unknown]"
#: The setting that decides who may use perf.
PARANOID_FILE = Path("/proc/sys/kernel/perf_event_paranoid")
#: How to install perf on the common distributions.
INSTALL_HINT = (
    "install perf: apt-get install linux-perf (Debian), linux-tools-$(uname -r) (Ubuntu), "
    "dnf install perf (Fedora)"
)
_PERMISSION_HINT = (
    "run redline as root; in a container add --cap-add PERFMON (or SYS_ADMIN) and allow "
    "perf_event_open in its seccomp profile"
)
_PARANOID_HINT = (
    "run redline as root, or lower the setting: sudo sysctl -w kernel.perf_event_paranoid=1 "
    "(another user's process needs root)"
)
#: perf's words for the failures a user can fix, and redline's message and hint for each;
#: ``{target}`` is "process PID" (or "processes here"), ``{paranoid}`` the setting's value.
_FAILURES: tuple[tuple[str, str, str], ...] = (
    ("not found for kernel", "perf is not installed for this kernel", INSTALL_HINT),
    ("is not installed", "perf is not installed for this kernel", INSTALL_HINT),
    (
        "perf_event_paranoid",
        "perf may not profile {target}: kernel.perf_event_paranoid is {paranoid}",
        _PARANOID_HINT,
    ),
    ("No such process", "{target} exited before perf could attach", "check the PID (ps -ef)"),
    ("Permission denied", "perf may not profile {target}", _PERMISSION_HINT),
    ("Operation not permitted", "perf may not profile {target}", _PERMISSION_HINT),
)
#: perf's words when the default event cannot sample here: retry on :data:`FALLBACK_EVENT`.
_EVENT_UNSUPPORTED = ("event is not supported", "doesn't support sampling", "No such device")
#: A sample's header: the thread's name (may hold spaces), ``pid/tid``, perhaps one frame.
_HEADER = re.compile(r"^(?P<comm>.*?)\s+(?P<pid>-?\d+)/(?P<tid>-?\d+)(?:\s+(?P<frame>\S.*))?$")
#: A frame: its address, then the symbol and ``(binary)``, split by :func:`_split_binary`.
_FRAME = re.compile(r"^\s*(?P<ip>[0-9a-fA-F]+)\s+(?P<rest>\S.*)$")
#: The offset perf adds to a symbol when asked for ``symoff``: ``main+0x1e``.
_OFFSET = re.compile(r"\+0x[0-9a-fA-F]+$")
#: perf record's count of data it could not write in time (samples lost).
_LOST = re.compile(r"lost (\d+) chunks")


@dataclass(frozen=True)
class _Recording:
    """How one ``perf record`` ended."""

    #: What perf wrote to stderr.
    stderr: str
    #: The stop request ended it early.
    stopped: bool
    #: It ran past the deadline and was interrupted.
    overran: bool


def perf_available() -> str | None:
    """None when perf can profile processes here, else why not and what to do about it.

    Runs a trial ``perf stat`` of ``true``, so the answer covers what looking
    for the file cannot: a distribution's wrapper without perf for this
    kernel, ``kernel.perf_event_paranoid``, a container that blocks perf.
    """
    perf = shutil.which("perf")
    if perf is None:
        return f"perf is not installed ({INSTALL_HINT})"
    argv = [perf, "stat", "-e", FALLBACK_EVENT, "-x,", "--", "true"]
    try:
        trial = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=TRIAL_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"perf did not answer within {TRIAL_TIMEOUT_S:g} s"
    except OSError as exc:
        return f"perf could not be run: {exc}"
    if trial.returncode == 0:
        return None
    error = _failure(trial.stderr, "processes here")
    return f"{error.message} ({error.hint})" if error.hint else error.message


def profile_perf(
    pid: int,
    duration_s: float,
    *,
    rate_hz: int = DEFAULT_RATE_HZ,
    stop: threading.Event | None = None,
) -> CpuProfile:
    """Sample ``pid`` with perf for ``duration_s`` (less if ``stop`` is set or it exits).

    Example::

        profile = profile_perf(server.pid, 10.0)
        for spot in profile.samples.hotspots(5):
            print(spot.frame.function, spot.frame.file, f"{spot.self_share:.0%}")

    Raises:
        ConfigError: no such process, or a duration or rate out of range.
        ProfileError: perf is missing or may not profile the process.
    """
    _validate(duration_s, rate_hz)
    if not process_exists(pid):
        raise ConfigError(f"--pid: no process {pid} is running", hint="check the PID (ps -ef)")
    perf = shutil.which("perf")
    if perf is None:
        raise ProfileError("perf is not installed", hint=INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="redline-perf-") as scratch:
        data = Path(scratch) / "perf.data"
        started = time.monotonic()
        recording, notes = _record_with_fallback(perf, pid, duration_s, rate_hz, data, stop)
        elapsed_s = time.monotonic() - started
        if not _has_data(data):
            if recording.stopped:  # interrupted before perf had written anything
                notes.append("profiling was stopped before perf recorded anything")
                return CpuProfile(StackSamples(), "perf", 0.0, partial=True, notes=notes)
            raise _failure(recording.stderr, f"process {pid}")
        samples = parse_perf_script(_script(perf, data))
        notes += _event_notes(perf, data)
    exited = not process_exists(pid)  # perf ends when its process does
    notes += _recording_notes(pid, samples, recording, exited=exited)
    partial = recording.stopped or recording.overran or exited
    # Whole: the sleep timed it. Ended early: perf's exit adds up to a second.
    recorded_s = min(elapsed_s, duration_s)
    return CpuProfile(samples, "perf", recorded_s, partial=partial, notes=notes)


def parse_perf_script(text: str) -> StackSamples:
    """Stacks from ``perf script -F comm,pid,tid,ip,sym,dso`` output; see the module docstring.

    Raises:
        ValueError: a line is neither a sample's header nor a frame.
    """
    samples = StackSamples()
    comm: str | None = None
    frames: list[Frame] = []  # leaf first, as perf prints them
    for number, line in enumerate(text.splitlines(), 1):
        frame = _FRAME.match(line) if line[:1].isspace() else None
        if frame is not None and comm is not None:
            frames.append(_frame(frame["rest"]))
            continue
        if comm is not None:  # a blank line, or the next header: this sample is whole
            samples.add(_stack(comm, frames))
            comm, frames = None, []
        if not line.strip():
            continue
        header = _HEADER.match(line.strip())
        if header is None:
            raise ValueError(f"line {number}: {line!r} is not a perf script sample header")
        comm = header["comm"]
        if header["frame"] and (alone := _FRAME.match(header["frame"])):
            frames.append(_frame(alone["rest"]))  # a sample recorded without its call chain
    if comm is not None:
        samples.add(_stack(comm, frames))
    return samples


def _validate(duration_s: float, rate_hz: int) -> None:
    if not duration_s > 0:
        raise ConfigError(f"--duration: {duration_s!r} s is out of range; allowed above 0")
    if not MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ:
        raise ConfigError(
            f"--rate: {rate_hz!r} samples a second is out of range; "
            f"allowed {MIN_RATE_HZ}..{MAX_RATE_HZ}"
        )


def _record_with_fallback(
    perf: str,
    pid: int,
    duration_s: float,
    rate_hz: int,
    data: Path,
    stop: threading.Event | None,
) -> tuple[_Recording, list[str]]:
    """Record with perf's own event; if it cannot sample here, once more on cpu-clock."""
    recording = _record(_record_argv(perf, pid, duration_s, rate_hz, data), duration_s, stop)
    unsupported = any(words in recording.stderr for words in _EVENT_UNSUPPORTED)
    if _has_data(data) or recording.stopped or not unsupported:
        return recording, []
    argv = _record_argv(perf, pid, duration_s, rate_hz, data, event=FALLBACK_EVENT)
    note = f"the default event cannot sample here (no hardware counters): sampled {FALLBACK_EVENT}"
    return _record(argv, duration_s, stop), [note]


def _record_argv(
    perf: str, pid: int, duration_s: float, rate_hz: int, data: Path, *, event: str | None = None
) -> list[str]:
    chosen = ["-e", event] if event is not None else []
    return [perf, "record", *chosen, "-F", str(rate_hz), "-g", "--no-buildid",
            "-p", str(pid), "-o", str(data), "--", "sleep", f"{duration_s:.3f}"]  # fmt: skip


def _record(argv: list[str], duration_s: float, stop: threading.Event | None) -> _Recording:
    """Run ``perf record`` until its ``sleep`` ends, ``stop`` is set or the deadline passes.

    perf's stderr goes to a file beside its data, so a chatty perf never
    blocks on a full pipe while this waits.
    """
    waiter = stop or threading.Event()
    log = Path(argv[argv.index("-o") + 1]).with_suffix(".log")
    deadline = time.monotonic() + duration_s + START_GRACE_S
    stopped = overran = False
    with (
        log.open("w") as stderr,
        subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr
        ) as proc,
    ):
        try:
            while proc.poll() is None:
                left_s = deadline - time.monotonic()
                if left_s <= 0:
                    overran = True
                    break
                if waiter.wait(min(POLL_S, left_s)):
                    stopped = True
                    break
        finally:
            _end(proc)
    return _Recording(log.read_text(errors="replace"), stopped, overran)


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Interrupt perf if it still runs (it then writes its data), and wait for it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=WRITE_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _has_data(data: Path) -> bool:
    """True when perf wrote a recording (a failed start leaves an empty file or none)."""
    try:
        return data.stat().st_size > 0
    except FileNotFoundError:
        return False


def _script(perf: str, data: Path) -> str:
    """The samples of a recording as ``perf script`` prints them."""
    argv = [perf, "script", "-i", str(data), "-F", SCRIPT_FIELDS]
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
            timeout=SCRIPT_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise ProfileError(
            f"perf script took more than {SCRIPT_TIMEOUT_S:g} s to read the recording",
            hint="profile for a shorter --duration or at a lower --rate",
        ) from None
    if done.returncode != 0:
        raise ProfileError(f"perf script could not read the recording: {_first_line(done.stderr)}")
    return done.stdout


def _event_notes(perf: str, data: Path) -> list[str]:
    """A note when perf left kernel frames out (``cpu-clock:u``: not privileged enough)."""
    argv = [perf, "evlist", "-i", str(data)]
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=TRIAL_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return []  # the note is a courtesy; the profile stands without it
    for line in done.stdout.splitlines():
        if line.startswith("#"):
            continue
        _, _, modifiers = line.strip().partition(":")
        if "u" in modifiers and "k" not in modifiers:
            return [
                f"kernel frames are left out: kernel.perf_event_paranoid is {_paranoid()} "
                "(run redline as root, or lower it to 1, to see them)"
            ]
    return []


def _recording_notes(
    pid: int, samples: StackSamples, recording: _Recording, *, exited: bool
) -> list[str]:
    notes = []
    if exited:
        notes.append(f"process {pid} exited during profiling")
    if recording.stopped:
        notes.append("profiling was stopped early")
    if recording.overran:
        notes.append("perf did not end on time and was interrupted")
    if not samples.stacks:
        notes.append(f"perf recorded no samples: process {pid} did not run on a CPU (idle?)")
    if lost := _LOST.search(recording.stderr):
        notes.append(f"perf lost {lost[1]} chunks of samples: profile at a lower --rate")
    return notes


def _failure(stderr: str, target: str) -> ProfileError:
    """The ProfileError for what perf said when it could not start."""
    for words, message, hint in _FAILURES:
        if words in stderr:
            return ProfileError(message.format(target=target, paranoid=_paranoid()), hint=hint)
    return ProfileError(f"perf could not profile {target}: {_first_line(stderr)}")


def _first_line(stderr: str) -> str:
    """perf's first line that says something (it opens many errors with a bare ``Error:``)."""
    lines = (line.strip() for line in stderr.splitlines())
    return next((line for line in lines if line and line != "Error:"), "no output")


def _paranoid() -> str:
    """The value of ``kernel.perf_event_paranoid``, or ``unknown``."""
    try:
        return PARANOID_FILE.read_text().strip()
    except OSError:
        return "unknown"


def _stack(comm: str, leaf_first: list[Frame]) -> list[Frame]:
    """A sample's stack, root first, under its thread's name."""
    return [Frame(comm), *reversed(leaf_first or [Frame(UNKNOWN)])]


def _frame(rest: str) -> Frame:
    """A frame from ``symbol+0xOFF (binary)``, the part of perf's line after the address."""
    symbol, binary = _split_binary(rest)
    symbol = _OFFSET.sub("", symbol) or UNKNOWN
    if binary is None or binary == UNKNOWN:
        return Frame(symbol)
    return Frame(symbol, binary if binary.startswith("[") else os.path.basename(binary))


def _split_binary(rest: str) -> tuple[str, str | None]:
    """``symbol (binary)`` into its parts; the binary may hold parentheses: ``(x.so (deleted))``.

    The binary is the last balanced parenthesised group, so C++ symbols with
    their own parentheses (``f(int) (/usr/lib/libx.so)``) split right.
    """
    if not rest.endswith(")"):
        return rest, None
    depth = 0
    for index in range(len(rest) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(rest[index], 0)
        if depth == 0:
            return rest[:index].rstrip(), rest[index + 1 : -1]
    return rest, None
