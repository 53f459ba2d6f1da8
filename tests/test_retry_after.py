"""Retry-After is read one way everywhere, both forms RFC 9110 allows.

Before, two hand-written parsers took ``nan`` and ``-1`` as numbers (a sleep of NaN
raises) and ignored the HTTP-date form, so a gateway in maintenance sending a date was
retried blind.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from harness.client import parse_retry_after, retry_after


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("5", 5.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        (None, None),
        ("", None),
        ("nan", None),
        ("-1", None),
        ("soon", None),
        ("1e3", None),
    ],
)
def test_whole_seconds_or_nothing(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_an_http_date_gives_the_seconds_until_then() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert 100 <= (parse_retry_after(later) or 0) <= 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # already past


def test_a_response_without_the_header_has_no_hint() -> None:
    assert retry_after(None) is None
    response = requests.Response()
    response.headers["Retry-After"] = "3"
    assert retry_after(response) == 3.0
