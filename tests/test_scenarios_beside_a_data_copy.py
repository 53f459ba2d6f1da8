"""A copy of the data made to add a procedure (``BHXH_HARNESS_HOME`` holding only
``fixtures/``) still finds the suites' code: certify's cases and checks and load's
locustfile come from the installed harness unless the copy has its own ``scenarios/``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.certification.suite import load_suite, suite_dir
from harness.paths import project_root, scenarios_dir

CHECKOUT = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "fixtures" / "catalog").mkdir(parents=True)
    monkeypatch.setenv("BHXH_HARNESS_HOME", str(tmp_path))
    project_root.cache_clear()
    yield tmp_path
    project_root.cache_clear()


def test_a_data_copy_without_scenarios_uses_the_installed_suites(home: Path) -> None:
    assert scenarios_dir() == CHECKOUT / "scenarios"
    assert suite_dir() == CHECKOUT / "scenarios" / "certification"
    assert "CERT-MNT-01" in load_suite().cases
    assert (scenarios_dir() / "load" / "locustfile.py").is_file()


def test_a_data_copy_with_its_own_scenarios_uses_them(home: Path) -> None:
    shutil.copytree(CHECKOUT / "scenarios" / "certification", home / "scenarios" / "certification")
    assert suite_dir() == home / "scenarios" / "certification"
