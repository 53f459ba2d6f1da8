"""Faults the suite used to miss, each carried by a bundled faulty I-VAN (variants.yaml).

Each test runs only the cases the variant must fail (the matrix runs them all): the
variant fails them with a message naming what was seen, and the reference passes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.certification import load_variants, run_certification
from tests.certification.conftest import FAST, PROCEDURE


def _outcomes(spec: str, cases: list[str], out: Path) -> dict[str, tuple[str, str]]:
    bundle = run_certification(spec, procedures=[PROCEDURE], cases=cases, out=out, settings=FAST)
    return {c.case_id.split("@")[0]: (c.outcome.value, c.message) for c in bundle.cases}


@pytest.mark.parametrize(
    ("variant", "words"),
    [
        ("retries-without-backoff", ["waits of", "back off exponentially"]),
        ("misstates-envelope", ["NgayLap", "LoaiDoiTuong", "NguoiKy"]),
        ("fabricates-receipt", ["no 202", "ACME-"]),
    ],
)
def test_variant_fails_its_cases_saying_why(
    variant: str, words: list[str], tmp_path: Path, pki: Any
) -> None:
    cases = load_variants()[variant]
    outcomes = _outcomes(f"faulty:{variant}", cases, tmp_path)
    assert {c for c, (o, _) in outcomes.items() if o == "failed"} == set(cases), outcomes
    for case in cases:
        assert all(w in outcomes[case][1] for w in words), outcomes[case]


@pytest.mark.parametrize(
    "variant", ["retries-without-backoff", "misstates-envelope", "fabricates-receipt"]
)
def test_reference_passes_those_cases(variant: str, tmp_path: Path, pki: Any) -> None:
    outcomes = _outcomes("reference", load_variants()[variant], tmp_path)
    assert {c: v for c, v in outcomes.items() if v[0] != "passed"} == {}
