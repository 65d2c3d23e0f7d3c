"""Steps end to end: extracted values really flow into the next request, seen by the server.

A small HTTP/1.1 server on loopback (port 0, its own thread) hands out a token
in JSON and a session cookie at ``/login``; ``/orders`` answers 200 only when
the request carries ``Authorization: Bearer <that token>`` and that cookie, so
the check is made on the server side, per request.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

#: Generous bound for one short run, including worker start-up on a busy machine.
RUN_TIMEOUT_S = 60
#: How long the server thread may take to start.
READY_TIMEOUT_S = 5


class LoginServer:
    """Issues a distinct token and cookie per login and checks them on ``/orders``."""

    def __init__(self) -> None:
        self.port = 0
        self.logins = 0
        self.authorized: list[str] = []
        self.refused: list[str] = []
        self.items: list[str] = []
        self._tokens: dict[str, str] = {}  # token -> the session cookie issued with it
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(READY_TIMEOUT_S):
            raise RuntimeError("the login server did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(READY_TIMEOUT_S)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                target = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                writer.write(self._answer(target, headers, body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _answer(self, target: str, headers: dict[str, str], body: bytes) -> bytes:
        extra = ""
        if target == "/login":
            self.logins += 1
            token, session = f"tok{self.logins}", f"s{self.logins}"
            self._tokens[token] = session
            status, reply = 200, json.dumps({"data": {"token": token}})
            extra = f"Set-Cookie: session={session}; Path=/; HttpOnly\r\n"
        elif target.startswith("/orders"):
            token = headers.get("authorization", "").removeprefix("Bearer ")
            cookie = headers.get("cookie", "")
            good = token in self._tokens and cookie == f"session={self._tokens[token]}"
            (self.authorized if good else self.refused).append(f"{token}|{cookie}")
            self.items.append(target.partition("?")[2] + "|" + body.decode())
            status, reply = (200, '{"ok": true}') if good else (401, '{"ok": false}')
        else:
            status, reply = 404, "{}"
        return (
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra}"
            f"Content-Length: {len(reply)}\r\n\r\n{reply}"
        ).encode()


@pytest.fixture
def login_server() -> Iterator[LoginServer]:
    server = LoginServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


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
    login_server: LoginServer, tmp_path: Path
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
    assert login_server.logins == 10
    assert len(login_server.authorized) == 10 and not login_server.refused
    # Each order carried the token of the login just before it, in URL and body too.
    for item in login_server.items:
        query, body = item.split("|", 1)
        token = query.removeprefix("by=")
        assert token.startswith("tok") and body == json.dumps({"token": token})
    data = json.loads(out.read_text())
    endpoints = data["summary"]["endpoints"]
    assert endpoints["orders"]["count"] == 10 and endpoints["orders"]["failures"] == 0
