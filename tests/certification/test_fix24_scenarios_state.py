"""The probe's three missed faults: another I-VAN's token, an unverified BHXH signature and
state lost on restart. The reference passes the three cases judging them; each bundled
faulty I-VAN fails its own case, and only that one of the three."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.certification import IvanAdapter, run_certification
from harness.certification.reference import ReferenceIvan
from tests.certification.conftest import FAST, PROCEDURE

NEW_CASES = ["CERT-TOK-01", "CERT-PKI-03", "CERT-REC-02"]
Summary = dict[str, tuple[str, str]]


def _certify(spec: str | IvanAdapter, out: Path, cases: list[str] = NEW_CASES) -> Summary:
    bundle = run_certification(spec, procedures=[PROCEDURE], cases=cases, out=out, settings=FAST)
    return {c.case_id.split("@")[0]: (c.outcome.value, c.message) for c in bundle.cases}


def test_reference_passes_the_new_cases(tmp_path: Path, pki: Any) -> None:
    outcomes = _certify("reference", tmp_path)
    assert {c: o for c, o in outcomes.items() if o[0] != "passed"} == {}
    assert set(outcomes) == set(NEW_CASES)


@pytest.mark.parametrize(
    ("variant", "case", "words"),
    [
        ("reads-other-ivan", "CERT-TOK-01", "under the token of IVAN02"),
        ("trusts-any-signature", "CERT-PKI-03", "relayed as alert and not acknowledged"),
        ("volatile-state", "CERT-REC-02", "keep the outbox on disk"),
    ],
)
def test_each_variant_fails_its_new_case(
    tmp_path: Path, pki: Any, variant: str, case: str, words: str
) -> None:
    outcomes = _certify(f"faulty:{variant}", tmp_path)
    failed = {c for c, (o, _) in outcomes.items() if o in ("failed", "error")}
    assert failed == {case}, outcomes
    assert words in outcomes[case][1], outcomes[case]


class _ForgetsCursor(ReferenceIvan):
    """Keeps its outbox across a restart but reads the feed from the start again."""

    def restart(self) -> None:
        self.state.seen.clear()
        self.client.cursor = 0
        super().restart()


def test_messages_handled_again_after_a_restart_fail(tmp_path: Path, pki: Any) -> None:
    outcomes = _certify(_ForgetsCursor(), tmp_path, ["CERT-REC-02"])
    outcome, message = outcomes["CERT-REC-02"]
    assert outcome == "failed" and "handled again" in message, outcomes
