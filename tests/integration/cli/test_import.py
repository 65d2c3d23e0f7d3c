"""``redline import`` end to end: write a plan, run it with ``redline run``, see what arrived."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.recording_server import RecordingServer, Request, Response

FIXTURES = Path(__file__).parents[2] / "fixtures" / "import"
#: Generous bound for one import or one short run, including start-up on a busy machine.
COMMAND_TIMEOUT_S = 60
#: Iterations of each run: with one worker the request picks are seeded, and this many
#: picks among at most six requests reach every one of them.
ITERATIONS = 300


@pytest.fixture
def shop_server() -> Iterator[RecordingServer]:
    """A server answering as the recording and the API document say the shop does.

    Each POST /api/items creates an item with a new id (``itm_00000001``, ...), not the
    recorded one, so a request that sends it shows that the id was chained.
    """
    created = iter(range(1, 1_000_000))
    statuses = {
        ("POST", "/login"): 303,
        ("POST", "/v1/items"): 201,
        ("DELETE", f"/v1/items/{UUID}"): 204,
    }

    def answer(request: Request) -> Response:
        key = (request.method, request.path.partition("?")[0])
        if key == ("POST", "/api/items"):
            item = json.dumps({"id": new_id(next(created))}).encode()
            return Response(201, item, {"Content-Type": "application/json"})
        return Response(statuses.get(key, 200))

    with RecordingServer(answer) as server:
        yield server


def distinct(server: RecordingServer) -> set[tuple[str, str, str]]:
    """Every different request the server read, as (method, path, body)."""
    return {(request.method, request.path, request.text) for request in server.requests}


UUID = "00000000-0000-4000-8000-000000000000"
#: The requests of one iteration of the imported shop.har, in the recorded order
#: (``{id}``: the id the iteration's POST created); the recorded pause after each, s.
SHOP_JOURNEY = [
    ("GET", "/", 1.5),
    ("GET", "/api/items?page=1", 0.8),
    ("POST", "/api/items", 0.0),
    ("GET", "/api/items/{id}", 0.6),
    ("GET", "/api/items?page=2", 1.2),
    ("POST", "/login", 0.0),
]


def new_id(number: int) -> str:
    return f"itm_{number:08d}"


def redline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redline", *args],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


def run_plan(plan: Path, out: Path) -> dict[str, Any]:
    proc = redline("run", str(plan), "--workers", "1", "--quiet", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results: dict[str, Any] = json.loads(out.read_text())
    return results


def import_shop(server: RecordingServer, plan: Path, *flags: str) -> None:
    imported = redline(
        "import", "har", str(FIXTURES / "shop.har"), "--base-url", server.url, "-o", str(plan),
        *flags,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr.startswith(f"wrote {plan}: ")


def test_har_import_replays_the_journey_in_the_recorded_order(
    shop_server: RecordingServer, tmp_path: Path
) -> None:
    plan = tmp_path / "shop.toml"
    iterations = 20
    import_shop(shop_server, plan, "--no-think-time", "--vus", "1", "--iterations", str(iterations))
    results = run_plan(plan, tmp_path / "r.json")
    total = results["summary"]["total"]
    assert (total["count"], total["failures"]) == (iterations * len(SHOP_JOURNEY), 0)
    # One VU: the server reads each iteration's requests one after the other, as recorded,
    # and each iteration asks for the item its own POST created.
    expected = [
        (method, path.format(id=new_id(iteration + 1)))
        for iteration in range(iterations)
        for method, path, _ in SHOP_JOURNEY
    ]
    assert [(seen.method, seen.path) for seen in shop_server.requests] == expected
    posted = next(seen for seen in shop_server.requests if seen.path == "/api/items")
    assert posted.text == '{"name": "teapot", "price": 12}'
    assert posted.headers["content-type"] == "application/json"
    assert posted.headers["user-agent"] == "Mozilla/5.0 (X11; Linux x86_64)"
    login = shop_server.requests[len(SHOP_JOURNEY) - 1]
    assert login.text == "user=ann&password=s3cret"
    assert not {"cookie", "authorization"} & {
        name.lower() for seen in shop_server.requests for name in seen.headers
    }


def test_har_import_pauses_between_steps_as_recorded(
    shop_server: RecordingServer, tmp_path: Path
) -> None:
    plan = tmp_path / "shop.toml"
    import_shop(shop_server, plan, "--iterations", "1")
    run_plan(plan, tmp_path / "r.json")
    seen = shop_server.requests
    assert [(s.method, s.path) for s in seen] == [
        (method, path.format(id=new_id(1))) for method, path, _ in SHOP_JOURNEY
    ]
    for (_, _, pause_s), before, after in zip(SHOP_JOURNEY, seen, seen[1:], strict=False):
        # Arrival times carry the loopback's jitter: a millisecond of slack.
        assert after.at_s - before.at_s >= pause_s - 0.001, (before.path, after.path)


def test_har_import_as_a_mix_reaches_every_request(
    shop_server: RecordingServer, tmp_path: Path
) -> None:
    plan = tmp_path / "shop.toml"
    import_shop(shop_server, plan, "--mix", "--vus", "2", "--iterations", str(ITERATIONS))
    assert "[[steps]]" not in plan.read_text()
    results = run_plan(plan, tmp_path / "r.json")
    total = results["summary"]["total"]
    assert (total["count"], total["failures"]) == (ITERATIONS, 0)
    assert distinct(shop_server) == {
        ("GET", "/", ""),
        ("GET", "/api/items?page=1", ""),
        ("POST", "/api/items", '{"name": "teapot", "price": 12}'),
        ("GET", "/api/items/itm_7f3a9c21", ""),
        ("GET", "/api/items?page=2", ""),
        ("POST", "/login", "user=ann&password=s3cret"),
    }


def test_openapi_import_runs_against_a_local_server(
    shop_server: RecordingServer, tmp_path: Path
) -> None:
    plan = tmp_path / "api.toml"
    imported = redline(
        "import", "openapi", str(FIXTURES / "shop.yaml"), "--base-url", f"{shop_server.url}/v1",
        "--iterations", str(ITERATIONS), "-o", str(plan),
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    results = run_plan(plan, tmp_path / "r.json")
    total = results["summary"]["total"]
    assert (total["count"], total["failures"]) == (ITERATIONS, 0)
    assert distinct(shop_server) == {
        ("GET", "/v1/items?limit=5", ""),
        ("POST", "/v1/items", '{"name": "teapot", "price": 1.0, "tags": ["kitchen"]}'),
        ("GET", f"/v1/items/{UUID}", ""),
        ("DELETE", f"/v1/items/{UUID}", ""),
        ("POST", "/v1/categories", '{"name": "example", "children": []}'),
        ("GET", "/v1/categories/books", ""),
    }


def test_curl_import_runs(shop_server: RecordingServer, tmp_path: Path) -> None:
    plan = tmp_path / "curl.toml"
    command = f"curl -sS -X PUT {shop_server.url}/api/items/7 -H 'X-Trace: 1' --json '{{\"n\": 2}}'"
    imported = redline("import", "curl", command, "--iterations", "10", "-o", str(plan))
    assert imported.returncode == 0, imported.stderr
    run_plan(plan, tmp_path / "r.json")
    assert distinct(shop_server) == {("PUT", "/api/items/7", '{"n": 2}')}
    assert shop_server.requests[0].headers["X-Trace"] == "1"


def test_the_plan_goes_to_stdout_by_default() -> None:
    proc = redline("import", "curl", "curl http://127.0.0.1:8080/")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    plan = tomllib.loads(proc.stdout)
    assert plan["executor"] == {"type": "constant-vus", "vus": 1, "duration": "10s"}
    assert proc.stdout.startswith("# Imported by redline from a curl command")


def test_a_recording_against_another_host_is_refused_at_run_time(tmp_path: Path) -> None:
    plan = tmp_path / "staging.toml"
    assert redline("import", "har", str(FIXTURES / "shop.har"), "-o", str(plan)).returncode == 0
    assert "# Not loopback: staging.shop.test." in plan.read_text()
    proc = redline("run", str(plan))
    assert proc.returncode == 2
    assert "out of scope" in proc.stderr.splitlines()[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["har", "missing.har"], "error: missing.har: cannot read"),
        (["openapi", "{fixtures}/shop.har"], "error: {fixtures}/shop.har: openapi: missing"),
        (["har", "{fixtures}/shop.yaml"], "error: {fixtures}/shop.yaml:1:1: invalid JSON"),
        (["curl", "curl --proxy p http://127.0.0.1/"], "error: curl command: --proxy: not supp"),
        (["curl", "curl -s"], "error: curl command: no URL"),
        (["curl", "curl http://127.0.0.1/", "--vus", "0"], "error: --vus: 0 is out of range"),
        (["curl", "curl http://127.0.0.1/", "--duration", "1s"], "error: --duration: '1s' is out"),
        (["curl", "curl http://127.0.0.1/", "--base-url", "x"], "error: --base-url: 'x' is not"),
        (["curl", "curl http://127.0.0.1/", "-o", "/nonexistent/dir/p.toml"], "error: --out: "),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    proc = redline("import", *[arg.format(fixtures=FIXTURES) for arg in args])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.splitlines()[0].startswith(message.format(fixtures=FIXTURES))
    assert proc.stdout == ""
