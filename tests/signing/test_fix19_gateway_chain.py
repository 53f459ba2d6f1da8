"""The gateway's signing chain covers every moment its simulated clock can show.

The gateway signs each answer at its simulated now, which tests fast-forward up to
``mock_gateway.clock.LATEST`` (2200-01-01) or start in the past. With a realistic
730-day ``bhxh`` certificate, every answer signed two years on failed SIG-005, silently.
These tests read the signers from the gateway's configuration and fault profiles, so a
recipe edit (or a new signer) cannot bring that back unnoticed.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from lxml import etree

from harness.errors import PKIError, SignatureInvalid
from harness.signing import TestPKI, TrustStore, ensure_pki, sign, verify
from harness.signing.pki import default_recipe
from mock_gateway.clock import LATEST
from mock_gateway.config import GatewayConfig
from mock_gateway.fault_profiles import load_profiles

EARLIEST_START = datetime(2000, 1, 1, tzinfo=UTC)
"""How far back a test may start the gateway's clock (``InProcessGateway(start=...)``) and
still get valid answers: before BHXH's electronic filing existed."""


def gateway_signers() -> list[str]:
    """The credential the gateway signs with, and every one a fault profile swaps in."""
    names = {GatewayConfig().signer}
    for profile in load_profiles().values():
        names |= {h["credential"] for h in profile.bind() if h.get("kind") == "rollover"}
    return sorted(names)


def signing_path(pki: TestPKI, name: str) -> tuple[x509.Certificate, ...]:
    credential = pki.credential(name)
    others = x509.load_pem_x509_certificates(credential.chain_pem)[1:]
    return pki.trust_store().path(credential.certificate, others)


def test_the_gateway_signers_are_known() -> None:
    assert {"bhxh", "bhxh-next"} <= set(gateway_signers())


@pytest.mark.parametrize("name", gateway_signers())
def test_every_certificate_of_the_gateway_chain_covers_the_clock(pki: TestPKI, name: str) -> None:
    path = signing_path(pki, name)
    assert len(path) == 3  # leaf, issuing CA, root: the whole path, anchor included
    for cert in path:
        subject = cert.subject.rfc4514_string()
        assert cert.not_valid_after_utc >= LATEST, f"{subject} ends before the clock's limit"
        assert cert.not_valid_before_utc <= EARLIEST_START, f"{subject} starts too late"


@pytest.mark.parametrize("name", gateway_signers())
@pytest.mark.parametrize("moment", [EARLIEST_START, LATEST], ids=["earliest", "latest"])
def test_a_gateway_signature_at_either_end_of_the_clock_verifies(
    pki: TestPKI, trust: TrustStore, form: etree._Element, name: str, moment: datetime
) -> None:
    signed = sign(form, pki.credential(name), signature_parent="Cky", signing_time=moment)
    result = verify(signed, signature_parent="Cky", trust=trust, at=moment)
    assert result.signing_time == moment


@pytest.mark.parametrize("name", ["unit", "ivan-IVAN01", "ivan-IVAN02"])
def test_employer_and_ivan_certificates_keep_realistic_lives(pki: TestPKI, name: str) -> None:
    cert = pki.credential(name).certificate
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=730)


def test_an_expired_certificate_still_fails_sig005(
    pki: TestPKI, trust: TrustStore, form: etree._Element
) -> None:
    signed = sign(form, pki.credential("unit-expired"), signature_parent="Cky")
    with pytest.raises(SignatureInvalid) as exc:
        verify(signed, signature_parent="Cky", trust=trust)
    assert [f.code for f in exc.value.findings] == ["SIG-005"]


@pytest.mark.parametrize("days", [-30, 3 * 365])
def test_signing_outside_the_leaf_life_still_fails_sig005(
    pki: TestPKI, trust: TrustStore, form: etree._Element, days: int
) -> None:
    """Before the unit's certificate starts (not yet valid) or after it ends: the chain's
    longer life must not hide the leaf's."""
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    signed = sign(form, pki.credential("unit"), signature_parent="Cky", signing_time=moment)
    with pytest.raises(SignatureInvalid) as exc:
        verify(signed, signature_parent="Cky", trust=trust)
    [found] = exc.value.findings
    assert found.code == "SIG-005"
    assert found.context["subject"] == pki.credential("unit").certificate.subject.rfc4514_string()
    assert "certificate" not in found.context  # the leaf itself, not a CA of its path


def test_dates_past_2049_survive_pem(pki: TestPKI) -> None:
    """X.509 writes them as GeneralizedTime; they must read back to the same moment."""
    cert = pki.credential("bhxh").certificate
    again = x509.load_pem_x509_certificate(pki.file("bhxh.crt.pem").read_bytes())
    assert again.not_valid_after_utc == cert.not_valid_after_utc > LATEST


def test_a_cached_pki_from_the_old_recipe_is_regenerated(tmp_path: Path) -> None:
    """Existing checkouts pick the fix up: the recipe's digest changed, so does the PKI."""
    old = tmp_path / "old-recipe.yaml"
    text = default_recipe().read_text(encoding="utf-8")
    old.write_text(text.replace("valid_until_days: 73050", "valid_days: 730"), encoding="utf-8")
    assert old.read_text(encoding="utf-8") != text
    directory = tmp_path / "pki"
    stale = ensure_pki(directory, recipe=old).credential("bhxh").certificate
    assert stale.not_valid_after_utc < LATEST

    fresh = ensure_pki(directory).credential("bhxh").certificate
    assert fresh.serial_number != stale.serial_number
    assert fresh.not_valid_after_utc > LATEST


@pytest.mark.parametrize("days", ["-40000", "3000000"])
def test_a_date_no_certificate_can_carry_is_a_recipe_error(tmp_path: Path, days: str) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "authorities:\n"
        f"  root: {{subject: {{CN: R}}, issuer: self, valid_from_days: -1, valid_until_days: 9}}\n"
        "credentials:\n"
        f"  leaf: {{subject: {{CN: L}}, issuer: root, valid_from_days: {days}, valid_days: 1}}\n",
        encoding="utf-8",
    )
    with pytest.raises(PKIError, match=r"leaf: .* outside the dates a certificate can carry"):
        ensure_pki(tmp_path / "pki", recipe=recipe)
    assert not (tmp_path / "pki").exists()


XMLSEC1 = shutil.which("xmlsec1")


@pytest.mark.xmlsec1
@pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 binary not installed (apt install xmlsec1)")
def test_xmlsec1_accepts_the_long_chain_near_the_clock_limit(
    pki: TestPKI, form: etree._Element, tmp_path: Path
) -> None:
    """The reference implementation reads the GeneralizedTime dates too."""
    assert XMLSEC1 is not None
    moment = LATEST - timedelta(days=1)
    signed = sign(form, pki.credential("bhxh"), signature_parent="Cky", signing_time=moment)
    document = tmp_path / "signed.xml"
    document.write_bytes(etree.tostring(signed))
    checked = subprocess.run(
        [
            XMLSEC1,
            "--verify",
            "--trusted-pem",
            str(pki.file("root.crt.pem")),
            "--untrusted-pem",
            str(pki.file("issuing.crt.pem")),
            "--verification-gmt-time",
            moment.strftime("%Y-%m-%d %H:%M:%S"),
            str(document),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
