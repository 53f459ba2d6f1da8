"""A candidate serving a newer catalog: which previously valid dossiers of unchanged
procedures now fail (the "adding 630a broke 600" case), combined with ``catalog diff``."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.catalog.diff import CatalogDiff, Change
from harness.regression import Baseline, regress
from harness.regression.expectations import touched_procedures
from harness.signing import TestPKI
from tests.regression.conftest import FUNCTIONAL


def test_a_new_catalog_alone_breaks_nothing(
    reference_2024: Baseline, baselines: Path, pki: TestPKI
) -> None:
    result = regress(baseline=reference_2024.name, root=baselines, pki=pki, thresholds=FUNCTIONAL)
    assert result.ok, [str(d) for d in result.unintended[:5]]
    assert result.impact is not None
    assert (result.impact.diff.old_version, result.impact.diff.new_version) == ("2024.1", "2026.1")
    assert set(result.impact.changed) == {"600", "601"}
    assert set(result.impact.unchanged) == {"604", "607", "610", "612"}
    assert result.impact.broken == ()


def test_a_new_procedure_shadowing_an_old_schema_is_reported_as_catalog_impact(
    reference_2024: Baseline, baselines: Path, pki: TestPKI
) -> None:
    result = regress(baseline=reference_2024.name, root=baselines, pki=pki, release="xsd-shadowed")
    assert result.impact is not None
    broken = {d.dossier for d in result.impact.broken}
    # the new catalog's own valid dossiers; the corpus's, dated in 2024.1's period, are
    # judged by 2024.1 and fail in their own cells (REG-newly-rejected), not as its impact
    assert {"2026.1/607/valid-0000", "2026.1/610/valid-0000", "2026.1/612/valid-0000"} <= broken
    assert "607/valid-0000" in {d.dossier for d in result.unintended}
    assert all(d.procedure in result.impact.unchanged for d in result.impact.broken)


@pytest.mark.parametrize(
    ("subject", "procedures"),
    [
        ("604", {"604"}),
        ("TK3-TS", {"604"}),
        ("TK3-TS/NoiDung/DonVi/DienThoai", {"604"}),
        ("TK3-TS-595:TK3-TS/NoiDung", {"604"}),
        ("D02-TS#d02-tyle", {"600", "601"}),  # a rule of a form
        ("D02-TS-595#d02-tyle", {"600", "601"}),
        ("D02-TS-595->600:D02-TS/NoiDung", {"600", "601"}),  # a successive version's change
        ("envelope#env-period", {"600", "601", "604", "607", "610", "612"}),
        ("Hoso/NoiDung/ThongTinDonVi/DienThoai", {"600", "601", "604", "607", "610", "612"}),
        ("630a", set()),  # added by the new catalog: no baseline procedure is concerned
    ],
)
def test_a_change_concerns_the_procedures_of_what_it_is_about(
    subject: str, procedures: set[str]
) -> None:
    change = Change("rule-changed", subject, "", True)
    assert touched_procedures(CatalogDiff("2024.1", "2026.1", (change,))) == procedures


def test_a_candidate_serving_an_older_catalog_says_a_version_is_gone(
    reference: Baseline, baselines: Path, pki: TestPKI
) -> None:
    result = regress(
        baseline=reference.name, root=baselines, pki=pki, catalogs=("2024.1",),
        thresholds=FUNCTIONAL,
    )  # fmt: skip
    [gone] = [d for d in result.unintended if d.kind == "catalog-removed"]
    assert "2026.1 gone" in gone.field and result.impact is None
