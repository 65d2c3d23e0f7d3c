"""redline.toml: every section read into a Context; each bad value one line; all reported."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from redline.errors import ConfigError, ScopeError
from redline.plan import Metric, load_context, validate_context
from redline.plan._context_example import EXAMPLE_CONTEXT

GOOD = """
environment = "staging"
databases = ["postgresql://shop:hunter2@127.0.0.1:5432/shop", "sqlite:///tmp/shop.db"]
caches = ["redis://127.0.0.1:6379/0"]

[target]
name = "shop"
urls = ["http://127.0.0.1:8080/", "http://127.0.0.1:8080/products", "http://localhost:8080/"]
executor = { type = "constant-vus", vus = 4, duration = "20s" }
think_time = "1s"

[sla]
p95 = "300ms"
p99 = "1s"
error_rate = "1%"
min_rps = 100

[server]
command = "python -m shop --dsn postgresql://shop:hunter2@127.0.0.1/shop"

[capacity]
expected_peak_rps = 1200
growth_per_month = "10%"
"""


def write(tmp_path: Path, text: str, name: str = "redline.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def messages(tmp_path: Path, text: str) -> list[str]:
    return [problem.message for problem in validate_context(write(tmp_path, text))]


def test_every_section_is_read(tmp_path: Path) -> None:
    context = load_context(write(tmp_path, GOOD))
    assert context.environment == "staging"
    assert context.plan.name == "shop"
    assert context.plan.environment.value == "staging"
    assert [r.name for r in context.plan.requests] == ["/", "/products", "/#2"]
    assert context.plan.executor.planned_duration_s() == 20
    assert context.plan.think_time_s == 1
    assert [str(s) for s in context.slas] == ["p95<=300ms", "p99<=1s", "error_rate<=1%", "rps>=100"]
    assert context.slas[0].metric is Metric.P95 and context.slas[0].value == 300_000
    assert context.slas[2].value == 0.01
    assert context.server is not None and context.server.command is not None
    assert [d.scheme for d in context.databases] == ["postgresql", "sqlite"]
    assert context.databases[0].password() == "hunter2"
    assert [str(c) for c in context.caches] == ["redis://127.0.0.1:6379/0"]
    assert context.expected_peak_rps == 1200
    assert context.growth_per_month == pytest.approx(0.1)
    assert context.source == tmp_path / "redline.toml"


def test_passwords_never_in_repr(tmp_path: Path) -> None:
    assert "hunter2" not in repr(load_context(write(tmp_path, GOOD)))


def test_minimal_file_and_server_pid(tmp_path: Path) -> None:
    context = load_context(
        write(tmp_path, '[target]\nurls = ["http://127.0.0.1:1/"]\n[server]\npid = 4242\n')
    )
    assert context.environment == "local"
    assert context.slas == () and context.databases == ()
    assert context.server is not None and context.server.pid == 4242
    assert context.expected_peak_rps is None


def test_plan_file_relative_to_the_context(tmp_path: Path) -> None:
    write(tmp_path, 'requests = [{ name = "home", url = "http://127.0.0.1:9/" }]\n', "p.toml")
    context = load_context(write(tmp_path, 'environment = "dev"\n[target]\nplan = "p.toml"\n'))
    assert context.plan.requests[0].name == "home"
    assert context.plan.environment.value == "dev"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[sla]\np95 = 300",
            "sla.p95: 300 is not a latency; write a number with a unit, e.g. '300ms'",
        ),
        ("[sla]\np99 = '3x'", "sla.p99: '3x' is not a latency; write a number with a unit"),
        ("[sla]\np95 = '0ms'", "sla.p95: '0ms' is out of range; allowed more than 0ms"),
        ("[sla]\nerror_rate = '200%'", "sla.error_rate: '200%' is out of range; allowed 0%..100%"),
        ("[sla]\nmin_rps = 0", "sla.min_rps: 0 is out of range; allowed 0.1/s..100000/s"),
        ("[sla]\np96 = '1s'", "sla.p96: unknown key; allowed p50, p90, p95, p99, max,"),
        ("[server]\npid = 0", "server.pid: 0 is out of range; allowed 1..4194304"),
        ("[server]\npid = 1\ncommand = 'x'", "server: give one of pid"),
        ("[server]\ncommand = 'a \"b'", "server.command: cannot be split into words"),
        ("[capacity]\nexpected_peak_rps = -1", "capacity.expected_peak_rps: -1 is out of range"),
        ("[capacity]\ngrowth_per_month = '2000%'", "capacity.growth_per_month: '2000%' is out of"),
        ("[capacity]\nsize = 1", "capacity.size: unknown key; allowed expected_peak_rps,"),
        ("executor = { type = 'constant-vus', vus = 0 }", "target.executor.vus: 0 is out of"),
    ],
)
def test_each_bad_value_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    found = messages(tmp_path, 'environment = "local"\n' + _with_target(text))
    assert len(found) >= 1 and found[0].startswith(message), found
    assert all("\n" not in m for m in found)


def _with_target(text: str) -> str:
    return '[target]\nurls = ["http://127.0.0.1:1/"]\n' + text


def test_several_problems_reported_together(tmp_path: Path) -> None:
    text = """
    foo = 1
    databases = ["mongodb://h/x", 5]
    [target]
    urls = ["ftp://x"]
    [sla]
    p95 = 300
    [capacity]
    expected_peak_rps = -1
    """
    found = messages(tmp_path, text)
    fields = [m.split(":")[0] for m in found]
    assert fields == [
        "foo",
        "target.urls[0]",
        "sla.p95",
        "databases[0]",
        "databases[1]",
        "capacity.expected_peak_rps",
    ]
    with pytest.raises(
        ConfigError, match=r"redline.toml: foo: unknown key.*\(and 5 more problems\)"
    ):
        load_context(tmp_path / "redline.toml")


def test_missing_target(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="target: missing; this key is required"):
        load_context(write(tmp_path, 'environment = "local"\n'))


def test_plan_file_excludes_other_target_keys(tmp_path: Path) -> None:
    write(tmp_path, 'requests = [{ name = "home", url = "http://127.0.0.1:9/" }]\n', "p.toml")
    with pytest.raises(ConfigError, match="target.urls: is given with target.plan"):
        load_context(write(tmp_path, '[target]\nplan = "p.toml"\nurls = []\n'))


def test_production_refused(tmp_path: Path) -> None:
    with pytest.raises(ScopeError, match="environment: 'prod' is refused: redline never loads"):
        load_context(
            write(tmp_path, 'environment = "prod"\n[target]\nurls = ["http://127.0.0.1:1/"]')
        )


def test_targets_scoped_as_plans(tmp_path: Path) -> None:
    with pytest.raises(ScopeError, match="host 'example.com' is out of scope"):
        load_context(write(tmp_path, '[target]\nurls = ["http://example.com/"]\n'))
    allowed = '[target]\nurls = ["http://example.com/"]\nallowed_hosts = ["example.com"]\n'
    assert load_context(write(tmp_path, allowed)).plan.allowed_hosts == ["example.com"]


def test_password_never_in_messages(tmp_path: Path) -> None:
    text = """
    databases = ["postgresql://u:hunter2@db.example.com/x", "postgresql://u:hunter2/x"]
    caches = "redis://u:hunter2@127.0.0.1"
    [target]
    urls = ["http://127.0.0.1:1/"]
    [server]
    command = 5
    """
    found = messages(tmp_path, text)
    assert len(found) == 4
    assert found[1].startswith("databases[0]: host 'db.example.com' is out of scope")
    assert not any("hunter2" in m for m in found), found


def test_the_init_example_loads(tmp_path: Path) -> None:
    context = load_context(write(tmp_path, EXAMPLE_CONTEXT))
    assert context.plan.requests[0].url == "http://127.0.0.1:8080/"
    assert len(context.slas) == 4 and context.server is not None
