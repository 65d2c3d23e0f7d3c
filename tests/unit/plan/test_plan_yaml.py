"""YAML plan files: the same plan as TOML, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.plan import load_plan, load_yaml_plan

YAML = """
name: checkout
base_url: http://127.0.0.1:8080
executor: {type: constant-vus, vus: 10, duration: 30s}
thresholds: ["p95<300ms"]
requests:
  - {name: home, url: /}
  - name: login
    method: POST
    url: /login
    body: '{"user": "${users.name}"}'
    extract: {token: {json: $.token}}
steps:
  - {request: login, think_time: 500ms}
  - {request: home}
"""

TOML = """
name = "checkout"
base_url = "http://127.0.0.1:8080"
executor = { type = "constant-vus", vus = 10, duration = "30s" }
thresholds = ["p95<300ms"]

[[requests]]
name = "home"
url = "/"

[[requests]]
name = "login"
method = "POST"
url = "/login"
body = '{"user": "${users.name}"}'
extract = { token = { json = "$.token" } }

[[steps]]
request = "login"
think_time = "500ms"

[[steps]]
request = "home"
"""


def test_a_yaml_plan_is_the_same_plan_as_its_toml(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(YAML)
    (tmp_path / "plan.toml").write_text(TOML)
    from_yaml = load_yaml_plan(tmp_path / "plan.yaml")
    from_toml = load_plan(tmp_path / "plan.toml")
    assert from_yaml.model_dump() == from_toml.model_dump()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed\n", "plan.yaml:2:1: invalid YAML"),
        ("- just\n- a list\n", "the top level is list; allowed a mapping"),
        ("requests: []\n", "requests: [] is empty"),
        (
            "requests:\n  - {name: a, url: /}\n"
            "executor: {type: constant-vus, vus: 0, duration: 10s}\n",
            "executor.vus: 0 is out of range",
        ),
    ],
)
def test_bad_yaml_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_yaml_plan(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
