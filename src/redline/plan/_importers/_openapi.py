"""OpenAPI 3.0 and 3.1 documents (JSON or YAML) to a plan draft: one request per operation.

For each operation, in the document's order:

- name: its ``operationId``, or method and path template (``"GET /pets/{petId}"``);
- URL: the path with each path parameter filled in, and each *required* query
  parameter appended, from the parameter's ``example``, its first ``examples``
  entry, or a value built from its schema (:mod:`~redline.plan._importers._schema`);
- body: for a JSON, form or text request body, the media type's ``example``, its
  first ``examples`` entry, or a value built from its schema; ``Content-Type`` says which;
- ``expect_status``: the first 2xx response code the operation declares, if any.

``base_url`` is ``servers[0].url`` with its variables at their defaults, unless one is given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from redline.plan._importers._document import (
    Where,
    expect_list,
    expect_mapping,
    parse_json_or_yaml,
    require,
    require_text,
)
from redline.plan._importers._draft import DraftRequest, PlanDraft
from redline.plan._importers._names import UniqueNames, clean_name
from redline.plan._importers._origin import checked_base_url, host_of, scope_note
from redline.plan._importers._schema import DEFAULT_STRING, SchemaExamples
from redline.plan._problem import Problem
from redline.plan._scope import url_from_text

#: The operations a path item may hold (OpenAPI 3.1 section 4.8.9).
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
#: ``openapi`` values read: 3.0.x and 3.1.x (and later 3.x, which keep their shape).
OPENAPI_VERSION = re.compile(r"3\.\d+(\.\d+)?(-[\w.]+)?")
#: A response code that means success (a range such as ``2XX`` names no one code).
SUCCESS_STATUS = re.compile(r"2\d\d")
#: A ``{name}`` in a path template or a server URL.
TEMPLATE_VARIABLE = re.compile(r"\{([^{}]+)\}")
#: What an example is when nothing in the document gives or describes one.
_NOT_GIVEN: Any = object()
_EXAMPLE_BASE_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True, slots=True)
class OpenApiImportConfig:
    """Choices for :func:`import_openapi`.

    Attributes:
        base_url: where requests go; ``servers[0].url`` when ``None``.
    """

    base_url: str | None = None


def _json_body(value: Any) -> str:
    # default=str: YAML reads 2024-01-01 as a date, which JSON has no type for.
    return json.dumps(value, default=str, ensure_ascii=False)


def _form_body(value: Any) -> str:
    pairs = value.items() if isinstance(value, dict) else [("value", value)]
    return urlencode([(str(key), _as_text(item)) for key, item in pairs])


def _text_body(value: Any) -> str:
    return value if isinstance(value, str) else _json_body(value)


#: How a body of each kind of media type is written from an example value.
BODY_ENCODERS: dict[str, Callable[[Any], str]] = {
    "json": _json_body,
    "form": _form_body,
    "text": _text_body,
}


def media_kind(media_type: str) -> str | None:
    """``"json"``, ``"form"``, ``"text"``, or ``None`` for bodies not generated (multipart...)."""
    essence = media_type.partition(";")[0].strip().lower()
    if essence in ("application/json", "*/*") or essence.endswith(("+json", "/json")):
        return "json"
    if essence == "application/x-www-form-urlencoded":
        return "form"
    return "text" if essence.startswith("text/") else None


def _as_text(value: Any) -> str:
    """A parameter value as text, in the ``simple``/``form`` styles' comma-separated form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(_as_text(item) for item in value)
    if isinstance(value, dict):
        return ",".join(_as_text(part) for pair in value.items() for part in pair)
    return str(value)


@dataclass
class _Reader:
    """What reading one document keeps: its examples, the names taken, notes for the file."""

    examples: SchemaExamples
    names: UniqueNames = field(default_factory=UniqueNames)
    notes: list[str] = field(default_factory=list)

    def first_example(self, holder: dict[str, Any], where: Where) -> Any:
        """``holder``'s ``example``, or the value of its first ``examples`` entry."""
        if "example" in holder:
            return holder["example"]
        named = holder.get("examples")
        if not isinstance(named, dict) or not named:
            return _NOT_GIVEN
        key = next(iter(named))
        entry, _ = self.examples.resolve(named[key], where / "examples" / key)
        return entry["value"] if isinstance(entry, dict) and "value" in entry else _NOT_GIVEN

    def media_value(self, media: dict[str, Any], where: Where) -> Any:
        """An example for a media type object: given, or built from its schema."""
        given = self.first_example(media, where)
        if given is not _NOT_GIVEN or "schema" not in media:
            return given
        return self.examples.value(media["schema"], where / "schema")

    def parameter_value(self, parameter: dict[str, Any], where: Where) -> Any:
        """An example for a parameter: ``example``, ``examples``, ``schema`` or ``content``."""
        given = self.first_example(parameter, where)
        if given is not _NOT_GIVEN:
            return given
        if "schema" in parameter:
            return self.examples.value(parameter["schema"], where / "schema")
        content = parameter.get("content")
        if isinstance(content, dict) and content:
            media_type = next(iter(content))
            value = self.media_value(expect_mapping(content[media_type], where), where)
            return DEFAULT_STRING if value is _NOT_GIVEN else value
        return DEFAULT_STRING


def _check_version(document: dict[str, Any], where: Where) -> str:
    if "openapi" not in document:
        swagger = document.get("swagger")
        detail = (
            f"missing; this is a Swagger {swagger} document, and only OpenAPI 3.x is read"
            if swagger is not None
            else "missing; an OpenAPI document starts with openapi: 3.0.3 or 3.1.0"
        )
        raise (where / "openapi").error(detail, hint="convert the document to OpenAPI 3 first")
    version = str(document["openapi"])
    if not OPENAPI_VERSION.fullmatch(version):
        raise (where / "openapi").error(f"{version!r} is not supported; allowed 3.0.x or 3.1.x")
    return version


def _paths(document: dict[str, Any], where: Where) -> dict[str, Any]:
    paths = expect_mapping(require(document, "paths", where), where / "paths")
    if not paths:
        raise (where / "paths").error("{} is empty; the document has no operations to import")
    return paths


def _server_url(document: dict[str, Any], where: Where) -> str:
    servers = expect_list(document.get("servers", [{"url": "/"}]), where / "servers")
    if not servers:
        servers = [{"url": "/"}]  # the default when none is given (OpenAPI 3.1 section 4.8.1)
    server = expect_mapping(servers[0], where / "servers" / 0)
    server_where = where / "servers" / 0
    url = require_text(server, "url", server_where)
    variables = expect_mapping(server.get("variables", {}), server_where / "variables")

    def default(match: re.Match[str]) -> str:
        name = match.group(1)
        variable = expect_mapping(variables.get(name, {}), server_where / "variables" / name)
        if "default" not in variable:
            raise (server_where / "variables" / name / "default").error(
                f"missing; {url!r} uses {{{name}}}, and redline fills it from its default"
            )
        return str(variable["default"])

    filled = TEMPLATE_VARIABLE.sub(default, url)
    if filled.startswith("/") or "://" not in filled:
        raise (server_where / "url").error(
            f"{filled!r} is relative to wherever the document is served",
            hint=f"pass --base-url {_EXAMPLE_BASE_URL}{filled if filled != '/' else ''}",
        )
    try:
        return url_from_text(filled).rstrip("/")
    except Problem as problem:
        raise (server_where / "url").error(problem.detail, hint="or pass --base-url") from None


def _parameter_list(reader: _Reader, raw_list: object, where: Where) -> list[Any]:
    parameters = []
    for index, raw in enumerate(expect_list(raw_list, where)):
        resolved, param_where = reader.examples.resolve(raw, where / index)
        parameter = expect_mapping(resolved, param_where)
        require_text(parameter, "name", param_where)
        require_text(parameter, "in", param_where)
        parameters.append((parameter, param_where))
    return parameters


def _parameters(
    reader: _Reader, item: dict[str, Any], operation: dict[str, Any], where: Where, method: str
) -> list[tuple[dict[str, Any], Where]]:
    # An operation's parameter replaces its path item's of the same name and location.
    shared = _parameter_list(reader, item.get("parameters", []), where / "parameters")
    own = _parameter_list(reader, operation.get("parameters", []), where / method / "parameters")
    found = {(p["name"], p["in"]): (p, p_where) for p, p_where in [*shared, *own]}
    return list(found.values())


def _url(reader: _Reader, path: str, parameters: list[tuple[dict[str, Any], Where]]) -> str:
    values = {
        parameter["name"]: reader.parameter_value(parameter, where)
        for parameter, where in parameters
        if parameter["in"] == "path"
    }

    def fill(match: re.Match[str]) -> str:
        return quote(_as_text(values.get(match.group(1), DEFAULT_STRING)), safe="")

    query = [
        (parameter["name"], reader.parameter_value(parameter, where))
        for parameter, where in parameters
        if parameter["in"] == "query" and parameter.get("required") is True
    ]
    filled = TEMPLATE_VARIABLE.sub(fill, path)
    pairs = [(name, _as_text(item)) for name, value in query for item in _exploded(value)]
    return f"{filled}?{urlencode(pairs)}" if pairs else filled


def _exploded(value: Any) -> list[Any]:
    # The form style with explode (the query default) repeats the name for each item.
    return value if isinstance(value, list) else [value]


def _body(
    reader: _Reader, raw: object, where: Where, name: str
) -> tuple[str | None, dict[str, str]]:
    if raw is None:
        return None, {}
    spec, spec_where = reader.examples.resolve(raw, where)
    content = expect_mapping(expect_mapping(spec, spec_where).get("content", {}), spec_where)
    kinds = {media_type: media_kind(str(media_type)) for media_type in content}
    chosen = next(
        (media for kind in BODY_ENCODERS for media in kinds if kinds[media] == kind), None
    )
    if chosen is None:
        if content:
            reader.notes.append(
                f"{name}: no body written for {', '.join(map(str, content))}; add one by hand."
            )
        return None, {}
    media_where = spec_where / "content" / chosen
    value = reader.media_value(expect_mapping(content[chosen], media_where), media_where)
    if value is _NOT_GIVEN:
        return None, {}
    header = "application/json" if chosen == "*/*" else str(chosen)
    return BODY_ENCODERS[str(kinds[chosen])](value), {"Content-Type": header}


def _expected_status(responses: object) -> list[int] | None:
    if not isinstance(responses, dict):
        return None
    codes = [str(code) for code in responses if SUCCESS_STATUS.fullmatch(str(code))]
    return [int(codes[0])] if codes else None


def _operation(
    reader: _Reader, path: str, method: str, item: dict[str, Any], where: Where
) -> DraftRequest:
    resolved, op_where = reader.examples.resolve(item[method], where / method)
    operation = expect_mapping(resolved, op_where)
    operation_id = operation.get("operationId")
    wanted = operation_id if isinstance(operation_id, str) else f"{method.upper()} {path}"
    name = reader.names.claim(clean_name(wanted))
    parameters = _parameters(reader, item, operation, where, method)
    body, headers = _body(reader, operation.get("requestBody"), op_where / "requestBody", name)
    return DraftRequest(
        name=name,
        method=method.upper(),
        url=_url(reader, path, parameters),
        headers=headers,
        body=body,
        expect_status=_expected_status(operation.get("responses")),
    )


def _requests(reader: _Reader, paths: dict[str, Any], where: Where) -> list[DraftRequest]:
    requests = []
    for path, raw_item in paths.items():
        item_where = where / "paths" / str(path)
        if not str(path).startswith("/"):
            raise item_where.error("is not a path; paths start with '/'")
        resolved, resolved_where = reader.examples.resolve(raw_item, item_where)
        item = expect_mapping(resolved, resolved_where)
        methods = [key for key in item if str(key).lower() in HTTP_METHODS]
        requests += [_operation(reader, str(path), m, item, resolved_where) for m in methods]
    if not requests:
        raise (where / "paths").error(
            f"no operations under {len(paths)} paths; allowed {', '.join(sorted(HTTP_METHODS))}"
        )
    return requests


def _origin(document: dict[str, Any], source: str, version: str) -> str:
    info = document.get("info")
    title = info.get("title") if isinstance(info, dict) else None
    named = f' ("{title}")' if isinstance(title, str) and title else ""
    return f"the OpenAPI {version} document {Path(source).name}{named}"


def _notes(document: dict[str, Any], reader: _Reader, base_url: str, count: int) -> list[str]:
    notes = [f"{count} operations, one request each; required query parameters only."]
    servers = document.get("servers")
    if isinstance(servers, list) and servers:
        urls = [str(s.get("url")) for s in servers if isinstance(s, dict)]
        notes.append(f"Servers declared: {', '.join(urls)}.")
    components = document.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    if isinstance(schemes, dict) and schemes:
        notes.append(
            f"Security schemes declared ({', '.join(map(str, schemes))}): "
            "add the headers they need to the requests."
        )
    scope = scope_note([host_of(base_url)])
    return [*notes, *reader.notes, *([scope] if scope else [])]


def import_openapi(
    text: str, *, source: str, config: OpenApiImportConfig | None = None
) -> PlanDraft:
    """Read an OpenAPI 3.0 or 3.1 document into a :class:`PlanDraft` (see the module docstring).

    Args:
        text: the document, JSON or YAML.
        source: the file's name, for messages and the plan's first comment; a name
            ending in ``.json`` is read as JSON.
        config: where requests go; ``servers[0].url`` when ``None``.

    Raises:
        ConfigError: one line naming the place, e.g. ``"api.yaml:
            paths."/pets".post.requestBody.$ref: '#/components/requestBodies/Pet'
            points nowhere; the document has no components.requestBodies.Pet"``.

    Example::

        draft = import_openapi(Path("api.yaml").read_text(), source="api.yaml",
                               config=OpenApiImportConfig(base_url="http://127.0.0.1:8080"))
    """
    config = config or OpenApiImportConfig()
    where = Where(source)
    document = expect_mapping(parse_json_or_yaml(text, source=source), where)
    version = _check_version(document, where)
    paths = _paths(document, where)
    given = None if config.base_url is None else checked_base_url(config.base_url)
    base_url = given or _server_url(document, where)
    reader = _Reader(SchemaExamples(document, source=source))
    requests = _requests(reader, paths, where)
    return PlanDraft(
        name=Path(source).stem,
        origin=_origin(document, source, version),
        base_url=base_url,
        requests=requests,
        notes=_notes(document, reader, base_url, len(requests)),
    )
