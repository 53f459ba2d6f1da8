"""Quality test: the fuzzer finds each seeded faulty gateway release that has a fuzzable
defect, within a CI budget, and names the property it breaks; the reference passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.fuzz import run_fuzz
from harness.fuzz.http_target import HttpTarget
from harness.signing import TestPKI
from mock_gateway.testing import InProcessGateway
from mock_gateway.transport import DEFAULT_BASE_URL

BUDGET = 120
SEED = 2
"""A fixed seed keeps this test deterministic, but at a CI budget a release is found by
some seeds only (measured over seeds 1-20 at 120 cases: pa-code-removed 11/20,
nfd-rejected 20/20 since half the valid dossiers are drawn decomposed (6/20 before); the
others by each of six seeds tried); data that changes what the factory draws
(fields.yaml), or the strategies' draws, can move a release out of this seed's reach, and
the seed is then chosen again."""
FUZZABLE = {
    # release -> the property the fuzzer must report
    "nfd-rejected": "valid-accepted",
    "pa-code-removed": "valid-accepted",
    "xsd-shadowed": "valid-accepted",
    "new-form-shadowed": "valid-accepted",
    "error-code-renumbered": "rejected-as-expected",
    "idempotency-broken": "idempotent",
    "loses-acknowledged": "acknowledged-retrievable",
}
# Not at this seed: guid-signature-id (its quirk is one valid case in ~16; found by seed 3,
# tests/fuzz/test_fix22_qa_probe.py). Not fuzzable here: result-date-format
# (03/TB-TS content is the regression suite's), slow-d02 (a latency ratio, not a property).


def _fuzz(release: str | None, pki: TestPKI, found: Path) -> set[str]:
    with InProcessGateway(pki=pki, release=release) as gateway:
        target = HttpTarget(gateway.session(DEFAULT_BASE_URL), DEFAULT_BASE_URL, name="inproc")
        report = run_fuzz(
            target,
            load_catalog("2026.1"),
            budget=BUDGET,
            seed=SEED,
            pki=pki,
            found=found,
            minimise=0,
        )
    assert report.cases == BUDGET
    return {f.check for f in report.failures}


def test_reference_gateway_holds_every_property(pki: TestPKI, tmp_path: Path) -> None:
    assert _fuzz(None, pki, tmp_path) == set()


@pytest.mark.parametrize("release", sorted(FUZZABLE))
def test_fuzzer_finds_the_faulty_release(release: str, pki: TestPKI, tmp_path: Path) -> None:
    assert FUZZABLE[release] in _fuzz(release, pki, tmp_path)
