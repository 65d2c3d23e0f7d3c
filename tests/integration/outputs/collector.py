"""A stand-in for an OpenTelemetry collector: OTLP/HTTP metrics on loopback, decoded for real.

It accepts ``POST /v1/metrics`` with a protobuf ``ExportMetricsServiceRequest`` (as the
OTLP/HTTP spec says: ``application/x-protobuf``, optionally gzip), decodes it with the
generated classes of ``opentelemetry-proto`` and keeps it; any other path gets 404::

    with Collector() as collector:
        ...  # export to collector.url
    collector.requests[-1].resource_metrics[0].resource.attributes
"""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

#: The OTLP/HTTP path for metrics.
METRICS_PATH = "/v1/metrics"


class Collector:
    """Receives and decodes OTLP/HTTP metric exports on ``127.0.0.1`` (port 0)."""

    def __init__(self) -> None:
        self.requests: list[ExportMetricsServiceRequest] = []
        #: Content types the exports came with.
        self.content_types: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The metrics endpoint: ``http://127.0.0.1:PORT/v1/metrics``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}{METRICS_PATH}"

    def received(self, request: ExportMetricsServiceRequest, content_type: str) -> None:
        with self._lock:
            self.requests.append(request)
            self.content_types.append(content_type)

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5.0)


def _handler(collector: Collector) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != METRICS_PATH:
                self._answer(404, b"")
                return
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = ExportMetricsServiceRequest()
            request.ParseFromString(body)
            collector.received(request, self.headers.get("Content-Type", ""))
            self._answer(200, ExportMetricsServiceResponse().SerializeToString())

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the API's name
            pass  # quiet: the test reads what was received

    return Handler
