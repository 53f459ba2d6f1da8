"""A case the catalog gives nothing to exercise in a procedure is left out of it, not
skipped: a procedure whose forms have no result rule never gets a 03/TB-TS listing a
defective row, so CERT-RES-01 cannot hold the certification of every I-VAN hostage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.catalog import load_catalog
from harness.certification.runner import run_certification
from harness.certification.verdict import NOT_APPLICABLE_KEY, certification_verdict
from harness.signing import TestPKI
from tests.catalog_copies import edited_home
from tests.certification.conftest import FAST

NEW_PROCEDURE = """  "699":
    name: "Thủ tục thử nghiệm chỉ có D01-TS"
    required_forms: [D01-TS]
    optional_forms: []
    in_force: {from: "03/2017"}
  "612":
"""
"""A procedure added as data whose only form (D01-TS) has no result rule."""


def _home(tmp_path: Path) -> Path:
    catalog = Path("catalog/2026.1/catalog.yaml")
    return edited_home(tmp_path / "home", catalog, '  "612":\n', NEW_PROCEDURE)


def test_a_procedure_without_result_rules_leaves_the_case_out_not_skipped(
    tmp_path: Path,
) -> None:
    """The whole path a catalog editor takes: the procedure added as data, `certify` run."""
    env = {**os.environ, "BHXH_HARNESS_HOME": str(_home(tmp_path)), "COLUMNS": "400"}
    command = [sys.executable, "-m", "harness", "certify", "--adapter", "reference"]
    command += ["--procedures", "612,699", "--case", "CERT-RES-01", "--catalog", "2026.1"]
    command += ["--out", str(tmp_path / "out")]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr  # not 3: nothing was skipped
    assert "verdict: PASSED (1 passed, 0 failed, 0 errors, 0 skipped)" in done.stdout
    assert (
        "not applicable (left out, not skipped): CERT-RES-01@699: BHXH lists no defective "
        "row for procedure 699: none of the result defects unverified-citizen-id, "
        "unregistered-tax-code (result_defects) applies to its forms"
    ) in done.stdout


def test_a_case_applying_to_no_procedure_of_the_run_is_skipped_saying_why(
    pki: TestPKI, tmp_path: Path
) -> None:
    catalog = load_catalog("2026.1", root=_home(tmp_path) / "fixtures" / "catalog")
    bundle = run_certification(
        "reference", ["699"], catalog=catalog, cases=["CERT-RES-01"], out=tmp_path / "out",
        settings=FAST, pki=pki,
    )  # fmt: skip
    [case] = bundle.cases  # never exercised: it certifies nothing, so the run is INCOMPLETE
    assert (case.case_id, case.outcome.value) == ("CERT-RES-01@699", "skipped")
    assert "procedure 699 has no result defect to hand over" in case.message
    assert certification_verdict(bundle) == "incomplete"
    assert NOT_APPLICABLE_KEY not in bundle.info.meta
