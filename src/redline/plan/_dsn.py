"""Connection strings (DSNs) for databases and caches, parsed once and never echoed with secrets.

The accepted forms::

    postgresql://[user[:password]@]host[:port]/database
    mysql://[user[:password]@]host[:port]/database
    sqlite:///path/to/file.db
    redis://[user[:password]@]host[:port][/number]
    memcached://host[:port]
    mongodb://[user[:password]@]host[:port]/database

A host is letters, digits, dots and dashes; a port 1..65535; a database name
letters, digits, ``_`` and ``-``. Anything else is a :class:`ConfigError` that
shows the expected form, without the text that was given when it may hold a
password. A :class:`Dsn` prints redacted (``str``, ``repr``): only
:meth:`Dsn.password` gives the password, to the driver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from redline.errors import ConfigError

__all__ = ["DEFAULT_PORTS", "Dsn", "parse_dsn", "redact_passwords"]

#: The port of each scheme when the DSN names none.
DEFAULT_PORTS = {
    "postgresql": 5432,
    "mysql": 3306,
    "redis": 6379,
    "memcached": 11211,
    "mongodb": 27017,
}
#: Other spellings users write, and the scheme they mean.
ALIASES = {"postgres": "postgresql", "mariadb": "mysql"}
#: The form each scheme takes, shown in errors.
FORMS = {
    "postgresql": "postgresql://[user[:password]@]host[:port]/database",
    "mysql": "mysql://[user[:password]@]host[:port]/database",
    "sqlite": "sqlite:///path/to/file.db",
    "redis": "redis://[user[:password]@]host[:port][/number]",
    "memcached": "memcached://host[:port]",
    "mongodb": "mongodb://[user[:password]@]host[:port]/database",
}
_HOST = re.compile(r"^[A-Za-z0-9.-]+$")
_DATABASE = re.compile(r"^[A-Za-z0-9_-]+$")
#: Shown in place of a password.
REDACTED = "***"


@dataclass(frozen=True)
class Dsn:
    """A parsed connection string; ``str()`` never shows the password."""

    scheme: str
    host: str = ""
    port: int = 0
    database: str = ""
    user: str | None = None
    #: The SQLite file (sqlite only).
    path: str = ""
    _password: str | None = field(default=None, repr=False, compare=False)

    def password(self) -> str | None:
        """The password, for the driver only: never print it."""
        return self._password

    def __str__(self) -> str:
        if self.scheme == "sqlite":
            return f"sqlite:///{self.path.lstrip('/')}" if self.path else "sqlite://"
        who = ""
        if self.user is not None:
            who = self.user + (f":{REDACTED}" if self._password is not None else "") + "@"
        tail = f"/{self.database}" if self.database else ""
        return f"{self.scheme}://{who}{self.host}:{self.port}{tail}"

    def __repr__(self) -> str:
        return f"Dsn({str(self)!r})"


#: A password inside any connection string in a text: scheme://user:PASSWORD@
_PASSWORD_IN_TEXT = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s/]+(@)", re.I)


def redact_passwords(text: str) -> str:
    """``text`` (a command line, a message) with the password of every connection string in
    it replaced, as :class:`Dsn` prints its own."""
    return _PASSWORD_IN_TEXT.sub(rf"\g<1>{REDACTED}\g<2>", text)


def parse_dsn(text: str, *, field: str = "DSN", schemes: tuple[str, ...] | None = None) -> Dsn:
    """Parse ``text``; ``schemes`` limits which kinds are accepted.

    Raises:
        ConfigError: the text is not a DSN of an accepted kind; the message shows the
            expected form and never the password.
    """
    allowed = schemes or tuple(FORMS)
    scheme = ALIASES.get(text.partition("://")[0].lower(), text.partition("://")[0].lower())
    if "://" not in text or scheme not in allowed:
        forms = "; ".join(FORMS[s] for s in allowed)
        raise ConfigError(f"{field}: not a connection string of a supported kind; expected {forms}")
    if scheme == "sqlite":
        return _sqlite(text, field)
    return _network(text, scheme, field)


def _sqlite(text: str, field: str) -> Dsn:
    path = text.split("://", 1)[1]
    if not path.startswith("/") or len(path) < 2:
        # Not quoted when it may hold a password: "sqlite://user:secret@host/x" is a mistake.
        shown = "it" if "@" in path or ":" in path else repr(text)
        raise ConfigError(f"{field}: {shown} names no file; expected {FORMS['sqlite']}")
    return Dsn("sqlite", path=path)


def _port(netloc: str, field: str, form: str) -> int | None:
    """The port written after the host, checked against 1..65535 (None when none is written).

    Its text is quoted only when a user part (``user:password@``) stands apart from it:
    in ``postgresql://user:secret/db`` (the ``@host`` forgotten) the "port" is the password.
    """
    user_part, at, host_port = netloc.rpartition("@")
    host, colon, text = host_port.rpartition(":")
    if not colon or "]" in text:
        return None
    shown = f"{text!r} " if at else ""
    if not text.isascii() or not text.isdigit():
        raise ConfigError(
            f"{field}: port {shown}is not a number; allowed 1..65535; expected {form}"
        )
    port = int(text)
    if not 1 <= port <= 65535:
        shown = f"{port} " if at else ""
        raise ConfigError(
            f"{field}: port {shown}is out of range; allowed 1..65535; expected {form}"
        )
    return port


def _network(text: str, scheme: str, field: str) -> Dsn:
    form = FORMS[scheme]
    try:
        parts = urlsplit(text)
    except ValueError:  # an unclosed "[" of an IPv6 address; no text quoted, it may hold a password
        raise ConfigError(
            f"{field}: the host must be letters, digits, dots and dashes; expected {form}"
        ) from None
    host = parts.hostname or ""
    if not _HOST.match(host):
        raise ConfigError(
            f"{field}: host {host!r} must be letters, digits, dots and dashes; expected {form}"
        )
    port = _port(parts.netloc, field, form)
    database = parts.path.lstrip("/")
    if scheme in ("postgresql", "mysql", "mongodb") and not _DATABASE.match(database):
        raise ConfigError(
            f"{field}: the database name must be letters, digits, '_' and '-'; expected {form}"
        )
    if scheme == "redis" and database and not database.isdigit():
        raise ConfigError(f"{field}: a Redis database is a number; expected {form}")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return Dsn(scheme, host, port or DEFAULT_PORTS[scheme], database, user, _password=password)
