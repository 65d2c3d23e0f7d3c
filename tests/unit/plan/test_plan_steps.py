"""Plan validation of steps, templates, extraction kinds, checks and cookies."""

from __future__ import annotations

from typing import Any

import pytest

from redline.errors import ConfigError
from redline.plan import plan_from_mapping
from redline.plan._extract import ExtractKind
from redline.plan._json_path import MISSING, json_path_from_text, value_at
from redline.plan._steps import OnFailure


def plan(**data: Any) -> Any:
    base = {
        "base_url": "http://127.0.0.1:9",
        "requests": [{"name": "login", "url": "/login"}, {"name": "home", "url": "/"}],
    }
    return plan_from_mapping({**base, **data})


def with_request(**spec: Any) -> Any:
    return plan(requests=[{"name": "r", "url": "/", **spec}])


def test_steps_name_requests_in_order() -> None:
    p = plan(
        steps=[
            {"request": "login", "on_failure": "stop", "think_time": "500ms"},
            {"request": "home"},
        ]
    )
    assert [s.request for s in p.steps] == ["login", "home"]
    assert p.steps[0].think_time_s == 0.5 and p.steps[0].on_failure is OnFailure.STOP
    assert p.steps[1].think_time_s == 0 and p.steps[1].on_failure is OnFailure.CONTINUE
    assert p.cookies is False


def test_a_step_must_name_a_request() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^steps\[1\]\.request: 'nope' is not a request of the plan; allowed login, home$",
    ):
        plan(steps=[{"request": "login"}, {"request": "nope"}])


def test_a_step_refuses_unknown_keys_and_values() -> None:
    with pytest.raises(ConfigError, match=r"^steps\[0\]\.on_failure: 'halt' is invalid"):
        plan(steps=[{"request": "login", "on_failure": "halt"}])
    with pytest.raises(ConfigError, match=r"^steps\[0\]\.think_time: '2m' is out of range"):
        plan(steps=[{"request": "login", "think_time": "2m"}])
    with pytest.raises(ConfigError, match=r"^steps\[0\]\.wait: unknown key"):
        plan(steps=[{"request": "login", "wait": "1s"}])


def test_weights_are_refused_with_steps() -> None:
    requests = [{"name": "login", "url": "/login", "weight": 3}]
    with pytest.raises(ConfigError, match=r"^requests\[0\]\.weight: 3 is given with \[\[steps\]\]"):
        plan(requests=requests, steps=[{"request": "login"}])


def test_steps_and_cookies_are_refused_in_a_python_scenario() -> None:
    with pytest.raises(ConfigError, match=r"^steps: is for TOML plans"):
        plan(steps=[{"request": "login"}], scenario="s.py")
    with pytest.raises(ConfigError, match=r"^requests\[0\]: holds a \$\{name\} placeholder"):
        plan(requests=[{"name": "r", "url": "/${id}"}], scenario="s.py")


def test_placeholders_are_allowed_in_path_query_headers_and_body() -> None:
    p = with_request(
        url="/u/${id}?q=${users.email}",
        headers={"Authorization": "Bearer ${token}"},
        body='{"a": "${a}"}',
    )
    assert p.requests[0].templated
    assert not plan().requests[0].templated


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"url": "http://${host}:9/"},
            r"^requests\[0\]\.url: 'http://\$\{host\}:9/' has \$\{...\}",
        ),
        ({"url": "http://127.0.0.1:${port}/"}, r"^requests\[0\]\.url: .* scheme, host or port"),
        ({"url": "/a/${1st}"}, r"^requests\[0\]\.url: '\$\{1st\}' is not a placeholder"),
        ({"url": "/a/${open"}, r"^requests\[0\]\.url: '\$\{open' is not a placeholder"),
        ({"headers": {"X": "${}"}}, r"^requests\[0\]\.headers\.X: '\$\{\}' is not a placeholder"),
        ({"body": "${a b}"}, r"^requests\[0\]\.body: '\$\{a b\}' is not a placeholder"),
    ],
)
def test_bad_placeholders_are_refused(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        with_request(**spec)


def test_a_placeholder_in_base_url_host_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^base_url: .* scheme, host or port \(from base_url\)"):
        plan(base_url="http://${env}.local:9")


def test_extraction_kinds() -> None:
    extract = {
        "a": "id=(\\d+)",
        "b": {"regex": "x(.)"},
        "c": {"json": "$.data.items[0]['id']"},
        "d": {"header": "Location"},
        "e": {"cookie": "session"},
    }
    spec = with_request(extract=extract).requests[0]
    kinds = {name: e.kind for name, e in spec.extractions.items()}
    assert kinds == {
        "a": ExtractKind.REGEX,
        "b": ExtractKind.REGEX,
        "c": ExtractKind.JSON,
        "d": ExtractKind.HEADER,
        "e": ExtractKind.COOKIE,
    }
    assert spec.extract["a"] == "id=(\\d+)"  # a plain string stays as written
    dumped = with_request(extract=extract).model_dump(mode="json")["requests"][0]["extract"]
    assert dumped == extract


@pytest.mark.parametrize(
    ("extraction", "message"),
    [
        (
            {"json": "data.token"},
            r"^requests\[0\]\.extract\.t\.json: 'data\.token' is not a JSON path",
        ),
        (
            {"json": "$.a[x]"},
            r"^requests\[0\]\.extract\.t\.json: '\$\.a\[x\]' is not a JSON path \(at character 4\)",
        ),
        ({"regex": "(a)(b)"}, r"^requests\[0\]\.extract\.t\.regex: '\(a\)\(b\)' has 2 groups"),
        ({"header": "Bad Name"}, r"^requests\[0\]\.extract\.t\.header: 'Bad Name' is not a header"),
        (
            {"json": "$.a", "header": "X"},
            r"^requests\[0\]\.extract\.t: 2 kinds given \(json, header\); allowed one of",
        ),
        ({}, r"^requests\[0\]\.extract\.t: 0 kinds given"),
        ({"xpath": "//a"}, r"^requests\[0\]\.extract\.t\.xpath: unknown key"),
        (3, r"^requests\[0\]\.extract\.t: 3 is not a regex or a table"),
    ],
)
def test_bad_extractions_are_refused(extraction: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        with_request(extract={"t": extraction})


def test_checks() -> None:
    checks = {"status": [200, 201], "body_contains": "ok", "json": {"$.ok": True}}
    spec = with_request(checks=checks).requests[0]
    assert spec.passing_statuses == [200, 201]
    assert spec.checks is not None and spec.checks.json_fields == {"$.ok": True}
    assert with_request(expect_status=[204]).requests[0].passing_statuses == [204]


@pytest.mark.parametrize(
    ("checks", "message"),
    [
        ({"status": []}, r"^requests\[0\]\.checks\.status: \[\] is empty"),
        ({"status": [99]}, r"^requests\[0\]\.checks\.status\[0\]: 99 is out of range"),
        ({"body_contains": ""}, r"^requests\[0\]\.checks\.body_contains: '' is empty"),
        ({"json": {"ok": True}}, r"^requests\[0\]\.checks\.json\.ok: 'ok' is not a JSON path"),
        ({"headers": {}}, r"^requests\[0\]\.checks\.headers: unknown key"),
    ],
)
def test_bad_checks_are_refused(checks: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        with_request(checks=checks)


def test_expect_status_and_checks_status_are_one_or_the_other() -> None:
    with pytest.raises(
        ConfigError, match=r"^requests\[0\]\.expect_status: \[200\] is given with checks\.status"
    ):
        with_request(expect_status=[200], checks={"status": [201]})


def test_cookies_refuse_a_cookie_header() -> None:
    assert plan(cookies=True).cookies is True
    with pytest.raises(ConfigError, match=r"^requests\[0\]\.headers: sets Cookie while cookies"):
        plan(cookies=True, requests=[{"name": "r", "url": "/", "headers": {"cookie": "a=1"}}])
    with pytest.raises(ConfigError, match=r"^cookies: 'yes' is not true or false"):
        plan(cookies="yes")


def test_json_paths() -> None:
    doc = {"a": {"b": [10, {"c d": None}]}}
    assert json_path_from_text("$") == ()
    assert value_at(doc, json_path_from_text("$.a.b[0]")) == 10
    assert value_at(doc, json_path_from_text('$.a.b[1]["c d"]')) is None
    assert value_at(doc, json_path_from_text("$.a.b[2]")) is MISSING
    assert value_at(doc, json_path_from_text("$.a.x")) is MISSING
    assert value_at([1], json_path_from_text("$.a")) is MISSING
