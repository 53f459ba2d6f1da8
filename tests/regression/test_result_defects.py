"""Result defects in the regression suite: the corpus holds a dossier whose 03/TB-TS must
list a defective row (``defects.yaml``'s ``RES-*`` defects), ``record`` says when the
gateway's result does not, and a release that stops running the result rules is caught
(``fixtures/releases/result-rules-skipped.yaml``, judged in ``test_matrix``)."""

from __future__ import annotations

from pathlib import Path

from harness.dossiers.corpus import CorpusEntry
from harness.regression import record
from harness.regression.recording import result_defects, surprises
from harness.signing import TestPKI

LISTED = {
    "TTGDICH/MA_KQUA": "2",
    "TTGDICH/DS_LOI/LOI[1]/MA_LOI": "RES-001",
    "TTGDICH/DS_LOI/LOI[2]/MA_LOI": "RES-002",
}


def _outcome(fields: dict[str, str]) -> dict[str, object]:
    messages = [{"kind": "02/TB-TS", "fields": {}}, {"kind": "03/TB-TS", "fields": fields}]
    return {"accepted": True, "codes": [], "messages": messages}


def test_the_rows_of_the_result_are_read_from_its_fields_whether_one_or_many() -> None:
    assert result_defects(_outcome(LISTED)) == {"RES-001", "RES-002"}
    one = {"TTGDICH/DS_LOI/LOI/MA_LOI": "RES-001", "TTGDICH/MA_LOI": "RES-001"}
    assert result_defects(_outcome(one)) == {"RES-001"}
    assert result_defects(_outcome({"TTGDICH/MA_LOI": ""})) == set()


def test_a_result_without_the_rows_the_corpus_expects_is_a_surprise_and_so_is_an_extra_row() -> (
    None
):
    defective = CorpusEntry("600/x", "600", "x", (), b"<x/>", result=("RES-001", "RES-002"))
    valid = CorpusEntry("600/valid-0000", "600", None, (), b"<x/>")
    assert surprises([defective], {"600/x": _outcome(LISTED)}) == []
    assert surprises([defective], {"600/x": _outcome({})}) == [
        "600/x: expected its 03/TB-TS to list RES-001 RES-002, it lists no defective row"
    ]
    assert surprises([valid], {"600/valid-0000": _outcome(LISTED)}) == [
        "600/valid-0000: expected its 03/TB-TS to list no defective row, it lists RES-001 RES-002"
    ]


def test_recording_a_gateway_that_skips_the_result_rules_says_so(
    tmp_path: Path, pki: TestPKI
) -> None:
    said: list[str] = []
    baseline, _ = record(
        gateway="inproc", catalog="2026.1", name="skips", procedures=("600",), root=tmp_path,
        pki=pki, release="result-rules-skipped", on_surprise=said.append,
    )  # fmt: skip
    assert baseline.outcomes["600/unverified-citizen-id"]["accepted"]
    assert said == [
        "600/unverified-citizen-id: expected its 03/TB-TS to list RES-001, "
        "it lists no defective row"
    ]
