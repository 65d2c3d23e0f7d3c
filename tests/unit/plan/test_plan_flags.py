"""Plans from CLI flags: which executor each flag set means, defaults, and errors naming flags."""

from __future__ import annotations

import pytest

from redline.errors import ConfigError, ScopeError
from redline.plan import (
    ConstantArrivalRateConfig,
    ConstantVusConfig,
    SharedIterationsConfig,
    parse_threshold,
    plan_from_flags,
)

URL = "http://127.0.0.1:8080/api/items"


def test_no_load_flags_means_one_vu_for_ten_seconds() -> None:
    plan = plan_from_flags(URL)
    assert plan.executor == ConstantVusConfig(vus=1, duration_s=10.0)
    assert plan.requests[0].url == URL
    assert plan.requests[0].name == "/api/items"
    assert plan.requests[0].method == "GET"


def test_vus_and_duration_mean_constant_vus() -> None:
    plan = plan_from_flags(URL, vus=64, duration="30s")
    assert plan.executor == ConstantVusConfig(vus=64, duration_s=30.0)
    assert plan_from_flags(URL, vus=3).executor == ConstantVusConfig(vus=3, duration_s=10.0)


def test_rate_means_constant_arrival_rate_with_vus_from_the_rate() -> None:
    plan = plan_from_flags(URL, rate="5000/s", duration="1m")
    assert plan.executor == ConstantArrivalRateConfig(
        rate_per_s=5000.0, duration_s=60.0, pre_allocated_vus=500, max_vus=5000
    )
    assert plan_from_flags(URL, rate="50/s").executor == ConstantArrivalRateConfig(
        rate_per_s=50.0, duration_s=10.0, pre_allocated_vus=5, max_vus=100
    )


def test_max_vus_caps_the_pre_allocation() -> None:
    executor = plan_from_flags(URL, rate="5000/s", max_vus=2000).executor
    assert isinstance(executor, ConstantArrivalRateConfig)
    assert (executor.max_vus, executor.pre_allocated_vus) == (2000, 500)
    executor = plan_from_flags(URL, rate="5000/s", max_vus=100).executor
    assert isinstance(executor, ConstantArrivalRateConfig)
    assert (executor.max_vus, executor.pre_allocated_vus) == (100, 100)


def test_iterations_mean_shared_iterations() -> None:
    plan = plan_from_flags(URL, vus=4, iterations=100)
    assert plan.executor == SharedIterationsConfig(vus=4, iterations=100, max_duration_s=600.0)
    plan = plan_from_flags(URL, iterations=5, duration="1m")
    assert plan.executor == SharedIterationsConfig(vus=1, iterations=5, max_duration_s=60.0)


def test_everything_else_is_carried_into_the_plan() -> None:
    plan = plan_from_flags(
        "https://api.staging.internal/checkout",
        vus=2,
        thresholds=["p95<300ms", "p99[/checkout]<1s:abort"],
        method="post",
        headers={"Content-Type": "application/json"},
        body='{"item": 1}',
        connect_timeout="2s",
        request_timeout="30s",
        insecure=True,
        workers=4,
        allowed_hosts=["api.staging.internal"],
    )
    spec = plan.requests[0]
    assert (spec.method, spec.headers, spec.body) == (
        "POST",
        {"Content-Type": "application/json"},
        '{"item": 1}',
    )
    assert plan.thresholds == [
        parse_threshold("p95<300ms"),
        parse_threshold("p99[/checkout]<1s:abort"),
    ]
    assert (plan.connect_timeout_s, plan.request_timeout_s) == (2.0, 30.0)
    assert (plan.verify_tls, plan.workers) == (False, 4)
    plan.validate_scope()


def test_other_hosts_are_still_out_of_scope_unless_allowed() -> None:
    with pytest.raises(ScopeError, match=r"^url: host 'example\.com' is out of scope"):
        plan_from_flags("http://example.com/").validate_scope()


def test_a_path_that_cannot_name_a_request_gets_a_plain_name() -> None:
    assert plan_from_flags("http://127.0.0.1/a[1]").requests[0].name == "request"
    assert plan_from_flags("http://127.0.0.1").requests[0].name == "/"


def test_vus_and_rate_together_name_both() -> None:
    with pytest.raises(ConfigError, match=r"^--vus 10 and --rate '100/s': choose one; "):
        plan_from_flags(URL, vus=10, rate="100/s")


def test_iterations_and_rate_together_name_both() -> None:
    with pytest.raises(ConfigError, match=r"^--iterations 10 and --rate '100/s': choose one; "):
        plan_from_flags(URL, iterations=10, rate="100/s")


def test_max_vus_needs_rate() -> None:
    with pytest.raises(ConfigError, match=r"^--max-vus: 50 applies only with --rate"):
        plan_from_flags(URL, vus=10, max_vus=50)


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        ({"vus": 0}, r"^--vus: 0 is out of range; allowed 1\.\.50000$"),
        ({"vus": 50_001}, r"^--vus: 50001 is out of range; allowed 1\.\.50000$"),
        ({"duration": "5s"}, r"^--duration: '5s' is out of range; allowed 10s\.\.24h$"),
        ({"duration": "soon"}, r"^--duration: 'soon' is not a duration; expected"),
        (
            {"iterations": 3, "duration": "25h"},
            r"^--duration: '25h' is out of range; allowed 10s\.\.24h$",
        ),
        ({"rate": "0.01/s"}, r"^--rate: '0\.01/s' is out of range; allowed 0\.1/s\.\.100000/s$"),
        ({"rate": "fast"}, r"^--rate: 'fast' is not a rate"),
        ({"rate": "10/s", "max_vus": 0}, r"^--max-vus: 0 is out of range; allowed 1\.\.50000$"),
        ({"iterations": 0}, r"^--iterations: 0 is out of range; allowed 1\.\.100000000$"),
        ({"vus": 5, "iterations": 2}, r"^--iterations: 2 is below vus \(5\)"),
        ({"thresholds": ["p95<1s", "p95<1"]}, r"^--threshold: 'p95<1' has a bad value"),
        ({"thresholds": ["p95[home]<1s"]}, r"^--threshold: 'p95\[home\]<1s' names request 'home'"),
        ({"method": "GET /x"}, r"^--method: 'GET /x' is not an HTTP method"),
        ({"headers": {"X-A": "a\nb"}}, r"^--header X-A: 'a\\nb' contains a line break"),
        (
            {"connect_timeout": "50ms"},
            r"^--connect-timeout: '50ms' is out of range; allowed 100ms\.\.5m$",
        ),
        (
            {"request_timeout": "6m"},
            r"^--timeout: '6m' is out of range; allowed 100ms\.\.5m$",
        ),
        ({"workers": 257}, r"^--workers: 257 is out of range; allowed 1\.\.256$"),
        ({"allowed_hosts": ["http://x"]}, r"^--allow-host: 'http://x' is not a host name"),
    ],
)
def test_errors_name_the_flag(flags: dict[str, object], error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        plan_from_flags(URL, **flags)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "/x", "ftp://127.0.0.1/"])
def test_the_url_must_be_absolute_http(url: str) -> None:
    with pytest.raises(ConfigError, match=rf"^url: '{url}' is not an http\(s\) URL"):
        plan_from_flags(url)


def test_several_bad_flags_are_counted() -> None:
    with pytest.raises(
        ConfigError, match=r"^--vus: 0 is out of range; allowed 1\.\.50000 \(and 2 more problems\)$"
    ):
        plan_from_flags(URL, vus=0, duration="1s", workers=0)
