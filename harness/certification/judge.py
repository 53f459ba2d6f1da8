"""How one case of a scenario ends: its check's verdict on the scenario's observation.

A check passes (a note), fails (:class:`CaseFailed`, with evidence), is blocked (its
precondition never happened: ``blocked: ...``) or cannot run for want of an adapter
operation (``not supported by the adapter: ...``); a scenario that ended in an error
gives each of its cases that error, and a crashing check is an error, never a pass.
"""

from __future__ import annotations

import traceback
from dataclasses import replace

from harness.certification.evidence import evidence_for
from harness.certification.model import UNSUPPORTED, CaseBlocked, CaseFailed, CaseUnsupported
from harness.certification.observe import Observation
from harness.certification.suite import NEEDS, CaseSpec, Suite
from harness.reporting import CaseResult, Outcome


def _headline(error: str, skipped: bool) -> str:
    """The line of a scenario's error the terminal shows: a traceback says most in its last
    line, a harness error in its first (operation, exit code, last stderr line)."""
    lines = error.strip().splitlines() or ["(no detail)"]
    if skipped or len(lines) < 3:
        return " ".join(lines)[:500]
    return (lines[-1] if lines[0].startswith("Traceback") else lines[0])[:500]


def _lacks(operations: list[str], obs: Observation) -> str:
    """Why a case needing ``operations`` the adapter lacks was skipped, and how to add them."""
    reasons = "; ".join(f"no {op} operation: {NEEDS[op]}" for op in operations)
    hints = [obs.how_to_add[op] for op in operations if obs.how_to_add.get(op)]
    return f"{UNSUPPORTED} {reasons}" + (f" ({'; '.join(hints)})" if hints else "")


def judge(case: CaseSpec, obs: Observation, suite: Suite, took: float, repro: str) -> CaseResult:
    """Run the case's check on the scenario's observation and turn the outcome into a result."""
    base = CaseResult(
        case_id=f"{case.id}@{obs.procedure}",
        title=case.title,
        outcome=Outcome.PASSED,
        procedure=obs.procedure,
        requirement=case.requirement,
        duration_s=took,
        reproduce=repro,
    )
    lacking = case.missing(obs.capabilities)
    if lacking:
        return replace(base, outcome=Outcome.SKIPPED, message=_lacks(lacking, obs))
    if obs.error:
        skipped = obs.error.startswith("skipped:")
        outcome = Outcome.SKIPPED if skipped else Outcome.ERROR
        message = _headline(obs.error, skipped)
        return replace(base, outcome=outcome, message=message, evidence={"error": obs.error})
    try:
        note = suite.checks[case.check](obs)
    except CaseFailed as exc:
        evidence = evidence_for(obs, exc.evidence)
        return replace(base, outcome=Outcome.FAILED, message=exc.message, evidence=evidence)
    except CaseUnsupported as exc:
        return replace(base, outcome=Outcome.SKIPPED, message=f"{UNSUPPORTED} {exc}")
    except CaseBlocked as exc:
        return replace(base, outcome=Outcome.SKIPPED, message=f"blocked: {exc}")
    except Exception as exc:  # a check bug must show up, not hide as a pass or a fail
        evidence = {"traceback": "".join(traceback.format_exception(exc))[-4000:]}
        message = f"the check crashed: {exc!r}"
        return replace(base, outcome=Outcome.ERROR, message=message, evidence=evidence)
    return replace(base, message=str(note or ""))


__all__ = ["judge"]
