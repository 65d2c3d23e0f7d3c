"""curl import: every flag read, the harmless ones ignored, anything else refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from redline.errors import ConfigError
from redline.plan import load_plan
from redline.plan._importers import (
    CurlImportConfig,
    DraftRequest,
    PlanDraft,
    executor_table,
    import_curl,
    render_plan,
)

URL = "http://127.0.0.1:8080/api/items"


def draft(command: str, **config: str) -> PlanDraft:
    return import_curl(command, config=CurlImportConfig(**config))


def request(command: str) -> DraftRequest:
    (only,) = draft(command).requests
    return only


def test_a_bare_url_is_a_get_on_its_origin() -> None:
    imported = draft(f"curl {URL}?page=2")
    assert imported.base_url == "http://127.0.0.1:8080"
    assert imported.requests == [
        DraftRequest(name="GET /api/items", method="GET", url="/api/items?page=2")
    ]
    assert imported.name == "curl"
    assert imported.origin == "a curl command (GET http://127.0.0.1:8080/api/items)"
    assert imported.verify_tls is True
    assert imported.notes == []


@pytest.mark.parametrize("flag", ["-X", "--request"])
def test_method(flag: str) -> None:
    assert request(f"curl {flag} delete {URL}").method == "DELETE"


@pytest.mark.parametrize("flag", ["-H", "--header"])
def test_header(flag: str) -> None:
    made = request(f"curl {flag} 'Accept: application/json' {flag} 'X-Empty;' {URL}")
    assert made.headers == {"Accept": "application/json", "X-Empty": ""}


def test_a_later_header_replaces_and_an_empty_one_removes() -> None:
    made = request(f"curl -H 'accept: a' -H 'Accept: b' -H 'X-Gone: 1' -H 'X-Gone:' {URL}")
    assert made.headers == {"Accept": "b"}


@pytest.mark.parametrize("flag", ["-d", "--data", "--data-ascii", "--data-raw", "--data-binary"])
def test_data_is_a_form_post(flag: str) -> None:
    made = request(f"curl {URL} {flag} 'a=1' {flag} 'b=2'")
    assert (made.method, made.body) == ("POST", "a=1&b=2")
    assert made.headers == {"Content-Type": "application/x-www-form-urlencoded"}


def test_data_keeps_a_given_content_type_and_method() -> None:
    made = request(f"curl -X PUT -H 'content-type: application/json' -d '{{\"a\": 1}}' {URL}")
    assert (made.method, made.body) == ("PUT", '{"a": 1}')
    assert made.headers == {"content-type": "application/json"}


def test_data_raw_takes_an_at_sign_literally() -> None:
    assert request(f"curl --data-raw '@handle' {URL}").body == "@handle"


@pytest.mark.parametrize("flag", ["-d", "--data", "--data-binary", "--json"])
def test_data_from_a_file_is_refused(flag: str) -> None:
    with pytest.raises(ConfigError, match=rf"^curl command: {flag}: '@body\.json' reads the body"):
        draft(f"curl {flag} @body.json {URL}")


def test_json_posts_with_json_headers() -> None:
    made = request(f"""curl --json '{{"name": "it'"'"'s"}}' {URL}""")
    assert (made.method, made.body) == ("POST", '{"name": "it\'s"}')
    assert made.headers == {"Content-Type": "application/json", "Accept": "application/json"}


def test_json_and_data_together_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"^curl command: --json and -d both give a body"):
        draft(f"curl --json '{{}}' -d a=1 {URL}")


@pytest.mark.parametrize("flag", ["-u", "--user"])
def test_user_is_basic_authentication(flag: str) -> None:
    assert request(f"curl {flag} ann:s3cret {URL}").headers == {
        "Authorization": "Basic YW5uOnMzY3JldA=="
    }


def test_user_without_password_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^curl command: -u: 'ann' has no password"):
        draft(f"curl -u ann {URL}")


def test_credentials_in_the_url_become_basic_authentication() -> None:
    imported = draft("curl http://ann:s3cret@127.0.0.1:8080/x")
    assert imported.base_url == "http://127.0.0.1:8080"
    assert imported.requests[0].headers == {"Authorization": "Basic YW5uOnMzY3JldA=="}


@pytest.mark.parametrize("flag", ["-A", "--user-agent"])
def test_user_agent(flag: str) -> None:
    assert request(f"curl {flag} 'probe/1.0' {URL}").headers == {"User-Agent": "probe/1.0"}


@pytest.mark.parametrize("flag", ["-b", "--cookie"])
def test_cookies_are_joined(flag: str) -> None:
    made = request(f"curl {flag} 'a=1' {flag} 'b=2; c=3' {URL}")
    assert made.headers == {"Cookie": "a=1; b=2; c=3"}


def test_a_cookie_file_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^curl command: -b: 'jar\.txt' names a cookie file"):
        draft(f"curl -b jar.txt {URL}")


@pytest.mark.parametrize("flag", ["-k", "--insecure"])
def test_insecure_turns_off_certificate_checks(flag: str) -> None:
    assert draft(f"curl {flag} https://127.0.0.1:8443/").verify_tls is False


@pytest.mark.parametrize("flag", ["-I", "--head"])
def test_head(flag: str) -> None:
    assert request(f"curl {flag} {URL}").method == "HEAD"


def test_url_flag() -> None:
    assert request(f"curl --url {URL}").url == "/api/items"


@pytest.mark.parametrize(
    "flag",
    ["-s", "--silent", "-S", "--show-error", "-v", "--verbose", "-L", "--location", "-i",
     "--include", "--compressed"],
)  # fmt: skip
def test_harmless_flags_are_ignored(flag: str) -> None:
    assert request(f"curl {flag} {URL}") == request(f"curl {URL}")


def test_short_flags_combine_as_in_curl() -> None:
    made = request(f"curl -sSLk -XPOST -sH'X-A: 1' {URL}")
    assert (made.method, made.headers) == ("POST", {"X-A": "1"})


def test_a_browser_copy_with_line_continuations() -> None:
    command = (
        f"curl '{URL}' \\\n  -H 'accept: application/json' \\\r\n  --data-raw '{{\"a\":1}}' \\\n"
        "  --compressed"
    )
    made = request(command)
    assert (made.method, made.body, made.headers["accept"]) == (
        "POST",
        '{"a":1}',
        "application/json",
    )


def test_curl_may_be_left_out_and_a_scheme_is_added() -> None:
    assert draft("127.0.0.1:8080/x").base_url == "http://127.0.0.1:8080"


def test_base_url_flag_replaces_the_origin() -> None:
    imported = draft("curl https://staging.shop.test/api?q=1", base_url="http://127.0.0.1:9000")
    assert (imported.base_url, imported.requests[0].url) == ("http://127.0.0.1:9000", "/api?q=1")
    assert imported.notes == []


def test_a_remote_host_is_noted() -> None:
    assert (
        draft("curl https://staging.shop.test/")
        .notes[0]
        .startswith("Not loopback: staging.shop.test.")
    )


def test_the_written_plan_loads(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    command = f"curl -k -X POST {URL} -H 'Content-Type: application/json' -d '{{\"id\": 1}}'"
    path.write_text(render_plan(draft(command), executor=executor_table(vus=2)))
    plan = load_plan(path)
    assert plan.verify_tls is False
    assert (plan.requests[0].url, plan.requests[0].body) == (URL, '{"id": 1}')


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("curl -s", r"^curl command: no URL; e\.g\. curl http://127\.0\.0\.1:8080/$"),
        ("", r"^curl command: no URL"),
        (f"curl {URL} {URL}", r"^curl command: 2 URLs \("),
        (f"curl -- {URL} -x", r"^curl command: 2 URLs \("),
        (f"curl --proxy http://p {URL}", r"^curl command: --proxy: not supported; read: -X/--req"),
        (f"curl -x http://p {URL}", r"^curl command: -x: not supported"),
        (f"curl -sZ {URL}", r"^curl command: -Z: not supported"),
        (f"curl --request=POST {URL}", r"^curl command: --request=POST: not supported"),
        (f"curl {URL} -H", r"^curl command: -H: missing its value$"),
        (f"curl {URL} -H 'no colon'", r"^curl command: -H: 'no colon' is not of the form"),
        (f"curl {URL} -H 'bad name: x'", r"^curl command: -H: 'bad name: x' has no valid header"),
        (f"curl {URL} -H @headers.txt", r"^curl command: -H: '@headers\.txt' reads headers"),
        (f"curl '{URL}", r"^curl command: no closing quotation; check its quotes$"),
        ("curl ftp://127.0.0.1/", r"^curl command: URL: 'ftp://127\.0\.0\.1/' is not an http"),
        ("curl http://:80/", r"^curl command: URL: 'http://:80/' has no host"),
    ],
)  # fmt: skip
def test_bad_commands_are_one_line_naming_the_problem(command: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        draft(command)
    assert "\n" not in caught.value.message


def test_a_bad_base_url_names_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"^--base-url: "):
        draft(f"curl {URL}", base_url="ftp://x")
