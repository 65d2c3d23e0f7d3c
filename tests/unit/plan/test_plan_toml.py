"""Plan files: the documented example loads; unreadable, malformed and invalid files say where."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from redline.errors import ConfigError, ScopeError
from redline.plan import Metric, RampingVusConfig, load_plan

EXAMPLE = """\
name = "checkout"
base_url = "http://127.0.0.1:8080"
environment = "local"
thresholds = ["p95<300ms", "error_rate<1%", "p99[checkout]<1s:abort"]
[executor]
type = "ramping-vus"
stages = [
    { duration = "10s", target = 20 },
    { duration = "30s", target = 20 },
    { duration = "5s", target = 0 },
]
[[requests]]
name = "home"
url = "/"
weight = 3
expect_status = [200]
[[requests]]
name = "checkout"
method = "POST"
url = "/checkout"
headers = { "Content-Type" = "application/json" }
body = '{"item": 1}'
"""


def write(tmp_path: Path, text: str | bytes, name: str = "plan.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_the_documented_example_loads(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, EXAMPLE))
    assert plan.name == "checkout"
    assert [spec.url for spec in plan.requests] == [
        "http://127.0.0.1:8080/",
        "http://127.0.0.1:8080/checkout",
    ]
    assert [spec.weight for spec in plan.requests] == [3, 1]
    assert plan.requests[1].headers == {"Content-Type": "application/json"}
    assert plan.requests[1].body == '{"item": 1}'
    assert isinstance(plan.executor, RampingVusConfig)
    assert plan.executor.planned_duration_s() == 45.0
    assert [t.metric for t in plan.thresholds] == [Metric.P95, Metric.ERROR_RATE, Metric.P99]
    assert plan.thresholds[2].endpoint == "checkout" and plan.thresholds[2].abort
    plan.validate_scope()


def test_numbers_work_where_text_does(tmp_path: Path) -> None:
    text = """\
request_timeout = 30
[executor]
type = "constant-arrival-rate"
rate = 250.5
duration = 60
[[requests]]
name = "a"
url = "http://localhost/"
"""
    plan = load_plan(write(tmp_path, text))
    assert plan.request_timeout_s == 30.0
    assert plan.executor.rate_per_s == 250.5  # type: ignore[union-attr]


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(
        ConfigError, match=rf"^{re.escape(str(path))}: cannot read: No such file or directory$"
    ) as caught:
        load_plan(path)
    assert caught.value.hint == "check the plan file's path"


def test_a_directory(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=rf"^{re.escape(str(tmp_path))}: cannot read: Is a directory$"
    ):
        load_plan(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, b'name = "\xff"\n')
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: not UTF-8 text \(byte 8\)"):
        load_plan(path)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('name = "x"\nduration = 30s\n', 2, 14),
        ('[executor]\ntype = "constant-vus"\n[executor]\n', 3, 1),
        ('name = "unterminated\n', 1, 21),
    ],
)
def test_a_syntax_error_names_file_line_and_column(
    tmp_path: Path, text: str, line: int, column: int
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_plan(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}:")
    assert ": invalid TOML: " in message
    assert "\n" not in message and "(at line" not in message


def test_an_invalid_plan_names_the_file_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        EXAMPLE.replace('duration = "10s", target = 20', 'duration = "10s", target = 60000'),
    )
    with pytest.raises(
        ConfigError,
        match=rf"^{re.escape(str(path))}: "
        r"executor\.stages\[0\]\.target: 60000 is out of range; allowed 0\.\.50000$",
    ):
        load_plan(path)


def test_a_typo_is_an_error_not_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE.replace("weight = 3", "wieght = 3"))
    with pytest.raises(
        ConfigError,
        match=r": requests\[0\]\.wieght: unknown key; allowed body, checks, expect_status, ",
    ) as caught:
        load_plan(path)
    assert caught.value.hint == "did you mean 'weight'?"


def test_production_in_a_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE.replace('environment = "local"', 'environment = "production"'))
    with pytest.raises(ScopeError, match=r": environment: 'production' is refused"):
        load_plan(path)


def test_several_problems_are_counted(tmp_path: Path) -> None:
    text = EXAMPLE.replace("weight = 3", "weight = 0").replace(
        'name = "checkout"\nbase', "workers = 0\nbase"
    )
    with pytest.raises(ConfigError, match=r"\(and 1 more problem\)$"):
        load_plan(write(tmp_path, text))
