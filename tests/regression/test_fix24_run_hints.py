"""What ``record`` and ``regress`` tell the user is true: a missing baseline's hint records
it where the run looks for it, ``--name`` is a folder under ``--root``, and a port out of
range is called that, not "not a number"."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.errors import UsageError
from harness.gateway_url import gateway_base_url
from harness.regression import regress
from harness.regression.cli import record
from harness.signing import TestPKI


def test_a_missing_baselines_hint_records_it_under_the_root_given(
    tmp_path: Path, pki: TestPKI
) -> None:
    with pytest.raises(UsageError) as missing:
        regress(baseline="base_b", root=tmp_path / "baselines", pki=pki)
    assert f"bhxh-harness record --name base_b --root {tmp_path / 'baselines'}" in str(
        missing.value
    )


def test_without_root_the_hint_names_no_root(pki: TestPKI) -> None:
    with pytest.raises(UsageError) as missing:
        regress(baseline="no-such-baseline-fix24", pki=pki)
    assert "record --name no-such-baseline-fix24 --gateway" in str(missing.value)


def test_record_help_says_name_is_a_folder_under_root() -> None:
    shown = " ".join(CliRunner().invoke(record, ["--help"]).output.split())
    assert "Baseline name: its folder under --root (fixtures/baselines)." in shown


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999", "http://h:0", "http://[::1]:70000"])
def test_a_port_out_of_range_is_told_as_such(url: str) -> None:
    assert gateway_base_url(url)[1] == f"--gateway {url}: port out of range (1-65535)"


def test_a_port_that_is_no_number_still_says_so() -> None:
    assert (
        gateway_base_url("http://h:abc")[1]
        == "--gateway http://h:abc: the port 'abc' is not a number"
    )
