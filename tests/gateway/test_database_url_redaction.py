"""Database URLs in ``serve``'s banner and errors never show a password, whatever the user.

An Azure user name holds an unescaped '@' (``az@srv``), which SQLAlchemy accepts; the
mask allowed no '@' before the password's ':', so the banner printed it in clear. And an
unescaped ``p@ss:w/rd`` said only "invalid literal for int() with base 10: 'w'".
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mock_gateway.cli import serve
from mock_gateway.urls import BAD_PORT, PERCENT_HINT, redact_in, redact_url

AZURE = "postgresql+psycopg://az@srv:S3cretPw@127.0.0.1:1/bhxh"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (AZURE, "postgresql+psycopg://az@srv:***@127.0.0.1:1/bhxh"),
        ("az@srv:S3cretPw@127.0.0.1/bhxh", "az@srv:***@127.0.0.1/bhxh"),
        ("//az@srv:S3cretPw@127.0.0.1/bhxh", "//az@srv:***@127.0.0.1/bhxh"),
        ("postgresql://az@srv@127.0.0.1:5432/bhxh", "postgresql://az@srv@127.0.0.1:5432/bhxh"),
        ("postgresql://gateway@db:5432/bhxh", "postgresql://gateway@db:5432/bhxh"),
    ],
)
def test_a_user_name_holding_an_at_sign_still_has_its_password_masked(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_driver_error_quoting_the_azure_url_is_masked() -> None:
    said = redact_in(f"could not connect with {AZURE}", AZURE)
    assert "S3cret" not in said and "az@srv:***@127.0.0.1" in said


@pytest.mark.usefixtures("no_server")
def test_serve_refusing_an_azure_url_shows_no_password_and_names_the_user_name() -> None:
    result = CliRunner().invoke(serve, ["--database-url", AZURE])
    assert result.exit_code == 2, (result.output, result.exception)
    assert "S3cret" not in result.output and "az@srv:***@" in result.output
    assert "user name" in result.output and "%40" in result.output
    assert "user name" in PERCENT_HINT


@pytest.mark.usefixtures("no_server")
@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://gateway:p@ss:w/rd#x@127.0.0.1/bhxh",
        "postgresql+psycopg://gateway:p@ss:wq9z/rd#x@127.0.0.1/bhxh",
    ],
)
def test_an_unescaped_password_is_said_to_need_percent_encoding(url: str) -> None:
    result = CliRunner().invoke(serve, ["--database-url", url])
    assert result.exit_code == 2, (result.output, result.exception)
    assert "invalid literal" not in result.output and BAD_PORT in result.output
    for piece in ("'w'", "wq9z", "rd#x", "p@ss"):
        assert piece not in result.output
    assert "Traceback" not in result.output
