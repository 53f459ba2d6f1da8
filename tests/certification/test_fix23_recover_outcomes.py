"""An adapter that announces recover but cannot do it is told apart from a blocked case.

Announced and then refused as unsupported (a hook or plugin whose capabilities overstate
it) was labelled ``blocked:``, the label for a precondition that never happened; it now
fails the case (the vendor's claim is broken). Announced and failing was judged by the
empty list it left, without saying why.
"""

from __future__ import annotations

from pathlib import Path

from harness.certification import AdapterFailed, NotSupported, ReferenceIvan, run_certification
from tests.certification.conftest import FAST, PROCEDURE


class OverstatesRecover(ReferenceIvan):
    """Lists recover among its capabilities, then says it has none."""

    def recover(self, ma_gdich: str) -> list[bytes]:
        raise NotSupported(f"adapter {self.spec!r} has no recover operation after all")


class RecoverBreaks(ReferenceIvan):
    """Lists recover, and its recovery tool fails."""

    def recover(self, ma_gdich: str) -> list[bytes]:
        raise AdapterFailed("recover: the vendor's journal is unreadable (exit 3)")


def _recovery_case(adapter: ReferenceIvan, out: Path) -> tuple[str, str]:
    bundle = run_certification(adapter, [PROCEDURE], cases=["CERT-REC-01"], out=out, settings=FAST)
    [case] = bundle.cases
    return case.outcome.value, case.message


def test_an_operation_refused_after_being_announced_fails_the_case(tmp_path: Path) -> None:
    assert "recover" in OverstatesRecover.capabilities
    outcome, message = _recovery_case(OverstatesRecover(), tmp_path)
    assert outcome == "failed"
    assert message.startswith('the adapter announced recover but answered "not supported"')
    assert "after all" in message  # the adapter's own words
    assert "leave it out of the adapter's capabilities" in message  # what to do


def test_a_failing_recovery_fails_the_case_saying_why(tmp_path: Path) -> None:
    outcome, message = _recovery_case(RecoverBreaks(), tmp_path)
    assert outcome == "failed"
    assert "announced recover but could not recover" in message
    assert "journal is unreadable" in message
