"""A candidate serving a catalog newer than the baseline's: that catalog's own valid dossiers
are replayed too, since no dossier of the corpus is dated in its period and a fault only it
reaches (a new form's schema, a new rule) would otherwise pass ``regress`` unseen."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.errors import UsageError
from harness.regression import Baseline, record, regress
from harness.regression.cli import record as record_command
from harness.regression.cli import regress as regress_command
from harness.regression.new_catalogs import newer_served
from harness.regression.report import report_bundle, summary_lines
from harness.signing import TestPKI
from tests.regression.conftest import FUNCTIONAL, LENIENT


def test_a_newer_catalog_s_valid_dossiers_are_replayed_and_accepted(
    reference_2024: Baseline, baselines: Path, pki: TestPKI, tmp_path: Path
) -> None:
    result = regress(baseline=reference_2024.name, root=baselines, pki=pki, thresholds=FUNCTIONAL)
    assert result.ok, [str(d) for d in result.unintended[:5]]
    [new] = result.new_catalogs
    assert (new.version, new.baseline_version) == ("2026.1", "2024.1")
    assert {"+630a", "+D02-TS-505", "+M01B-HSB", "-D02-TS-595"} <= set(new.items())
    replayed = {e.procedure for e in new.entries}
    assert replayed == {"600", "601", "604", "607", "610", "612", "630a"}
    assert all(e.name.startswith("2026.1/") for e in new.entries)
    assert all(new.outcomes[e.name]["accepted"] for e in new.entries)
    assert new.summary().endswith("7 valid dossier(s) replayed: 7 accepted")
    assert new.summary() in summary_lines(result)
    data = json.loads(report_bundle(result, tmp_path).write().joinpath("results.json").read_text())
    [case] = [c for c in data["cases"] if c["case_id"] == "REG-new-catalog@2026.1"]
    assert case["outcome"] == "passed"
    assert "accepted, 03/TB-TS received" in case["evidence"]["procedure 630a"]
    assert "+630a" in data["run"]["meta"]["new_catalogs"]


def test_a_fault_only_the_new_catalog_reaches_fails_the_run(
    reference_2024: Baseline, baselines: Path, pki: TestPKI
) -> None:
    result = regress(
        baseline=reference_2024.name, root=baselines, pki=pki, thresholds=FUNCTIONAL,
        release="new-form-shadowed",
    )  # fmt: skip
    assert not result.ok
    # the baseline's own corpus (catalog 2024.1) never reaches the new form
    assert {d.kind for d in result.unintended} == {"new-catalog-rejected"}
    [refused] = result.unintended
    assert (refused.procedure, refused.dossier) == ("630a", "2026.1/630a/valid-0000")
    assert refused.actual.startswith("400 XSD-001 at M01B-HSB-505.xml")
    [new] = result.new_catalogs
    assert "6 accepted, 1 refused" in new.summary()
    assert result.impact is not None and result.impact.broken == ()  # 630a is new, not unchanged
    [case] = [c for c in report_bundle(result).cases if c.case_id == "REG-new-catalog@2026.1"]
    assert case.outcome.value == "failed" and "1 unintended refusal" in case.message


def test_a_new_catalog_refusal_can_be_declared_intended(
    reference_2024: Baseline, baselines: Path, pki: TestPKI, tmp_path: Path
) -> None:
    declared = tmp_path / "expected.yaml"
    declared.write_text(
        "expected:\n  - kind: new-catalog-rejected\n    procedure: '630a'\n"
        "    reason: 630a not yet live\n",
        encoding="utf-8",
    )
    result = regress(
        baseline=reference_2024.name, root=baselines, pki=pki, thresholds=FUNCTIONAL,
        release="new-form-shadowed", expectations=declared,
    )  # fmt: skip
    assert result.ok and [d.kind for d, _ in result.intended] == ["new-catalog-rejected"]


def test_the_new_catalog_s_refusals_of_unchanged_procedures_are_its_impact(
    reference_2024: Baseline, baselines: Path, pki: TestPKI
) -> None:
    result = regress(
        baseline=reference_2024.name, root=baselines, pki=pki, release="xsd-shadowed",
        thresholds=FUNCTIONAL,
    )  # fmt: skip
    assert result.impact is not None
    new = {d.dossier for d in result.impact.broken if d.kind == "new-catalog-rejected"}
    assert new == {"2026.1/607/valid-0000", "2026.1/610/valid-0000", "2026.1/612/valid-0000"}


def test_a_candidate_serving_the_baseline_s_catalogs_replays_nothing_more(
    reference: Baseline, baselines: Path, pki: TestPKI
) -> None:
    result = regress(baseline=reference.name, root=baselines, pki=pki, thresholds=FUNCTIONAL)
    assert result.new_catalogs == [] and result.unexercised == []
    assert len(result.run.outcomes) == len(result.corpus)


def test_a_newly_served_version_this_harness_lacks_is_said_not_exercised(
    reference_2024: Baseline, baselines: Path, pki: TestPKI
) -> None:
    newer, unknown = newer_served(reference_2024, ["2024.1", "2026.1", "2099.9"])
    assert (newer, unknown) == (["2026.1"], ["2099.9"])
    result = regress(
        baseline=reference_2024.name, root=baselines, pki=pki, thresholds=FUNCTIONAL,
        catalogs=("2024.1",),
    )  # fmt: skip
    assert result.new_catalogs == []
    told = dataclasses.replace(result, unexercised=["2099.9"])
    assert any("2099.9" in line and "not exercised" in line for line in summary_lines(told))
    [case] = [c for c in report_bundle(told).cases if c.case_id == "REG-new-catalog@2099.9"]
    assert case.outcome.value == "skipped" and "fixtures/catalog/2099.9" in case.message


def test_record_takes_the_newest_catalog_the_gateway_serves(tmp_path: Path, pki: TestPKI) -> None:
    baseline, _ = record(
        gateway="inproc", name="served", root=tmp_path, pki=pki, catalogs=("2024.1",),
        procedures=("604",),
    )  # fmt: skip
    assert baseline.recipe.catalog == "2024.1"
    with pytest.raises(UsageError, match=r"does not serve catalog 2026\.1") as info:
        record(
            gateway="inproc", name="unserved", root=tmp_path, pki=pki, catalog="2026.1",
            catalogs=("2024.1",), procedures=("604",),
        )  # fmt: skip
    assert "2024.1" in str(info.value)
    assert not (tmp_path / "unserved").exists()


def test_record_of_an_unserved_catalog_exits_2(tmp_path: Path, pki_dir: Path) -> None:
    args = ["--name", "x", "--root", str(tmp_path), "--catalog", "2026.1"]
    refused = CliRunner().invoke(record_command, [*args, "--serve-catalog", "2024.1"])
    assert refused.exit_code == 2, refused.output
    assert "does not serve catalog 2026.1" in refused.output
    assert "Traceback" not in refused.output


def test_regress_prints_what_the_new_catalog_brought(
    reference_2024: Baseline, baselines: Path, pki_dir: Path, tmp_path: Path
) -> None:
    args = ["--baseline", reference_2024.name, "--root", str(baselines), "--out", str(tmp_path)]
    run = CliRunner().invoke(regress_command, [*args, *LENIENT, "--release", "new-form-shadowed"])
    assert run.exit_code == 1, run.output
    assert "candidate serves 2026.1 (newer than the baseline's 2024.1): +630a" in run.stdout
    assert "new-catalog-rejected x1 in 630a" in run.stdout
