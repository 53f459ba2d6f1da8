"""A cached test PKI whose files no longer fit together is refused, naming the file and how
to regenerate it: `pki init` said such a folder was fine (exit 0) and `dossier build`
promised "accepted" for dossiers the gateway refused with SIG-003/SIG-004."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from harness.cli import main
from harness.errors import PKIError
from harness.signing import TestPKI
from harness.signing.integrity import check_pki


def _copy_over(source: str, target: str) -> Callable[[Path], None]:
    return lambda folder: shutil.copyfile(folder / source, folder / target)


def _foreign_leaf(folder: Path) -> None:
    """unit's key and certificate replaced by foreign's: a pair, but not issued by issuing."""
    for kind in ("key", "crt"):
        shutil.copyfile(folder / f"foreign.{kind}.pem", folder / f"unit.{kind}.pem")


def _crl_by_another_ca(folder: Path) -> None:
    key = serialization.load_pem_private_key(
        (folder / "foreign-ca.key.pem").read_bytes(), password=None
    )
    issuing = x509.load_pem_x509_certificate((folder / "issuing.crt.pem").read_bytes())
    now = datetime.now(UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuing.subject)
        .last_update(now - timedelta(hours=1))
        .next_update(now + timedelta(days=30))
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    (folder / "issuing.crl.pem").write_bytes(crl.public_bytes(serialization.Encoding.PEM))


DAMAGES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "another certificate": (
        _copy_over("foreign.crt.pem", "unit.crt.pem"),
        "unit.crt.pem",
        "does not match unit.key.pem",
    ),
    "another CA": (
        _copy_over("foreign-ca.crt.pem", "issuing.crt.pem"),
        "issuing.crt.pem",
        "does not match issuing.key.pem",
    ),
    "random root": (
        lambda folder: (folder / "root.crt.pem").write_bytes(os.urandom(300)),
        "root.crt.pem",
        "is not a valid PEM certificate",
    ),
    "another issuer": (_foreign_leaf, "unit.crt.pem", "is not signed by issuing.crt.pem"),
    "another chain": (
        _copy_over("foreign.chain.pem", "unit.chain.pem"),
        "unit.chain.pem",
        "does not start with unit.crt.pem",
    ),
    "another CRL": (_crl_by_another_ca, "issuing.crl.pem", "is not signed by issuing.crt.pem"),
    "damaged manifest": (
        lambda folder: (folder / "manifest.json").write_text("{", encoding="utf-8"),
        "manifest.json",
        "is damaged",
    ),
}


@pytest.fixture
def copy(tmp_path: Path, pki_dir: Path, pki: TestPKI) -> Path:
    """A copy of the session's PKI (generating one takes a second), free to damage."""
    folder = tmp_path / "pki"
    shutil.copytree(pki_dir, folder)
    return folder


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_pki_init_refuses_a_folder_whose_files_do_not_fit(copy: Path, damage: str) -> None:
    change, filename, said = DAMAGES[damage]
    change(copy)
    result = CliRunner().invoke(main, ["pki", "init", "--dir", str(copy)])
    assert result.exit_code == 2, result.output
    assert f"{copy / filename} " in result.output and said in result.output
    assert f"delete {copy} to regenerate it" in result.output
    assert "Traceback" not in result.output


def test_a_sound_folder_passes_the_check(copy: Path, pki: TestPKI) -> None:
    check_pki(TestPKI(copy, pki.recipe))
    result = CliRunner().invoke(main, ["pki", "init", "--dir", str(copy)])
    assert result.exit_code == 0 and f"test PKI: {copy}" in result.output


def test_a_credential_whose_certificate_is_another_is_named_when_loaded(
    copy: Path, pki: TestPKI
) -> None:
    DAMAGES["another certificate"][0](copy)
    with pytest.raises(PKIError, match=r"unit\.crt\.pem does not match unit\.key\.pem"):
        TestPKI(copy, pki.recipe).credential("unit")


def test_other_commands_refuse_the_damaged_folder_before_promising_anything(copy: Path) -> None:
    """`dossier build` said "gateway must answer: accepted" with another unit certificate."""
    DAMAGES["another certificate"][0](copy)
    done = subprocess.run(
        [sys.executable, "-m", "harness", "dossier", "build", "600", "-o", str(copy / "d.xml")],
        capture_output=True,
        text=True,
        env={**os.environ, "BHXH_HARNESS_PKI": str(copy)},
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "unit.crt.pem does not match unit.key.pem" in done.stderr
    assert not (copy / "d.xml").exists()


def test_ensure_pki_refuses_a_damaged_folder_each_time_it_is_asked(copy: Path) -> None:
    from harness.signing import ensure_pki

    DAMAGES["another chain"][0](copy)
    for _ in range(2):  # a refused folder is not kept as loaded
        with pytest.raises(PKIError, match=r"unit\.chain\.pem does not fit the test PKI"):
            ensure_pki(copy)
