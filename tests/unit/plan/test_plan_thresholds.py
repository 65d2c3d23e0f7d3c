"""Threshold grammar: metric, endpoint, operator, value with units, window and abort."""

from __future__ import annotations

import operator
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.errors import ConfigError
from redline.plan import Comparison, Metric, Threshold, parse_threshold


@pytest.mark.parametrize(
    ("text", "metric", "op", "value"),
    [
        ("p95<300ms", Metric.P95, Comparison.LT, 300_000.0),
        ("p50<=2s", Metric.P50, Comparison.LE, 2_000_000.0),
        ("p90<250us", Metric.P90, Comparison.LT, 250.0),
        ("p99.9<1.5s", Metric.P99_9, Comparison.LT, 1_500_000.0),
        ("p99.99<750µs", Metric.P99_99, Comparison.LT, 750.0),
        ("max<5s", Metric.MAX, Comparison.LT, 5_000_000.0),
        ("min>=1ms", Metric.MIN, Comparison.GE, 1000.0),
        ("mean<100ms", Metric.MEAN, Comparison.LT, 100_000.0),
        ("error_rate<1%", Metric.ERROR_RATE, Comparison.LT, 0.01),
        ("error_rate<=0.5%", Metric.ERROR_RATE, Comparison.LE, 0.005),
        ("error_rate<0.02", Metric.ERROR_RATE, Comparison.LT, 0.02),
        ("error_rate<100%", Metric.ERROR_RATE, Comparison.LT, 1.0),
        ("rps>=1000", Metric.RPS, Comparison.GE, 1000.0),
        ("rps>1000/s", Metric.RPS, Comparison.GT, 1000.0),
        ("rps>=600/m", Metric.RPS, Comparison.GE, 10.0),
        ("count>100", Metric.COUNT, Comparison.GT, 100.0),
        ("dropped<=0", Metric.DROPPED, Comparison.LE, 0.0),
        ("  p95 < 300 ms  ", Metric.P95, Comparison.LT, 300_000.0),
    ],
)
def test_metrics_operators_and_values(
    text: str, metric: Metric, op: Comparison, value: float
) -> None:
    threshold = parse_threshold(text)
    assert (threshold.metric, threshold.op, threshold.value) == (metric, op, value)
    assert (threshold.endpoint, threshold.window_s, threshold.abort) == (None, None, False)
    assert threshold.source == text
    assert str(threshold) == text


def test_endpoint_window_and_abort_together() -> None:
    threshold = parse_threshold("p99[checkout]<1s over 30s:abort")
    assert threshold == Threshold(
        source="p99[checkout]<1s over 30s:abort",
        metric=Metric.P99,
        op=Comparison.LT,
        value=1_000_000.0,
        endpoint="checkout",
        window_s=30.0,
        abort=True,
    )


@pytest.mark.parametrize(
    ("text", "endpoint", "window_s", "abort"),
    [
        ("p99[checkout]<1s:abort", "checkout", None, True),
        ("p95<300ms over 30s", None, 30.0, False),
        ("p95[/api/items?id=1]<300ms over 1m30s", "/api/items?id=1", 90.0, False),
        ("error_rate[home page]<1% over 10s :abort", "home page", 10.0, True),
        ("rps>=10:abort", None, None, True),
    ],
)
def test_optional_parts(
    text: str, endpoint: str | None, window_s: float | None, abort: bool
) -> None:
    threshold = parse_threshold(text)
    assert (threshold.endpoint, threshold.window_s, threshold.abort) == (endpoint, window_s, abort)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", r"'' is not a threshold; expected METRIC\[ENDPOINT\] OP VALUE"),
        ("p95", r"'p95' is not a threshold; expected"),
        ("<300ms", r"'<300ms' is not a threshold"),
        ("p95<1s over 10s over 20s", r"is not a threshold"),
        ("p96<300ms", r"'p96<300ms' has unknown metric 'p96'; allowed p50, p90, p95, p99, p99\.9"),
        ("P95<300ms", r"has unknown metric 'P95'"),
        ("latency<300ms", r"has unknown metric 'latency'"),
        ("p95==300ms", r"'p95==300ms' has unknown operator '=='; allowed <, <=, >, >="),
        ("p95=300ms", r"has unknown operator '='"),
        ("p95!=300ms", r"has unknown operator '!='"),
        ("p95=<300ms", r"has unknown operator '=<'"),
        ("p95[]<300ms", r"'p95\[\]<300ms' has an empty endpoint"),
        (
            "p95<300",
            r"'p95<300' has a bad value: '300' is not a latency; write a number with a unit",
        ),
        ("p95<300m", r"has a bad value: '300m' is not a latency"),
        ("p95<-3ms", r"has a bad value: '-3ms' is not a latency"),
        ("p95<", r"has a bad value: '' is not a latency"),
        ("error_rate<1.5", r"has a bad value: '1\.5' is out of range; allowed 0%\.\.100%"),
        ("error_rate<101%", r"has a bad value: '101%' is out of range"),
        ("error_rate<few", r"has a bad value: 'few' is not an error rate"),
        ("rps>=fast", r"has a bad value: 'fast' is not a rate"),
        ("count>many", r"has a bad value: 'many' is not a count"),
        ("dropped<-1", r"has a bad value: '-1' is not a count"),
        ("p95<1s over", r"is not a threshold|has a bad value"),
        ("p95<1s over soon", r"has a bad window: 'soon' is not a duration"),
        ("p95<1s over 500ms", r"has a bad window: '500ms' is out of range; allowed 1s\.\.24h"),
        ("p95<1s over 25h", r"has a bad window: '25h' is out of range"),
    ],
)
def test_malformed_thresholds_are_refused(text: str, error: str) -> None:
    with pytest.raises(ConfigError, match=rf"^threshold: .*?(?:{error})"):
        parse_threshold(text)


def test_errors_name_the_field_given() -> None:
    with pytest.raises(ConfigError, match=r"^--threshold: 'p96<1s' has unknown metric"):
        parse_threshold("p96<1s", field="--threshold")


def test_the_message_is_one_line_naming_the_bad_text() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_threshold("p95 300ms")
    assert str(caught.value) == (
        "threshold: 'p95 300ms' is not a threshold; "
        "expected METRIC[ENDPOINT] OP VALUE [over DURATION][:abort], e.g. 'p95<300ms'"
    )


@pytest.mark.parametrize(
    ("text", "observed", "holds"),
    [
        ("p95<300ms", 299_999.0, True),
        ("p95<300ms", 300_000.0, False),
        ("p95<=300ms", 300_000.0, True),
        ("rps>1000", 1000.0, False),
        ("rps>=1000", 1000.0, True),
        ("error_rate<1%", 0.0099, True),
        ("error_rate<1%", 0.01, False),
        ("dropped<=0", 0.0, True),
        ("dropped<=0", 1.0, False),
    ],
)
def test_holds(text: str, observed: float, holds: bool) -> None:
    assert parse_threshold(text).holds(observed) is holds


OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
LATENCY_UNITS_US = {"us": 1, "ms": 1_000, "s": 1_000_000}


@given(
    metric=st.sampled_from([m for m in Metric if m.is_latency]),
    op=st.sampled_from(sorted(OPS)),
    amount=st.integers(min_value=0, max_value=10**6),
    unit=st.sampled_from(sorted(LATENCY_UNITS_US)),
    endpoint=st.none() | st.from_regex(r"[a-z/_][a-z0-9/_ .-]{0,20}", fullmatch=True),
    window_s=st.none() | st.integers(min_value=1, max_value=86_400),
    abort=st.booleans(),
    observed=st.floats(min_value=0, max_value=1e13, allow_nan=False),
)
def test_latency_thresholds_round_trip(
    metric: Metric,
    op: str,
    amount: int,
    unit: str,
    endpoint: str | None,
    window_s: int | None,
    abort: bool,
    observed: float,
) -> None:
    text = metric.value
    text += f"[{endpoint}]" if endpoint is not None else ""
    text += f"{op}{amount}{unit}"
    text += f" over {window_s}s" if window_s is not None else ""
    text += ":abort" if abort else ""
    threshold = parse_threshold(text)
    assert threshold.metric is metric
    assert threshold.op is Comparison(op)
    assert threshold.value == amount * LATENCY_UNITS_US[unit]
    assert threshold.endpoint == (endpoint.strip() if endpoint is not None else None)
    assert threshold.window_s == window_s
    assert threshold.abort is abort
    assert threshold.holds(observed) is OPS[op](observed, threshold.value)


@given(st.integers(min_value=0, max_value=10_000))
def test_error_rate_percent_and_fraction_agree(basis_points: int) -> None:
    percent = parse_threshold(f"error_rate<{basis_points / 100}%").value
    fraction = parse_threshold(f"error_rate<{basis_points / 10_000}").value
    assert percent == pytest.approx(fraction, abs=1e-15)


def test_metric_helpers() -> None:
    assert Metric.P99_9.percentile == 99.9
    assert Metric.ERROR_RATE.percentile is None
    assert Metric.MEAN.is_latency and not Metric.RPS.is_latency
    assert isinstance(Metric.P95, str) and f"{Metric.P95}" == "p95"  # a StrEnum
    assert re.fullmatch(r"[<>]=?", Comparison.LE.value)
    assert Comparison.GE.holds(2.0, 2.0) and not Comparison.GT.holds(2.0, 2.0)
