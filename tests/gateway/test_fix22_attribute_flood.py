"""A body with many attributes is refused as a limit, and no answer lists findings without bound.

Before: 60,000 root attributes cost 14 s of quadratic work and a 23 MB answer of 60,001
findings, and blocked every other request meanwhile.
"""

from __future__ import annotations

from datetime import UTC, datetime

from harness.error_codes import finding
from harness.xmlsafe import DEFAULT_LIMITS, XMLRejected, parse_xml
from mock_gateway import messages
from mock_gateway.testing import Answer, InProcessGateway


def _attributes(count: int, children: bytes = b"") -> bytes:
    names = b" ".join(b'a%d="1"' % i for i in range(count))
    return b"<Hoso " + names + b">" + children + b"</Hoso>"


def test_sixty_thousand_root_attributes_are_a_small_lim_002(gw: InProcessGateway) -> None:
    answer = gw.submit(_attributes(60_000))
    assert answer.status == 400
    parsed = Answer.parse(answer)
    assert parsed.codes == ["LIM-002"]
    (loi,) = parsed.findings()
    assert loi["XPATH"] == "/Hoso"
    assert "attributes=60000" in loi["CHI_TIET"] and "limit=256" in loi["CHI_TIET"]
    assert "thuộc tính" in loi["MOTA_VI"] and "attribute" in loi["MOTA_EN"]
    assert len(answer.body) < 20_000


def test_attributes_in_all_are_capped_too() -> None:
    children = b"<x a='1' b='2'/>" * (DEFAULT_LIMITS.max_attributes // 2 + 1)
    try:
        parse_xml(b"<Hoso>" + children + b"</Hoso>")
    except XMLRejected as exc:
        assert exc.finding.code == "LIM-002"
        assert exc.finding.xpath == "/"
        assert exc.finding.context["limit"] == str(DEFAULT_LIMITS.max_attributes)
    else:
        raise AssertionError("200,002 attributes were accepted")


def test_an_element_at_the_attribute_cap_is_still_parsed() -> None:
    per_element = DEFAULT_LIMITS.max_attributes_per_element
    root = parse_xml(_attributes(per_element))
    assert len(root.attrib) == per_element


def test_many_schema_findings_are_listed_up_to_the_cap(gw: InProcessGateway) -> None:
    answer = Answer.parse(gw.submit(_attributes(250)))  # 250 unexpected attributes
    listed = answer.findings()
    assert answer.ma_loi == "ENV-001"
    assert len(listed) == messages.MAX_FINDINGS + 1
    more = listed[-1]
    assert more["MA_LOI"] == "LIM-004"
    assert "not_listed=" in more["CHI_TIET"]
    assert "more not listed" in more["MOTA_EN"] and "không được liệt kê" in more["MOTA_VI"]


def test_a_thousand_findings_make_a_bounded_answer() -> None:
    many = [finding("RULE-102", f"/Row[{i}]", row=str(i)) for i in range(1000)]
    root = messages.build(messages.rejection(many, datetime.now(UTC)))
    listed = root.findall("XACNHAN_GDICH/TTGDICH/DS_LOI/LOI")
    assert len(listed) == messages.MAX_FINDINGS + 1
    assert listed[-1].findtext("MA_LOI") == "LIM-004"
    assert listed[-1].findtext("MOTA_EN", "").endswith("900 more not listed")
    assert root.findtext("XACNHAN_GDICH/TTGDICH/MA_LOI") == "RULE-102"
