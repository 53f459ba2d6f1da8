"""A certification's verdict: a run with a skipped case did not certify anything it skipped.

The report bundle's verdict ignores skipped cases (right for suites where a skip is a
choice); an I-VAN is certified only when every case ran, so a run that passed what it ran
but skipped a case is INCOMPLETE, with its own exit code.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.reporting import CaseResult, Outcome, ReportBundle

INCOMPLETE = "incomplete"
SCOPE_KEY = "scope"
"""The run's meta key (and results.json field) saying whether it ran the whole suite."""
NOT_APPLICABLE_KEY = "not applicable"
"""The run's meta key naming the cases left out of a procedure the catalog gives them
nothing to exercise in, each with why: not run, so not skipped, and no verdict's concern."""
EXIT_CODES = {"passed": 0, "failed": 1, "error": 1, INCOMPLETE: 3}
"""``certify`` exit codes by verdict (2 is a usage problem, before any case)."""


def certification_verdict(bundle: ReportBundle) -> str:
    """``passed`` only when every case ran and passed; ``failed``/``error`` as the bundle's;
    ``incomplete`` when the rest passed but a case was skipped (or nothing ran)."""
    worst = bundle.verdict
    if worst in (Outcome.FAILED, Outcome.ERROR):
        return worst.value
    if any(c.outcome is Outcome.SKIPPED for c in bundle.cases) or not bundle.cases:
        return INCOMPLETE
    return worst.value


def scope_left_out(
    every_case: list[str], cases: list[str], every_procedure: list[str], procedures: list[str]
) -> dict[str, list[str]]:
    """The cases and procedures a run narrowed away (empty: the whole suite ran), so its
    verdict is not read as the I-VAN's certification."""
    left = {
        "cases": [c for c in every_case if c not in cases],
        "procedures": [p for p in every_procedure if p not in procedures],
    }
    return {k: v for k, v in left.items() if v}


def scope_note(left_out: dict[str, list[str]], cases: int, procedures: int) -> str:
    """What a partial run ran, for the terminal, index.html and junit.xml's properties."""
    ran = [f"{cases} of {cases + len(left_out.get('cases', []))} cases"]
    ran += [f"{procedures} of {procedures + len(left_out.get('procedures', []))} procedures"]
    return f"partial run ({' and '.join(ran)}): not a certification of the I-VAN"


_FINDING = re.compile(
    r"^(?P<where>[^\n]*?): (?P<code>[A-Z]+-\d+) at (?P<xpath>\S+): "
    r"(?P<text>[^\n]*?)(?: / [^\n]*)?$",
    re.MULTILINE,
)
"""A line of a check's ``findings`` evidence: ``where: CODE at XPATH: English / Vietnamese``."""


def with_first_finding(case: CaseResult) -> CaseResult:
    """A failed case whose headline names only codes ("1 signature problem(s): SIG-009")
    also says the first finding's text and XPath: the terminal and junit.xml show only it."""
    found = _FINDING.search(case.evidence.get("findings", ""))
    if case.outcome is not Outcome.FAILED or found is None:
        return case
    code, xpath = found["code"], found["xpath"]
    if code not in case.message or xpath in case.message:
        return case
    detail = f"{code} {found['text'].rstrip('.')} at {xpath} (in {found['where']})"
    message = case.message.rstrip()
    if message.endswith(f": {code}"):  # the only code: say it once, with its meaning
        return replace(case, message=message[: -len(code)] + detail)
    return replace(case, message=f"{message}; first: {detail}")


@dataclass
class CertificationBundle(ReportBundle):
    """A report bundle whose results.json and index.html state the certification verdict,
    and that lists the selected cases a stopped run never ran as skipped."""

    planned: list[CaseResult] = field(default_factory=list)
    """Every selected case (per procedure) as a skipped placeholder, in the order planned."""
    unrun: int = field(default=0, init=False, repr=False)
    left_out: dict[str, list[str]] = field(default_factory=dict)
    """The suite's cases and the catalog's procedures this run did not select."""

    def to_dict(self) -> dict[str, Any]:
        scope = {SCOPE_KEY: "partial", "left_out": self.left_out} if self.left_out else {}
        return {
            **super().to_dict(),
            "verdict": certification_verdict(self),
            SCOPE_KEY: "full",
            **scope,
        }

    def skip_unrun(self, reason: str) -> int:
        """Add the planned cases that have no result, skipped for ``reason``; how many."""
        done = {c.case_id for c in self.cases}
        unrun = [replace(c, message=reason) for c in self.planned if c.case_id not in done]
        self.cases.extend(unrun)
        self.unrun += len(unrun)
        return len(unrun)

    def write_interrupted(self, signum: int) -> Path | None:
        """As for any bundle, with the cases Ctrl-C or SIGTERM kept from running listed as
        skipped: ``certify --help`` and the guide promise a stopped run reports them."""
        name = signal.Signals(signum).name
        self.skip_unrun(f"not run: stopped by {name} before it ran")
        return super().write_interrupted(signum)

    def _interruption(self, verdict_so_far: str) -> dict[str, Any]:
        """The base message counts every case as finished; the skipped ones did not run."""
        stop = super()._interruption(verdict_so_far)
        if self.unrun:
            ran = len(self.cases) - self.unrun
            stop["message"] = (
                f"stopped by {stop['signal']} after {ran} case(s): this report holds the cases "
                f"that finished, the {self.unrun} others as skipped, and no verdict"
            )
        return stop


__all__ = [
    "EXIT_CODES",
    "INCOMPLETE",
    "NOT_APPLICABLE_KEY",
    "SCOPE_KEY",
    "CertificationBundle",
    "certification_verdict",
    "scope_left_out",
    "scope_note",
    "with_first_finding",
]
