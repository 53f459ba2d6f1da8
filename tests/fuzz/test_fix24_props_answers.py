"""What the I-VAN receives is judged, not only its codes: BHXH XML, no leaked stack trace,
BHXH's valid signature, and a reused message id with another body refused 409 DUP-001."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import requests

from harness.catalog import Catalog
from harness.fuzz import CheckerTarget, DossierSpec, Mutation, pool_for
from harness.fuzz.exchange import observe
from harness.fuzz.http_target import HttpTarget
from harness.fuzz.properties import failures
from harness.fuzz.strategies import FuzzCase
from harness.fuzz.target import Retrieved, Submitted
from harness.signing import TestPKI

TRACEBACK = (
    b"Traceback (most recent call last):\n"
    b'  File "/srv/gateway/mock_gateway/core.py", line 412, in submit\n'
    b"ValueError: bad dossier\n"
)
JAVA = b"java.lang.NullPointerException\n\tat vn.bhxh.gw.Intake.check(Intake.java:88)\n"


@pytest.fixture
def local(pki: TestPKI) -> Iterator[HttpTarget]:
    """The in-process mock gateway over HTTP, its answers judged against its own PKI."""
    from mock_gateway.testing import InProcessGateway
    from mock_gateway.transport import DEFAULT_BASE_URL

    with InProcessGateway(pki=pki) as gateway:
        session = gateway.session(DEFAULT_BASE_URL)
        yield HttpTarget(session, DEFAULT_BASE_URL, name="inproc", trust=pki.trust_store())


def _case(catalog: Catalog, pki: TestPKI, mutation: Mutation | None = None, n: int = 0) -> FuzzCase:
    spec = DossierSpec(catalog.version, "600", n, catalog.effective_from, 1, False)
    return FuzzCase(spec, mutation, pool_for(catalog, pki).valid(spec).envelope)


def _rewrite(target: HttpTarget, change: Callable[[requests.Response], bytes]) -> None:
    """Every submission's answer bytes rewritten as a broken gateway (or a proxy before
    it) would."""
    request = target.session.request

    def rewritten(method: str, *args: object, **kwargs: object) -> requests.Response:
        response = request(method, *args, **kwargs)  # type: ignore[arg-type]
        if method == "POST":
            response._content = change(response)
        return response

    target.session.request = rewritten  # type: ignore[method-assign]


def _refused(code: str) -> Mutation:
    return Mutation(f"date:fake:{code}", frozenset({code}), lambda c: b"")


def _checks(target: HttpTarget, case: FuzzCase) -> list[str]:
    return [f.check for f in failures(observe(target, case))]


def test_the_correct_gateway_holds_every_answer_property(
    local: HttpTarget, catalog: Catalog, pki: TestPKI
) -> None:
    obs = observe(local, _case(catalog, pki))
    assert obs.answer is not None and obs.answer.status == 202
    assert obs.answer.signature == ""
    assert obs.conflicting is not None and obs.conflicting.status == 409
    assert failures(obs) == []


def test_a_receipt_without_bhxh_signature_fails(
    local: HttpTarget, catalog: Catalog, pki: TestPKI
) -> None:
    unsigned = re.compile(rb"<(ds:)?Signature\b.*?</(ds:)?Signature>", re.S)
    _rewrite(local, lambda r: unsigned.sub(b"", r.content))
    found = failures(observe(local, _case(catalog, pki)))
    assert [f.check for f in found] == ["bhxh-signed"]
    assert "missing (SIG-001)" in found[0].reason


def test_without_trust_only_the_signed_bytes_count(
    local: HttpTarget, catalog: Catalog, pki: TestPKI
) -> None:
    """A URL gateway's CA is not ours: its valid signature holds, a forged value not."""
    local.trust = None
    assert _checks(local, _case(catalog, pki)) == []
    _rewrite(local, lambda r: r.content.replace(b"<MA_KQUA>0<", b"<MA_KQUA>9<", 1))
    found = failures(observe(local, _case(catalog, pki, n=1)))
    assert [f.check for f in found] == ["bhxh-signed"]
    assert "invalid (SIG-002" in found[0].reason


def test_a_plain_text_traceback_is_one_failure_whatever_was_expected(
    local: HttpTarget, catalog: Catalog, pki: TestPKI
) -> None:
    """Not one "HTTP 400 no codes" per expected code: the codes of no XML judge nothing."""
    _rewrite(local, lambda r: TRACEBACK if r.status_code == 400 else r.content)
    causes = set()
    for n, code in enumerate(("RULE-105", "XSD-001")):
        case = _case(catalog, pki, _refused(code), n)
        case = FuzzCase(case.spec, case.mutation, b"<Hoso>")  # refused 400 by the gateway
        found = failures(observe(local, case))
        assert [f.check for f in found] == ["bhxh-answer"]
        assert "Python stack trace" in found[0].reason
        causes.add(found[0].cause)
    assert len(causes) == 1


def test_a_traceback_inside_the_answer_xml_fails(
    local: HttpTarget, catalog: Catalog, pki: TestPKI
) -> None:
    _rewrite(local, lambda r: r.content.replace(b"</MOTA_LOI>", JAVA + b"</MOTA_LOI>", 1))
    case = _case(catalog, pki, _refused("XML-001"))
    found = failures(observe(local, FuzzCase(case.spec, case.mutation, b"<Hoso>")))
    # the codes still read (judged, and right); the edit also broke BHXH's signature
    assert [f.check for f in found] == ["bhxh-answer", "bhxh-signed"]
    assert "Java stack trace in its body" in found[0].reason


def test_an_answer_that_is_not_bhxh_xml_fails(
    local: HttpTarget, catalog: Catalog, pki: TestPKI
) -> None:
    _rewrite(local, lambda r: b"<html><body>Bad Request</body></html>")
    case = _case(catalog, pki, _refused("XML-001"))
    found = failures(observe(local, FuzzCase(case.spec, case.mutation, b"<Hoso>")))
    assert [f.check for f in found] == ["bhxh-answer"]
    assert "rooted at <html>" in found[0].reason


@dataclass
class FirstReceiptForever:
    """A gateway that answers a reused message id with its first receipt, whatever body."""

    inner: CheckerTarget
    name: str = "msgid"

    def submit(self, body: bytes, message_id: str) -> Submitted:
        first = self.inner.submit(body, message_id)
        return Submitted(202, (), first.receipt_id or "R1") if "DUP-001" in first.codes else first

    def fetch(self, receipt_id: str) -> Retrieved:
        return self.inner.fetch(receipt_id)


def test_a_reused_message_id_with_another_body_must_be_refused(
    target_for: Callable[[str], CheckerTarget], catalog: Catalog, pki: TestPKI
) -> None:
    case = _case(catalog, pki)
    assert failures(observe(target_for(catalog.version), case)) == []
    found = failures(observe(FirstReceiptForever(target_for(catalog.version)), case))
    assert [f.check for f in found] == ["other-body-refused"]
    assert found[0].reason.endswith("not HTTP 409 DUP-001")
    assert "another body under the same X-Message-Id" in found[0].observation.answer_for(
        "other-body-refused"
    )


def test_a_reused_message_id_over_http(local: HttpTarget, catalog: Catalog, pki: TestPKI) -> None:
    """The same body answered for another over the wire: a proxy that ignores the body."""
    first: dict[str, bytes] = {}
    request = local.session.request

    def same_body(method: str, url: str, **kw: object) -> object:
        headers = kw.get("headers")
        if method == "POST" and isinstance(headers, dict):  # a submission: its body kept
            kw["data"] = first.setdefault(headers["X-Message-Id"], kw["data"])  # type: ignore[arg-type]
        return request(method, url, **kw)  # type: ignore[arg-type]

    local.session.request = same_body  # type: ignore[method-assign,assignment]
    found = failures(observe(local, _case(catalog, pki)))
    assert [f.check for f in found] == ["other-body-refused"]
