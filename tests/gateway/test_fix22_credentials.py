"""The admin token on an I-VAN route is the wrong role (403 AUTH-004), not an unknown
token (it was 401 AUTH-002, "no I-VAN or admin has this token"); an ``Authorization``
sent twice is a refused header (REQ-002), not an invalid credential."""

from __future__ import annotations

from mock_gateway.testing import Answer, InProcessGateway


def test_the_admin_token_on_an_ivan_route_is_403_auth_004(gw: InProcessGateway) -> None:
    for method, path in (("GET", "/api/v1/messages"), ("POST", "/api/v1/dossiers")):
        response = gw.request(method, path, ivan="admin")
        assert response.status == 403, (path, response.body[:200])
        answer = Answer.parse(response)
        assert answer.codes == ["AUTH-004"]
        (loi,) = answer.findings()
        assert "An I-VAN credential is required for this route" in loi["MOTA_EN"]
        assert response.headers["X-BHXH-Ma-Loi"] == "AUTH-004"


def test_an_ivan_token_on_an_admin_route_is_still_auth_003(gw: InProcessGateway) -> None:
    response = gw.request("GET", "/admin/traffic")
    assert (response.status, Answer.parse(response).ma_loi) == (403, "AUTH-003")


def test_authorization_sent_twice_is_req_002_naming_the_header(gw: InProcessGateway) -> None:
    token = gw.token()
    for doubled in (f"Bearer {token}, Bearer {token}", f"Bearer {token}, Bearer other"):
        response = gw.request(
            "GET", "/api/v1/messages", ivan=None, headers={"Authorization": doubled}
        )
        assert response.status == 400
        (loi,) = Answer.parse(response).findings()
        assert loi["MA_LOI"] == "REQ-002"
        assert loi["CHI_TIET"] == "detail=given more than once; header=Authorization"
