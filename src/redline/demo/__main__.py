"""``python -m redline.demo``: start the demo target and run redline against it.

The target runs in a child process on a free loopback port and is stopped
(by its PID) when the run ends.
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


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    return sock


def main() -> None:
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
