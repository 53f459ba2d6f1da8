"""The dashboard's filters: a refused value that is quoted cut ends in "…", a name counts
and matches the same typed composed (NFC) or decomposed (NFD), and a filter no dossier
matches is shown as the one applied, not as "(tất cả)" over an empty table."""

from __future__ import annotations

import unicodedata

import pytest

from mock_gateway.dashboard import FILTER_MAX, Query
from mock_gateway.exchange import GatewayRequest
from mock_gateway.intake import Rejected
from mock_gateway.testing import Answer, InProcessGateway

SHOWN_MAX = 40
"""How much of a refused value its error quotes (the others' limit, so not imported)."""
NAME = "Tuyết Nhung Đà Nẵng"
"""19 code points composed, 24 decomposed: under the 20-character limit only in NFC."""


def _refusal(gw: InProcessGateway, **query: str) -> str:
    answer = gw.request("GET", "/dashboard", ivan="admin", query=query)
    assert (answer.status, Answer.parse(answer).ma_loi) == (400, "REQ-002")
    return Answer.parse(answer).findings()[0]["CHI_TIET"]


@pytest.mark.parametrize("name", ["ivan", "procedure"])
def test_a_refused_value_quoted_cut_ends_in_an_ellipsis(gw: InProcessGateway, name: str) -> None:
    detail = _refusal(gw, **{name: "Nguyễn Thị Tuyết Nhung, Công ty TNHH Một Thành Viên"})
    assert "value='Nguyễn Thị Tuyết Nhung, Công ty TNHH Một…'" in detail
    assert f"at most {FILTER_MAX} characters, got 51" in detail


def test_a_refused_value_short_enough_to_quote_whole_has_no_ellipsis(gw: InProcessGateway) -> None:
    whole = "A" * SHOWN_MAX
    assert f"value='{whole}';" in _refusal(gw, ivan=whole) + ";"


def test_control_characters_stay_escaped_in_a_cut_value(gw: InProcessGateway) -> None:
    detail = _refusal(gw, ivan="\x07" + "B" * 60)
    assert "value='\\x07" + "B" * (SHOWN_MAX - 1) + "…'" in detail


def test_a_name_typed_decomposed_is_read_as_typed_composed(gw: InProcessGateway) -> None:
    decomposed = unicodedata.normalize("NFD", NAME)
    assert len(decomposed) > FILTER_MAX >= len(NAME)
    pages = []
    for typed in (NAME, decomposed):
        answer = gw.request("GET", "/dashboard", ivan="admin", query={"ivan": typed})
        assert answer.status == 200, answer.body.decode()
        body = answer.body.decode()
        pages.append(body[body.index('id="filter-ivan"') : body.index("</form>")])
    assert pages[0] == pages[1]
    assert Query.parse(_request(decomposed)).ivan == NAME  # what the store is asked for


def test_a_name_over_the_limit_is_counted_alike_in_either_form(gw: InProcessGateway) -> None:
    long = NAME + " Hà"  # 22 code points composed
    details = [_refusal(gw, ivan=unicodedata.normalize(form, long)) for form in ("NFC", "NFD")]
    assert details[0] == details[1]
    assert "got 22" in details[0]


def test_a_filter_matching_no_dossier_is_shown_selected(gw: InProcessGateway) -> None:
    answer = gw.request("GET", "/dashboard", ivan="admin", query={"procedure": "999"})
    body = answer.body.decode()
    assert '<option value="999" selected>999 (không có hồ sơ nào)</option>' in body
    assert '<option value="" selected' not in body


def test_a_filter_given_twice_is_refused_as_such_even_when_long() -> None:
    request = _request("C" * 30, repeated=True)
    with pytest.raises(Rejected) as refused:
        Query.parse(request)
    assert refused.value.findings[0].context["detail"] == "given more than once"


def _request(ivan: str, *, repeated: bool = False) -> GatewayRequest:
    twice = frozenset({"ivan"}) if repeated else frozenset()
    return GatewayRequest("GET", "/dashboard", query={"ivan": ivan}, repeated_query=twice)
