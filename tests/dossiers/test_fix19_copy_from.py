"""The copy-from defect op gives a cross-field rule its named defect: it copies one
element's value (found from the target's parent upwards) into another."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.dossiers import defect_codes, defects
from harness.errors import CatalogError
from tests.catalog_copies import edited_home

D02 = Path("catalog/2026.1/rules/D02-TS.sch")
CAP = '<sch:assert id="d02-wage-cap"'
CROSS = (
    '<sch:assert id="d02-title-not-name" role="RULE-112" test="string(ChucVu) != string(HoTen)">'
    "Chức vụ trùng họ tên</sch:assert>"
)


def _home(tmp_path: Path, source: str) -> Path:
    """2026.1 with a cross-field rule on D02-TS, and a copy-from defect for it."""
    home = edited_home(tmp_path, D02, CAP, f"{CROSS}\n      {CAP}")
    path = home / "fixtures" / "dossiers" / "defects.yaml"
    defect = (
        "title-is-name: {expect: [RULE-112], op: copy-from, elements: [ChucVu], "
        f"from: {source}}}\n"
    )
    path.write_text(path.read_text(encoding="utf-8") + defect, encoding="utf-8")
    return home


def _check(home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BHXH_HARNESS_HOME": str(home)}
    command = [sys.executable, "-m", "harness", "catalog", "check", "2026.1"]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_copy_from_breaks_a_cross_field_rule(tmp_path: Path) -> None:
    done = _check(_home(tmp_path, "HoTen"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_copying_another_element_does_not_get_the_code(tmp_path: Path) -> None:
    """The copy is what breaks the rule: copying an unrelated element misses RULE-112."""
    done = _check(_home(tmp_path, "STT"))
    assert done.returncode == 1
    assert "defect title-is-name" in done.stderr and "expects RULE-112" in done.stderr


def test_copy_from_without_a_path_is_refused_when_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dossiers").mkdir()
    (tmp_path / "dossiers" / "defects.yaml").write_text(
        "same: {expect: [RULE-112], op: copy-from, elements: [ChucVu]}\n", encoding="utf-8"
    )
    monkeypatch.setattr(defect_codes, "fixtures_dir", lambda: tmp_path)
    defects.load_defects.cache_clear()
    try:
        with pytest.raises(CatalogError, match="copy-from needs elements"):
            defects.load_defects()
    finally:
        defects.load_defects.cache_clear()
