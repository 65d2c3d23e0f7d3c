"""The server under test for ``redline run``: sampled by PID, or started and stopped here.

``--server-pid PID`` samples a running process tree. ``--server-cmd "..."``
starts the server in its own process group (its output to a temporary log,
removed unless something went wrong), waits until it accepts connections on
the plan's first target, and always stops it at the end: SIGTERM, then
SIGKILL after :data:`SERVER_STOP_GRACE_S`. The host is sampled in every run.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Annotated
from urllib.parse import urlsplit

import typer

from redline.errors import ConfigError, TargetError
from redline.metrics import ResourceProbe, ResourceSampler
from redline.optimize import PidRegistry
from redline.plan import (
    SAMPLE_EVERY_S_RANGE,
    Dsn,
    Plan,
    check_seconds,
    is_loopback,
    redact_passwords,
)
from redline.probes import (
    HostProbe,
    ProcessTreeProbe,
    activity_probe,
    cache_activity_probe,
    host_info,
    process_exists,
)

__all__ = [
    "SampleEveryOption",
    "ServerCmdOption",
    "ServerPidOption",
    "parse_sample_every",
    "resource_sampling",
]

#: How long a ``--server-cmd`` has to accept connections.
SERVER_READY_TIMEOUT_S = 10.0
#: How long a stopped server has between SIGTERM and SIGKILL.
SERVER_STOP_GRACE_S = 5.0
#: Pause between two connection attempts while the server starts.
READY_POLL_S = 0.05

ServerPidOption = Annotated[
    int | None,
    typer.Option(help="Sample this server process and its children during the run."),
]
ServerCmdOption = Annotated[
    str | None,
    typer.Option(
        help="Start the server with this command, wait until it listens on the first "
        "target (loopback), sample it, and stop it at the end."
    ),
]


SampleEveryOption = Annotated[
    str,
    typer.Option(help="How often to sample the host and the server (100ms..60s)."),
]


@contextmanager
def resource_sampling(
    plan: Plan,
    *,
    server_cmd: str | None,
    server_pid: int | None,
    stop: threading.Event,
    interval_s: float = 1.0,
    database: Dsn | None = None,
    cache: Dsn | None = None,
    pids: PidRegistry | None = None,
) -> Iterator[ResourceSampler]:
    """A sampler of the host and of the server (when given), the server running meanwhile.

    A server started here is in ``pids`` while it runs (``redline verify`` looks there).

    Raises:
        ConfigError: both options, a PID that does not run, a command that does
            not parse, a first target that is not on loopback.
        TargetError: the command exited or did not listen in time (no load sent).
    """
    if server_cmd is not None and server_pid is not None:
        raise ConfigError("--server-cmd and --server-pid: give one or the other, not both")
    if server_pid is not None:
        if not process_exists(server_pid):
            raise ConfigError(f"--server-pid: no process {server_pid!r} is running")
        yield _sampler(server_pid, interval_s, database, cache)
    elif server_cmd is not None:
        with _started_server(server_cmd, plan, stop, pids) as pid:
            yield _sampler(pid, interval_s, database, cache)
    else:
        yield _sampler(None, interval_s, database, cache)


def parse_sample_every(text: str) -> float:
    """``--sample-every``: the resource sampling period in seconds (0.1 s..60 s).

    Raises:
        ConfigError: not a duration, or out of range.
    """
    return check_seconds(text, SAMPLE_EVERY_S_RANGE, field="--sample-every")


def _sampler(
    pid: int | None, interval_s: float, database: Dsn | None, cache: Dsn | None = None
) -> ResourceSampler:
    probes: dict[str, ResourceProbe] = {"host": HostProbe()}
    if pid is not None:
        probes["server"] = ProcessTreeProbe(pid)
    if database is not None:
        probes["database"] = activity_probe(database)  # loads the driver only when asked for
    if cache is not None:
        probes["cache"] = cache_activity_probe(cache)  # its driver loads when it connects
    return ResourceSampler(probes, interval_s=interval_s, server_pid=pid, host_info=host_info)


def _loopback_target(plan: Plan) -> tuple[str, int]:
    if not plan.requests:
        raise ConfigError("--server-cmd: the plan has no target to wait for")
    url = urlsplit(plan.requests[0].url)
    host = url.hostname or ""
    if not is_loopback(host):
        raise ConfigError(
            f"--server-cmd: the first target {plan.requests[0].url!r} is not on loopback",
            hint="start the server yourself and pass --server-pid PID",
        )
    return host, url.port or (443 if url.scheme == "https" else 80)


@contextmanager
def _started_server(
    command: str, plan: Plan, stop: threading.Event, pids: PidRegistry | None = None
) -> Iterator[int]:
    shown = redact_passwords(command)  # what messages quote: a DSN in it keeps its password
    try:
        args = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"--server-cmd: cannot parse {shown!r}: {exc}") from None
    if not args:
        raise ConfigError("--server-cmd: the command is empty")
    host, port = _loopback_target(plan)
    if _accepts(host, port):
        # Its server could not bind, and we would sample the wrong process.
        raise ConfigError(
            f"--server-cmd: {host}:{port} already accepts connections before the command started",
            hint="stop what listens there, or pass its PID with --server-pid",
        )
    log = tempfile.NamedTemporaryFile(prefix="redline-server-", suffix=".log", delete=False)
    keep_log = True
    try:
        proc = _spawn(shown, args, log)
        if pids is not None:
            pids.register(proc.pid, "server")
        try:
            _await_listening(proc, shown, host, port, log.name, stop)
            yield proc.pid
            keep_log = proc.poll() is not None
            if keep_log:
                sys.stderr.write(
                    f"server command exited with code {proc.returncode} during the run; "
                    f"its output is in {log.name}\n"
                )
        finally:
            _stop_server(proc)
            if pids is not None:
                pids.unregister(proc.pid)
    finally:
        log.close()
        if not keep_log:
            os.unlink(log.name)


def _spawn(command: str, args: list[str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    try:
        # Its own process group: a Ctrl-C in the terminal reaches redline, which stops it.
        return subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        raise TargetError(f"--server-cmd {command!r} could not start: {exc.strerror}") from None


def _await_listening(
    proc: subprocess.Popen[bytes],
    command: str,
    host: str,
    port: int,
    log_path: str,
    stop: threading.Event,
) -> None:
    deadline = time.monotonic() + SERVER_READY_TIMEOUT_S
    while not stop.is_set():
        code = proc.poll()
        if code is not None:
            raise TargetError(
                f"--server-cmd {command!r} exited with code {code} "
                f"before listening on {host}:{port}",
                hint=f"its output is in {log_path}",
            )
        if _accepts(host, port):
            return
        if time.monotonic() > deadline:
            raise TargetError(
                f"--server-cmd {command!r} did not accept connections on {host}:{port} "
                f"within {SERVER_READY_TIMEOUT_S:g} s",
                hint=f"its output is in {log_path}",
            )
        time.sleep(READY_POLL_S)


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=READY_POLL_S * 4):
            return True
    except OSError:
        return False  # not listening (yet)


def _stop_server(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server by its PID, then SIGKILL if it is still there after the grace."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=SERVER_STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
