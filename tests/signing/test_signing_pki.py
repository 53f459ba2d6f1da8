"""The test PKI: recipe, certificate properties, caching, concurrency; and error codes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

from harness import error_codes
from harness.errors import PKIError, UsageError
from harness.signing import TestPKI, TrustStore, ensure_pki
from harness.signing.pki import default_recipe
from harness.signing.trust import UntrustedCertificate

SMALL_RECIPE = """
key_size: 2048
trust_anchors: [root]
authorities:
  root: {subject: {CN: "Mini Root"}, issuer: self, valid_from_days: -1, valid_days: 100}
credentials:
  leaf: {subject: {CN: "Mini Leaf"}, issuer: root, valid_from_days: -1, valid_days: 90}
"""


def _cn(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_names_come_from_the_recipe(pki: TestPKI) -> None:
    recipe = yaml.safe_load(default_recipe().read_text(encoding="utf-8"))
    assert list(pki.names()) == list(recipe["credentials"])
    assert {"unit", "unit-expired", "unit-revoked", "ivan-IVAN01", "ivan-IVAN02"} <= set(
        pki.names()
    )
    assert {"bhxh", "bhxh-next", "foreign", "self-signed"} <= set(pki.names())


def test_unit_certificate_is_vietnamese_rsa_2048(pki: TestPKI) -> None:
    cert = pki.credential("unit").certificate
    assert _cn(cert) == "CÔNG TY TNHH THỬ NGHIỆM"
    assert cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "VN"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert pki.credential("unit").private_key.key_size == 2048
    assert _cn(pki.authority("root").certificate) == "BHXH Test Root CA"
    assert _cn(pki.authority("issuing").certificate) == "BHXH Test Issuing CA"


def test_validity_windows(pki: TestPKI) -> None:
    now = datetime.now(UTC)
    unit = pki.credential("unit").certificate
    assert now - timedelta(days=2) < unit.not_valid_before_utc < now
    assert unit.not_valid_after_utc - unit.not_valid_before_utc == timedelta(days=730)
    expired = pki.credential("unit-expired").certificate
    assert expired.not_valid_after_utc < now - timedelta(days=29)
    assert expired.not_valid_before_utc < now - timedelta(days=399)


def test_chains_and_trust_store(pki: TestPKI, trust: TrustStore) -> None:
    unit = pki.credential("unit")
    chain = x509.load_pem_x509_certificates(unit.chain_pem)
    assert chain == [unit.certificate, pki.authority("issuing").certificate]
    assert [_cn(c) for c in trust.path(unit.certificate)] == [
        "CÔNG TY TNHH THỬ NGHIỆM",
        "BHXH Test Issuing CA",
        "BHXH Test Root CA",
    ]
    assert trust.revocation(pki.credential("unit-revoked").certificate) is not None
    assert trust.revocation(unit.certificate) is None
    for name in ("foreign", "self-signed"):
        with pytest.raises(UntrustedCertificate):
            trust.path(pki.credential(name).certificate)


def test_trust_store_rejects_bad_material(pki: TestPKI, trust: TrustStore) -> None:
    foreign_ca = pki.authority("foreign-ca").certificate
    with pytest.raises(PKIError, match="intermediate"):
        TrustStore([pki.authority("root").certificate], [foreign_ca])
    with pytest.raises(PKIError, match="not signed by a known CA"):
        TrustStore([foreign_ca], [], list(trust.crls))
    with pytest.raises(PKIError, match="trust anchor"):
        TrustStore([])
    rebuilt = TrustStore.from_pem(
        pki.file("root.crt.pem").read_bytes(),
        pki.file("issuing.crt.pem").read_bytes(),
        [pki.file("issuing.crl.pem").read_bytes()],
    )
    assert rebuilt.path(pki.credential("bhxh").certificate)[-1] == trust.anchors[0]


def test_unknown_name_lists_the_known_ones(pki: TestPKI) -> None:
    with pytest.raises(PKIError) as exc:
        pki.credential("ivan-IVAN99")
    assert "ivan-IVAN99" in str(exc.value)
    assert exc.value.hint is not None
    for name in pki.names():
        assert name in exc.value.hint


def test_second_call_loads_without_regenerating(pki: TestPKI) -> None:
    manifest = pki.directory / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    again = ensure_pki(pki.directory)
    assert manifest.stat().st_mtime_ns == stamp
    assert again.credential("unit").certificate == pki.credential("unit").certificate


def test_env_var_sets_the_default_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(SMALL_RECIPE, encoding="utf-8")
    monkeypatch.setenv("BHXH_HARNESS_PKI", str(tmp_path / "from-env"))
    pki = ensure_pki(recipe=recipe)
    assert pki.directory == (tmp_path / "from-env").resolve()
    assert pki.names() == ("leaf",)


def test_changed_recipe_regenerates(tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(SMALL_RECIPE, encoding="utf-8")
    first = ensure_pki(tmp_path / "pki", recipe=recipe).credential("leaf").certificate
    recipe.write_text(SMALL_RECIPE.replace("Mini Leaf", "Lá Nhỏ"), encoding="utf-8")
    second = ensure_pki(tmp_path / "pki", recipe=recipe).credential("leaf").certificate
    assert _cn(first) == "Mini Leaf"
    assert _cn(second) == "Lá Nhỏ"
    assert not list(tmp_path.glob(".pki.tmp-*")) and not list(tmp_path.glob(".pki.old-*"))


def test_racing_processes_agree(tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(SMALL_RECIPE, encoding="utf-8")
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from harness.signing import ensure_pki
        pki = ensure_pki(Path({str(tmp_path / "pki")!r}), recipe=Path({str(recipe)!r}))
        print(pki.credential("leaf").certificate.serial_number)
        """
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    serials = {w.communicate(timeout=60)[0].strip() for w in workers}
    assert all(w.returncode == 0 for w in workers)
    assert len(serials) == 1
    manifest = json.loads((tmp_path / "pki" / "manifest.json").read_text(encoding="utf-8"))
    assert f"{int(serials.pop()):X}" == manifest["serials"]["leaf"]


def test_refuses_to_overwrite_a_foreign_directory(tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(SMALL_RECIPE, encoding="utf-8")
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "notes.txt").write_text("giữ lại", encoding="utf-8")
    with pytest.raises(PKIError, match="not a test PKI"):
        ensure_pki(precious, recipe=recipe)
    assert (precious / "notes.txt").read_text(encoding="utf-8") == "giữ lại"


def test_a_place_that_cannot_hold_a_pki_is_a_usage_error(tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(SMALL_RECIPE, encoding="utf-8")
    a_file = tmp_path / "a-file"
    a_file.write_text("", encoding="utf-8")
    for place in (a_file, a_file / "pki"):
        with pytest.raises(PKIError, match=f"cannot create the test PKI in {place}"):
            ensure_pki(place, recipe=recipe)


@pytest.mark.parametrize(
    ("fragment", "message"),
    [
        ("issuer: root, valid_from_days: -1, valid_days: 90", "issuer: nowhere, valid_days: 9"),
        ('subject: {CN: "Mini Leaf"}', 'subject: {CN: "x", XX: "y"}'),
        ("valid_days: 90", "valid_days: -5"),
    ],
)
def test_bad_recipes_are_usage_errors(tmp_path: Path, fragment: str, message: str) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(SMALL_RECIPE.replace(fragment, message), encoding="utf-8")
    with pytest.raises(PKIError, match=r"recipe\.yaml"):
        ensure_pki(tmp_path / "pki", recipe=recipe)


def test_error_codes_come_from_the_yaml() -> None:
    entry = error_codes.describe("SIG-101")
    assert (entry.http, entry.severity) == (202, "warning")
    found = error_codes.finding("SIG-006", "/Hoso/CKy_Dvi", serial="AB")
    assert found.message_vi == "Chứng thư số đã bị thu hồi"
    assert found.message_en == "Certificate is revoked"
    assert (found.severity, found.context) == ("error", {"serial": "AB"})
    with pytest.raises(UsageError, match="SIG-999"):
        error_codes.finding("SIG-999", "/")


@pytest.mark.parametrize(
    ("damaged", "what"),
    [
        ("unit.key.pem", "private key"),
        ("root.crt.pem", "certificate"),
        ("issuing.crl.pem", "revocation list"),
    ],
)
def test_a_damaged_pki_file_says_how_to_regenerate_it(
    tmp_path: Path, damaged: str, what: str
) -> None:
    """An emptied or truncated file was a cryptography traceback in every command."""
    directory = tmp_path / "pki"
    ensure_pki(directory)
    path = directory / damaged
    if not path.exists():
        pytest.skip(f"this recipe has no {damaged}")
    path.write_bytes(path.read_bytes()[:40])
    fresh = TestPKI(directory, ensure_pki(directory).recipe)  # no cached credentials
    with pytest.raises(PKIError, match=f"is not a valid PEM {what}") as info:
        fresh.credential("unit") if what == "private key" else fresh.trust_store()
    assert str(directory) in (info.value.hint or "")
