"""The regression suite: one test per procedure of the corpus (from the catalog), each
failing with every unintended difference the candidate shows for that procedure."""

from __future__ import annotations

import os

import pytest

from harness.catalog import latest_version, load_catalog
from harness.regression import RegressionResult

_CATALOG = os.environ.get("BHXH_REGRESS_CATALOG") or latest_version()
PROCEDURES = [*load_catalog(_CATALOG).procedures, "static"]


def _show(result: RegressionResult, procedure: str) -> str:
    lines = [
        f"{d.kind} {d.dossier} {d.field}: expected {d.expected!r}, actual {d.actual!r}"
        for d in result.unintended
        if d.procedure == procedure
    ]
    return "\n".join(lines[:30])


@pytest.mark.parametrize("procedure", PROCEDURES)
def test_no_unintended_difference(regression: RegressionResult, procedure: str) -> None:
    found = [d for d in regression.unintended if d.procedure == procedure]
    assert not found, _show(regression, procedure)


def test_newer_catalog_breaks_no_unchanged_procedure(regression: RegressionResult) -> None:
    impact = regression.impact
    if impact is None:
        pytest.skip("the candidate serves the baseline's catalog version")
    assert not impact.broken, sorted({d.dossier for d in impact.broken})


def test_the_lifecycle_completed(regression: RegressionResult) -> None:
    assert not regression.run.notes, regression.run.notes
