"""``pki init`` says where the test PKI is: the adapter guide's ``{pki}`` (root and issuing
certificates a vendor trusts), which a vendor could otherwise not find."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from harness.cli import main


def test_pki_init_prints_its_folder_first(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["pki", "init", "--dir", str(tmp_path / "pki")])
    assert result.exit_code == 0, result.output
    first, *credentials = result.stdout.splitlines()
    assert first == f"test PKI: {tmp_path / 'pki'}"
    assert (Path(first.removeprefix("test PKI: ")) / "root.crt.pem").is_file()
    assert credentials and not any(line.startswith("test PKI") for line in credentials)
