"""Reading the documents importers start from: text, JSON, YAML, and where a value sits in them.

Every error names the document and the place: ``shop.har:3:9: invalid JSON: ...`` for a
syntax error, ``shop.har: log.entries[2].request.url: missing`` for a missing value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from redline.errors import ConfigError
from redline.plan._problem import join_path, short

#: File suffixes read as JSON whatever their first character.
JSON_SUFFIXES = frozenset({".json", ".har"})


def read_text(path: Path) -> str:
    """The text of ``path`` as UTF-8 (a byte-order mark, as some HAR exporters write, is dropped).

    Raises:
        ConfigError: the file cannot be read or is not UTF-8.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read: {exc.strerror or exc}", hint="check the file's path"
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def parse_json(text: str, *, source: str) -> Any:
    """The JSON value in ``text``.

    Raises:
        ConfigError: ``"shop.har:3:9: invalid JSON: Expecting ',' delimiter"``.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None


def parse_yaml(text: str, *, source: str) -> Any:
    """The YAML value in ``text``, read safely (plain data, no Python objects).

    Raises:
        ConfigError: ``"api.yaml:4:3: invalid YAML: mapping values are not allowed here"``.
    """
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        reason = exc.problem or exc.context or "cannot parse"
        raise ConfigError(f"{where}: invalid YAML: {reason}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: invalid YAML: {str(exc).splitlines()[0]}") from None


def parse_json_or_yaml(text: str, *, source: str) -> Any:
    """JSON when ``source`` ends in ``.json`` or the text starts with ``{``, YAML otherwise.

    JSON gets its own parser even though YAML 1.2 reads most JSON: its error messages
    fit JSON better, and YAML 1.1 (PyYAML) reads some JSON differently.
    """
    if Path(source).suffix.lower() in JSON_SUFFIXES or text.lstrip().startswith("{"):
        return parse_json(text, source=source)
    return parse_yaml(text, source=source)


@dataclass(frozen=True, slots=True)
class Where:
    """A place in a document: its name and the keys down to one value.

    Example::

        entry = Where("shop.har", ("log", "entries", 2))
        (entry / "request").error("missing")  # "shop.har: log.entries[2].request: missing"
    """

    source: str
    keys: tuple[str | int, ...] = ()

    def __truediv__(self, key: str | int) -> Where:
        return Where(self.source, (*self.keys, key))

    def __str__(self) -> str:
        return join_path("", self.keys) or "document"

    def error(self, detail: str, *, hint: str | None = None) -> ConfigError:
        """The one-line error ``"<source>: <keys>: <detail>"``."""
        return ConfigError(f"{self.source}: {self}: {detail}", hint=hint)


def expect_mapping(value: object, where: Where) -> dict[str, Any]:
    """``value`` if it is a mapping (a JSON object); raises :class:`ConfigError` if not."""
    if not isinstance(value, dict):
        raise where.error(f"{short(value)} is not an object (a mapping of keys to values)")
    return value


def expect_list(value: object, where: Where) -> list[Any]:
    """``value`` if it is a list (a JSON array); raises :class:`ConfigError` if not."""
    if not isinstance(value, list):
        raise where.error(f"{short(value)} is not a list")
    return value


def expect_text(value: object, where: Where) -> str:
    """``value`` if it is a string; raises :class:`ConfigError` if not."""
    if not isinstance(value, str):
        raise where.error(f"{short(value)} is not a string")
    return value


def require(mapping: dict[str, Any], key: str, where: Where, *, hint: str | None = None) -> Any:
    """``mapping[key]``; raises ``"<where>.<key>: missing"`` if it is not there."""
    if key not in mapping:
        raise (where / key).error("missing; this key is required", hint=hint)
    return mapping[key]


def require_text(mapping: dict[str, Any], key: str, where: Where) -> str:
    """``mapping[key]`` if it is there and a string; raises :class:`ConfigError` if not."""
    return expect_text(require(mapping, key, where), where / key)
