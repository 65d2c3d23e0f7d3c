"""curl commands (a browser's "Copy as cURL (bash)") to a plan draft of one request.

The command is split as a POSIX shell would (:mod:`shlex`; backslash-newline
continues a line). The flags read are those that shape the request:

=================================================  =========================================
flag                                               in the plan
=================================================  =========================================
``-X``, ``--request M``                            ``method``
``-H``, ``--header "Name: value"``                 a header (``"Name:"`` removes one)
``-d``, ``--data``, ``--data-ascii``,              ``body``; several are joined with ``&``;
``--data-raw``, ``--data-binary D``                POST and a form ``Content-Type`` unless given
``--json D``                                       ``body``; POST, JSON ``Content-Type``/``Accept``
``-u``, ``--user user:password``                   ``Authorization: Basic ...``
``-A``, ``--user-agent UA``                        ``User-Agent``
``-b``, ``--cookie "a=1; b=2"``                    ``Cookie``
``-k``, ``--insecure``                             ``verify_tls = false``
``-I``, ``--head``                                 method HEAD
``--url URL``                                      the URL (also given without a flag)
=================================================  =========================================

Flags that change nothing a load test sends (:data:`IGNORED_FLAGS`: ``-s``, ``-v``,
``-L``...) are ignored; any other flag is refused, so that nothing the command
meant is silently lost. Short flags combine as in curl: ``-sSL``, ``-XPOST``.
"""

from __future__ import annotations

import base64
import re
import shlex
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from redline.errors import ConfigError
from redline.plan._importers._draft import DraftRequest, PlanDraft
from redline.plan._importers._names import name_for
from redline.plan._importers._origin import (
    checked_base_url,
    host_of,
    origin_of,
    path_and_query,
    scope_note,
)
from redline.plan._problem import Problem
from redline.plan._scope import url_from_text

#: Where every message about the command starts.
SOURCE = "curl command"
#: The program names a command may start with.
CURL_NAMES = frozenset({"curl", "curl.exe"})
#: An HTTP header name (RFC 9110 section 5.6.2).
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: Flags that do not change what is sent (output, progress, redirects, decompression), as
#: shown in messages.
IGNORED_SPELLINGS = (
    "-s/--silent",
    "-S/--show-error",
    "-v/--verbose",
    "-L/--location",
    "-i/--include",
    "--compressed",
)
#: Each ignored flag.
IGNORED_FLAGS = frozenset(flag for spelling in IGNORED_SPELLINGS for flag in spelling.split("/"))
#: Data flags that read a file when their value starts with ``@`` (``--data-raw`` does not).
_FILE_READING_DATA_FLAGS = frozenset({"-d", "--data", "--data-ascii", "--data-binary", "--json"})


@dataclass
class _Command:
    """What the flags said, as they are read."""

    urls: list[str] = field(default_factory=list)
    method: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    form_data: list[str] = field(default_factory=list)
    json_data: list[str] = field(default_factory=list)
    head: bool = False
    insecure: bool = False

    def set_header(self, name: str, value: str | None) -> None:
        """Set a header, replacing one of the same name in any case; ``None`` removes it."""
        for existing in [key for key in self.headers if key.lower() == name.lower()]:
            del self.headers[existing]
        if value is not None:
            self.headers[name] = value

    def has_header(self, name: str) -> bool:
        """Whether a header of this name (in any case) is set."""
        return any(key.lower() == name.lower() for key in self.headers)


def _error(flag: str, detail: str, *, hint: str | None = None) -> ConfigError:
    return ConfigError(f"{SOURCE}: {flag}: {detail}", hint=hint)


def _method(command: _Command, _: str, value: str) -> None:
    command.method = value


def _header(command: _Command, flag: str, value: str) -> None:
    if value.startswith("@"):
        raise _error(flag, f"{value!r} reads headers from a file; give each with its own -H")
    name, colon, rest = value.partition(":")
    if not colon and value.endswith(";"):  # curl's way to send a header with no value
        name, rest = value[:-1], ""
    elif not colon:
        raise _error(flag, f"{value!r} is not of the form 'Name: value'")
    if not HEADER_NAME.fullmatch(name.strip()):
        raise _error(flag, f"{value!r} has no valid header name; write 'Name: value'")
    removes = colon and not rest.strip()  # "Name:" tells curl not to send the header
    command.set_header(name.strip(), None if removes else rest.strip())


def _data(command: _Command, flag: str, value: str) -> None:
    if value.startswith("@") and flag in _FILE_READING_DATA_FLAGS:
        raise _error(
            flag,
            f"{value!r} reads the body from a file, which the import does not do",
            hint="paste the body into the command, or pass it with --data-raw",
        )
    (command.json_data if flag == "--json" else command.form_data).append(value)


def _user(command: _Command, flag: str, value: str) -> None:
    if ":" not in value:
        raise _error(flag, f"{value!r} has no password; write user:password")
    token = base64.b64encode(value.encode()).decode("ascii")
    command.set_header("Authorization", f"Basic {token}")


def _user_agent(command: _Command, _: str, value: str) -> None:
    command.set_header("User-Agent", value)


def _cookie(command: _Command, flag: str, value: str) -> None:
    if "=" not in value:
        raise _error(
            flag, f"{value!r} names a cookie file; give the cookies as 'name=value; other=value'"
        )
    cookies = [cookie for key, cookie in command.headers.items() if key.lower() == "cookie"]
    command.set_header("Cookie", "; ".join([*cookies, value]))


def _url(command: _Command, _: str, value: str) -> None:
    command.urls.append(value)


def _insecure(command: _Command) -> None:
    command.insecure = True


def _head(command: _Command) -> None:
    command.head = True


#: Flags that take a value, by every spelling.
VALUE_FLAGS: dict[str, Callable[[_Command, str, str], None]] = {
    "-X": _method,
    "--request": _method,
    "-H": _header,
    "--header": _header,
    "-d": _data,
    "--data": _data,
    "--data-ascii": _data,
    "--data-raw": _data,
    "--data-binary": _data,
    "--json": _data,
    "-u": _user,
    "--user": _user,
    "-A": _user_agent,
    "--user-agent": _user_agent,
    "-b": _cookie,
    "--cookie": _cookie,
    "--url": _url,
}
#: Flags without a value that change the request.
SWITCHES: dict[str, Callable[[_Command], None]] = {
    "-k": _insecure,
    "--insecure": _insecure,
    "-I": _head,
    "--head": _head,
}


def _spellings(table: dict[str, Callable[..., None]]) -> list[str]:
    # "-X/--request": each handler once, with every flag that leads to it.
    by_handler: dict[Callable[..., None], list[str]] = {}
    for flag, handler in table.items():
        by_handler.setdefault(handler, []).append(flag)
    return ["/".join(flags) for flags in by_handler.values()]


#: The flags read and ignored, as the error for any other flag lists them.
KNOWN_FLAGS = (
    f"read: {', '.join(_spellings(VALUE_FLAGS) + _spellings(SWITCHES))}; "
    f"ignored: {', '.join(IGNORED_SPELLINGS)}"
)


def _unsupported(flag: str) -> ConfigError:
    return _error(
        flag,
        f"not supported; {KNOWN_FLAGS}",
        hint="remove the flag, or set what it does in the plan file by hand",
    )


def _apply(command: _Command, flag: str, attached: str | None, queue: deque[str]) -> bool:
    """Apply one flag; return whether it took a value (the rest of a combined short flag)."""
    if flag in VALUE_FLAGS:
        if attached:
            value = attached
        elif queue:
            value = queue.popleft()
        else:
            raise _error(flag, "missing its value")
        VALUE_FLAGS[flag](command, flag, value)
        return True
    if flag in SWITCHES:
        SWITCHES[flag](command)
    elif flag not in IGNORED_FLAGS:
        raise _unsupported(flag)
    return False


def _short_flags(command: _Command, token: str, queue: deque[str]) -> None:
    # "-sSL" is three flags; in "-XPOST" and "-sXPOST" the rest after X is its value.
    for index, letter in enumerate(token[1:], start=1):
        if _apply(command, f"-{letter}", token[index + 1 :], queue):
            return


def _tokens(text: str) -> list[str]:
    joined = re.sub(r"\\\r?\n", " ", text)  # a backslash at a line's end continues it
    try:
        tokens = shlex.split(joined)
    except ValueError as exc:
        raise ConfigError(f"{SOURCE}: {str(exc).lower()}; check its quotes") from None
    if tokens and tokens[0].rsplit("/", 1)[-1] in CURL_NAMES:
        tokens = tokens[1:]
    return tokens


def _read(text: str) -> _Command:
    command = _Command()
    queue = deque(_tokens(text))
    while queue:
        token = queue.popleft()
        if token == "--":
            command.urls += queue
            break
        if token.startswith("--"):
            _apply(command, token, None, queue)
        elif token.startswith("-") and len(token) > 1:
            _short_flags(command, token, queue)
        else:
            command.urls.append(token)
    return command


def _target(command: _Command) -> str:
    if not command.urls:
        raise ConfigError(f"{SOURCE}: no URL; e.g. curl http://127.0.0.1:8080/")
    if len(command.urls) > 1:
        raise ConfigError(
            f"{SOURCE}: {len(command.urls)} URLs ({', '.join(map(repr, command.urls))}); "
            "allowed one: import one request at a time"
        )
    url = command.urls[0]
    if "://" not in url:
        url = f"http://{url}"  # as curl does
    try:
        url_from_text(url)
    except Problem as problem:
        raise ConfigError(f"{SOURCE}: URL: {problem.detail}") from None
    return url


def _without_credentials(command: _Command, url: str) -> str:
    # curl sends user:password in a URL as Basic authentication, not to the server's path.
    parts = urlsplit(url)
    if parts.username is None:
        return url
    if not command.has_header("Authorization"):
        _user(command, "URL", f"{parts.username}:{parts.password or ''}")
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _body(command: _Command) -> str | None:
    if command.json_data and command.form_data:
        raise ConfigError(f"{SOURCE}: --json and -d both give a body; allowed one of them")
    if command.json_data:
        for name in ("Content-Type", "Accept"):
            if not command.has_header(name):
                command.set_header(name, "application/json")
        return "".join(command.json_data)
    if command.form_data:
        if not command.has_header("Content-Type"):
            command.set_header("Content-Type", "application/x-www-form-urlencoded")
        return "&".join(command.form_data)
    return None


@dataclass(frozen=True, slots=True)
class CurlImportConfig:
    """Choices for :func:`import_curl`.

    Attributes:
        base_url: where the request goes instead of the command's scheme, host and port.
    """

    base_url: str | None = None


def import_curl(text: str, *, config: CurlImportConfig | None = None) -> PlanDraft:
    """Read one curl command into a :class:`PlanDraft` of one request (see the module docstring).

    Raises:
        ConfigError: one line, e.g. ``"curl command: --proxy: not supported; read: ..."``
            or ``"curl command: no URL; e.g. curl http://127.0.0.1:8080/"``.

    Example::

        draft = import_curl("curl -X POST http://127.0.0.1:8080/items --json '{\\"id\\": 1}'")
        draft.requests[0].body  # '{"id": 1}'
    """
    config = config or CurlImportConfig()
    base_url = None if config.base_url is None else checked_base_url(config.base_url)
    command = _read(text)
    url = _without_credentials(command, _target(command))
    body = _body(command)
    method = command.method or ("HEAD" if command.head else "POST" if body is not None else "GET")
    target = base_url or origin_of(url)
    scope = scope_note([host_of(target)])
    request = DraftRequest(
        name=name_for(method, url),
        method=method.upper(),
        url=path_and_query(url),
        headers=dict(command.headers),
        body=body,
    )
    return PlanDraft(
        name="curl",
        origin=f"a curl command ({method.upper()} {origin_of(url)}{urlsplit(url).path or '/'})",
        base_url=target,
        requests=[request],
        verify_tls=not command.insecure,
        notes=[] if scope is None else [scope],
    )
