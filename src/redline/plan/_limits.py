"""The validation layer every command uses: one checking function per kind of bounded value.

A plan's keys are checked by the plan model (:mod:`redline.plan._bounds` validators on its
fields); everything else that takes a bounded value (a CLI option, a probe's setting, a
future plan key) calls the function here for its kind, with the name the user typed the
value under. Both paths share the ranges of :mod:`redline.plan._bounds` and one message::

    check_duration("5s", field="--duration")
    # ConfigError: --duration: '5s' is out of range; allowed 10s..24h

Each function takes the value as the user wrote it (text such as ``"30s"``, ``"512Mi"``,
``"5000/s"``, or a number) and returns it in the unit of its name (seconds, bytes, per
second, cores). ``allowed`` narrows a kind to one option's range (``profile --duration``
samples 1s..24h, not the load's 10s..24h); the message then quotes that range.

The contract, with where each bound applies, is docs/limits.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from redline.errors import ScopeError
from redline.plan._bounds import (
    CACHE_TTL_S_RANGE,
    CPU_CORES_RANGE,
    DURATION_S_RANGE,
    IOPS_RANGE,
    MEMORY_BYTES_RANGE,
    PORT_RANGE,
    RAMP_S_RANGE,
    RATE_PER_S_RANGE,
    TIMEOUT_S_RANGE,
    VUS_RANGE,
    Range,
    Unit,
    bytes_in,
    number_in,
    per_second_in,
    seconds_in,
    whole_number_in,
)
from redline.plan._dsn import Dsn, parse_dsn
from redline.plan._problem import Problem, short
from redline.plan._scope import Environment, canonical_host, is_loopback, parse_environment
from redline.plan._units import NUMBER

__all__ = [
    "AUDIT_TIMEOUT_S_RANGE",
    "TREND_LIMIT_RANGE",
    "DB_TOP_RANGE",
    "LOOP_WATCH_S_RANGE",
    "PROFILE_DURATION_S_RANGE",
    "PROFILE_TOP_RANGE",
    "SAMPLE_EVERY_S_RANGE",
    "SCAN_S_RANGE",
    "check_count",
    "check_cpu",
    "check_dsn",
    "check_dsn_scope",
    "check_duration",
    "check_environment",
    "check_iops",
    "check_memory",
    "check_number",
    "check_port",
    "check_ramp",
    "check_rate",
    "check_seconds",
    "check_timeout",
    "check_ttl",
    "check_vus",
]

_T = TypeVar("_T")

# The ranges of single CLI options. Each is a narrower use of a kind above, so its
# own range, but checked and worded as every other.

#: ``profile --duration``: how long to sample a process (shorter than a load may last).
PROFILE_DURATION_S_RANGE = Range(1, 24 * 3600, Unit.SECONDS)
#: ``profile --loop-watch``: a blocked event loop worth naming.
LOOP_WATCH_S_RANGE = Range(0.001, 10, Unit.SECONDS)
#: ``run --sample-every``: the resource sampler's period.
SAMPLE_EVERY_S_RANGE = Range(0.1, 60, Unit.SECONDS)
#: ``http audit --timeout``: each of the audit's few requests; within :data:`TIMEOUT_S_RANGE`,
#: shorter because the audit sends them one at a time.
AUDIT_TIMEOUT_S_RANGE = Range(0.1, 60, Unit.SECONDS)
#: ``cache analyze --scan-seconds``: the key sample reads the server, so it stays short.
SCAN_S_RANGE = Range(0, 60, Unit.RATIO)
#: ``db analyze --top``: statements to list.
DB_TOP_RANGE = Range(1, 500, Unit.COUNT)
#: ``profile --top``: hotspots to print.
PROFILE_TOP_RANGE = Range(1, 200, Unit.COUNT)
#: ``trend --limit``: the newest runs to follow.
TREND_LIMIT_RANGE = Range(2, 10_000, Unit.COUNT)

#: Kubernetes' millicores: ``"500m"`` is half a core.
_MILLICORES = re.compile(r"\s*(\d+)\s*m\s*")


def _checked(validate: Callable[[object], _T], raw: object, field: str) -> _T:
    """``validate(raw)``, its :class:`Problem` named after ``field``."""
    try:
        return validate(raw)
    except Problem as problem:
        raise problem.at_field(field) from None


def check_seconds(raw: object, allowed: Range, *, field: str) -> float:
    """A duration (``"30s"``, ``"1h30m"``, ``"2d"`` or a number of seconds) within ``allowed``.

    Returns:
        Seconds.

    Raises:
        ConfigError: not a duration, or out of range:
            ``--duration: '5s' is out of range; allowed 10s..24h``.
    """
    return _checked(seconds_in(allowed), raw, field)


def check_count(raw: object, allowed: Range, *, field: str) -> int:
    """A whole number within ``allowed``; ``true`` and ``2.5`` are refused.

    Raises:
        ConfigError: ``--top: 0 is out of range; allowed 1..500``.
    """
    return _checked(whole_number_in(allowed), raw, field)


def check_number(raw: object, allowed: Range, *, field: str) -> float:
    """A number, whole or not, within ``allowed``.

    Raises:
        ConfigError: ``--scan-seconds: 61.0 is out of range; allowed 0..60``.
    """
    return _checked(number_in(allowed), raw, field)


def check_vus(raw: object, *, field: str = "vus") -> int:
    """Virtual users, 1..50,000."""
    return check_count(raw, VUS_RANGE, field=field)


def check_duration(
    raw: object, *, field: str = "duration", allowed: Range = DURATION_S_RANGE
) -> float:
    """How long a load lasts, 10s..24h (or ``allowed``); returns seconds."""
    return check_seconds(raw, allowed, field=field)


def check_ramp(raw: object, *, field: str = "ramp_up") -> float:
    """A ramp up or down, 0s..1h; returns seconds."""
    return check_seconds(raw, RAMP_S_RANGE, field=field)


def check_rate(raw: object, *, field: str = "rate") -> float:
    """An arrival rate (``"5000/s"``, ``"300/m"`` or a number per second), 0.1/s..100000/s.

    Returns:
        Arrivals per second.
    """
    return _checked(per_second_in(RATE_PER_S_RANGE), raw, field)


def check_timeout(
    raw: object, *, field: str = "timeout", allowed: Range = TIMEOUT_S_RANGE
) -> float:
    """A timeout, 100ms..5m (or ``allowed``, narrower); returns seconds."""
    return check_seconds(raw, allowed, field=field)


def check_ttl(raw: object, *, field: str = "ttl") -> float:
    """A cache entry's time to live, 1s..30d (``"1h"``, ``"7d"``, seconds); returns seconds."""
    return check_seconds(raw, CACHE_TTL_S_RANGE, field=field)


def _cores(raw: object) -> object:
    # "500m" -> 0.5 and "2" -> 2.0; other text stays text, which is refused.
    if not isinstance(raw, str):
        return raw
    millicores = _MILLICORES.fullmatch(raw)
    if millicores is not None:
        return int(millicores.group(1)) / 1000
    return float(raw) if re.fullmatch(NUMBER, raw.strip()) else raw


def check_cpu(raw: object, *, field: str = "cpu") -> float:
    """CPU in cores: a number (``0.5``, ``2``) or millicores (``"500m"``), 0.1..64.

    Returns:
        Cores.

    Raises:
        ConfigError: ``cpu: '65' is out of range; allowed 0.1..64``.
    """

    def cores_in(value: object) -> float:
        cores = _cores(value)
        if isinstance(cores, str | bool) or not isinstance(cores, int | float):
            raise Problem(
                f"{short(value)} is not a number of cores; write e.g. 2, 0.5 or '500m'; "
                f"allowed {CPU_CORES_RANGE}"
            )
        try:
            return number_in(CPU_CORES_RANGE)(cores)
        except Problem:
            # Quote what the user wrote, not the number it was read as.
            raise Problem(f"{short(value)} is out of range; allowed {CPU_CORES_RANGE}") from None

    return _checked(cores_in, raw, field)


def check_memory(raw: object, *, field: str = "memory") -> int:
    """Memory: ``"512Mi"``, ``"2Gi"``, ``"1G"``, ``"256MiB"`` or bytes, 128Mi..512Gi.

    ``Ki``/``Mi``/``Gi``/``Ti`` (and ``KiB``...) are powers of 1024, ``K``/``M``/``G``/``T``
    (and ``KB``...) powers of 1000, as in Kubernetes; case is ignored.

    Returns:
        Bytes.

    Raises:
        ConfigError: ``memory: '64Mi' is out of range; allowed 128Mi..512Gi``.
    """
    return _checked(bytes_in(MEMORY_BYTES_RANGE), raw, field)


def check_iops(raw: object, *, field: str = "iops") -> int:
    """Disk operations per second, a whole number 100..10,000."""
    return check_count(raw, IOPS_RANGE, field=field)


def check_port(raw: object, *, field: str = "port") -> int:
    """A TCP port, 1..65535."""
    return check_count(raw, PORT_RANGE, field=field)


def check_dsn(text: str, *, field: str = "DSN", schemes: tuple[str, ...] | None = None) -> Dsn:
    """A connection string; see :func:`redline.plan.parse_dsn` for the forms.

    Raises:
        ConfigError: the text is not a DSN of an accepted kind; the message shows the
            expected form and never the password.
    """
    return parse_dsn(text, field=field, schemes=schemes)


def check_environment(text: str, *, field: str = "environment") -> Environment:
    """``local``, ``dev`` or ``staging``.

    Raises:
        ScopeError: production (``production``, ``prod``, ``prd``, ``live``).
        ConfigError: anything else.
    """
    return parse_environment(text, field=field)


def check_dsn_scope(
    dsn: Dsn, allowed_hosts: Sequence[str], *, field: str, allow_with: str = "--allow-host"
) -> None:
    """Refuse a database or cache that is neither on loopback nor in ``allowed_hosts``.

    The rule of a load's targets (:func:`redline.plan.check_scope`): loopback always,
    other hosts only as listed, names compared as written and never resolved. An SQLite
    file is on this machine, so always in scope.

    Args:
        dsn: the parsed connection string.
        allowed_hosts: hosts besides loopback the user has declared theirs.
        field: what to call the DSN in the error (``"DSN"``, ``"--db"``).
        allow_with: how the user lists a host (``--allow-host``, or ``allowed_hosts``
            in a plan).

    Raises:
        ScopeError: ``DSN: host 'db.internal' is out of scope; allowed loopback (...) and
            --allow-host []``.
    """
    if dsn.scheme == "sqlite" or is_loopback(dsn.host):
        return
    allowed = sorted({canonical_host(host) for host in allowed_hosts})
    if canonical_host(dsn.host) in allowed:
        return
    raise ScopeError(
        f"{field}: host {canonical_host(dsn.host)!r} is out of scope; allowed loopback "
        f"(127.0.0.0/8, ::1, localhost) and {allow_with} {allowed}",
        hint=f"add the host with {allow_with} only if you own the server and may put load on it",
    )
