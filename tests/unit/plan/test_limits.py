"""The validation layer: every bound of issue 10 at its limit, just inside and just outside.

Each bound is checked at both ends. "Just outside" is the nearest value a user can write
past the limit in the bound's own resolution (a whole unit for counts, a millisecond or
second for durations, a tenth or a hundredth for rates and cores, a byte for sizes).
Every refusal is one line: ``FIELD: VALUE is out of range; allowed LOW..HIGH``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from redline.errors import ConfigError, ScopeError
from redline.plan import (
    AUDIT_TIMEOUT_S_RANGE,
    CACHE_TTL_S_RANGE,
    CPU_CORES_RANGE,
    DB_TOP_RANGE,
    IOPS_RANGE,
    LOOP_WATCH_S_RANGE,
    MEMORY_BYTES_RANGE,
    PORT_RANGE,
    PROFILE_DURATION_S_RANGE,
    PROFILE_TOP_RANGE,
    SAMPLE_EVERY_S_RANGE,
    SCAN_S_RANGE,
    TREND_LIMIT_RANGE,
    Environment,
    check_count,
    check_cpu,
    check_dsn,
    check_dsn_scope,
    check_duration,
    check_environment,
    check_iops,
    check_memory,
    check_number,
    check_port,
    check_ramp,
    check_rate,
    check_seconds,
    check_timeout,
    check_ttl,
    check_vus,
    plan_from_flags,
    plan_from_mapping,
)

MI = 1024**2
GI = 1024**3
DAY_S = 86_400


@dataclass(frozen=True)
class Bound:
    """One bound: its checking function, what it is called, and values at and past it."""

    name: str
    check: Callable[..., Any]
    allowed: str
    #: (written, expected result) at the low and high limits and just inside each.
    accepted: tuple[tuple[Any, Any], ...]
    #: Written just below the low limit and just above the high one.
    refused: tuple[Any, ...]

    def __str__(self) -> str:
        return self.name


BOUNDS = [
    Bound("users", check_vus, "1..50000",
          ((1, 1), (2, 2), (49_999, 49_999), (50_000, 50_000)), (0, 50_001)),
    Bound("duration", check_duration, "10s..24h",
          (("10s", 10.0), ("10.001s", 10.001), ("23h59m59s", DAY_S - 1.0), ("24h", DAY_S),
           (10, 10.0), ("1d", DAY_S)),
          ("9.999s", "24h0.001s", 9, DAY_S + 1, "-10s")),
    Bound("ramp-up", check_ramp, "0s..1h",
          (("0s", 0.0), (0, 0.0), ("1ms", 0.001), ("59m59s", 3599.0), ("1h", 3600.0),
           (3600, 3600.0)),
          ("-1ms", "1h0.001s", -1, 3601)),
    Bound("rate", check_rate, "0.1/s..100000/s",
          (("0.1/s", 0.1), (0.1, 0.1), ("0.11/s", 0.11), ("6/m", 0.1), ("99999.9/s", 99_999.9),
           ("100000/s", 100_000.0), (100_000, 100_000.0)),
          ("0.09/s", "100000.1/s", 0, "5/m", 100_001, "-1/s")),
    Bound("timeout", check_timeout, "100ms..5m",
          (("100ms", 0.1), ("101ms", 0.101), ("4m59.999s", 299.999), ("5m", 300.0), (300, 300.0)),
          ("99ms", "5m0.001s", 0, 301)),
    Bound("cpu", check_cpu, "0.1..64",
          ((0.1, 0.1), ("100m", 0.1), ("0.11", 0.11), (63.99, 63.99), (64, 64.0), ("64", 64.0),
           ("64000m", 64.0)),
          (0.09, "99m", 64.01, "64001m", 0, -1)),
    Bound("memory", check_memory, "128Mi..512Gi",
          (("128Mi", 128 * MI), (128 * MI, 128 * MI), ("134217729", 128 * MI + 1),
           ("0.125Gi", 128 * MI), ("131072Ki", 128 * MI), ("512Gi", 512 * GI),
           ("0.5Ti", 512 * GI), (512 * GI - 1, 512 * GI - 1), ("512GiB", 512 * GI),
           ("1G", 10**9), ("200M", 200 * 10**6)),
          ("127Mi", 128 * MI - 1, 512 * GI + 1, "513Gi", "134M", "0")),
    Bound("disk IOPS", check_iops, "100..10000",
          ((100, 100), (101, 101), (9_999, 9_999), (10_000, 10_000)), (99, 10_001, 0)),
    Bound("cache TTL", check_ttl, "1s..30d",
          (("1s", 1.0), (1, 1.0), ("1.001s", 1.001), ("29d23h59m59s", 30 * DAY_S - 1.0),
           ("30d", 30 * DAY_S), ("720h", 30 * DAY_S)),
          ("999ms", "30d0.001s", 0, 30 * DAY_S + 1)),
    Bound("port", check_port, "1..65535",
          ((1, 1), (2, 2), (65_534, 65_534), (65_535, 65_535)), (0, 65_536, -1)),
]  # fmt: skip


@pytest.mark.parametrize("bound", BOUNDS, ids=str)
def test_the_limits_and_just_inside_are_accepted(bound: Bound) -> None:
    for written, expected in bound.accepted:
        assert bound.check(written, field="f") == pytest.approx(expected), written


@pytest.mark.parametrize(
    ("bound", "written"),
    [(bound, written) for bound in BOUNDS for written in bound.refused],
    ids=lambda value: str(value),
)
def test_just_outside_is_refused_with_one_line(bound: Bound, written: Any) -> None:
    expected = rf"^--flag: {re.escape(repr(written))} is out of range; allowed "
    with pytest.raises(ConfigError, match=expected + re.escape(bound.allowed) + "$"):
        bound.check(written, field="--flag")


@pytest.mark.parametrize("bound", BOUNDS, ids=str)
def test_the_field_is_named_by_default(bound: Bound) -> None:
    with pytest.raises(ConfigError) as caught:
        bound.check(bound.refused[0])
    assert ":" in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    ("check", "written", "message"),
    [
        (check_duration, "soon", r"'soon' is not a duration; expected seconds or a number"),
        (check_rate, "fast", r"'fast' is not a rate; expected a number per second"),
        (check_memory, "lots", r"'lots' is not a size; write e\.g\. '64KiB'"),
        (check_memory, "128Xi", r"'128Xi' is not a size"),
        (check_cpu, "two", r"'two' is not a number of cores; write e\.g\. 2, 0\.5 or '500m'"),
        (check_cpu, True, r"True is not a number"),
        (check_vus, 2.5, r"2\.5 is not a whole number; allowed 1\.\.50000"),
        (check_vus, True, r"True is not a whole number"),
        (check_iops, "100", r"'100' is not a whole number; allowed 100\.\.10000"),
        (check_ttl, [], r"\[\] is not a duration"),
    ],
)
def test_what_is_not_a_value_of_its_kind_is_refused(
    check: Callable[..., Any], written: Any, message: str
) -> None:
    with pytest.raises(ConfigError, match=rf"^field: {message}"):
        check(written, field="field")


# The options of single commands: their own ranges, the same functions and wording.
OPTION_RANGES = [
    ("--duration", check_seconds, PROFILE_DURATION_S_RANGE, ("1s", "24h"), ("999ms", "24h1ms")),
    ("--loop-watch", check_seconds, LOOP_WATCH_S_RANGE, ("1ms", "10s"), ("999us", "10.001s")),
    ("--sample-every", check_seconds, SAMPLE_EVERY_S_RANGE, ("100ms", "1m"), ("99ms", "61s")),
    ("--timeout", check_seconds, AUDIT_TIMEOUT_S_RANGE, ("100ms", "1m"), ("99ms", "5m")),
    ("--scan-seconds", check_number, SCAN_S_RANGE, (0, 60.0), (-0.1, 61.0)),
    ("--top", check_count, DB_TOP_RANGE, (1, 500), (0, 501)),
    ("--top", check_count, PROFILE_TOP_RANGE, (1, 200), (0, 201)),
    ("--limit", check_count, TREND_LIMIT_RANGE, (2, 10_000), (1, 10_001)),
]


@pytest.mark.parametrize(
    ("flag", "check", "allowed", "limits", "outside"), OPTION_RANGES, ids=lambda v: str(v)
)
def test_option_ranges_at_and_past_their_limits(
    flag: str, check: Callable[..., Any], allowed: Any, limits: tuple[Any, Any],
    outside: tuple[Any, Any],
) -> None:  # fmt: skip
    for written in limits:
        check(written, allowed, field=flag)
    for written in outside:
        with pytest.raises(
            ConfigError,
            match=rf"^{flag}: {re.escape(repr(written))} is out of range; "
            rf"allowed {re.escape(str(allowed))}$",
        ):
            check(written, allowed, field=flag)


def test_option_ranges_read_as_their_help_says() -> None:
    assert str(SAMPLE_EVERY_S_RANGE) == "100ms..1m"
    assert str(AUDIT_TIMEOUT_S_RANGE) == "100ms..1m"
    assert str(SCAN_S_RANGE) == "0..60"
    assert str(PROFILE_DURATION_S_RANGE) == "1s..24h"
    assert str(MEMORY_BYTES_RANGE) == "128Mi..512Gi"
    assert str(CACHE_TTL_S_RANGE) == "1s..30d"
    assert str(CPU_CORES_RANGE) == "0.1..64"
    assert str(IOPS_RANGE) == "100..10000"
    assert str(PORT_RANGE) == "1..65535"


# The load bounds through the two other ways in: a plan's keys and the CLI's flags.


@pytest.mark.parametrize(
    ("executor", "path", "shown"),
    [
        ({"type": "constant-vus", "vus": 50_001, "duration": "10s"}, "executor.vus", "50001"),
        ({"type": "constant-vus", "vus": 0, "duration": "10s"}, "executor.vus", "0"),
        ({"type": "constant-vus", "vus": 1, "duration": "24h1s"}, "executor.duration", "'24h1s'"),
        ({"type": "constant-vus", "vus": 1, "duration": "9s"}, "executor.duration", "'9s'"),
        ({"type": "constant-arrival-rate", "rate": "0.09/s", "duration": "10s"},
         "executor.rate", "'0.09/s'"),
        ({"type": "constant-arrival-rate", "rate": 100_001, "duration": "10s"},
         "executor.rate", "100001"),
        ({"type": "ramping-vus", "stages": [{"duration": "10s", "target": 1}],
          "graceful_ramp_down": "1h1s"}, "executor.graceful_ramp_down", "'1h1s'"),
        ({"type": "ramping-vus", "stages": [{"duration": "10s", "target": 1}],
          "graceful_ramp_down": "-1ms"}, "executor.graceful_ramp_down", "'-1ms'"),
    ],
)  # fmt: skip
def test_plan_keys_use_the_same_bounds_and_wording(
    executor: dict[str, Any], path: str, shown: str
) -> None:
    data = {"requests": [{"name": "a", "url": "http://127.0.0.1:1/"}], "executor": executor}
    with pytest.raises(ConfigError, match=rf"^{re.escape(path)}: {re.escape(shown)} is out of"):
        plan_from_mapping(data)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"vus": 50_001}, "--vus: 50001 is out of range; allowed 1..50000"),
        ({"duration": "9s"}, "--duration: '9s' is out of range; allowed 10s..24h"),
        ({"rate": "100001/s"}, "--rate: '100001/s' is out of range; allowed 0.1/s..100000/s"),
        ({"request_timeout": "99ms"}, "--timeout: '99ms' is out of range; allowed 100ms..5m"),
        ({"connect_timeout": "5m1s"},
         "--connect-timeout: '5m1s' is out of range; allowed 100ms..5m"),
    ],
)  # fmt: skip
def test_flags_use_the_same_bounds_and_wording(flags: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        plan_from_flags("http://127.0.0.1:1/", **flags)


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        ({"vus": 50_000, "duration": "24h"}, "executor"),
        ({"vus": 1, "duration": "10s"}, "executor"),
        ({"rate": "0.1/s"}, "executor"),
        ({"rate": "100000/s"}, "executor"),
        ({"request_timeout": "100ms", "connect_timeout": "5m"}, "request_timeout_s"),
    ],
)
def test_flags_at_the_limits_are_accepted(flags: dict[str, Any], field: str) -> None:
    assert getattr(plan_from_flags("http://127.0.0.1:1/", **flags), field) is not None


# Connection strings, environments and scope.


@pytest.mark.parametrize(
    ("text", "port"),
    [
        ("postgresql://h:1/db", 1),
        ("postgresql://h:65535/db", 65_535),
        ("mysql://u:p@h:2/db", 2),
        ("mongodb://h:65534/x", 65_534),
        ("redis://h:6379/0", 6379),
    ],
)
def test_dsn_ports_at_their_limits(text: str, port: int) -> None:
    assert check_dsn(text).port == port


@pytest.mark.parametrize(
    ("text", "shown"),
    [("postgresql://u:pw@h:0/db", "0 "), ("postgresql://u:pw@h:65536/db", "65536 "),
     ("postgresql://h:0/db", ""), ("redis://h:65536", "")],
)  # fmt: skip
def test_dsn_ports_past_their_limits(text: str, shown: str) -> None:
    with pytest.raises(
        ConfigError, match=rf"^DSN: port {shown}is out of range; allowed 1\.\.65535; expected "
    ):
        check_dsn(text)


@pytest.mark.parametrize(
    "scheme", ["postgresql", "mysql", "mongodb", "redis", "memcached", "sqlite"]
)
def test_every_scheme_redline_uses_is_accepted(scheme: str) -> None:
    text = "sqlite:///tmp/x.db" if scheme == "sqlite" else f"{scheme}://db-1.internal:1/app_db"
    if scheme in ("redis", "memcached"):
        text = f"{scheme}://db-1.internal:1"
    assert check_dsn(text).scheme == scheme


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http://h/db", "not a connection string of a supported kind; expected postgresql://"),
        ("postgresql://h_1/db", "host 'h_1' must be letters, digits, dots and dashes"),
        ("postgresql://h/a.b", "the database name must be letters, digits, '_' and '-'"),
        ("mongodb://h/a b", "the database name must be letters"),
    ],
)
def test_dsn_refusals_show_the_expected_form(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^DSN: {re.escape(message)}"):
        check_dsn(text)


@pytest.mark.parametrize("name", ["local", "dev", "staging", "STAGING"])
def test_environments_allowed(name: str) -> None:
    assert check_environment(name) is Environment(name.lower())


@pytest.mark.parametrize("name", ["production", "prod", "prd", "live", "Production "])
def test_production_is_a_scope_error_with_a_hint(name: str) -> None:
    with pytest.raises(ScopeError, match=r"^environment: .* is refused: redline never loads") as e:
        check_environment(name)
    assert e.value.hint is not None and "staging" in e.value.hint


def test_production_in_a_plan_is_refused_before_the_plan_exists() -> None:
    data = {"requests": [{"name": "a", "url": "http://127.0.0.1:1/"}], "environment": "prod"}
    with pytest.raises(ScopeError, match=r"^environment: 'prod' is refused"):
        plan_from_mapping(data)


@pytest.mark.parametrize(
    "text", ["redis://127.0.0.1:6379", "postgresql://localhost/db", "sqlite:///x.db",
             "memcached://127.9.9.9", "mysql://LOCALHOST/db"],
)  # fmt: skip
def test_loopback_databases_are_in_scope(text: str) -> None:
    check_dsn_scope(check_dsn(text), [], field="DSN")


def test_other_database_hosts_need_listing() -> None:
    dsn = check_dsn("postgresql://app:pw@db.staging.internal/app")
    with pytest.raises(
        ScopeError,
        match=r"^--db: host 'db\.staging\.internal' is out of scope; allowed loopback "
        r"\(127\.0\.0\.0/8, ::1, localhost\) and allowed_hosts \[\]$",
    ) as caught:
        check_dsn_scope(dsn, [], field="--db", allow_with="allowed_hosts")
    assert caught.value.hint is not None and "allowed_hosts" in caught.value.hint
    check_dsn_scope(dsn, ["DB.staging.internal."], field="--db")
    with pytest.raises(ScopeError, match="--allow-host"):
        check_dsn_scope(dsn, ["staging.internal"], field="DSN")


# A test type's ramp-up: ``[test] ramp_up`` (``--ramp-up``), 0s..1h.


def typed_plan(**test: Any) -> dict[str, Any]:
    return {"requests": [{"name": "a", "url": "http://127.0.0.1:1/"}], "test": test}


@pytest.mark.parametrize(
    ("ramp_up", "ramp_s"),
    [("0s", 0.0), ("1ms", 0.001), ("59m59.999s", 3599.999), ("1h", 3600.0), (3600, 3600.0)],
)
@pytest.mark.parametrize("test_type", ["load", "volume", "soak"])
def test_a_ramp_up_at_and_inside_its_limits(test_type: str, ramp_up: Any, ramp_s: float) -> None:
    plan = plan_from_mapping(typed_plan(type=test_type, target=10, duration="24h", ramp_up=ramp_up))
    assert ramp_up_s(plan) == pytest.approx(ramp_s)
    assert plan.planned_duration_s() == pytest.approx(86_400)


def ramp_up_s(plan: Any) -> float:
    """How long the plan's ramp-up phase lasts (0 when it has none)."""
    ramps = [p for p in plan.phases() if p.name == "ramp-up"]
    return sum(p.end_s - p.start_s for p in ramps)


@pytest.mark.parametrize(("ramp_up", "shown"), [("-1ms", "'-1ms'"), ("1h0.001s", "'1h0.001s'"),
                                                (-1, "-1"), (3601, "3601")])  # fmt: skip
def test_a_ramp_up_just_outside_is_refused(ramp_up: Any, shown: str) -> None:
    with pytest.raises(
        ConfigError, match=rf"^test\.ramp_up: {re.escape(shown)} is out of range; allowed 0s\.\.1h$"
    ):
        plan_from_mapping(typed_plan(type="load", target=10, duration="24h", ramp_up=ramp_up))


def test_a_derived_ramp_up_is_at_most_an_hour() -> None:
    plan = plan_from_mapping(typed_plan(type="load", target=10, duration="24h"))
    assert ramp_up_s(plan) == 3600.0
    short = plan_from_mapping(typed_plan(type="load", target=10, duration="10m"))
    assert short.phases()[0].end_s == 60.0  # 10 % of the duration, as before


@pytest.mark.parametrize(
    ("test_type", "duration", "ramp_up", "message"),
    [
        ("load", "10m", "5m", "'5m' leaves no steady load in a 10m load test; "
         "allowed less than half the duration"),
        ("soak", "10m", "10m", "'10m' leaves no steady load in a 10m soak test; "
         "allowed less than the duration"),
        ("stress", "10m", "1m", "'1m' applies only to load, volume and soak tests, not stress"),
    ],
)  # fmt: skip
def test_a_ramp_up_must_fit_its_test(
    test_type: str, duration: str, ramp_up: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=f"^test\\.ramp_up: {re.escape(message)}$"):
        plan_from_mapping(typed_plan(type=test_type, target=10, duration=duration, ramp_up=ramp_up))


def test_the_ramp_up_flag_is_named() -> None:
    with pytest.raises(ConfigError, match=r"^--ramp-up: '2h' is out of range; allowed 0s\.\.1h$"):
        plan_from_flags(
            "http://127.0.0.1:1/", test={"type": "load", "target": "10", "ramp_up": "2h"}
        )
