"""Which cases a catalog gives nothing to exercise in which procedure, so a certification
leaves them out there rather than skipping them (a skip makes a run INCOMPLETE).

BHXH lists a defective row in a 03/TB-TS only for a form with a result rule: a procedure
added as data without one has no such result to relay, and no I-VAN can meet CERT-RES-01
on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.certification.jobs import JobBuilder
from harness.certification.suite import (
    HANDOVER_DEFECTS,
    RESULT_DEFECTIVE,
    CaseSpec,
    ScenarioSpec,
    Suite,
    resolve,
)


def not_applicable(
    scenario: ScenarioSpec, procedure: str, builder: JobBuilder, settings: dict[str, Any]
) -> str | None:
    """Why ``scenario`` cannot apply to ``procedure``, by the catalog's own content (None:
    it applies): it hands over a dossier whose 03/TB-TS lists a defective row, and no result
    defect of the suite applies to the procedure's forms (they have no result rule). BHXH
    then never lists a row for that procedure, so no I-VAN can meet the case there."""
    setting = HANDOVER_DEFECTS[RESULT_DEFECTIVE]
    for kind, args in scenario.steps:
        if kind != "handover" or resolve(args, settings).get("kind") != RESULT_DEFECTIVE:
            continue
        candidates = settings[setting]
        if builder.first_applying(procedure, candidates) is None:
            return (
                f"BHXH lists no defective row for procedure {procedure}: none of the result "
                f"defects {', '.join(candidates)} ({setting}) applies to its forms"
            )
    return None


def left_out_pairs(
    suite: Suite, scenarios: Sequence[str], procedures: Sequence[str], builder: JobBuilder
) -> dict[tuple[str, str], str]:
    """The (scenario, procedure) pairs the catalog's content leaves nothing to exercise in,
    with why (:func:`not_applicable`). A scenario that applies to none of ``procedures``
    keeps them all: its cases then run into the same reason and are skipped, since the case
    itself was never exercised and the run certifies nothing of it."""
    left: dict[tuple[str, str], str] = {}
    settings = suite.resolved  # derived on every read: once for the whole plan
    for name in scenarios:
        why = {p: not_applicable(suite.scenarios[name], p, builder, settings) for p in procedures}
        reasons = {p: r for p, r in why.items() if r is not None}
        if len(reasons) < len(procedures):
            left |= {(name, p): r for p, r in reasons.items()}
    return left


def left_out_note(left: dict[tuple[str, str], str], cases: Sequence[CaseSpec]) -> str:
    """``CERT-RES-01@604: why`` for each case left out, ``; ``-separated, for the report."""
    return "; ".join(
        f"{c.id}@{procedure}: {why}"
        for (name, procedure), why in left.items()
        for c in cases
        if c.scenario == name
    )


__all__ = ["left_out_note", "left_out_pairs", "not_applicable"]
