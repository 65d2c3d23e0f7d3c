"""``redline http audit`` and ``redline run --http-audit`` as a user runs them, on loopback."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.integration.cli.test_run import redline
from tests.integration.http.cache_server import CacheServer

#: Two GETs, a POST (never repeated by the audit) and a templated GET (skipped).
PLAN = """
base_url = "{url}"
[[requests]]
name = "home"
url = "/plain"
weight = 100
[[requests]]
name = "catalog"
url = "/big.json"
weight = 100
[[requests]]
name = "order"
method = "POST"
url = "/plain"
body = "{{}}"
weight = 1
[[requests]]
name = "item"
url = "/plain?id=${{id}}"
weight = 1
[[generate]]
name = "id"
kind = "int"
min = 1
max = 9
"""
#: A short run of the plan.
EXECUTOR = """
[executor]
type = "shared-iterations"
vus = 2
iterations = {iterations}
"""


def plan_file(tmp_path: Path, server: CacheServer, *, iterations: int | None = None) -> Path:
    path = tmp_path / "plan.toml"
    executor = EXECUTOR.format(iterations=iterations) if iterations else ""
    path.write_text(PLAN.format(url=server.url) + executor)
    return path


def test_audit_of_urls_prints_a_verdict_per_endpoint_and_the_findings(
    cache_server: CacheServer,
) -> None:
    url = cache_server.url
    proc = redline("http", "audit", f"{url}/good", f"{url}/now", f"{url}/cookie", f"{url}/plain")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "HTTP caching by endpoint" in out
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 4}
    assert "cacheable" in lines["/good"] and "must not" not in lines["/good"]
    assert "the body differs between two requests" in lines["/now"]
    assert "sets a cookie" in lines["/cookie"]
    assert "http-cache-missing" in out and "/plain could be cached" in out
    assert "http-cache-set-cookie" in out


def test_audit_json_lists_endpoints_verdicts_and_findings(cache_server: CacheServer) -> None:
    proc = redline("http", "audit", f"{cache_server.url}/big.json", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    [endpoint] = data["endpoints"]
    assert endpoint["requests_sent"] == 3 and endpoint["identical"] is True
    assert data["verdicts"][0]["cacheability"] == "cacheable"
    assert [f["rule"] for f in data["findings"]] == ["http-compression-missing"]


def test_audit_of_a_plan_with_a_runs_rates(cache_server: CacheServer, tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"summary": {"endpoints": {
        "home": {"count": 6000, "rps": 200.0}, "catalog": {"count": 3000, "rps": 100.0},
    }}}))  # fmt: skip
    plan = plan_file(tmp_path, cache_server)
    proc = redline("http", "audit", str(plan), "--run", str(results), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    by_rule = {f["rule"]: f for f in data["findings"]}
    missing = by_rule["http-cache-missing"]
    assert missing["title"] == "home could be cached but says nothing about caching"
    assert "about 200.0 of the run's 200.0 req/s saved" in missing["expected_effect"]
    assert "at 100.0 req/s" in by_rule["http-compression-missing"]["expected_effect"]
    assert data["notes"] == [
        "http audit: order: POST is not a safe method: no request is repeated",
        "http audit: item: templated (${...}): the values are the run's",
    ]
    # No request to the POST nor the templated URL.
    assert {(r.method, r.path) for r in cache_server.requests} == {
        ("GET", "/plain"),
        ("GET", "/big.json"),
    }


def test_an_unreachable_url_is_one_line_naming_it() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/items"
    proc = redline("http", "audit", url)
    assert proc.returncode == 3
    first, *rest = proc.stderr.splitlines()
    assert first.startswith(f"error: http audit: {url}: refused (")
    assert rest == ["hint: is the server running, on this host and port?"]


def test_a_host_out_of_scope_is_refused_before_any_request() -> None:
    proc = redline("http", "audit", "http://192.0.2.1/")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: http audit: host '192.0.2.1' is out of scope")


def test_bad_input_is_one_line(cache_server: CacheServer, tmp_path: Path) -> None:
    proc = redline("http", "audit", f"{cache_server.url}/", "--timeout", "5m")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: --timeout: '5m' is out of range; allowed 100ms..1m")
    plan = plan_file(tmp_path, cache_server)
    proc = redline("http", "audit", str(plan), f"{cache_server.url}/")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: http audit: give one plan file or URLs, not both")
    assert cache_server.requests == []


def test_run_with_http_audit_adds_the_findings_to_the_diagnosis(
    cache_server: CacheServer, tmp_path: Path
) -> None:
    plan = plan_file(tmp_path, cache_server, iterations=200)
    out = tmp_path / "r.json"
    proc = redline(
        "run", str(plan), "--http-audit", "--quiet", "--no-save", "--workers", "1",
        "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    diagnosis = json.loads(out.read_text())["diagnosis"]
    rules = {f["rule"]: f for f in diagnosis["findings"]}
    assert {"http-cache-missing", "http-compression-missing"} <= rules.keys()
    rate = next(
        e for e in rules["http-compression-missing"]["evidence"] if e["label"] == "rate in the run"
    )
    assert rate["value"].endswith(" requests)")
    assert (
        "http audit: order: POST is not a safe method: no request is repeated" in diagnosis["notes"]
    )
    assert "http-compression-missing" in proc.stdout
