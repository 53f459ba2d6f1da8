"""The gateway's own answers: a signed ``XACNHAN_GDICH`` rejection for every refusal, and
the error policy for what was not the client's fault (503 ``SRV-001`` or 500 ``SRV-002``).

Its own module because every other section answers through it: the policy in
:mod:`mock_gateway.core`'s docstring is applied here, in one place.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from harness.errors import CatalogError
from mock_gateway import messages
from mock_gateway.clock import iso
from mock_gateway.commit import StoreInterrupted
from mock_gateway.exchange import XML, GatewayResponse
from mock_gateway.gateway_parts import GatewayParts
from mock_gateway.intake import Rejected, reject
from mock_gateway.outage import RETRY_AFTER

log = logging.getLogger("mock_gateway.core")  # one logger for every section of the core


class GatewayAnswers(GatewayParts):
    """Rejections, failures and plain XML answers, signed by the gateway's key."""

    def error_response(self, exc: Rejected) -> GatewayResponse:
        """A signed XACNHAN_GDICH rejection for ``exc``."""
        now = self.clock.now()
        answer = messages.rejection(exc.findings, now, exc.unit, exc.declared)
        body = self.signer.sign_answer(answer)
        headers = {"Content-Type": XML, "X-BHXH-Ma-Loi": exc.code}
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="bhxh"'
        if exc.status == 405:
            allow = next((f.context.get("allow") for f in exc.findings if "allow" in f.context), "")
            headers["Allow"] = allow or ""
        if exc.status == 503:
            headers["Retry-After"] = str(RETRY_AFTER)
        return GatewayResponse(exc.status, headers, body, exc.code)

    def failure(self, exc: Exception, doing: str) -> GatewayResponse:
        """The answer to an unexpected ``exc``: 503 SRV-001 when the database is lost (a
        retry later may succeed; warned once per outage) or the gateway is stopping (a
        request still in flight when it closes its store), else 500 SRV-002, logged in full."""
        if self.outage.caught(exc):
            return self.error_response(reject("SRV-001", "/", detail="database unreachable"))
        if isinstance(exc, StoreInterrupted) or self.closed:  # stopping: retry later
            log.info("%s while the gateway stops: %s", doing, exc)
            return self.error_response(reject("SRV-001", "/", detail="the gateway is stopping"))
        if isinstance(exc, CatalogError):  # the served data, not the code: say what to fix
            log.error("internal error %s: the served catalog is at fault: %s", doing, exc)
        else:
            log.exception("internal error %s", doing)
        return self.internal_error()

    def internal_error(self) -> GatewayResponse:
        """500 SRV-002, signed if signing still works, plain XML of the same shape if not."""
        try:
            return self.error_response(reject("SRV-002"))
        except Exception:
            log.exception("could not even sign the SRV-002 answer")
            now = iso(datetime.now(UTC))
            body = (
                "<?xml version='1.0' encoding='UTF-8'?>\n<!--" + messages.TEST_NOTICE + "-->\n"
                "<BHXH><XACNHAN_GDICH><MOI_TRUONG>THU_NGHIEM</MOI_TRUONG><LOAI_TBAO>TU_CHOI"
                "</LOAI_TBAO><TTGDICH><NGAY_GDICH>" + now + "</NGAY_GDICH><MA_KQUA>1</MA_KQUA>"
                "<MA_LOI>SRV-002</MA_LOI><MOTA_LOI>Lỗi hệ thống</MOTA_LOI></TTGDICH>"
                "</XACNHAN_GDICH></BHXH>"
            ).encode()
            return GatewayResponse(
                500, {"Content-Type": XML, "X-BHXH-Ma-Loi": "SRV-002"}, body, "SRV-002"
            )

    @staticmethod
    def xml(body: bytes, status: int = 200, **headers: str) -> GatewayResponse:
        return GatewayResponse(status, {"Content-Type": XML, **headers}, body)

    @property
    def catalog_xml(self) -> bytes:
        return self._catalog_xml
