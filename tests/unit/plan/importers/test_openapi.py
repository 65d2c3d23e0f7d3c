"""OpenAPI import: a request per operation, parameters and bodies filled, bad documents refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from redline.errors import ConfigError
from redline.plan import load_plan
from redline.plan._importers import (
    DraftRequest,
    OpenApiImportConfig,
    PlanDraft,
    executor_table,
    import_openapi,
    read_text,
    render_plan,
)

FIXTURE = Path(__file__).parents[3] / "fixtures" / "import" / "shop.yaml"
UUID = "00000000-0000-4000-8000-000000000000"


def shop(**config: Any) -> PlanDraft:
    return import_openapi(
        read_text(FIXTURE), source=str(FIXTURE), config=OpenApiImportConfig(**config)
    )


def document(paths: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "paths": paths,
        **more,
    }


def imported(paths: dict[str, Any], **more: Any) -> PlanDraft:
    return import_openapi(json.dumps(document(paths, **more)), source="api.json")


def only(paths: dict[str, Any], **more: Any) -> DraftRequest:
    (request,) = imported(paths, **more).requests
    return request


def by_name(draft: PlanDraft) -> dict[str, DraftRequest]:
    return {request.name: request for request in draft.requests}


def test_one_request_per_operation_in_document_order() -> None:
    draft = shop()
    assert [(r.name, r.method) for r in draft.requests] == [
        ("listItems", "GET"),
        ("createItem", "POST"),
        ("getItem", "GET"),
        ("DELETE /items/{itemId}", "DELETE"),
        ("createCategory", "POST"),
        ("getCategory", "GET"),
    ]
    assert draft.origin == 'the OpenAPI 3.0.3 document shop.yaml ("Shop")'


def test_path_parameters_are_filled_from_examples_and_schemas() -> None:
    requests = by_name(shop())
    assert requests["getItem"].url == f"/items/{UUID}"  # path-level parameter, uuid format
    assert requests["DELETE /items/{itemId}"].url == f"/items/{UUID}"
    assert requests["getCategory"].url == "/categories/books"  # the parameter's example


def test_required_query_parameters_only_within_their_bounds() -> None:
    assert by_name(shop())["listItems"].url == "/items?limit=5"


def test_a_json_body_is_built_from_a_referenced_schema() -> None:
    create = by_name(shop())["createItem"]
    assert json.loads(create.body or "") == {"name": "teapot", "price": 1.0, "tags": ["kitchen"]}
    assert create.headers == {"Content-Type": "application/json"}


def test_a_recursive_schema_ends() -> None:
    category = by_name(shop())["createCategory"]
    assert json.loads(category.body or "") == {"name": "example", "children": []}


def test_expect_status_is_the_first_2xx_declared() -> None:
    requests = by_name(shop())
    assert requests["createItem"].expect_status == [201]
    assert requests["getItem"].expect_status == [200]  # after a 404
    assert requests["DELETE /items/{itemId}"].expect_status == [204]
    assert requests["createCategory"].expect_status is None  # only "default"
    assert requests["getCategory"].expect_status is None  # only the range "2XX"


def test_base_url_is_the_first_server_or_the_flag() -> None:
    assert shop().base_url == "https://staging.shop.test/v1"
    assert shop(base_url="http://127.0.0.1:9000/v1/").base_url == "http://127.0.0.1:9000/v1"


def test_notes_name_servers_security_and_hosts_out_of_scope() -> None:
    notes = shop().notes
    assert "Servers declared: https://staging.shop.test/v1, http://127.0.0.1:8080/v1." in notes
    assert any(note.startswith("Security schemes declared (bearer)") for note in notes)
    assert any(note.startswith("Not loopback: staging.shop.test.") for note in notes)
    local = shop(base_url="http://127.0.0.1:9000")
    assert not any(note.startswith("Not loopback") for note in local.notes)


def test_server_variables_take_their_defaults() -> None:
    servers = [
        {
            "url": "http://{host}:{port}/api",
            "variables": {"host": {"default": "127.0.0.1"}, "port": {"default": "8080"}},
        }
    ]
    draft = imported({"/x": {"get": {}}}, servers=servers)
    assert draft.base_url == "http://127.0.0.1:8080/api"


def test_operation_parameters_replace_path_item_ones() -> None:
    path_item = {
        "parameters": [{"name": "id", "in": "path", "required": True, "example": 1}],
        "get": {"parameters": [{"name": "id", "in": "path", "required": True, "example": 7}]},
    }
    assert only({"/things/{id}": path_item}).url == "/things/7"


def test_parameters_by_reference_and_named_examples() -> None:
    components = {
        "parameters": {
            "Q": {
                "name": "q",
                "in": "query",
                "required": True,
                "examples": {"first": {"$ref": "#/components/examples/Tea"}, "other": {}},
            }
        },
        "examples": {"Tea": {"value": "earl grey"}},
    }
    request = only(
        {"/search": {"get": {"parameters": [{"$ref": "#/components/parameters/Q"}]}}},
        components=components,
    )
    assert request.url == "/search?q=earl+grey"


def test_parameter_values_are_written_as_text() -> None:
    parameters = [
        {"name": "flag", "in": "query", "required": True, "schema": {"type": "boolean"}},
        {"name": "ids", "in": "query", "required": True, "example": [1, 2]},
        {"name": "both", "in": "path", "required": True, "example": ["a b", "c/d"]},
        {"name": "n", "in": "path", "required": True, "content": {"application/json": {}}},
    ]
    request = only({"/x/{both}/{n}/{undeclared}": {"get": {"parameters": parameters}}})
    assert request.url == "/x/a%20b%2Cc%2Fd/example/example?flag=true&ids=1&ids=2"


def test_media_examples_come_before_schemas() -> None:
    body = {
        "content": {
            "application/json": {
                "examples": {"one": {"value": {"id": 3}}},
                "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
            }
        }
    }
    assert only({"/x": {"post": {"requestBody": body}}}).body == '{"id": 3}'


def test_json_is_preferred_then_form_then_text() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    both = {"content": {"application/x-www-form-urlencoded": {"schema": schema},
                        "application/vnd.api+json": {"schema": schema}}}  # fmt: skip
    request = only({"/x": {"post": {"requestBody": both}}})
    assert (request.body, request.headers) == (
        '{"a": "example"}',
        {"Content-Type": "application/vnd.api+json"},
    )
    form = {"content": {"application/x-www-form-urlencoded": {"example": {"a": "b c", "n": 1}}}}
    assert only({"/x": {"post": {"requestBody": form}}}).body == "a=b+c&n=1"
    text = {"content": {"text/plain": {"schema": {"type": "string"}}}}
    assert only({"/x": {"post": {"requestBody": text}}}).body == "example"


def test_other_bodies_are_left_out_with_a_note() -> None:
    body = {"content": {"multipart/form-data": {"schema": {"type": "object"}}}}
    draft = imported({"/upload": {"post": {"operationId": "upload", "requestBody": body}}})
    assert draft.requests[0].body is None
    assert "upload: no body written for multipart/form-data; add one by hand." in draft.notes


def test_yaml_dates_become_text() -> None:
    text = """\
openapi: 3.0.0
servers: [{url: "http://127.0.0.1:8080"}]
paths:
  /x:
    post:
      requestBody:
        content:
          application/json:
            example: {day: 2024-05-01}
"""
    draft = import_openapi(text, source="api.yaml")
    assert draft.requests[0].body == '{"day": "2024-05-01"}'


def test_operation_ids_are_made_valid_and_unique() -> None:
    paths = {
        "/a": {"get": {"operationId": "get[item]"}},
        "/b": {"get": {"operationId": "get[item]"}},
    }
    assert [r.name for r in imported(paths).requests] == ["get(item)", "get(item) (2)"]


def test_the_written_plan_loads(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(render_plan(shop(base_url="http://127.0.0.1:9000"), executor=executor_table()))
    plan = load_plan(path)
    assert [spec.url for spec in plan.requests][:2] == [
        "http://127.0.0.1:9000/items?limit=5",
        "http://127.0.0.1:9000/items",
    ]


@pytest.mark.parametrize(
    ("text", "source", "message"),
    [
        ("openapi: 3.0.0\npaths: {a: b: c}\n", "api.yaml", r"^api\.yaml:2:\d+: invalid YAML: "),
        ("openapi: [3.0\n", "api.yaml", r"^api\.yaml:2:1: invalid YAML: "),
        ('{"openapi": "3.0.0",}', "api.json", r"^api\.json:1:21: invalid JSON: "),
        ("- a\n", "api.yaml", r"^api\.yaml: document: \['a'\] is not an object"),
        (
            '{"swagger": "2.0", "paths": {}}',
            "api.json",
            r"^api\.json: openapi: missing; this is a Swagger 2\.0 document",
        ),
        ("paths: {}\n", "api.yaml", r"^api\.yaml: openapi: missing; an OpenAPI document starts"),
        ("openapi: '2.0'\npaths: {}\n", "api.yaml", r"^api\.yaml: openapi: '2\.0' is not supp"),
        ("openapi: 3.0.3\n", "api.yaml", r"^api\.yaml: paths: missing; this key is required$"),
        ("openapi: 3.0.3\npaths: {}\n", "api.yaml", r"^api\.yaml: paths: \{\} is empty"),
        (
            "openapi: 3.0.3\nservers: [{url: 'http://h'}]\npaths: {/a: {summary: x}}\n",
            "api.yaml",
            r"^api\.yaml: paths: no operations under 1 paths; allowed delete, get",
        ),
        (
            "openapi: 3.0.3\nservers: [{url: 'http://h'}]\npaths: {a: {get: {}}}\n",
            "api.yaml",
            r"^api\.yaml: paths\.a: is not a path; paths start with '/'$",
        ),
    ],
)
def test_bad_documents_are_one_line_naming_the_place(text: str, source: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        import_openapi(text, source=source)
    assert "\n" not in caught.value.message


def test_a_reference_to_nowhere_names_where_it_is() -> None:
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Nope"}}}}
    message = (
        r'^api\.json: paths\."/x"\.post\.requestBody\.content\."application/json"\.schema: '
        r"\$ref '#/components/schemas/Nope' points nowhere; "
        r"the document has no components\.schemas\.Nope$"
    )
    with pytest.raises(ConfigError, match=message):
        imported({"/x": {"post": {"requestBody": body}}}, components={"schemas": {}})


def test_a_reference_to_another_file_is_refused() -> None:
    body = {"$ref": "bodies.yaml#/Pet"}
    with pytest.raises(ConfigError, match=r"'bodies\.yaml#/Pet' points outside this document"):
        imported({"/x": {"post": {"requestBody": body}}})


def test_references_that_loop_are_refused() -> None:
    components = {"parameters": {"A": {"$ref": "#/components/parameters/B"},
                                 "B": {"$ref": "#/components/parameters/A"}}}  # fmt: skip
    get = {"get": {"parameters": [{"$ref": "#/components/parameters/A"}]}}
    with pytest.raises(ConfigError, match=r"\$ref chain longer than 32 hops; do references loop"):
        imported({"/x": get}, components=components)


def test_a_relative_server_needs_the_base_url_flag() -> None:
    text = json.dumps(
        {"openapi": "3.0.3", "servers": [{"url": "/api/v3"}], "paths": {"/a": {"get": {}}}}
    )
    with pytest.raises(ConfigError, match=r"servers\[0\]\.url: '/api/v3' is relative") as caught:
        import_openapi(text, source="api.json")
    assert caught.value.hint == "pass --base-url http://127.0.0.1:8080/api/v3"
    draft = import_openapi(
        text, source="api.json", config=OpenApiImportConfig(base_url="http://127.0.0.1:1/api/v3")
    )
    assert draft.base_url == "http://127.0.0.1:1/api/v3"


def test_no_servers_needs_the_base_url_flag() -> None:
    text = json.dumps({"openapi": "3.1.0", "paths": {"/a": {"get": {}}}})
    with pytest.raises(ConfigError, match=r"servers\[0\]\.url: '/' is relative"):
        import_openapi(text, source="api.json")


def test_a_server_variable_without_default_is_named() -> None:
    servers = [{"url": "http://{host}/", "variables": {"host": {"enum": ["a"]}}}]
    with pytest.raises(ConfigError, match=r"servers\[0\]\.variables\.host\.default: missing"):
        imported({"/a": {"get": {}}}, servers=servers)
