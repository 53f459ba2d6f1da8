"""Who signed and what the employer was told are judged, not only that something was.

A probe's I-VAN passed CERT-SIG-01/02 signing the employer's forms and envelope with its
own key (the gateway accepts any valid chain), passed CERT-MSG-01/02/03 relaying BHXH's
result as a hand-over slip, and passed them relaying every message as an alert it still
acknowledged. The bundled faulty I-VANs below reproduce each flaw.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.certification import run_certification
from harness.message_kinds import HANDOVER, RESULT
from tests.certification.conftest import FAST, PROCEDURE

MESSAGES = ["CERT-MSG-01", "CERT-MSG-02", "CERT-MSG-03"]


def outcomes(spec: str, out: Path, cases: list[str]) -> dict[str, tuple[str, str]]:
    bundle = run_certification(spec, [PROCEDURE], cases=cases, out=out, settings=FAST)
    return {c.case_id.split("@")[0]: (c.outcome.value, c.message) for c in bundle.cases}


def test_an_ivan_signing_as_itself_is_not_the_employer_signing(tmp_path: Path) -> None:
    cases = ["CERT-SCH-01", "CERT-SIG-01", "CERT-SIG-02", "CERT-PKI-01"]
    got = outcomes("faulty:signs-as-ivan", tmp_path, cases)
    assert got["CERT-SCH-01"][0] == "passed"  # BHXH accepted the dossier: a valid chain
    assert got["CERT-PKI-01"][0] == "passed"  # the certificate itself is fine
    for case in ("CERT-SIG-01", "CERT-SIG-02"):
        outcome, message = got[case]
        assert outcome == "failed", (case, message)
        assert "not by the employer certificate the job handed over" in message
        assert "CN=I-VAN THỬ NGHIỆM SỐ 1" in message and "CN=CÔNG TY TNHH THỬ NGHIỆM" in message


def test_the_reference_signs_as_the_employer(tmp_path: Path) -> None:
    got = outcomes("reference", tmp_path, ["CERT-SIG-01", "CERT-SIG-02"])
    assert {c: o for c, (o, _) in got.items()} == {"CERT-SIG-01": "passed", "CERT-SIG-02": "passed"}


def test_a_result_relayed_as_a_handover_slip_never_reached_the_employer(tmp_path: Path) -> None:
    got = outcomes("faulty:relays-wrong-kind", tmp_path, MESSAGES)
    for case in MESSAGES:
        outcome, message = got[case]
        assert outcome == "failed", (case, message)
        assert f"{RESULT} " in message and f"relayed as {HANDOVER}" in message, message


@pytest.mark.parametrize("case", MESSAGES)
def test_an_alert_is_not_a_delivery(tmp_path: Path, case: str) -> None:
    outcome, message = outcomes("faulty:alerts-every-message", tmp_path, [case])[case]
    assert outcome == "failed", message
    if case == "CERT-MSG-01":  # acknowledged what it told the employer not to trust
        assert "it told the employer it did not trust" in message
    else:
        assert "relayed as alert (signature check disabled)" in message
