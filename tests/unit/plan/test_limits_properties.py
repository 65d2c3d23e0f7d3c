"""Properties of the parsers behind the validation layer, boundaries included.

- What the formatters write, the parsers read back exactly (durations, rates, sizes).
- A value is accepted exactly when it is within its range; otherwise a ConfigError
  whose one line names the field and the allowed range.
- Arbitrary text never escapes as anything but a ConfigError.
- A connection string's password never appears in an error, however it is mangled.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from redline.errors import ConfigError, ScopeError
from redline.plan import (
    CACHE_TTL_S_RANGE,
    DURATION_S_RANGE,
    MEMORY_BYTES_RANGE,
    RAMP_S_RANGE,
    RATE_PER_S_RANGE,
    TIMEOUT_S_RANGE,
    VUS_RANGE,
    Environment,
    Range,
    Unit,
    check_cpu,
    check_dsn,
    check_duration,
    check_environment,
    check_iops,
    check_memory,
    check_port,
    check_ramp,
    check_rate,
    check_timeout,
    check_ttl,
    check_vus,
    format_duration,
    format_rate,
)
from redline.plan._dsn import DEFAULT_PORTS, FORMS
from redline.plan._units import format_binary_size

DAY_S = 86_400

#: Durations with whole microseconds, from 0 to well past every duration range.
microseconds = st.integers(min_value=0, max_value=40 * DAY_S * 1_000_000)
#: Rates with up to 3 decimals, from 0 to well past the rate range.
millirates = st.integers(min_value=0, max_value=200_000_000)


def refused(exc: ConfigError, field: str, allowed: object) -> None:
    """The refusal is one line that names the field and the allowed range."""
    assert exc.message.startswith(f"{field}: "), exc.message
    assert f"allowed {allowed}" in exc.message, exc.message
    assert "\n" not in exc.message


#: Any duration at all, to test the parser apart from a range.
ANY_SECONDS = Range(0, 1e12, Unit.SECONDS)


@given(microseconds)
def test_durations_round_trip(us: int) -> None:
    seconds = us / 1_000_000
    assert check_duration(format_duration(seconds), allowed=ANY_SECONDS) == seconds


@pytest.mark.parametrize(
    ("check", "allowed", "field"),
    [
        (check_duration, DURATION_S_RANGE, "duration"),
        (check_ramp, RAMP_S_RANGE, "ramp_up"),
        (check_timeout, TIMEOUT_S_RANGE, "timeout"),
        (check_ttl, CACHE_TTL_S_RANGE, "ttl"),
    ],
)
@given(us=microseconds)
@example(us=10_000_000).via("a limit")
@example(us=DAY_S * 1_000_000).via("a limit")
def test_durations_are_accepted_exactly_within_their_range(
    check: Any, allowed: Any, field: str, us: int
) -> None:
    seconds = us / 1_000_000
    written = format_duration(seconds)
    if allowed.low <= seconds <= allowed.high:
        assert check(written) == seconds
        assert check(seconds) == seconds
    else:
        with pytest.raises(ConfigError) as caught:
            check(written)
        refused(caught.value, field, allowed)


@given(millirates)
@example(100).via("the low limit")
@example(99)
@example(100_000_000).via("the high limit")
@example(100_000_001)
def test_rates_round_trip_and_are_accepted_exactly_within_range(milli: int) -> None:
    per_s = milli / 1000
    written = format_rate(per_s)
    if RATE_PER_S_RANGE.low <= per_s <= RATE_PER_S_RANGE.high:
        assert check_rate(written) == per_s
        per_minute = format_rate(milli * 60 / 1000).replace("/s", "/m")
        assert check_rate(per_minute) == pytest.approx(per_s)
    else:
        with pytest.raises(ConfigError) as caught:
            check_rate(written)
        refused(caught.value, "rate", RATE_PER_S_RANGE)


@given(st.integers(min_value=0, max_value=2**50))
@example(128 * 1024**2)
@example(128 * 1024**2 - 1)
@example(512 * 1024**3)
@example(512 * 1024**3 + 1)
def test_sizes_round_trip_and_are_accepted_exactly_within_range(size: int) -> None:
    written = format_binary_size(size)
    if MEMORY_BYTES_RANGE.low <= size <= MEMORY_BYTES_RANGE.high:
        assert check_memory(written) == size
        assert check_memory(size) == size
    else:
        with pytest.raises(ConfigError) as caught:
            check_memory(written)
        refused(caught.value, "memory", MEMORY_BYTES_RANGE)


@given(
    st.integers(min_value=0, max_value=100_000),
    st.sampled_from(["Ki", "Mi", "Gi", "KiB", "MiB", "GiB", "K", "M", "G", "kb", "mb", "gb"]),
)
def test_every_size_unit_multiplies(count: int, unit: str) -> None:
    factor = {"k": 1000, "m": 1000**2, "g": 1000**3}[unit[0].lower()]
    if "i" in unit:
        factor = {"k": 1024, "m": 1024**2, "g": 1024**3}[unit[0].lower()]
    size = count * factor
    if MEMORY_BYTES_RANGE.low <= size <= MEMORY_BYTES_RANGE.high:
        assert check_memory(f"{count}{unit}") == size
    else:
        with pytest.raises(ConfigError, match=r"allowed 128Mi\.\.512Gi$"):
            check_memory(f"{count}{unit}")


@given(st.integers(min_value=0, max_value=100_000))
@example(100)
@example(99)
@example(64_000)
@example(64_001)
def test_millicores_are_accepted_exactly_within_range(millicores: int) -> None:
    if 100 <= millicores <= 64_000:
        assert check_cpu(f"{millicores}m") == millicores / 1000
    else:
        with pytest.raises(ConfigError, match=r"^cpu: .* is out of range; allowed 0\.1\.\.64$"):
            check_cpu(f"{millicores}m")


@pytest.mark.parametrize(
    ("check", "low", "high", "field"),
    [
        (check_vus, 1, 50_000, "vus"),
        (check_iops, 100, 10_000, "iops"),
        (check_port, 1, 65_535, "port"),
    ],
)
@given(value=st.integers(min_value=-(10**6), max_value=10**6))
def test_counts_are_accepted_exactly_within_range(
    check: Any, low: int, high: int, field: str, value: int
) -> None:
    if low <= value <= high:
        assert check(value) == value
    else:
        with pytest.raises(ConfigError) as caught:
            check(value)
        refused(caught.value, field, f"{low}..{high}")


@pytest.mark.parametrize(
    ("check", "field"),
    [
        (check_duration, "duration"),
        (check_ramp, "ramp_up"),
        (check_rate, "rate"),
        (check_timeout, "timeout"),
        (check_ttl, "ttl"),
        (check_memory, "memory"),
        (check_cpu, "cpu"),
        (check_vus, "vus"),
        (check_iops, "iops"),
        (check_port, "port"),
    ],
)
@given(
    raw=st.one_of(
        st.text(max_size=30),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**30), max_value=10**30),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=2),
    )
)
def test_anything_is_either_accepted_in_range_or_refused_in_one_line(
    check: Any, field: str, raw: object
) -> None:
    try:
        value = check(raw)
    except ConfigError as exc:
        assert exc.message.startswith(f"{field}: ")
        assert "; allowed " in exc.message
        assert "\n" not in exc.message
    else:
        assert isinstance(value, int | float)


def test_vus_range_is_what_the_issue_says() -> None:
    assert (VUS_RANGE.low, VUS_RANGE.high) == (1, 50_000)


@given(st.text(max_size=20))
@example("production")
@example(" PROD ")
@example("staging")
def test_environments_are_allowed_refused_as_production_or_unknown(text: str) -> None:
    name = text.strip().lower()
    try:
        environment = check_environment(text)
    except ScopeError as exc:
        assert name in {"production", "prod", "prd", "live"}
        assert exc.message.startswith("environment: ") and exc.hint
    except ConfigError as exc:
        assert exc.message.startswith("environment: ")
        assert exc.message.endswith("allowed local, dev, staging")
    else:
        assert environment is Environment(name)


# Connection strings.

hosts = st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True).filter(
    lambda host: not host.endswith(".") and ".." not in host
)
names = st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True)
users = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,10}", fullmatch=True)
#: Passwords of any characters, as users really choose them.
passwords = st.text(min_size=6, max_size=24).filter(lambda pw: pw.strip() == pw)
ports = st.integers(min_value=1, max_value=65_535)
schemes = st.sampled_from(["postgresql", "mysql", "mongodb", "redis"])


def _dsn(scheme: str, user: str, password: str, host: str, port: int, database: str) -> str:
    tail = "/0" if scheme == "redis" else f"/{database}"
    return f"{scheme}://{user}:{quote(password, safe='')}@{host}:{port}{tail}"


@given(schemes, users, passwords, hosts, ports, names)
def test_valid_dsns_round_trip_and_print_without_the_password(
    scheme: str, user: str, password: str, host: str, port: int, database: str
) -> None:
    dsn = check_dsn(_dsn(scheme, user, password, host, port, database))
    assert (dsn.scheme, dsn.host, dsn.port, dsn.user) == (scheme, host.lower(), port, user)
    assert dsn.password() == password
    assert dsn.database == ("0" if scheme == "redis" else database)
    shown = f"{dsn} {dsn!r}"
    assume(password not in f"{scheme}://{user}:***@{host}:{port}/{dsn.database}")
    assert password not in shown and quote(password, safe="") not in shown


@given(schemes, users, hosts)
def test_a_dsn_without_a_port_gets_its_schemes_default(scheme: str, user: str, host: str) -> None:
    tail = "" if scheme == "redis" else "/db"
    assert check_dsn(f"{scheme}://{user}@{host}{tail}").port == DEFAULT_PORTS[scheme]


#: One part of a valid DSN broken in each way the contract names.
BREAKAGES = {
    "host": lambda p: {**p, "host": p["host"] + "_x!"},
    "port low": lambda p: {**p, "port": "0"},
    "port high": lambda p: {**p, "port": "65536"},
    "port text": lambda p: {**p, "port": "8o"},
    "database": lambda p: {**p, "database": p["database"] + ".x;"},
    "scheme": lambda p: {**p, "scheme": "oracle"},
}


@given(
    st.sampled_from(["postgresql", "mysql", "mongodb"]),
    users,
    passwords,
    hosts,
    ports,
    names,
    st.sampled_from(sorted(BREAKAGES)),
    st.booleans(),
)
def test_invalid_dsns_are_refused_without_the_password(
    scheme: str, user: str, password: str, host: str, port: int, database: str,
    breakage: str, encode: bool,
) -> None:  # fmt: skip
    parts = BREAKAGES[breakage](
        {"scheme": scheme, "host": host, "port": str(port), "database": database}
    )
    secret = quote(password, safe="") if encode else password
    where = f"{parts['host']}:{parts['port']}/{parts['database']}"
    text = f"{parts['scheme']}://{user}:{secret}@{where}"
    with pytest.raises(ConfigError) as caught:
        check_dsn(text, field="--db")
    message = caught.value.message
    assert message.startswith("--db: ") and "expected" in message
    innocent = " ".join([*FORMS.values(), parts["host"], parts["port"], user])
    assume(password not in innocent and secret not in innocent)
    assert password not in message and secret not in message


@given(st.sampled_from(["postgresql", "mysql", "mongodb", "redis", "sqlite", "memcached"]),
       passwords, st.text(max_size=30), st.text(max_size=30))  # fmt: skip
def test_mangled_dsns_never_leak_the_password(
    scheme: str, password: str, before: str, after: str
) -> None:
    text = f"{scheme}://{before}:{password}@{after}"
    assume(password not in before + after and password not in " ".join(FORMS.values()))
    try:
        dsn = check_dsn(text)
    except ConfigError as exc:
        assert password not in exc.message
    else:
        assert password not in f"{dsn} {dsn!r}"
