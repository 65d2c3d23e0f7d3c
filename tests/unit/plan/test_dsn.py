"""Connection strings: every accepted form, every refusal, and the password never shown."""

from __future__ import annotations

import pytest

from redline.errors import ConfigError
from redline.plan import parse_dsn, redact_passwords

SECRET = "s3cret-pw"


@pytest.mark.parametrize(
    ("text", "shown", "port"),
    [
        (
            f"postgresql://app:{SECRET}@127.0.0.1:5433/shop",
            "postgresql://app:***@127.0.0.1:5433/shop",
            5433,
        ),
        ("postgres://db.local/shop", "postgresql://db.local:5432/shop", 5432),
        (f"mysql://root:{SECRET}@localhost/app_1", "mysql://root:***@localhost:3306/app_1", 3306),
        ("mariadb://h/app", "mysql://h:3306/app", 3306),
        ("redis://127.0.0.1/2", "redis://127.0.0.1:6379/2", 6379),
        ("memcached://127.0.0.1", "memcached://127.0.0.1:11211", 11211),
        ("sqlite:///var/data/app.db", "sqlite:///var/data/app.db", 0),
    ],
)
def test_accepted_forms_print_redacted(text: str, shown: str, port: int) -> None:
    dsn = parse_dsn(text)
    assert str(dsn) == shown and SECRET not in repr(dsn)
    assert dsn.port == port


def test_the_password_is_given_to_the_driver_only() -> None:
    dsn = parse_dsn(f"postgresql://app:{SECRET}@h/db")
    assert dsn.password() == SECRET
    assert SECRET not in f"{dsn} {dsn!r} {vars(dsn)['scheme']}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ftp://h/db", "not a connection string of a supported kind"),
        (f"postgresql://app:{SECRET}@bad_host/db", "host 'bad_host' must be letters"),
        ("postgresql://h:0/db", r"port is out of range; allowed 1\.\.65535"),
        ("postgresql://h:70000/db", r"port is out of range; allowed 1\.\.65535"),
        (f"postgresql://app:{SECRET}@h:70000/db", r"port 70000 is out of range; allowed 1\.\."),
        (f"postgresql://app:{SECRET}@h:x/db", r"port 'x' is not a number; allowed 1\.\.65535"),
        (f"postgresql://app:{SECRET}/db", r"port is not a number; allowed 1\.\.65535"),
        (f"postgresql://app:{SECRET}@[::1/db", "the host must be letters"),
        (f"sqlite://app:{SECRET}@h/x.db", "names no file"),
        ("postgresql://h/", "the database name must be letters, digits"),
        ("postgresql://h/x;drop", "the database name must be letters, digits"),
        ("redis://h/cache", "a Redis database is a number"),
        ("sqlite://relative.db", "names no file"),
    ],
)
def test_refusals_show_the_expected_form_and_never_the_password(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_dsn(text, field="--db")
    assert caught.value.message.startswith("--db: ")
    assert "expected" in caught.value.message
    assert SECRET not in caught.value.message


def test_schemes_can_be_limited() -> None:
    with pytest.raises(ConfigError, match="expected postgresql://"):
        parse_dsn("redis://h", schemes=("postgresql",))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "app --dsn postgresql://shop:pw@127.0.0.1:5432/shop",
            "app --dsn postgresql://shop:***@127.0.0.1:5432/shop",
        ),
        (
            "redis://:p@ss@cache:6379/0 and mysql://u@h/db",
            "redis://:***@cache:6379/0 and mysql://u@h/db",
        ),
        ("no connection string here: a:b@c", "no connection string here: a:b@c"),
    ],
)
def test_passwords_in_a_command_line_are_redacted(text: str, shown: str) -> None:
    assert redact_passwords(text) == shown
