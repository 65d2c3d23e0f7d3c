"""Steps end to end: extracted values really flow into the next request, seen by the server.

The shared recording server on loopback answers with :class:`LoginApp`, which hands
out a token in JSON and a session cookie at ``/login``; ``/orders`` answers 200 only when
the request carries ``Authorization: Bearer <that token>`` and that cookie, so
the check is made on the server side, per request.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.recording_server import RecordingServer, Request, Response

#: Generous bound for one short run, including worker start-up on a busy machine.
RUN_TIMEOUT_S = 60


class LoginApp:
    """Issues a distinct token and cookie per login and checks them on ``/orders``."""

    def __init__(self) -> None:
        self.logins = 0
        self.authorized: list[str] = []
        self.refused: list[str] = []
        self.items: list[str] = []
        self._tokens: dict[str, str] = {}  # token -> the session cookie issued with it

    def __call__(self, request: Request) -> Response:
        if request.path == "/login":
            return self._login()
        if request.path.startswith("/orders"):
            return self._orders(request)
        return _json(404, "{}")

    def _login(self) -> Response:
        self.logins += 1
        token, session = f"tok{self.logins}", f"s{self.logins}"
        self._tokens[token] = session
        cookie = {"Set-Cookie": f"session={session}; Path=/; HttpOnly"}
        return _json(200, json.dumps({"data": {"token": token}}), cookie)

    def _orders(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        cookie = request.headers.get("cookie", "")
        good = token in self._tokens and cookie == f"session={self._tokens[token]}"
        (self.authorized if good else self.refused).append(f"{token}|{cookie}")
        self.items.append(request.path.partition("?")[2] + "|" + request.text)
        return _json(200, '{"ok": true}') if good else _json(401, '{"ok": false}')


def _json(status: int, body: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, body.encode(), {"Content-Type": "application/json", **(headers or {})})


@pytest.fixture
def login_app() -> LoginApp:
    return LoginApp()


@pytest.fixture
def login_server(login_app: LoginApp) -> Iterator[RecordingServer]:
    with RecordingServer(login_app) as server:
        yield server


PLAN = """
name = "steps"
base_url = "http://127.0.0.1:{port}"
cookies = true

[executor]
type = "shared-iterations"
vus = 2
iterations = 10
max_duration = "30s"

[[requests]]
name = "login"
method = "POST"
url = "/login"
extract = {{ token = {{ json = "$.data.token" }} }}

[[requests]]
name = "orders"
method = "POST"
url = "/orders?by=${{token}}"
headers = {{ Authorization = "Bearer ${{token}}" }}
body = '{{"token": "${{token}}"}}'
checks = {{ status = [200], json = {{ "$.ok" = true }} }}

[[steps]]
request = "login"
on_failure = "stop"
think_time = "10ms"

[[steps]]
request = "orders"
"""


def test_extracted_token_and_cookie_reach_the_next_step(
    login_app: LoginApp, login_server: RecordingServer, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN.format(port=login_server.port))
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [sys.executable, "-m", "redline", "run", str(plan), "--workers", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert login_app.logins == 10
    assert len(login_app.authorized) == 10 and not login_app.refused
    # Each order carried the token of the login just before it, in URL and body too.
    for item in login_app.items:
        query, body = item.split("|", 1)
        token = query.removeprefix("by=")
        assert token.startswith("tok") and body == json.dumps({"token": token})
    data = json.loads(out.read_text())
    endpoints = data["summary"]["endpoints"]
    assert endpoints["orders"]["count"] == 10 and endpoints["orders"]["failures"] == 0
