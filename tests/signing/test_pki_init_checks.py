"""`pki init` checks the PKI's files once, as they are on disk now: it checked them in
`ensure_pki` and then again itself (a PKI this process had loaded is checked once a
process otherwise)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.signing import TestPKI, ensure_pki
from harness.signing import integrity as integrity_module


@pytest.fixture
def copy(tmp_path: Path, pki_dir: Path, pki: TestPKI) -> Path:
    """A copy of the session's PKI (generating one takes a second), free to damage."""
    folder = tmp_path / "pki"
    shutil.copytree(pki_dir, folder)
    return folder


def test_pki_init_checks_the_files_once(copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[Path] = []
    check = integrity_module.check_pki

    def counted(pki: TestPKI) -> None:
        checked.append(pki.directory)
        check(pki)

    monkeypatch.setattr(integrity_module, "check_pki", counted)
    result = CliRunner().invoke(main, ["pki", "init", "--dir", str(copy)])
    assert result.exit_code == 0, result.output
    assert checked == [copy.resolve()]


def test_pki_init_checks_a_folder_this_process_loaded_before(copy: Path) -> None:
    """ensure_pki checks once a process: `pki init` answers for the files as they are now."""
    ensure_pki(copy)
    shutil.copyfile(copy / "foreign.chain.pem", copy / "unit.chain.pem")
    result = CliRunner().invoke(main, ["pki", "init", "--dir", str(copy)])
    assert result.exit_code == 2, result.output
    assert f"{copy / 'unit.chain.pem'} does not fit the test PKI" in result.output
