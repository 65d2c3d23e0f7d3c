"""The Plan and its requests: defaults, URL joining, checks across fields, saving and reloading."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.errors import ConfigError
from redline.plan import (
    ConstantVusConfig,
    Environment,
    Plan,
    RequestSpec,
    parse_threshold,
    plan_from_mapping,
    validate,
)

LOCAL = "http://127.0.0.1:8080"


def with_request(**keys: Any) -> dict[str, Any]:
    return {"requests": [{"name": "a", "url": f"{LOCAL}/", **keys}]}


def test_defaults() -> None:
    plan = plan_from_mapping(with_request())
    assert plan.name == "run"
    assert plan.executor == ConstantVusConfig(vus=1, duration_s=10.0)
    assert plan.environment is Environment.LOCAL
    assert (plan.connect_timeout_s, plan.request_timeout_s) == (10.0, 60.0)
    assert (plan.verify_tls, plan.workers, plan.think_time_s) == (True, None, 0.0)
    assert (plan.thresholds, plan.allowed_hosts) == ([], [])
    spec = plan.requests[0]
    assert (spec.method, spec.headers, spec.body, spec.weight) == ("GET", {}, None, 1)
    assert (spec.expect_status, spec.extract) == (None, {})
    assert plan.planned_duration_s() == 10.0


@pytest.mark.parametrize(
    ("base_url", "path", "url"),
    [
        ("http://127.0.0.1:8080", "/", "http://127.0.0.1:8080/"),
        ("http://127.0.0.1:8080/", "/checkout", "http://127.0.0.1:8080/checkout"),
        ("http://127.0.0.1/api", "/items?id=1", "http://127.0.0.1/api/items?id=1"),
    ],
)
def test_paths_are_joined_to_base_url(base_url: str, path: str, url: str) -> None:
    plan = plan_from_mapping({"base_url": base_url, "requests": [{"name": "a", "url": path}]})
    assert plan.requests[0].url == url


def test_absolute_urls_ignore_base_url() -> None:
    data = {"base_url": LOCAL, "requests": [{"name": "a", "url": "http://localhost:9/x"}]}
    assert plan_from_mapping(data).requests[0].url == "http://localhost:9/x"


def test_a_path_needs_base_url() -> None:
    with pytest.raises(
        ConfigError, match=r"^requests\[0\]\.url: '/x' is a path but base_url is not set"
    ):
        plan_from_mapping({"requests": [{"name": "a", "url": "/x"}]})


@pytest.mark.parametrize("url", ["checkout", "ftp://h/", "127.0.0.1/x"])
def test_request_urls_are_http_or_paths(url: str) -> None:
    with pytest.raises(ConfigError, match=r"^requests\[0\]\.url: .*, or a path starting with '/'$"):
        plan_from_mapping(with_request(url=url))


def test_base_url_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"^base_url: 'localhost:8080' is not an http\(s\) URL"):
        plan_from_mapping({"base_url": "localhost:8080", "requests": [{"name": "a", "url": "/"}]})


def test_requests_are_required_and_not_empty() -> None:
    with pytest.raises(ConfigError, match=r"^requests: missing; this key is required$"):
        plan_from_mapping({})
    with pytest.raises(ConfigError, match=r"^requests: \[\] is empty; give at least one"):
        plan_from_mapping({"requests": []})


def test_request_names_are_unique() -> None:
    data = {"requests": [{"name": "a", "url": f"{LOCAL}/"}, {"name": "a", "url": f"{LOCAL}/b"}]}
    with pytest.raises(
        ConfigError, match=r"^requests\[1\]\.name: 'a' is used twice; request names must be unique$"
    ):
        plan_from_mapping(data)


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", r"'' is not a request name; allowed 1\.\.100 printable characters"),
        ("   ", r"'   ' is not a request name"),
        ("x" * 101, r"'x+\.\.\.x+' is not a request name"),
        ("a\tb", r"'a\\tb' is not a request name"),
        ("list[1]", r"'list\[1\]' contains a bracket, which thresholds use"),
    ],
)
def test_request_names(name: str, error: str) -> None:
    with pytest.raises(ConfigError, match=rf"^requests\[0\]\.name: {error}"):
        plan_from_mapping(with_request(name=name))


def test_methods_are_tokens_in_upper_case() -> None:
    assert plan_from_mapping(with_request(method="post")).requests[0].method == "POST"
    with pytest.raises(ConfigError, match=r"^requests\[0\]\.method: 'GET /' is not an HTTP method"):
        plan_from_mapping(with_request(method="GET /"))


def test_headers() -> None:
    headers = {"Content-Type": "application/json", "X-Id": ""}
    assert plan_from_mapping(with_request(headers=headers)).requests[0].headers == headers
    with pytest.raises(
        ConfigError, match=r"^requests\[0\]\.headers: 'Bad Name' is not a header name"
    ):
        plan_from_mapping(with_request(headers={"Bad Name": "x"}))
    with pytest.raises(
        ConfigError, match=r"^requests\[0\]\.headers\.X-A: 'v\\r\\nX-B: 1' contains a line break"
    ):
        plan_from_mapping(with_request(headers={"X-A": "v\r\nX-B: 1"}))
    with pytest.raises(ConfigError, match=r"^requests\[0\]\.headers\.X-A: 5 is not a string$"):
        plan_from_mapping(with_request(headers={"X-A": 5}))


def test_expect_status() -> None:
    assert plan_from_mapping(with_request(expect_status=[200, 201])).requests[0].expect_status == [
        200,
        201,
    ]
    with pytest.raises(ConfigError, match=r"^requests\[0\]\.expect_status: \[\] is empty"):
        plan_from_mapping(with_request(expect_status=[]))
    with pytest.raises(ConfigError, match=r"^requests\[0\]\.expect_status: 200 is not a list$"):
        plan_from_mapping(with_request(expect_status=200))


def test_extract_needs_one_group_per_variable() -> None:
    extract = {"token": r'"token":\s*"([^"]+)"'}
    assert plan_from_mapping(with_request(extract=extract)).requests[0].extract == extract
    with pytest.raises(
        ConfigError, match=r"^requests\[0\]\.extract\.token: 'abc' has 0 groups; allowed exactly 1"
    ):
        plan_from_mapping(with_request(extract={"token": "abc"}))
    with pytest.raises(ConfigError, match=r"^requests\[0\]\.extract\.t: '\(a\)\(b\)' has 2 groups"):
        plan_from_mapping(with_request(extract={"t": "(a)(b)"}))
    with pytest.raises(
        ConfigError, match=r"^requests\[0\]\.extract\.t: '\(' is not a regular expression"
    ):
        plan_from_mapping(with_request(extract={"t": "("}))
    with pytest.raises(ConfigError, match=r"^requests\[0\]\.extract: '1st' is not a variable name"):
        plan_from_mapping(with_request(extract={"1st": "(a)"}))


def test_thresholds_are_parsed_and_may_name_requests() -> None:
    data = {**with_request(), "thresholds": ["p95<300ms", "p99[a]<1s:abort"]}
    plan = plan_from_mapping(data)
    assert plan.thresholds == [parse_threshold("p95<300ms"), parse_threshold("p99[a]<1s:abort")]


def test_a_threshold_may_not_name_an_unknown_request() -> None:
    data = {**with_request(), "thresholds": ["p95<1s", "p99[b]<1s"]}
    with pytest.raises(
        ConfigError,
        match=r"^thresholds\[1\]: 'p99\[b\]<1s' names request 'b', "
        r"which the plan does not have; allowed a$",
    ):
        plan_from_mapping(data)


def test_threshold_errors_name_their_index() -> None:
    data = {**with_request(), "thresholds": ["p95<1s", "p95 < soon", 3]}
    problems = [str(problem) for problem in validate(data)]
    assert problems == [
        "thresholds[1]: 'p95 < soon' has a bad value: 'soon' is not a latency; "
        "write a number with a unit us, ms or s, e.g. '300ms'",
        "thresholds[2]: 3 is not a threshold; write a string such as 'p95<300ms'",
    ]


def test_verify_tls_is_strictly_boolean() -> None:
    assert plan_from_mapping({**with_request(), "verify_tls": False}).verify_tls is False
    with pytest.raises(ConfigError, match=r"^verify_tls: 'no' is not true or false$"):
        plan_from_mapping({**with_request(), "verify_tls": "no"})


def test_top_level_unknown_keys_and_types() -> None:
    with pytest.raises(
        ConfigError, match=r"^treshold: unknown key; allowed allowed_hosts, "
    ) as caught:
        plan_from_mapping({**with_request(), "treshold": ["p95<1s"]})
    assert caught.value.hint == "did you mean 'thresholds'?"
    with pytest.raises(ConfigError, match=r"^name: 5 is not a string$"):
        plan_from_mapping({**with_request(), "name": 5})
    with pytest.raises(ConfigError, match=r"^executor: 'constant-vus' is not a table$"):
        plan_from_mapping({**with_request(), "executor": "constant-vus"})


def test_plan_from_python_objects() -> None:
    plan = Plan(
        requests=[RequestSpec(name="a", url="/", weight=2)],
        base_url=LOCAL,
        executor=ConstantVusConfig(vus=5, duration_s=30),
        thresholds=[parse_threshold("p95<300ms")],
        connect_timeout_s=2,
    )
    assert plan.requests[0].url == f"{LOCAL}/"
    assert plan.thresholds[0].value == 300_000.0


FULL_PLAN: dict[str, Any] = {
    "name": "checkout",
    "base_url": LOCAL,
    "environment": "staging",
    "allowed_hosts": ["API.Staging.Internal"],
    "thresholds": ["p95<300ms over 30s", "error_rate<1%", "p99[checkout]<1s:abort"],
    "connect_timeout": "2s",
    "request_timeout": "30s",
    "verify_tls": False,
    "workers": 4,
    "think_time": "250ms",
    "executor": {
        "type": "ramping-arrival-rate",
        "start_rate": "10/s",
        "stages": [{"duration": "30s", "target": "500/s"}, {"duration": "1m", "target": 500}],
        "max_vus": 1000,
    },
    "requests": [
        {"name": "home", "url": "/", "weight": 3, "expect_status": [200]},
        {
            "name": "checkout",
            "method": "POST",
            "url": "/checkout",
            "headers": {"Content-Type": "application/json"},
            "body": '{"item": 1}',
            "extract": {"order": r'"id":\s*(\d+)'},
        },
    ],
}


def test_a_saved_plan_reloads_to_the_same_plan() -> None:
    plan = plan_from_mapping(FULL_PLAN)
    saved = json.loads(json.dumps(plan.model_dump(mode="json")))
    assert saved["thresholds"] == FULL_PLAN["thresholds"]
    assert saved["executor"]["stages"][0] == {"duration": 30.0, "target": 500.0}
    assert saved["allowed_hosts"] == ["api.staging.internal"]
    assert plan_from_mapping(saved) == plan


def test_validate_reports_nothing_for_a_good_plan_and_mutates_nothing() -> None:
    before = copy.deepcopy(FULL_PLAN)
    assert validate(FULL_PLAN) == []
    assert FULL_PLAN == before


def test_validate_reports_every_independent_problem() -> None:
    data = {
        "requests": [{"name": "a", "url": f"{LOCAL}/", "weight": 0}],
        "executor": {"type": "constant-vus", "vus": 0, "duration": "5s"},
        "workers": 300,
        "environment": "prod",
    }
    before = copy.deepcopy(data)
    problems = [str(problem) for problem in validate(data)]
    assert data == before
    assert problems == [
        "requests[0].weight: 0 is out of range; allowed 1..1000",
        "executor.vus: 0 is out of range; allowed 1..50000",
        "executor.duration: '5s' is out of range; allowed 10s..24h",
        "environment: 'prod' is refused: redline never loads production; "
        "allowed local, dev, staging",
        "workers: 300 is out of range; allowed 1..256",
    ]


def test_the_first_problem_is_raised_with_a_count_of_the_rest() -> None:
    data = {**with_request(weight=0), "workers": 0, "think_time": "2m"}
    with pytest.raises(
        ConfigError,
        match=r"^requests\[0\]\.weight: 0 is out of range; allowed 1\.\.1000 "
        r"\(and 2 more problems\)$",
    ):
        plan_from_mapping(data)


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from(["10s", "5000/s", "p95<1s", "constant-vus", "ramping-vus", "/", LOCAL]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "vus",
                    "duration",
                    "rate",
                    "stages",
                    "target",
                    "name",
                    "url",
                    "max_vus",
                    "x",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(
    executor=JSONISH,
    requests=JSONISH,
    thresholds=JSONISH,
    extra=st.dictionaries(st.sampled_from(["workers", "think_time", "base_url"]), JSONISH),
)
def test_any_input_gives_plans_or_one_line_config_errors(
    executor: Any, requests: Any, thresholds: Any, extra: dict[str, Any]
) -> None:
    data = {"executor": executor, "requests": requests, "thresholds": thresholds, **extra}
    for problem in validate(data):
        assert isinstance(problem, ConfigError)
        assert "\n" not in str(problem) and ": " in str(problem)
