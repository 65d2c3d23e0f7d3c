"""``python -m redline.demo``: start the demo target and run redline against it.

The target runs in a child process on a free loopback port and is stopped
(by its PID) when the run ends. ``python -m redline.demo --serve PORT`` only
serves the target, on 127.0.0.1:PORT, until Ctrl-C (for trying other runs).
"""

from __future__ import annotations

import multiprocessing
import socket
import sys

from redline.cli import main as cli_main
from redline.demo._server import serve

#: How long the demo loads the target.
DEMO_DURATION = "10s"
#: Virtual users in the demo.
DEMO_VUS = "32"


def _bound_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    return sock


def _serve_only(port_text: str) -> None:
    try:
        sock = _bound_socket(int(port_text))
    except (ValueError, OSError) as exc:
        raise SystemExit(f"--serve: cannot listen on 127.0.0.1:{port_text}: {exc}") from None
    print(f"demo target listening on http://127.0.0.1:{sock.getsockname()[1]}/", flush=True)
    try:
        serve(sock)
    except KeyboardInterrupt:
        pass


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        _serve_only(sys.argv[2])
        return
    sock = _bound_socket()
    port = sock.getsockname()[1]
    server = multiprocessing.get_context("fork").Process(target=serve, args=(sock,), daemon=True)
    server.start()
    sock.close()
    url = f"http://127.0.0.1:{port}/"
    print(f"demo target listening on {url} (pid {server.pid})")
    sys.argv = [
        "redline",
        "run",
        url,
        "--vus",
        DEMO_VUS,
        "--duration",
        DEMO_DURATION,
        "--threshold",
        "p95<250ms",
        "--threshold",
        "error_rate<1%",
    ]
    try:
        cli_main()
    finally:
        server.terminate()
        server.join(timeout=5)


if __name__ == "__main__":
    main()
