"""``redline.toml``: the system under study, read and checked once into a :class:`Context`.

The file's keys (``redline init`` writes a commented example; docs/context.md has them all)::

    environment = "local"              # local, dev or staging; production is refused

    [target]                           # required: what to load
    urls = ["http://127.0.0.1:8080/"]  # the requests (one per URL), or:
    # plan = "plan.toml"               # a plan file, relative to this one (then nothing else here)
    name = "shop"                      # the plan's name in the run history
    allowed_hosts = []                 # hosts besides loopback that may be loaded
    executor = { type = "constant-vus", vus = 10, duration = "30s" }
    # test, think_time, pacing, workers, connect_timeout, request_timeout, verify_tls,
    # cookies: as in a plan file, passed to the plan

    [sla]                              # each optional; "p95 = '300ms'" means p95 <= 300 ms
    p50 / p90 / p95 / p99 / max = "300ms"
    error_rate = "1%"                  # or a fraction 0..1
    min_rps = 100                      # rps >= 100

    [server]                           # optional: one of
    pid = 4242                         # a running process
    command = "python -m shop --port 8080"   # or a command redline starts and stops

    databases = ["postgresql://shop@127.0.0.1/shop"]   # postgresql, mysql, sqlite
    caches = ["redis://127.0.0.1:6379/0"]               # redis, memcached

    [capacity]
    expected_peak_rps = 1200           # the peak the system must carry, 0.1/s..100000/s
    growth_per_month = "10%"           # growth of that peak, 0%..1000% (or a fraction)

Every problem is found at once (:func:`validate_context`); :func:`load_context` raises
the first, one line, saying how many more there are, as plan files do. Messages never
show a DSN's password.
"""

from __future__ import annotations

import shlex
import tomllib
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import ValidationError

from redline.errors import ConfigError, ScopeError
from redline.plan._bounds import Range, Unit, fraction_in
from redline.plan._context import Context, ServerSpec
from redline.plan._dsn import Dsn, parse_dsn, redact_passwords
from redline.plan._limits import check_count, check_dsn_scope, check_rate
from redline.plan._plan import Plan
from redline.plan._problem import InputError, Problem, short
from redline.plan._request import MAX_NAME_LENGTH
from redline.plan._scope import Environment, parse_environment
from redline.plan._threshold import (
    Metric,
    Threshold,
    _fraction,
    _latency_us,
    threshold_from_text,
)
from redline.plan._toml import _syntax_error, load_plan, read_plan_text
from redline.plan._validation import config_errors, first_error

__all__ = [
    "CACHE_SCHEMES",
    "DATABASE_SCHEMES",
    "GROWTH_PER_MONTH_RANGE",
    "PID_RANGE",
    "load_context",
    "validate_context",
]

_T = TypeVar("_T")

#: The file's top-level keys.
TOP_KEYS = ("environment", "target", "sla", "server", "databases", "caches", "capacity")
#: ``[target]`` keys passed to the plan as they are (see docs/scenarios.md for each).
PLAN_KEYS = (
    "executor",
    "test",
    "think_time",
    "pacing",
    "workers",
    "connect_timeout",
    "request_timeout",
    "verify_tls",
    "cookies",
)
#: ``[target]`` keys of the context itself.
TARGET_KEYS = ("urls", "plan", "name", "allowed_hosts", *PLAN_KEYS)
#: ``[sla]`` latency keys and the metric each limits.
SLA_LATENCY = {"p50": Metric.P50, "p90": Metric.P90, "p95": Metric.P95, "p99": Metric.P99}
SLA_LATENCY["max"] = Metric.MAX
SLA_KEYS = (*SLA_LATENCY, "error_rate", "min_rps")
SERVER_KEYS = ("pid", "command")
CAPACITY_KEYS = ("expected_peak_rps", "growth_per_month")
#: The kinds of DSN each list accepts.
DATABASE_SCHEMES = ("postgresql", "mysql", "sqlite")
CACHE_SCHEMES = ("redis", "memcached")
#: A process id: Linux's largest ``pid_max`` is 2**22.
PID_RANGE = Range(1, 4_194_304, Unit.COUNT)
#: Growth of the peak per month, as a fraction: 0 (flat) to 10 (1000 %).
GROWTH_PER_MONTH_RANGE = Range(0, 10, Unit.RATIO)
#: How a DSN's host outside loopback is allowed, said in its scope error.
ALLOW_WITH = "target.allowed_hosts"
#: What the plan is called when ``[target]`` gives no name.
DEFAULT_NAME = "context"


class _Problems:
    """Every problem found so far; :meth:`check` runs one check and keeps its error."""

    def __init__(self) -> None:
        self.found: list[InputError] = []

    def check(self, check: Callable[[], _T]) -> _T | None:
        try:
            return check()
        except (ConfigError, ScopeError) as error:
            self.found.append(error)
            return None

    def add(self, field: str, detail: str) -> None:
        self.found.append(ConfigError(f"{field}: {detail}"))


def _shown(raw: object) -> str:
    """``raw`` for a message: short, and any DSN password in it replaced."""
    return redact_passwords(short(raw))


def _table(data: Mapping[str, Any], key: str, problems: _Problems) -> Mapping[str, Any]:
    raw = data.get(key, {})
    if isinstance(raw, Mapping):
        return raw
    problems.add(key, f"{_shown(raw)} is not a table; write [{key}] with its keys under it")
    return {}


def _unknown_keys(
    table: Mapping[str, Any], allowed: tuple[str, ...], where: str, problems: _Problems
) -> None:
    for key in table:
        if key not in allowed:
            field = f"{where}.{key}" if where else key
            problems.add(field, f"unknown key; allowed {', '.join(allowed)}")


def _at_field(field: str, check: Callable[[], _T]) -> Callable[[], _T]:
    def checked() -> _T:
        try:
            return check()
        except Problem as problem:
            raise problem.at_field(field) from None

    return checked


# --- [target] ----------------------------------------------------------------------------


def _request_names(urls: list[str]) -> list[str]:
    """One unique request name per URL: its path (``/products``), numbered when repeated."""
    names: list[str] = []
    for url in urls:
        path = urlsplit(url).path if isinstance(url, str) else ""
        base = path if path and len(path) <= MAX_NAME_LENGTH - 4 and "[" not in path else "request"
        name, number = base, 2
        while name in names:
            name, number = f"{base}#{number}", number + 1
        names.append(name)
    return names


def _target_path(path: str) -> str:
    """A plan key path as written in ``[target]``: ``requests[1].url`` is ``target.urls[1]``."""
    if path.startswith("requests[") and path.endswith("].url"):
        return "target.urls" + path.removeprefix("requests").removesuffix(".url")
    return f"target.{path}" if path else "target"


def _plan_from_urls(
    target: Mapping[str, Any], environment: Environment, problems: _Problems
) -> Plan | None:
    urls = target.get("urls")
    if not isinstance(urls, list) or not urls:
        problems.add(
            "target.urls",
            f"{_shown(urls)} is not a list of URLs; write e.g. urls = ['http://127.0.0.1:8080/']",
        )
        return None
    mapping: dict[str, Any] = {key: target[key] for key in PLAN_KEYS if key in target}
    mapping["name"] = target.get("name", DEFAULT_NAME)
    mapping["allowed_hosts"] = target.get("allowed_hosts", [])
    mapping["environment"] = environment.value
    mapping["requests"] = [
        {"name": name, "url": url} for name, url in zip(_request_names(urls), urls, strict=True)
    ]
    try:
        return Plan.model_validate(mapping)
    except ValidationError as exc:
        problems.found.extend(config_errors(exc, rename=_target_path))
        return None


def _plan_from_file(
    target: Mapping[str, Any], base: Path, environment: Environment, problems: _Problems
) -> Plan | None:
    raw = target["plan"]
    for key in target:
        if key != "plan":
            problems.add(
                f"target.{key}",
                "is given with target.plan; allowed only one of them "
                "(put the setting in the plan file, or list urls here instead)",
            )
    if not isinstance(raw, str) or not raw.strip():
        problems.add("target.plan", f"{_shown(raw)} is not a file name; write plan = 'plan.toml'")
        return None
    plan = problems.check(lambda: load_plan(base / raw))
    if plan is None:
        return None
    return plan.model_copy(update={"environment": environment})


def _plan(
    data: Mapping[str, Any], base: Path, environment: Environment, problems: _Problems
) -> Plan | None:
    if "target" not in data:
        problems.add("target", "missing; this key is required (urls, or a plan file)")
        return None
    target = _table(data, "target", problems)
    _unknown_keys(target, TARGET_KEYS, "target", problems)
    if "plan" in target:
        plan = _plan_from_file(target, base, environment, problems)
    else:
        plan = _plan_from_urls(target, environment, problems)
    if plan is not None:
        problems.check(plan.validate_scope)
    return plan


# --- [sla] -------------------------------------------------------------------------------


def _sla_text(key: str, raw: object) -> str:
    """The threshold ``key`` in ``[sla]`` stands for, its value checked (a :class:`Problem`)."""
    if key in SLA_LATENCY:
        if not isinstance(raw, str):
            raise Problem(
                f"{_shown(raw)} is not a latency; write a number with a unit, e.g. '300ms'"
            )
        if _latency_us(raw.strip()) <= 0:
            raise Problem(f"{raw!r} is out of range; allowed more than 0ms")
        return f"{key}<={raw.strip()}"
    if key == "error_rate":
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise Problem(f"{_shown(raw)} is not an error rate; write e.g. '1%' or 0.01")
        _fraction(str(raw).strip())
        return f"error_rate<={str(raw).strip()}"
    rps = check_rate(raw, field="sla.min_rps")
    return f"rps>={rps:g}"


def _sla_threshold(key: str, raw: object) -> Threshold:
    return threshold_from_text(_sla_text(key, raw))


def _slas(data: Mapping[str, Any], problems: _Problems) -> tuple[Threshold, ...]:
    sla = _table(data, "sla", problems)
    _unknown_keys(sla, SLA_KEYS, "sla", problems)
    slas: list[Threshold] = []
    for key in SLA_KEYS:
        if key in sla:
            value = sla[key]
            found = problems.check(_at_field(f"sla.{key}", partial(_sla_threshold, key, value)))
            if found is not None:
                slas.append(found)
    return tuple(slas)


# --- [server], databases, caches, [capacity] ---------------------------------------------


def _command(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise Problem(f"{_shown(raw)} is not a command; write e.g. 'python -m shop --port 8080'")
    try:
        shlex.split(raw)
    except ValueError as exc:
        raise Problem(f"cannot be split into words ({exc}); check its quotes") from None
    return raw.strip()


def _server(data: Mapping[str, Any], problems: _Problems) -> ServerSpec | None:
    if "server" not in data:
        return None
    server = _table(data, "server", problems)
    _unknown_keys(server, SERVER_KEYS, "server", problems)
    if ("pid" in server) == ("command" in server):
        problems.add("server", "give one of pid (a running process) and command (one to start)")
        return None
    if "pid" in server:
        pid = problems.check(lambda: check_count(server["pid"], PID_RANGE, field="server.pid"))
        return None if pid is None else ServerSpec(pid=pid)
    command = problems.check(_at_field("server.command", lambda: _command(server["command"])))
    return None if command is None else ServerSpec(command=command)


def _dsns(
    data: Mapping[str, Any],
    key: str,
    schemes: tuple[str, ...],
    allowed_hosts: list[str],
    problems: _Problems,
) -> tuple[Dsn, ...]:
    raw = data.get(key, [])
    if not isinstance(raw, list):
        problems.add(key, f"{_shown(raw)} is not a list; write {key} = ['{schemes[0]}://...']")
        return ()
    found: list[Dsn] = []
    for index, text in enumerate(raw):
        field = f"{key}[{index}]"
        if not isinstance(text, str):
            problems.add(field, f"{_shown(text)} is not a connection string")
            continue
        dsn = problems.check(partial(parse_dsn, text, field=field, schemes=schemes))
        if dsn is None:
            continue
        before = len(problems.found)
        problems.check(
            partial(check_dsn_scope, dsn, allowed_hosts, field=field, allow_with=ALLOW_WITH)
        )
        if len(problems.found) == before:
            found.append(dsn)
    return tuple(found)


def _growth(raw: object) -> float:
    try:
        return fraction_in(GROWTH_PER_MONTH_RANGE)(raw)
    except Problem as problem:
        if "out of range" not in problem.detail:
            raise
        raise Problem(
            f"{short(raw)} is out of range; allowed 0%..1000% (or a fraction 0..10)"
        ) from None


def _capacity(data: Mapping[str, Any], problems: _Problems) -> tuple[float | None, float | None]:
    capacity = _table(data, "capacity", problems)
    _unknown_keys(capacity, CAPACITY_KEYS, "capacity", problems)
    peak = growth = None
    if "expected_peak_rps" in capacity:
        raw_peak = capacity["expected_peak_rps"]
        peak = problems.check(lambda: check_rate(raw_peak, field="capacity.expected_peak_rps"))
    if "growth_per_month" in capacity:
        raw_growth = capacity["growth_per_month"]
        growth = problems.check(_at_field("capacity.growth_per_month", lambda: _growth(raw_growth)))
    return peak, growth


def _environment(data: Mapping[str, Any], problems: _Problems) -> Environment:
    raw = data.get("environment", Environment.LOCAL.value)
    if not isinstance(raw, str):
        problems.add("environment", f"{_shown(raw)} is not a string; allowed local, dev, staging")
        return Environment.LOCAL
    return problems.check(lambda: parse_environment(raw)) or Environment.LOCAL


# --- the file ----------------------------------------------------------------------------


def _context(data: Mapping[str, Any], path: Path) -> tuple[Context | None, list[InputError]]:
    problems = _Problems()
    environment = _environment(data, problems)  # first: production is the error to see
    _unknown_keys(data, TOP_KEYS, "", problems)
    plan = _plan(data, path.parent, environment, problems)
    allowed_hosts = list(plan.allowed_hosts) if plan is not None else []
    slas = _slas(data, problems)
    server = _server(data, problems)
    databases = _dsns(data, "databases", DATABASE_SCHEMES, allowed_hosts, problems)
    caches = _dsns(data, "caches", CACHE_SCHEMES, allowed_hosts, problems)
    peak, growth = _capacity(data, problems)
    if problems.found or plan is None:
        return None, problems.found
    context = Context(
        plan=plan,
        slas=slas,
        server=server,
        databases=databases,
        caches=caches,
        environment=environment.value,
        expected_peak_rps=peak,
        growth_per_month=growth,
        source=path,
    )
    return context, []


def _read(path: Path) -> Mapping[str, Any]:
    try:
        return tomllib.loads(read_plan_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(path, exc) from None


def validate_context(path: Path) -> list[InputError]:
    """Every problem in a ``redline.toml``, each one line (empty: :func:`load_context` succeeds).

    Raises:
        ConfigError: the file cannot be read, or is not TOML (nothing else to check then).
    """
    return _context(_read(path), path)[1]


def load_context(path: Path) -> Context:
    """Read and check a ``redline.toml`` (see the module docstring for its keys).

    Targets are scoped as plans are (loopback, or ``target.allowed_hosts``), and so are
    the databases and caches; production is refused.

    Raises:
        ConfigError: the file cannot be read, is not TOML, or has a bad value: the first
            problem, ``"redline.toml: sla.p95: '3x' is not a latency; ..."``, saying how many
            more there are (:func:`validate_context` lists them all).
        ScopeError: the first problem is production, or a host out of scope.

    Example::

        context = load_context(Path("redline.toml"))
        context.plan.requests[0].url, [str(s) for s in context.slas]
    """
    context, problems = _context(_read(path), path)
    if context is None:
        raise first_error(problems, source=str(path))
    return context
