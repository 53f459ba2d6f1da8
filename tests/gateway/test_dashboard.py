"""``GET /dashboard``: the admin web page of dossiers, checked in-process and in Chromium.

The browser test drives a real uvicorn server (:class:`~mock_gateway.local.LocalServer`)
over a gateway whose SQLite file lives in the test's folder, after real signed dossiers
from :class:`~harness.dossiers.factory.DossierFactory` went through the intake pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from lxml import html

from harness.signing import TestPKI
from mock_gateway.local import LocalServer
from mock_gateway.testing import InProcessGateway
from tests.browser import render
from tests.gateway.conftest import ValidDossiers


def _rows(page: bytes | str) -> list[dict[str, str]]:
    tree = html.fromstring(page)
    return [dict(row.attrib) for row in tree.xpath("//tr[@class='dossier']")]


@pytest.fixture
def filled(
    pki: TestPKI, tmp_path: Path, valid: ValidDossiers, valid02: ValidDossiers
) -> Iterator[InProcessGateway]:
    """A gateway holding 3 dossiers of IVAN01 (two 600, one 604) and one of IVAN02 (600)."""
    with InProcessGateway(pki=pki, directory=tmp_path) as gw:
        for dossier, ivan in (
            (valid("600"), "IVAN01"),
            (valid("604"), "IVAN01"),
            (valid("600"), "IVAN01"),
            (valid02("600"), "IVAN02"),
        ):
            assert gw.submit(dossier.envelope, ivan=ivan).status == 202
        gw.advance(20 * 60)  # every dossier now has its 02/TB-TS hand-over message
        yield gw


def test_dashboard_lists_filters_and_pages(filled: InProcessGateway) -> None:
    answer = filled.request("GET", "/dashboard", ivan="admin")
    assert answer.status == 200
    assert answer.content_type.startswith("text/html")
    assert answer.headers["Cache-Control"] == "no-store"
    rows = _rows(answer.body)
    assert len(rows) == 4
    received = [
        filled.gateway.store.dossier_any(r["data-ma-gdich"]).received_at  # type: ignore[union-attr]
        for r in rows
    ]
    assert received == sorted(received, reverse=True)  # newest first
    page = answer.body.decode()
    assert "Bảng theo dõi hồ sơ" in page and "02/TB-TS" in page

    only = filled.request("GET", "/dashboard", ivan="admin", query={"ivan": "IVAN02"})
    assert {r["data-ivan"] for r in _rows(only.body)} == {"IVAN02"}
    proc = filled.request(
        "GET", "/dashboard", ivan="admin", query={"ivan": "IVAN01", "procedure": "604"}
    )
    assert [(r["data-ivan"], r["data-procedure"]) for r in _rows(proc.body)] == [("IVAN01", "604")]

    first = filled.request("GET", "/dashboard", ivan="admin", query={"limit": "3"})
    second = filled.request("GET", "/dashboard", ivan="admin", query={"limit": "3", "page": "2"})
    assert len(_rows(first.body)) == 3 and len(_rows(second.body)) == 1
    assert 'rel="next"' in first.body.decode() and 'rel="prev"' in second.body.decode()


def test_a_page_past_the_end_says_so_and_links_back(filled: InProcessGateway) -> None:
    """It showed "Trang 3/2" beside "no dossier matches" while the total said 4."""
    query = {"limit": "3", "page": "3", "ivan": "IVAN01"}
    answer = filled.request("GET", "/dashboard", ivan="admin", query=query)
    assert answer.status == 200 and _rows(answer.body) == []
    tree = html.fromstring(answer.body)
    said = " ".join(tree.xpath("//p[@id='past-end']//text()"))
    assert "Trang 3 nằm ngoài danh sách: 3 hồ sơ phù hợp chỉ có 1 trang" in said
    assert "Không có hồ sơ nào phù hợp" not in answer.body.decode()
    assert "Trang 3/" not in answer.body.decode()
    first = tree.xpath("//a[@id='first-page']/@href")[0]
    assert "page=1" in first and "ivan=IVAN01" in first
    assert tree.xpath("//a[@id='last-page']") == []  # page 1 is the last one

    many = filled.request("GET", "/dashboard", ivan="admin", query={"limit": "1", "page": "9"})
    last = html.fromstring(many.body).xpath("//a[@id='last-page']/@href")
    assert len(last) == 1 and "page=4" in last[0]


@pytest.mark.parametrize(
    ("who", "query", "status"),
    [
        (None, {}, 401),
        ("IVAN01", {}, 403),
        ("admin", {"limit": "0"}, 400),
        ("admin", {"page": "x"}, 400),
        ("admin", {"ivan": "I" * 21}, 400),
        ("admin", {"procedure": "6\x000"}, 400),
    ],
)
def test_dashboard_refuses_bad_callers_and_parameters(
    gw: InProcessGateway, who: str | None, query: dict[str, str], status: int
) -> None:
    answer = gw.request("GET", "/dashboard", ivan=who, query=query)
    assert answer.status == status
    assert answer.content_type.startswith("application/xml")


def test_dashboard_escapes_what_it_shows(gw: InProcessGateway) -> None:
    answer = gw.request("GET", "/dashboard", ivan="admin", query={"ivan": "<b>x</b>"})
    assert answer.status == 200
    assert b"<b>x</b>" not in answer.body
    assert "Không có hồ sơ nào phù hợp" in answer.body.decode()


def test_query_token_works_over_http_only_for_the_dashboard(filled: InProcessGateway) -> None:
    admin = filled.token("admin")
    with LocalServer(filled.gateway) as server:
        browser = requests.Session()
        page = browser.get(f"{server.url}/dashboard", params={"token": admin}, timeout=10)
        assert page.status_code == 200 and len(_rows(page.content)) == 4
        # The token moved to an HttpOnly cookie: not in the address, the links or the form.
        [redirect] = page.history
        assert redirect.status_code == 303 and redirect.headers["Location"] == "/dashboard"
        assert "HttpOnly" in redirect.headers["Set-Cookie"]
        assert "SameSite=Lax" in redirect.headers["Set-Cookie"]
        assert "token" not in page.url and admin not in page.text
        filtered = browser.get(f"{server.url}/dashboard", params={"ivan": "IVAN01"}, timeout=10)
        assert filtered.status_code == 200 and not filtered.history  # the cookie did it
        wrong = requests.get(f"{server.url}/dashboard", params={"token": "nope"}, timeout=10)
        assert wrong.status_code == 401
        other = requests.get(f"{server.url}/admin/traffic", params={"token": admin}, timeout=10)
        assert other.status_code == 401


def test_dashboard_in_headless_chromium(filled: InProcessGateway) -> None:
    admin = filled.token("admin")
    with LocalServer(filled.gateway) as server:
        everything = render(f"{server.url}/dashboard?{urlencode({'token': admin})}")
        filtered = render(
            f"{server.url}/dashboard?"
            + urlencode({"token": admin, "ivan": "IVAN01", "procedure": "600"})
        )
    assert "MÔI TRƯỜNG THỬ NGHIỆM" in everything.text
    assert "Bảng theo dõi hồ sơ" in everything.text
    assert "Đã chuyển xử lý (02/TB-TS)" in everything.text
    assert len(_rows(everything.dom)) == 4
    assert {r["data-ivan"] for r in _rows(everything.dom)} == {"IVAN01", "IVAN02"}
    assert everything.screenshot.startswith(b"\x89PNG")
    shown = _rows(filtered.dom)
    assert len(shown) == 2
    assert {(r["data-ivan"], r["data-procedure"]) for r in shown} == {("IVAN01", "600")}
    assert 'value="600" selected' in filtered.dom


def test_times_read_as_on_the_receipts_vietnam_time(filled: InProcessGateway) -> None:
    """The page showed 2026-11-26T08:13:32Z where the receipt said 26/11/2026 15:13:32."""
    from mock_gateway.dashboard import vietnam_time

    assert vietnam_time("2026-11-26T08:13:32.307296Z") == "26/11/2026 15:13:32"
    assert vietnam_time("2026-12-31T17:00:00.000000Z") == "01/01/2027 00:00:00"
    assert vietnam_time(None) == "" and vietnam_time("soon") == "soon"
    page = filled.request("GET", "/dashboard", ivan="admin").body.decode()
    [row] = _rows(filled.request("GET", "/dashboard", ivan="admin", query={"limit": "1"}).body)
    stored = filled.gateway.store.dossier_any(row["data-ma-gdich"]).received_at  # type: ignore[union-attr]
    assert f'<time datetime="{stored}">{vietnam_time(stored)}</time>' in page
