"""What a difference says: the code behind a broken idempotency, the finding behind a new
rejection, and unavailability kept apart from functional change."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from harness.regression.cli import regress
from harness.regression.compare import compare_dossier


def _outcome(status: int, codes: list[str], **extra: object) -> dict[str, object]:
    accepted = status == 202
    answer = {} if accepted else {"TTGDICH/DS_LOI/LOI/MA_LOI": codes[0]}
    base = {"status": status, "accepted": accepted, "codes": codes, "findings": []}
    return base | {"answer": answer, "messages": []} | extra


def test_a_503_after_retries_is_unavailability_not_a_changed_code() -> None:
    before = _outcome(400, ["SIG-002"])
    after = _outcome(503, ["SRV-001"], unavailable="503 SRV-001 after 6 attempts")
    [d] = compare_dossier("600/x", "600", (), before, after)
    assert (d.kind, d.expected) == ("unavailable", "400 SIG-002")
    assert d.actual == "unavailable: 503 SRV-001 after 6 attempts"


def test_a_changed_code_shows_the_changed_status_too() -> None:
    [d] = compare_dossier("600/x", "600", (), _outcome(400, ["SIG-002"]), _outcome(403, ["X-1"]))
    assert (d.kind, d.expected, d.actual) == ("changed-error-code", "400 SIG-002", "403 X-1")


def test_broken_idempotency_shows_the_code() -> None:
    good = _outcome(202, [], replay={"status": 202, "same_receipt": True})
    bad = _outcome(202, [], replay={"status": 409, "same_receipt": False, "codes": ["DUP-001"]})
    [d] = compare_dossier("600/x", "600", (), good, bad)
    assert d.actual == "409 DUP-001 different receipt"


def test_a_new_rejection_shows_where_and_why() -> None:
    after = _outcome(400, ["XSD-001"])
    after["answer"] |= {  # type: ignore[operator]
        "TTGDICH/DS_LOI/LOI/XPATH": "D02-TS-505.xml:/D02-TS/PA",
        "TTGDICH/DS_LOI/LOI/MOTA_EN": "Element PA is not expected",
    }
    [d] = compare_dossier("600/x", "600", (), _outcome(202, []), after)
    assert d.actual == "400 XSD-001 at D02-TS-505.xml:/D02-TS/PA: Element PA is not expected"


def test_a_bad_out_is_refused_before_anything_is_replayed(tmp_path: Path) -> None:
    taken = tmp_path / "file"
    taken.write_text("x", encoding="utf-8")
    # no baseline either: the --out check must come first, before any work
    run = CliRunner().invoke(regress, ["--baseline", "nope", "--out", str(taken)])
    assert run.exit_code == 2 and "--out" in run.stderr and "is a file" in run.stderr


def test_help_documents_the_exit_codes() -> None:
    text = CliRunner().invoke(regress, ["--help"]).output
    assert "3 the gateway became unavailable" in text
