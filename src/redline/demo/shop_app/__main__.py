"""``python -m redline.demo.shop_app --port N [--db PATH] [--pool 2]``: serve the demo shop.

Seeds the database first when the file is missing, then serves on 127.0.0.1
with uvicorn (one process, so redline can profile it by PID) and prints
``shop on http://127.0.0.1:N/`` once it accepts requests. SIGTERM or Ctrl-C
stops it cleanly (exit status 0).
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
from pathlib import Path
from types import FrameType

import uvicorn

from redline.demo.shop_app._app import build_app
from redline.demo.shop_app._db import ensure_database
from redline.demo.shop_app._plan import DEFAULT_DB

#: Connections in the checkout pool unless --pool says otherwise.
DEFAULT_POOL = 2
#: The only address the shop listens on.
HOST = "127.0.0.1"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m redline.demo.shop_app",
        description="The demo shop: an online-shop API with planted bottlenecks.",
    )
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"SQLite file ({DEFAULT_DB})")
    parser.add_argument(
        "--pool", type=int, default=DEFAULT_POOL, help="checkout pool connections (2)"
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port: {args.port} is out of range; allowed 0..65535")
    if not 1 <= args.pool <= 1000:
        parser.error(f"--pool: {args.pool} is out of range; allowed 1..1000")
    return args


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"--port: cannot listen on {HOST}:{port}: {exc}") from None
    sock.listen(2048)
    return sock


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    if ensure_database(args.db):
        sys.stdout.write(f"seeded {args.db}\n")
    sock = _listen(args.port)
    url = f"http://{HOST}:{sock.getsockname()[1]}/"

    def ready() -> None:
        sys.stdout.write(f"shop on {url}\n")
        sys.stdout.flush()

    app = build_app(args.db, pool_size=args.pool, on_ready=ready)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again
    # with the handlers it found: these, so the process exits 0 instead of -15.
    signal.signal(signal.SIGTERM, _stopped)
    signal.signal(signal.SIGINT, _stopped)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


if __name__ == "__main__":
    main()
