"""A candidate serving a newer catalog: which previously valid dossiers of unchanged
procedures now fail (the "adding 630a broke 600" case), combined with ``catalog diff``."""

from __future__ import annotations

from pathlib import Path

from harness.regression import Baseline, regress
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
    assert {"607/valid-0000", "610/valid-0000", "612/valid-0000"} <= broken
    assert all(d.procedure in result.impact.unchanged for d in result.impact.broken)
