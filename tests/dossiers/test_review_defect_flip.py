"""``flip-cccd-sex`` pointed at an element too short to be a CCCD refuses clearly (a
FactoryError naming the defect and the element), instead of an IndexError traceback."""

from __future__ import annotations

import pytest

from harness.catalog import load_catalog
from harness.dossiers import defects
from harness.dossiers.defect_kinds import Defect
from harness.dossiers.defects import build_defective
from harness.dossiers.factory import DossierFactory
from harness.errors import FactoryError
from harness.signing import TestPKI


def test_flipping_the_sex_digit_of_a_short_element_is_refused(
    pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = Defect("flip-gender", "flip-cccd-sex", ("XSD-001",), {"elements": ["GioiTinh"]})
    known = {**defects.load_defects(), short.name: short}
    monkeypatch.setattr(defects, "load_defects", lambda: known)
    factory = DossierFactory(load_catalog("2026.1"), pki)
    assert defects.applies(factory, "600", short.name)
    with pytest.raises(FactoryError, match=r"defect flip-gender: GioiTinh holds '\d', not a 12"):
        build_defective(factory, "600", short.name, 1)


def test_the_shipped_cccd_defect_still_flips_the_sex_digit(pki: TestPKI) -> None:
    factory = DossierFactory(load_catalog("2026.1"), pki)
    assert build_defective(factory, "600", "cccd-mismatch", 1).envelope
