"""Plans from command-line flags: ``redline run URL --vus 64 --duration 30s``.

The flags choose the executor:

=====================================  ===========================================
flags                                  executor
=====================================  ===========================================
(none)                                 ``constant-vus``, 1 VU for 10 s
``--vus N [--duration D]``             ``constant-vus``, N VUs for D (10 s)
``--rate R [--duration D]``            ``constant-arrival-rate``, R/s for D (10 s);
``[--max-vus M]``                      VUs default from R (see below)
``--iterations I [--vus N]``           ``shared-iterations``, N (1) VUs share I
``[--duration D]``                     iterations, stopping at D (10 min) at most
=====================================  ===========================================

With ``--rate``, ``max_vus`` defaults to R x 1 s (at least 100, at most 50000) and
``pre_allocated_vus`` to R x 100 ms (at least 1, at most ``max_vus``): by Little's
law, the VUs needed to sustain R/s at those latencies. Errors name the flag:
``--duration: '5s' is out of range; allowed 10s..24h``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from redline.errors import ConfigError
from redline.plan._plan import DEFAULT_DURATION_S, DEFAULT_VUS, Plan
from redline.plan._request import MAX_NAME_LENGTH
from redline.plan._scope import parse_url_target
from redline.plan._validation import config_errors, first_error

#: The flag each TOML key path of a flag-built plan came from.
_FLAG_FOR_PATH = {
    "requests[0].url": "url",
    "requests[0].method": "--method",
    "requests[0].headers": "--header",
    "requests[0].body": "--body",
    "executor.vus": "--vus",
    "executor.duration": "--duration",
    "executor.max_duration": "--duration",
    "executor.rate": "--rate",
    "executor.max_vus": "--max-vus",
    "executor.on_busy": "--on-busy",
    "executor.iterations": "--iterations",
    "thresholds": "--threshold",
    "allowed_hosts": "--allow-host",
    "connect_timeout": "--connect-timeout",
    "request_timeout": "--timeout",
    "workers": "--workers",
    "test.type": "--type",
    "test.target": "--target",
    "test.duration": "--duration",
    "test.steps": "--steps",
    "test.spike_factor": "--spike-factor",
    "test.repeat": "--repeat",
    "test.ramp_up": "--ramp-up",
    "test.body_size": "--body-size",
    "test.rows": "--rows",
}
_INDEX = re.compile(r"\[\d+\]$")
#: Name of the one request when its URL's path cannot serve (too long, or brackets).
_FALLBACK_NAME = "request"


def _flag_for(path: str) -> str:
    for key, flag in _FLAG_FOR_PATH.items():
        if path == key or _INDEX.sub("", path) == key:
            return flag
        if path.startswith(key + "."):
            return f"{flag} {path.removeprefix(key + '.')}"
    return path


def _request_name(url: str) -> str:
    # Thresholds name requests, as in "p95[/checkout]<300ms", so the path makes a good name.
    path = urlsplit(url).path or "/"
    usable = len(path) <= MAX_NAME_LENGTH and "[" not in path and "]" not in path
    return path if usable else _FALLBACK_NAME


def _arrival_rate(
    rate: str,
    *,
    duration: str | None,
    max_vus: int | None,
    iterations: int | None,
    on_busy: str | None,
) -> dict[str, Any]:
    if iterations is not None:
        raise ConfigError(
            f"--iterations {iterations!r} and --rate {rate!r}: choose one; "
            "--iterations runs a fixed count on --vus users, --rate a fixed rate for --duration"
        )
    executor: dict[str, Any] = {
        "type": "constant-arrival-rate",
        "rate": rate,
        "duration": DEFAULT_DURATION_S if duration is None else duration,
    }
    if max_vus is not None:
        executor["max_vus"] = max_vus
    if on_busy is not None:
        executor["on_busy"] = on_busy
    return executor


def _closed(vus: int | None, *, duration: str | None, iterations: int | None) -> dict[str, Any]:
    users = DEFAULT_VUS if vus is None else vus
    if iterations is not None:
        executor: dict[str, Any] = {"type": "shared-iterations", "vus": users}
        executor["iterations"] = iterations
        if duration is not None:
            executor["max_duration"] = duration
        return executor
    return {
        "type": "constant-vus",
        "vus": users,
        "duration": DEFAULT_DURATION_S if duration is None else duration,
    }


def _executor(
    *,
    vus: int | None,
    duration: str | None,
    rate: str | None,
    max_vus: int | None,
    iterations: int | None,
    on_busy: str | None,
) -> dict[str, Any]:
    if vus is not None and rate is not None:
        raise ConfigError(
            f"--vus {vus!r} and --rate {rate!r}: choose one; --vus keeps N users busy "
            "(closed model), --rate starts requests at a fixed rate (open model)"
        )
    if rate is not None:
        return _arrival_rate(
            rate, duration=duration, max_vus=max_vus, iterations=iterations, on_busy=on_busy
        )
    if on_busy is not None:
        raise ConfigError(f"--on-busy: {on_busy!r} applies only with --rate (the open model)")
    if max_vus is not None:
        raise ConfigError(
            f"--max-vus: {max_vus!r} applies only with --rate; with --vus, N is the number of VUs"
        )
    return _closed(vus, duration=duration, iterations=iterations)


def _check_no_executor_flags(*, vus: int | None, rate: str | None, iterations: int | None) -> None:
    given = [
        f"{flag} {value!r}"
        for flag, value in (("--vus", vus), ("--rate", rate), ("--iterations", iterations))
        if value is not None
    ]
    if given:
        raise ConfigError(
            f"{given[0]} and --type: choose one; --type derives the load from --target "
            "(VUs, e.g. 100, or a rate, e.g. 500/s)"
        )


def _given_test(test: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The test options, or None when no --type was given (and no option that needs it)."""
    if test is None or test.get("type") is not None:
        return test
    for key, value in test.items():
        if value is not None:
            flag = _FLAG_FOR_PATH.get(f"test.{key}", key)
            raise ConfigError(f"{flag}: {value!r} applies only with --type (e.g. --type stress)")
    return None


def _test(test: Mapping[str, Any], duration: str | None) -> dict[str, Any]:
    if test.get("target") is None:
        raise ConfigError(
            f"--target: missing; --type {test.get('type')} needs the expected load "
            "as VUs (e.g. 100) or a rate (e.g. 500/s)"
        )
    table = {key: value for key, value in test.items() if value is not None}
    if duration is not None:
        table["duration"] = duration
    return table


def plan_from_flags(
    url: str,
    *,
    vus: int | None = None,
    duration: str | None = None,
    rate: str | None = None,
    max_vus: int | None = None,
    iterations: int | None = None,
    on_busy: str | None = None,
    thresholds: Sequence[str] = (),
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
    connect_timeout: str | None = None,
    request_timeout: str | None = None,
    insecure: bool = False,
    workers: int | None = None,
    allowed_hosts: Sequence[str] = (),
    test: Mapping[str, Any] | None = None,
) -> Plan:
    """Build the plan for a one-URL run from the CLI's flags (see the module docstring).

    Args:
        url: the absolute http(s) URL to load.
        vus: virtual users (closed model); excludes ``rate``.
        duration: how long, e.g. ``"30s"``; with ``iterations``, the most it may take.
        rate: arrivals per second, e.g. ``"5000/s"`` (open model); excludes ``vus``.
        max_vus: cap on VUs for ``rate``.
        iterations: iterations shared by the VUs; excludes ``rate``.
        on_busy: with ``rate``: ``"drop"`` (default) or ``"queue"`` arrivals
            that find every VU busy.
        thresholds: e.g. ``["p95<300ms", "error_rate<1%"]``.
        method: the HTTP method.
        headers: sent with every request.
        body: sent with every request.
        connect_timeout: e.g. ``"2s"``; 10 s by default.
        request_timeout: e.g. ``"30s"``; 60 s by default.
        insecure: skip TLS certificate verification.
        workers: load-generating processes; the engine chooses when ``None``.
        allowed_hosts: hosts besides loopback the run may load.
        test: a test type and its parameters (``{"type": "stress", "target": 100}``);
            it derives the executor, so ``vus``, ``rate`` and ``iterations`` must be None.

    Raises:
        ConfigError: one line naming the flag,
            e.g. ``"--vus: 0 is out of range; allowed 1..50000"``.

    Example::

        plan = plan_from_flags("http://127.0.0.1:8080/", rate="5000/s", duration="1m")
        plan.executor.max_vus  # 5000
    """
    target = parse_url_target(url, field="url")
    test = _given_test(test)
    if test is not None:
        _check_no_executor_flags(vus=vus, rate=rate, iterations=iterations)
    data: dict[str, Any] = {
        "requests": [
            {
                "name": _request_name(target),
                "method": method,
                "url": target,
                "headers": dict(headers or {}),
                "body": body,
            }
        ],
        "thresholds": list(thresholds),
        "allowed_hosts": list(allowed_hosts),
        "verify_tls": not insecure,
        "workers": workers,
    }
    if test is None:
        data["executor"] = _executor(
            vus=vus,
            duration=duration,
            rate=rate,
            max_vus=max_vus,
            iterations=iterations,
            on_busy=on_busy,
        )
    else:
        data["test"] = _test(test, duration)
    if connect_timeout is not None:
        data["connect_timeout"] = connect_timeout
    if request_timeout is not None:
        data["request_timeout"] = request_timeout
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise first_error(config_errors(exc, rename=_flag_for)) from None
