"""The dashboard names each procedure beside its code (catalog.yaml's ``name``, NFC), in
the list and in the procedure filter; a code no served catalog names is shown alone."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

import pytest
from lxml import html

from harness.catalog import Catalog
from mock_gateway.dashboard import procedure_names
from mock_gateway.testing import InProcessGateway
from tests.gateway.conftest import ValidDossiers

NAME_600 = "Báo tăng, báo giảm, điều chỉnh đóng BHXH, BHYT, BHTN; cấp sổ BHXH, thẻ BHYT"
"""Procedure 600's name in every catalog version on disk."""
NAME_630A = "Giải quyết hưởng chế độ ốm đau"
"""Procedure 630a's name: only catalog 2026.1 has it."""


def _page(gw: InProcessGateway, **query: str) -> html.HtmlElement:
    answer = gw.request("GET", "/dashboard", ivan="admin", query=query)
    assert answer.status == 200, answer.body.decode()
    return html.fromstring(answer.body)


def _options(page: html.HtmlElement) -> dict[str, str]:
    return {
        o.get("value"): o.text_content()
        for o in page.xpath("//select[@id='filter-procedure']/option")
    }


def test_the_list_and_the_filter_name_each_procedure(
    gw: InProcessGateway, valid: ValidDossiers
) -> None:
    assert gw.submit(valid("600").envelope, ivan="IVAN01").status == 202
    page = _page(gw)
    [cell] = page.xpath("//tr[@class='dossier']/td[3]")
    assert cell.text_content() == f"600 — {NAME_600}"
    assert _options(page)["600"] == f"600 — {NAME_600}"
    filtered = _page(gw, procedure="600")
    assert filtered.xpath("//option[@selected]")[0].text_content() == f"600 — {NAME_600}"


def test_a_filter_no_dossier_matches_is_named_too_or_shown_alone(gw: InProcessGateway) -> None:
    """630a only in the newer version served, 999 in none: the code alone."""
    assert (
        _options(_page(gw, procedure="630a"))["630a"] == f"630a — {NAME_630A} (không có hồ sơ nào)"
    )
    assert _options(_page(gw, procedure="999"))["999"] == "999 (không có hồ sơ nào)"


def _renamed(catalog: Catalog, code: str, name: str) -> Catalog:
    procedures = {**catalog.procedures, code: replace(catalog.procedures[code], name=name)}
    return replace(catalog, procedures=procedures)


def test_names_are_shown_composed_and_escaped(
    gw: InProcessGateway, valid: ValidDossiers, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert gw.submit(valid("600").envelope, ivan="IVAN01").status == 202
    served = gw.gateway.catalogs
    typed = unicodedata.normalize("NFD", "Báo tăng <b>đặc biệt</b> & khác")
    monkeypatch.setattr(served, "catalogs", [_renamed(c, "600", typed) for c in served.catalogs])
    answer = gw.request("GET", "/dashboard", ivan="admin")
    body = answer.body.decode()
    assert "<b>" not in body and "Báo tăng &lt;b&gt;đặc biệt&lt;/b&gt; &amp; khác" in body
    composed = unicodedata.normalize("NFC", typed)
    page = html.fromstring(answer.body)
    assert page.xpath("//tr[@class='dossier']/td[3]")[0].text_content() == f"600 — {composed}"
    assert _options(page)["600"] == f"600 — {composed}"


def test_the_newest_catalog_naming_a_code_names_it(gw: InProcessGateway) -> None:
    older, newer = gw.gateway.catalogs.catalogs
    names = procedure_names([_renamed(older, "600", "cũ"), _renamed(newer, "600", "mới")])
    assert names["600"] == "mới" and names["630a"] == NAME_630A
    assert "630a" not in procedure_names([older]) and "999" not in names
