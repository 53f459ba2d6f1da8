"""Query parameters: strict integers, text without control characters, no repeats.

Found with ``schemathesis run`` against a live server: ``?after=`` read as 0 where the
OpenAPI document says integer, and a filter holding a private-use character refused
where the document allowed it. Both front ends (the ASGI app and the ``requests``
adapter) must pass repeats on, so they are tested over each.
"""

from __future__ import annotations

import re

import pytest
import requests

from mock_gateway import openapi, params
from mock_gateway.local import LocalServer
from mock_gateway.testing import Answer, InProcessGateway
from mock_gateway.transport import DEFAULT_BASE_URL, mount

IVAN = {"Authorization": "Bearer test-token-IVAN01"}
ADMIN = {"Authorization": "Bearer test-admin-token"}


@pytest.mark.parametrize("raw", ["", "+5", "1_0", " 5", "5 ", "٣", "5.0", "-1", "0x10", "1" * 20])
@pytest.mark.parametrize(
    ("path", "who"), [("/api/v1/messages", "IVAN01"), ("/admin/traffic", "admin")]
)
def test_an_integer_is_ascii_digits_only(
    gw: InProcessGateway, path: str, who: str, raw: str
) -> None:
    answer = gw.request("GET", path, ivan=who, query={"after": raw})
    parsed = Answer.parse(answer)
    assert (answer.status, parsed.ma_loi) == (400, "REQ-002"), raw
    assert parsed.text(".//LOI/XPATH") == "?after"


@pytest.mark.parametrize("raw", ["0", "007", str(2**62)])
def test_digits_in_range_are_read(gw: InProcessGateway, raw: str) -> None:
    answer = gw.request("GET", "/api/v1/messages", query={"after": raw})
    assert answer.status == 200, answer.body.decode()


@pytest.mark.parametrize("raw", ["6\x000", "\x1b[31m", "IVAN\x85", "\x7f"])
def test_a_text_filter_refuses_control_characters(gw: InProcessGateway, raw: str) -> None:
    answer = gw.request("GET", "/dashboard", ivan="admin", query={"ivan": raw})
    assert (answer.status, Answer.parse(answer).ma_loi) == (400, "REQ-002")


@pytest.mark.parametrize("raw", ["\U000f389c", "\u200b", "Bảo hiểm", "  IVAN01  ", " " * 20])
def test_a_text_filter_takes_any_other_character(gw: InProcessGateway, raw: str) -> None:
    answer = gw.request("GET", "/dashboard/runs", ivan="admin", query={"suite": raw})
    assert answer.status == 200, answer.body.decode()


def test_a_refused_filter_is_shown_readable_with_its_control_characters_escaped(
    gw: InProcessGateway,
) -> None:
    long = "Nguyễn Thị Ánh Tuyết, Quảng Ngãi"
    answer = Answer.parse(gw.request("GET", "/dashboard", ivan="admin", query={"ivan": long}))
    assert f"value='{long}'" in answer.findings()[0]["CHI_TIET"]
    bell = Answer.parse(gw.request("GET", "/dashboard", ivan="admin", query={"ivan": "Đà\x07"}))
    assert "value='Đà\\x07'" in bell.findings()[0]["CHI_TIET"]


def test_a_text_filter_counts_its_spaces_against_the_limit(gw: InProcessGateway) -> None:
    """The document's maxLength applies to the value sent, spaces included."""
    answer = gw.request("GET", "/dashboard", ivan="admin", query={"ivan": " IVAN01" + " " * 14})
    assert (answer.status, Answer.parse(answer).ma_loi) == (400, "REQ-002")


def test_the_document_states_the_rule_the_handlers_apply() -> None:
    parameters = openapi.document()["paths"]["/dashboard"]["get"]["parameters"]
    ivan = next(p for p in parameters if p["name"] == "ivan")
    pattern = re.compile(ivan["schema"]["pattern"])  # \uXXXX reads the same in Python
    assert ivan["schema"]["pattern"] == params.TEXT_PATTERN
    for text in ("IVAN01", "\U000f389c", "Bảo hiểm"):
        assert pattern.match(text)
    for text in ("6\x000", "\x9f", "a\nb"):
        assert not pattern.match(text)


def _repeated(session: requests.Session, base: str) -> None:
    feed = session.get(f"{base}/api/v1/messages?after=0&after=5", headers=IVAN, timeout=10)
    assert (feed.status_code, Answer.parse(feed.content).ma_loi) == (400, "REQ-002")
    assert "given more than once" in feed.text
    page = session.get(f"{base}/dashboard?ivan=IVAN01&ivan=IVAN02", headers=ADMIN, timeout=10)
    assert (page.status_code, Answer.parse(page.content).ma_loi) == (400, "REQ-002")
    once = session.get(f"{base}/api/v1/messages?after=0&limit=5", headers=IVAN, timeout=10)
    assert once.status_code == 200


def test_a_parameter_given_twice_is_refused_over_http(gw: InProcessGateway) -> None:
    with LocalServer(gw.gateway) as server, requests.Session() as session:
        _repeated(session, server.url)


def test_a_parameter_given_twice_is_refused_by_the_requests_adapter(
    gw: InProcessGateway,
) -> None:
    with requests.Session() as session:
        mount(session, gw.gateway)
        _repeated(session, DEFAULT_BASE_URL)


@pytest.mark.parametrize(
    ("path", "who", "query"),
    [
        ("/api/v1/messages", "IVAN01", {"aftr": "5"}),
        ("/api/v1/catalog", "IVAN01", {"version": "2024.1"}),
        ("/healthz", None, {"verbose": "1"}),
        ("/admin/traffic", "admin", {"after": "0", "ivan": "IVAN01"}),
        ("/api/v1/messages", "IVAN01", {"token": "test-token-IVAN01"}),
    ],
)
def test_a_parameter_the_route_does_not_take_is_refused(
    gw: InProcessGateway, path: str, who: str | None, query: dict[str, str]
) -> None:
    answer = gw.request("GET", path, ivan=who, query=query)
    parsed = Answer.parse(answer)
    assert (answer.status, parsed.ma_loi) == (400, "REQ-002")
    assert "not a parameter of this route" in answer.body.decode()


def test_credentials_are_checked_before_parameters(gw: InProcessGateway) -> None:
    answer = gw.request("GET", "/api/v1/messages", ivan=None, query={"aftr": "5"})
    assert answer.status == 401


def test_a_browser_page_takes_its_token_in_the_query(gw: InProcessGateway) -> None:
    query = {"token": gw.token("admin"), "ivan": "IVAN01", "page": "1"}
    answer = gw.request("GET", "/dashboard", ivan="admin", query=query)
    # accepted, and moved into a cookie: the same page without it, filters kept
    assert answer.status == 303 and answer.headers["Location"] == "/dashboard?ivan=IVAN01&page=1"


def test_a_filter_over_its_limit_is_told_the_limit(gw: InProcessGateway) -> None:
    """A 400 that does not say the limit leaves the caller guessing what to shorten."""
    answer = gw.request("GET", "/dashboard", ivan="admin", query={"ivan": "I" * 5000})
    assert (answer.status, Answer.parse(answer).ma_loi) == (400, "REQ-002")
    assert "at most 20 characters, got 5000" in answer.body.decode()


@pytest.mark.parametrize("raw", ["%ff", "IVAN%C3", "%ef%bf%bd"])
def test_a_filter_that_is_not_utf8_is_refused(gw: InProcessGateway, raw: str) -> None:
    """``?ivan=%ff`` decodes to U+FFFD, which no I-VAN code holds: an empty page would
    hide the client's encoding bug, so it is refused (a literal U+FFFD with it)."""
    with requests.Session() as session:
        mount(session, gw.gateway)
        page = session.get(f"{DEFAULT_BASE_URL}/dashboard?ivan={raw}", headers=ADMIN, timeout=10)
    assert (page.status_code, Answer.parse(page.content).ma_loi) == (400, "REQ-002")
    assert "not valid UTF-8" in page.text
    assert not re.match(params.TEXT_PATTERN, "IVAN\ufffd")  # and the document says so
