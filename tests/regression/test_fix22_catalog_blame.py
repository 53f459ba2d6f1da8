"""A newer catalog is blamed only for the dossiers whose period it governs: a release that
refuses dossiers dated in an older version's period broke them itself."""

from __future__ import annotations

from pathlib import Path

from harness.regression import Baseline, regress
from harness.regression.compare import Difference
from harness.regression.expectations import catalog_impact
from harness.regression.report import summary_lines
from harness.signing import TestPKI
from tests.regression.conftest import FUNCTIONAL


def _refused(dossier: str) -> Difference:
    return Difference("newly-rejected", dossier.split("/")[0], dossier, (), "verdict")


def test_only_dossiers_the_newer_catalog_governs_are_blamed_on_it() -> None:
    found = [_refused("604/valid-0000"), _refused("607/valid-0000")]
    governed = {"607/valid-0000": "2026.1", "610/valid-0000": "2026.1"}
    impact = catalog_impact(("2024.1",), ("2024.1", "2026.1"), found, governed)
    assert impact is not None
    assert [d.dossier for d in impact.broken] == ["607/valid-0000"]


def test_a_release_refusing_old_period_dossiers_is_not_blamed_on_the_new_catalog(
    reference_2024: Baseline, baselines: Path, pki: TestPKI
) -> None:
    result = regress(
        baseline=reference_2024.name, root=baselines, pki=pki, thresholds=FUNCTIONAL,
        catalogs=("2024.1", "2026.1"), release="nfd-rejected",
    )  # fmt: skip
    refused = {d.dossier for d in result.unintended if d.kind == "newly-rejected"}
    assert "604/nfd-names-0000" in refused  # the release's fault, reported as such
    assert result.impact is not None and result.impact.broken == ()
    assert not any("broke unchanged procedures" in line for line in summary_lines(result))
