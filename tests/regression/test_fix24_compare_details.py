"""What a dossier's comparison sees: lifecycle messages in order and counted (a second
02/TB-TS, or 03 before 02, is a difference), an answer without an error code never called
"accepted", and findings compared as the set they are."""

from __future__ import annotations

from typing import Any

from harness.regression.compare import answered, compare_dossier

HANDOVER = {"kind": "02/TB-TS", "fields": {"LOAI_TBAO": "02/TB-TS", "SO_HSO": "NNNNN/YYYY/079"}}
RESULT = {"kind": "03/TB-TS", "fields": {"LOAI_TBAO": "03/TB-TS", "KQUA": "ok"}}


def _accepted(*messages: dict[str, Any], **answer: str) -> dict[str, Any]:
    return {
        "status": 202, "accepted": True, "codes": [], "findings": [],
        "answer": {"LOAI_TBAO": "XACNHAN_NOP", **answer},
        "replay": {"status": 202, "same_receipt": True}, "messages": list(messages),
    }  # fmt: skip


def _found(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    found = compare_dossier("600/x", "600", (), before, after)
    return [(d.kind, d.field, d.expected, d.actual) for d in found]


def test_a_result_delivered_before_its_handover_is_a_difference() -> None:
    [found] = _found(_accepted(HANDOVER, RESULT), _accepted(RESULT, HANDOVER))
    assert found == (
        "reordered-message",
        "03/TB-TS delivered before 02/TB-TS",
        "02/TB-TS, 03/TB-TS",
        "03/TB-TS, 02/TB-TS",
    )


def test_a_message_delivered_twice_is_a_difference_said_once() -> None:
    twice = _accepted(HANDOVER, HANDOVER, RESULT)
    assert _found(_accepted(HANDOVER, RESULT), twice) == [
        ("extra-message", "02/TB-TS delivered twice", "delivered once", "delivered twice")
    ]
    redelivered_later = _accepted(HANDOVER, RESULT, HANDOVER)  # not also "out of order"
    assert [f[0] for f in _found(_accepted(HANDOVER, RESULT), redelivered_later)] == [
        "extra-message"
    ]
    assert _found(twice, _accepted(HANDOVER, RESULT))[0][:2] == (
        "missing-message",
        "02/TB-TS delivered once",
    )


def test_the_second_message_of_a_kind_is_compared_with_the_second() -> None:
    changed = {**HANDOVER, "fields": {**HANDOVER["fields"], "SO_HSO": "other"}}
    found = _found(_accepted(HANDOVER, HANDOVER), _accepted(HANDOVER, changed))
    assert found == [("changed-message", "02/TB-TS #2 SO_HSO", "NNNNN/YYYY/079", "other")]


def test_same_messages_in_the_same_order_are_no_difference() -> None:
    assert _found(_accepted(HANDOVER, RESULT), _accepted(HANDOVER, RESULT)) == []


def test_a_500_without_an_error_code_is_not_called_accepted() -> None:
    failed = {
        "status": 500, "accepted": False, "codes": [], "findings": [],
        "answer": {"<root>": "error"}, "messages": [],
    }  # fmt: skip
    [(kind, _field, expected, actual)] = _found(_accepted(), failed)
    assert (kind, expected) == ("newly-rejected", "202 accepted")
    assert actual == "500 (no error code; the answer is <error>, not XACNHAN_GDICH)"
    unreadable = failed | {"answer": {"<unreadable>": "12 bytes"}}
    assert "accepted" not in answered(unreadable) and "not XML" in answered(unreadable)
    refused = failed | {"status": 400, "answer": {"LOAI_TBAO": "TU_CHOI"}}
    assert answered(refused) == "400 (no error code; TU_CHOI answer)"


def _finding(n: int, code: str, text: str) -> dict[str, str]:
    at = f"TTGDICH/DS_LOI/LOI[{n}]/"
    return {at + "MA_LOI": code, at + "XPATH": f"/D02-TS/{code}", at + "MOTA_EN": text}


def test_the_same_findings_in_another_order_are_no_difference() -> None:
    listed = _finding(1, "RULE-101", "a") | _finding(2, "SIG-101", "b") | _finding(3, "X-1", "c")
    reversed_ = _finding(1, "X-1", "c") | _finding(2, "SIG-101", "b") | _finding(3, "RULE-101", "a")
    assert _found(_accepted(**listed), _accepted(**reversed_)) == []


def test_a_finding_whose_text_changed_is_paired_with_its_own_finding() -> None:
    listed = _finding(1, "RULE-101", "a") | _finding(2, "SIG-101", "b")
    changed = _finding(1, "SIG-101", "B") | _finding(2, "RULE-101", "a")
    assert _found(_accepted(**listed), _accepted(**changed)) == [
        ("changed-answer", "TTGDICH/DS_LOI/LOI[2]/MOTA_EN", "b", "B")
    ]
