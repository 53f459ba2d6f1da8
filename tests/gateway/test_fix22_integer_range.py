"""``?after=99999999999999999999999`` is all digits: it is out of range, not "decimal
digits 0-9 only" as it was answered."""

from __future__ import annotations

from mock_gateway.testing import Answer, InProcessGateway


def test_too_many_digits_is_out_of_range(gw: InProcessGateway) -> None:
    query = {"after": "99999999999999999999999"}
    response = gw.request("GET", "/api/v1/messages", query=query)
    assert response.status == 400
    (loi,) = Answer.parse(response).findings()
    assert "out of range: 0..4611686018427387904" in loi["CHI_TIET"]
    assert "digits 0-9 only" not in loi["CHI_TIET"]


def test_a_sign_is_still_digits_only(gw: InProcessGateway) -> None:
    response = gw.request("GET", "/api/v1/messages", query={"after": "-1"})
    (loi,) = Answer.parse(response).findings()
    assert "decimal digits 0-9 only" in loi["CHI_TIET"]
