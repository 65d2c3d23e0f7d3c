"""``--out``: what the user asked for, parsed and checked before any load is sent.

``--out PATH`` (no ``=``) is the results file, as it always was. The typed forms stream
per-second figures while the run goes: ``json=FILE``, ``csv=FILE``, ``otlp=URL``.
"""

from __future__ import annotations

import enum
import importlib.util
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from redline.errors import ConfigError
from redline.plan import is_loopback

__all__ = ["OTEL_INSTALL_HINT", "OutputConfig", "OutputKind", "Outputs", "parse_outputs"]

#: Every form ``--out`` takes, for error messages.
ALLOWED_FORMS = "allowed PATH (the results file), json=FILE, csv=FILE, otlp=URL (http or https)"
#: What to run when the OTLP output's packages are missing.
OTEL_INSTALL_HINT = "pip install 'redline[otel]'"
#: The OTLP/HTTP path for metrics, added to a URL given without a path (OTLP spec, "OTLP/HTTP").
OTLP_METRICS_PATH = "/v1/metrics"
#: A typed form starts with a bare lower-case word and ``=``; ``./a=b.json`` is a path.
_TYPED = re.compile(r"([a-z][a-z0-9_-]*)=(.*)", re.DOTALL)
#: The modules ``otlp=`` needs (the ``otel`` extra).
_OTEL_MODULES = ("opentelemetry.sdk.metrics", "opentelemetry.exporter.otlp.proto.http")


class OutputKind(enum.Enum):
    """A streaming output's kind: the word before ``=``."""

    #: Newline-delimited JSON: one object per second, then a summary line.
    JSON = "json"
    #: CSV: one row per second per endpoint and one for all of them.
    CSV = "csv"
    #: OpenTelemetry metrics over OTLP/HTTP (protobuf) to a collector.
    OTLP = "otlp"


@dataclass(frozen=True)
class OutputConfig:
    """One streaming output: its kind and where it goes (a file path or a URL)."""

    kind: OutputKind
    #: A file path (json, csv) or an http(s) URL (otlp), as it will be used.
    target: str

    @property
    def label(self) -> str:
        """How the user wrote it: ``json=run.ndjson``."""
        return f"{self.kind.value}={self.target}"


@dataclass(frozen=True)
class Outputs:
    """Everything ``--out`` asked for: the results file and the streaming outputs."""

    #: ``--out PATH``: where the results JSON goes when the run ends, or None.
    results: Path | None
    #: The ``kind=TARGET`` outputs, in the order given.
    streams: tuple[OutputConfig, ...]


def parse_outputs(values: Sequence[str], *, allowed_hosts: Iterable[str] = ()) -> Outputs:
    """Parse every ``--out`` value.

    Args:
        values: the option's values, in order.
        allowed_hosts: the plan's ``allowed_hosts``: an OTLP collector that is not
            loopback must be one of them.

    Raises:
        ConfigError: an unknown kind, an empty target, a URL that is not http(s) or out of
            scope, a file whose folder does not exist, two outputs to one file, two results
            files, or ``otlp=`` without the OpenTelemetry packages.
    """
    results: Path | None = None
    streams: list[OutputConfig] = []
    hosts = set(allowed_hosts)
    for value in values:
        match = _TYPED.fullmatch(value)
        if match is None:
            if results is not None:
                raise ConfigError(
                    f"--out: {value!r} is a second results file (the first is "
                    f"{str(results)!r}); {ALLOWED_FORMS}"
                )
            results = _path(value, value)
            continue
        streams.append(_stream(value, match.group(1), match.group(2), hosts))
    _check_distinct(results, streams)
    return Outputs(results, tuple(streams))


def _stream(value: str, word: str, target: str, allowed_hosts: set[str]) -> OutputConfig:
    try:
        kind = OutputKind(word)
    except ValueError:
        raise ConfigError(
            f"--out: {value!r} has an unknown kind {word!r}; {ALLOWED_FORMS}"
        ) from None
    if not target.strip():
        what = "URL" if kind is OutputKind.OTLP else "file"
        raise ConfigError(f"--out: {value!r} has no {what}; {ALLOWED_FORMS}")
    if kind is OutputKind.OTLP:
        return OutputConfig(kind, _otlp_url(value, target.strip(), allowed_hosts))
    return OutputConfig(kind, str(_path(value, target)))


def _path(value: str, text: str) -> Path:
    if not text.strip():
        raise ConfigError(f"--out: {value!r} has no file; {ALLOWED_FORMS}")
    path = Path(text)
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(
            f"--out: {value!r}: the folder {str(folder)!r} does not exist; {ALLOWED_FORMS}",
            hint="create the folder first, or write the file elsewhere",
        )
    return path


def _otlp_url(value: str, url: str, allowed_hosts: set[str]) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"--out: {value!r} is not an http(s) URL; {ALLOWED_FORMS}, "
            "e.g. otlp=http://127.0.0.1:4318/v1/metrics"
        )
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise ConfigError(f"--out: {value!r} has a bad port; allowed 1..65535") from None
    host = parts.hostname
    if not is_loopback(host) and host.lower() not in {h.lower() for h in allowed_hosts}:
        raise ConfigError(
            f"--out: {value!r}: the collector's host {host!r} is neither loopback "
            f"(127.0.0.0/8, ::1, localhost) nor in the plan's allowed_hosts "
            f"{sorted(allowed_hosts)}; {ALLOWED_FORMS}",
            hint="add the host to the plan's allowed_hosts, or use a collector on loopback",
        )
    _require_otel(value)
    if parts.path in ("", "/"):
        parts = parts._replace(path=OTLP_METRICS_PATH)
    return urlunsplit(parts)


def _require_otel(value: str) -> None:
    """Refuse ``otlp=`` before the run when the ``otel`` extra is not installed."""
    for module in _OTEL_MODULES:
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:  # a parent package is missing
            found = False
        if not found:
            raise ConfigError(
                f"--out: {value!r} needs the OpenTelemetry SDK and OTLP exporter, "
                f"which are not installed ({module} is missing)",
                hint=OTEL_INSTALL_HINT,
            )


def _check_distinct(results: Path | None, streams: list[OutputConfig]) -> None:
    seen: dict[str, str] = {}
    if results is not None:
        seen[str(results.resolve())] = str(results)
    for stream in streams:
        if stream.kind is OutputKind.OTLP:
            continue
        key = str(Path(stream.target).resolve())
        if key in seen:
            raise ConfigError(
                f"--out: {stream.label!r} writes to the same file as {seen[key]!r}; "
                "give each output its own file"
            )
        seen[key] = stream.label
