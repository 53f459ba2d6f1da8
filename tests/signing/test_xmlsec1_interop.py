"""Interoperability with the reference implementation, Debian's ``xmlsec1`` (libxmlsec1).

Both directions are checked on documents that stress canonicalisation: no namespace,
a default namespace with ``xml:lang``, and the real-world shape where ``<Signature>``
declares the XMLDSig namespace as default (.NET and xmlsec1 templates do this).
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from harness.errors import SignatureInvalid
from harness.signing import TestPKI, TrustStore, sign, verify

XMLSEC1 = shutil.which("xmlsec1")
pytestmark = [
    pytest.mark.xmlsec1,
    pytest.mark.skipif(
        XMLSEC1 is None, reason="xmlsec1 binary not installed (apt install xmlsec1)"
    ),
]

DS = "http://www.w3.org/2000/09/xmldsig#"
DOCUMENTS = {
    "plain": "<D02-TS><NoiDung><HoTen>Trần Văn Bình</HoTen></NoiDung></D02-TS>",
    "namespaced": (
        '<D02-TS xmlns="urn:bhxh:d02" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xml:lang="vi"><NoiDung><HoTen>Trần Văn Bình</HoTen></NoiDung></D02-TS>'
    ),
}
TEMPLATE = f"""<Signature xmlns="{DS}" Id="sigid"><SignedInfo>\
<CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>\
<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>\
<Reference URI=""><Transforms>\
<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms>\
<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference>\
</SignedInfo><SignatureValue/><KeyInfo><X509Data/></KeyInfo>\
<Object><SignatureProperties><SignatureProperty Target="#sigid">\
<SigningTime>{{when}}</SigningTime></SignatureProperty></SignatureProperties></Object></Signature>"""


def xmlsec1(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert XMLSEC1 is not None
    return subprocess.run(
        [XMLSEC1, *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


def xmlsec1_verify(pki: TestPKI, path: Path) -> subprocess.CompletedProcess[str]:
    return xmlsec1(
        "--verify",
        "--trusted-pem",
        pki.file("root.crt.pem"),
        "--untrusted-pem",
        pki.file("issuing.crt.pem"),
        path,
    )


@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_our_signature_verifies_with_xmlsec1(pki: TestPKI, tmp_path: Path, kind: str) -> None:
    signed = sign(
        etree.fromstring(DOCUMENTS[kind].encode()), pki.credential("unit"), signature_parent="Cky"
    )
    good = tmp_path / "signed.xml"
    good.write_bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))
    result = xmlsec1_verify(pki, good)
    assert result.returncode == 0, result.stderr

    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(good.read_bytes().replace("Bình".encode(), b"Binh"))
    assert xmlsec1_verify(pki, tampered).returncode != 0


@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_xmlsec1_signature_verifies_with_ours(
    pki: TestPKI, trust: TrustStore, tmp_path: Path, kind: str
) -> None:
    document = etree.fromstring(DOCUMENTS[kind].encode())
    cky = etree.SubElement(document, etree.QName(etree.QName(document).namespace, "Cky"))
    when = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    cky.append(etree.fromstring(TEMPLATE.format(when=when.strftime("%Y-%m-%dT%H:%M:%SZ"))))
    template = tmp_path / "template.xml"
    template.write_bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8"))
    out = tmp_path / "signed.xml"
    key = f"{pki.file('unit.key.pem')},{pki.file('unit.crt.pem')}"
    result = xmlsec1("--sign", "--privkey-pem", key, "--output", out, template)
    assert result.returncode == 0, result.stderr

    signed = etree.parse(str(out)).getroot()
    verified = verify(signed, signature_parent="Cky", trust=trust)
    assert verified.certificate == pki.credential("unit").certificate
    assert verified.signing_time == when
    assert verified.warnings == []

    signed.find(".//{*}HoTen").text = "Người Khác"
    with pytest.raises(SignatureInvalid) as exc:
        verify(signed, signature_parent="Cky", trust=trust)
    assert {f.code for f in exc.value.findings} == {"SIG-002"}
