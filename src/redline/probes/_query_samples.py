"""Real parameter values for a statement's plan: samples from a server log or a load run.

``pg_stat_statements`` keeps each statement with ``$1``-style placeholders and
no values, and a plan made without values (a generic plan) can differ from
the one the workload got. Where a statement ran with its values visible, a
sample of it lets ``redline db analyze`` plan it for those values, and run
it with ``--analyze``:

- a PostgreSQL **server log** (stderr format, any ``log_line_prefix``), with
  ``log_min_duration_statement`` or ``log_statement`` on: ``statement: ...``
  lines hold literal values; ``execute <name>: ...`` lines hold placeholders,
  and the ``DETAIL:  parameters: $1 = '42', ...`` line after them the values;
  auto_explain's ``Query Text:`` (text format) or ``"Query Text": "..."``
  (JSON format) is read as a statement;
- a **load run** with ``--db``: the statements its database sessions were
  running, sampled each second from ``pg_stat_activity`` (literal statements
  only: an extended-protocol client's ``$1`` shows there without values).

A sample is matched to a statement by :func:`fingerprint`: the text with
every constant and placeholder made ``?``, comments dropped, spaces and case
folded, as pg_stat_statements would have normalized it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redline.errors import ConfigError

__all__ = [
    "ACTIVITY_TEXT_LIMIT",
    "PLACEHOLDER",
    "QuerySample",
    "QuerySamples",
    "fingerprint",
    "samples_from_document",
    "samples_from_log",
]

#: Samples kept for one fingerprint (the first seen).
SAMPLES_PER_STATEMENT = 3
#: Fingerprints kept in all.
MAX_STATEMENTS = 1_000
#: pg_stat_activity cuts a statement at track_activity_query_size (1,024 bytes by
#: default) less one: a text this long or longer may be cut, so it is not a sample.
ACTIVITY_TEXT_LIMIT = 1_023

_COMMENT = re.compile(r"/\*.*?\*/|--[^\n]*", re.S)
_STRING = re.compile(r"(?:\b[EeBbXxNn])?'(?:[^']|'')*'")
PLACEHOLDER = re.compile(r"\$\d+\b")
_NUMBER = re.compile(r"(?<![\w$.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b")
_SPACE = re.compile(r"\s+")
_SPACE_AROUND = re.compile(r"\s*([(),=<>+*/-])\s*")
#: A log line's severity and message, after whatever log_line_prefix wrote.
_RECORD = re.compile(
    r"\b(?P<level>LOG|DETAIL|HINT|ERROR|WARNING|STATEMENT|CONTEXT|FATAL|PANIC|NOTICE|INFO"
    r"|DEBUG[1-5]?):  (?P<message>.*)$"
)
_STATEMENT = re.compile(
    r"^(?:duration: [\d.]+ ms  )?(?:statement|execute [^:]*): (?P<sql>.*)$", re.S
)
#: auto_explain's text format: the query, then plan lines with costs or actual times.
_AUTO_EXPLAIN_TEXT = re.compile(
    r"^\s*Query Text: (?P<sql>.*?)(?:\n[^\n]*\((?:cost=|actual )|\Z)", re.S
)
_PARAMETERS = re.compile(r"\$(?P<n>\d+) = (?:NULL|'(?P<value>(?:[^']|'')*)')")


def fingerprint(sql: str) -> str:
    """``sql`` with constants and placeholders as ``?``, without comments, spaces or case."""
    text = _COMMENT.sub(" ", sql)
    text = _STRING.sub("?", text)
    text = PLACEHOLDER.sub("?", text)
    text = _NUMBER.sub("?", text)
    text = _SPACE.sub(" ", text).strip().rstrip(";").strip()
    return _SPACE_AROUND.sub(r"\1", text).lower()


@dataclass(frozen=True)
class QuerySample:
    """One statement as it ran: its text and, for ``$n`` placeholders, their values."""

    #: The statement, with literal values or ``$1``-style placeholders.
    text: str
    #: The values of ``$1``, ``$2``... as the server printed them (None for NULL);
    #: None when the text holds its values itself.
    params: tuple[str | None, ...] | None
    #: Where it was seen: ``FILE:LINE`` or ``run ID``.
    source: str

    def to_dict(self) -> dict[str, Any]:
        params = list(self.params) if self.params is not None else None
        return {"text": self.text, "params": params, "source": self.source}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QuerySample:
        params = data.get("params")
        return cls(str(data["text"]), tuple(params) if params is not None else None,
                   str(data.get("source", "")))  # fmt: skip


class QuerySamples:
    """Samples by fingerprint: the first :data:`SAMPLES_PER_STATEMENT` of each."""

    def __init__(self, samples: Iterable[QuerySample] = ()) -> None:
        self._by_key: dict[str, list[QuerySample]] = {}
        for sample in samples:
            self.add(sample)

    def add(self, sample: QuerySample) -> bool:
        """Keep ``sample`` unless its statement has enough or there are too many statements."""
        key = fingerprint(sample.text)
        kept = self._by_key.get(key)
        if kept is None:
            if len(self._by_key) >= MAX_STATEMENTS:
                return False
            kept = self._by_key[key] = []
        if len(kept) >= SAMPLES_PER_STATEMENT or sample in kept:
            return False
        kept.append(sample)
        return True

    def update(self, other: QuerySamples) -> None:
        for sample in other:
            self.add(sample)

    def for_statement(self, sql: str) -> QuerySample | None:
        """The first sample of the statement ``sql`` (placeholders or not), if any."""
        kept = self._by_key.get(fingerprint(sql))
        return kept[0] if kept else None

    def __iter__(self) -> Iterator[QuerySample]:
        for kept in self._by_key.values():
            yield from kept

    def __len__(self) -> int:
        return sum(len(kept) for kept in self._by_key.values())

    def to_list(self) -> list[dict[str, Any]]:
        return [sample.to_dict() for sample in self]


def samples_from_log(path: Path) -> QuerySamples:
    """The statements of a PostgreSQL server log (stderr format) with their values.

    Raises:
        ConfigError: the file cannot be read.
    """
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        raise ConfigError(f"--samples: cannot read {str(path)!r}: {exc.strerror}") from None
    samples = QuerySamples()
    pending: QuerySample | None = None  # an execute line with placeholders, before its values
    for line_no, level, message in _records(lines):
        if level == "DETAIL" and pending is not None and message.startswith("parameters: "):
            samples.add(_with_parameters(pending, message))
        pending = None  # values come right after their statement, or not at all
        sample = _statement_of(message, f"{path}:{line_no}") if level == "LOG" else None
        if sample is not None and PLACEHOLDER.search(sample.text):
            pending = sample
        elif sample is not None:
            samples.add(sample)
    return samples


def _records(lines: Sequence[str]) -> Iterator[tuple[int, str, str]]:
    """(first line number, severity, message with its continuation lines) of each record."""
    start, level, parts = 0, "", list[str]()
    for number, line in enumerate(lines, 1):
        match = None if line.startswith(("\t", " ")) else _RECORD.search(line)
        if match is None:
            if parts:
                parts.append(line.strip())
            continue
        if parts:
            yield start, level, "\n".join(parts)
        start, level, parts = number, match["level"], [match["message"]]
    if parts:
        yield start, level, "\n".join(parts)


def _statement_of(message: str, source: str) -> QuerySample | None:
    match = _STATEMENT.match(message)
    if match is not None:
        return QuerySample(match["sql"].strip(), None, source)
    if "plan:" not in message.split("\n", 1)[0]:
        return None
    body = message.split("\n", 1)[1] if "\n" in message else ""
    if body.lstrip().startswith("{"):
        return _auto_explain_json(body, source)
    text = _AUTO_EXPLAIN_TEXT.match(body)
    return QuerySample(text["sql"].strip(), None, source) if text else None


def _auto_explain_json(body: str, source: str) -> QuerySample | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    text = data.get("Query Text") if isinstance(data, dict) else None
    return QuerySample(text.strip(), None, source) if isinstance(text, str) else None


def _with_parameters(sample: QuerySample, message: str) -> QuerySample:
    values: dict[int, str | None] = {}
    for match in _PARAMETERS.finditer(message):
        value = match["value"]
        values[int(match["n"])] = value.replace("''", "'") if value is not None else None
    params = tuple(values.get(n) for n in range(1, max(values, default=0) + 1))
    return QuerySample(sample.text, params, sample.source)


def samples_from_document(document: Mapping[str, Any], source: str) -> QuerySamples:
    """The samples a results document holds (``database.samples``, from ``run --db``),
    each marked as seen in ``source`` (the run's id or file)."""
    database = document.get("database") or {}
    return QuerySamples(
        QuerySample.from_dict({**s, "source": source}) for s in database.get("samples") or []
    )
