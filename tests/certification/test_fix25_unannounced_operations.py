"""A tick or restart the adapter never named (a hook whose /start lists no capabilities, so
every operation is tried) that answers "not supported" means the adapter lacks it, as for
recover: the cases needing it are skipped as not supported, the others are judged, and it
is not asked again in the run. One the adapter did name and then refuses stays an error.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import ClassVar

from harness.certification import NotSupported, ReferenceIvan, Relay, run_certification
from harness.certification.adapter_base import OPERATIONS
from tests.certification.conftest import FAST, PROCEDURE

HOOK = "http://127.0.0.1:9"


class Refuses(ReferenceIvan):
    """Answers 404 for the operations in ``refused``, like a hook lacking them; counts asks."""

    refused: ClassVar[frozenset[str]] = frozenset()
    asked: ClassVar[list[str]]

    def _refuse(self, operation: str) -> NotSupported:
        self.asked.append(operation)
        return NotSupported(f"hook {HOOK}/{operation} answered 404: not supported")

    def tick(self, now: datetime) -> list[Relay]:
        if "tick" in self.refused:
            raise self._refuse("tick")
        return super().tick(now)

    def restart(self) -> None:
        if "restart" in self.refused:
            raise self._refuse("restart")
        super().restart()


def _adapter(refused: str, *, announced: bool) -> Refuses:
    adapter_class = type(
        "Hook",
        (Refuses,),
        {
            "refused": frozenset({refused}),
            "asked": [],
            "assumed": frozenset() if announced else frozenset(OPERATIONS),
        },
    )
    adapter: Refuses = adapter_class()
    return adapter


def _outcomes(adapter: Refuses, cases: list[str], tmp_path: Path) -> dict[str, tuple[str, str]]:
    bundle = run_certification(adapter, [PROCEDURE], cases=cases, out=tmp_path, settings=FAST)
    return {c.case_id.split("@")[0]: (c.outcome.value, c.message) for c in bundle.cases}


def test_an_unannounced_tick_refused_skips_only_the_cases_needing_it(tmp_path: Path) -> None:
    adapter = _adapter("tick", announced=False)
    bundle = run_certification(
        adapter,
        [PROCEDURE],
        cases=["CERT-SCH-01", "CERT-MSG-01", "CERT-MSG-02"],
        out=tmp_path,
        settings=FAST,
    )
    results = {c.case_id.split("@")[0]: c for c in bundle.cases}
    assert results["CERT-SCH-01"].outcome.value == "passed", results["CERT-SCH-01"].message
    for needing_tick in ("CERT-MSG-01", "CERT-MSG-02"):  # baseline, then duplicates
        case = results[needing_tick]
        assert case.outcome.value == "skipped", case.message
        assert case.message.startswith("not supported by the adapter: no tick operation")
        assert f"{HOOK}/tick answered 404" in case.message
    assert adapter.asked == ["tick"]  # the second scenario did not ask again
    operations = bundle.info.meta["adapter operations"]
    assert operations == "submit, recover, restart (tick tried: not supported)"


def test_an_unannounced_restart_refused_is_skipped_as_not_supported(tmp_path: Path) -> None:
    outcomes = _outcomes(_adapter("restart", announced=False), ["CERT-REC-02"], tmp_path)
    outcome, message = outcomes["CERT-REC-02"]
    assert outcome == "skipped", message
    assert message.startswith("not supported by the adapter: no restart operation")
    assert f"{HOOK}/restart answered 404" in message


def test_an_announced_tick_refused_is_still_the_adapters_error(tmp_path: Path) -> None:
    outcomes = _outcomes(_adapter("tick", announced=True), ["CERT-MSG-01"], tmp_path)
    outcome, message = outcomes["CERT-MSG-01"]
    assert outcome == "error" and "the adapter failed:" in message, message
