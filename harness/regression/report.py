"""A regression run as a report bundle (JUnit, JSON, self-contained HTML, manifest).

Cases are ``REG-<kind>@<procedure>``: one per difference kind and procedure (plus
``REG-catalog-impact``), so the HTML matrix is the per-procedure table and each failed
cell's evidence lists its differences as expected (baseline) versus actual (candidate),
grouped by form version. Intended differences pass, with the declared reason as message.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from harness.message_kinds import RESULT
from harness.paths import reports_dir
from harness.regression.compare import (
    KINDS,
    NEW_CATALOG_KINDS,
    NEW_CATALOG_REJECTED,
    NEW_CATALOG_UNEXPECTED,
    Difference,
)
from harness.regression.expectations import CatalogImpact, form_versions
from harness.regression.new_catalogs import NewCatalogRun, unexercised
from harness.regression.result import RegressionResult
from harness.reporting import CaseResult, Outcome, ReportBundle, RunInfo
from harness.reporting.events import SHOW_EVIDENCE

REQUIREMENT = (
    "DESIGN.md Suites/Regression: replayed against the candidate, the corpus must give the "
    "baseline's normalised outcome (status, codes, XPaths, messages) and latency"
)
NEW_CATALOG_REQUIREMENT = (
    "a catalog version the candidate serves newer than the baseline's: every dossier the "
    "factory builds valid for it (one per procedure and per accepted form version) is "
    "accepted, and every named defect applying to its procedures is refused with its code"
)
_EVIDENCE_MAX = 40
STATIC = "static"
"""The group the static hostile files are timed and reported in (they have no procedure)."""
INTENDED_SHOWN = "each intended difference beside the reason its expectation gives"
"""Why a cell passed with intended differences shows them (:data:`SHOW_EVIDENCE`): a
reviewer sees what the expectations file excused, not a plain pass."""


def _evidence(
    differences: list[Difference], reasons: dict[int, str], causes: dict[str, str] | None = None
) -> dict[str, str]:
    """Differences grouped by form version: ``dossier field: expected -> actual``, with
    what a difference may come from other than the release (``causes``, by dossier)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for d in differences:
        key = ", ".join(form_versions(d.forms)) or "(all forms)"
        line = (
            f"{d.dossier or d.procedure} {d.field}\n"
            f"  expected: {d.expected}\n  actual:   {d.actual}"
        )
        if id(d) in reasons:
            line += f"\n  intended: {reasons[id(d)]}"
        if d.dossier in (causes or {}):
            line += f"\n  note: {(causes or {})[d.dossier]}"
        groups[key].append(line)
    evidence = {}
    for key, lines in sorted(groups.items()):
        shown = lines[:_EVIDENCE_MAX]
        more = len(lines) - len(shown)
        evidence[f"form version {key}"] = "\n".join(shown) + (f"\n… {more} more" if more else "")
    return evidence


def report_bundle(
    result: RegressionResult, out: Path | None = None, *, reproduce: str = ""
) -> ReportBundle:
    """One case per (difference kind, procedure); passed when nothing unintended differs."""
    info = RunInfo(
        run_id=result.run_id,
        suite="regression",
        title=f"Regression {result.target} vs baseline {result.baseline.name}",
        started_at=result.started_at.isoformat(timespec="seconds"),
        meta={
            "baseline": result.baseline.name,
            "baseline_gateway": result.baseline.gateway,
            "candidate": result.target,
            "catalog": result.baseline.recipe.catalog,
            "seeds": " ".join(map(str, result.baseline.recipe.seeds)),
            "dossiers": len(result.corpus),
            "baseline_catalogs": " ".join(result.baseline.catalogs),
            "candidate_catalogs": " ".join(result.run.catalogs),
            "elapsed_s": round(result.run.elapsed, 2),
            "unintended": len(result.unintended),
            "intended": len(result.intended),
            "notes": " | ".join(result.notes),
            "unused_expectations": " | ".join(e.describe() for e in result.unused),
            "transport": transport_line(result),
            **_new_catalog_meta(result),
        },
    )
    bundle = ReportBundle(info, (out or reports_dir()) / result.run_id)
    reasons = {id(d): reason for d, reason in result.intended}
    by_cell: dict[tuple[str, str], list[Difference]] = defaultdict(list)
    newer = {id(d) for new in result.new_catalogs for d in new.differences}
    for d in result.differences:
        if d.kind not in NEW_CATALOG_KINDS and id(d) not in newer:  # its catalog's case, below
            by_cell[(d.kind, d.procedure)].append(d)
    # every difference has its cell, ``all`` (the whole gateway) included: the bundle's
    # verdict must be the terminal's
    procedures = sorted({e.procedure or "static" for e in result.corpus} | {p for _, p in by_cell})
    kinds = [*KINDS, *sorted({k for k, _ in by_cell} - set(KINDS))]
    for kind in kinds:
        for procedure in procedures:
            found = by_cell.get((kind, procedure), [])
            failing = [d for d in found if id(d) not in reasons]
            unjudged = result.unjudged.get((kind, procedure), "")
            message = (
                f"{len(failing)} unintended {kind} difference(s)"
                if failing
                else "; ".join(sorted({reasons[id(d)] for d in found}))
                if found
                else unjudged
            )
            outcome = Outcome.FAILED if failing else Outcome.PASSED
            if not found and unjudged:
                outcome = Outcome.SKIPPED
            evidence = _evidence(found, reasons, result.causes)
            if found and not failing:  # every difference intended: shown with its reason
                evidence[SHOW_EVIDENCE] = INTENDED_SHOWN
            bundle.add(
                CaseResult(
                    case_id=f"REG-{kind}@{procedure}",
                    title=f"{kind} in procedure {procedure}",
                    outcome=outcome,
                    procedure=procedure,
                    requirement=REQUIREMENT,
                    message=message,
                    evidence=evidence,
                    reproduce=reproduce,
                )
            )
    if result.intended or result.unused:
        bundle.add(_expectations_case(result, reproduce))
    for new in result.new_catalogs:
        bundle.add(_new_catalog_case(new, reasons, reproduce))
    for version in result.unexercised:
        bundle.add(_unexercised_case(version, reproduce))
    if result.impact is not None:
        bundle.add(_impact_case(result.impact, reasons, reproduce))
    return bundle


def _impact_message(impact: CatalogImpact) -> str:
    """What REG-catalog-impact found, in one line (the HTML shows it for a passed case too)."""
    if not impact.broken:
        return "no previously valid dossier of an unchanged procedure fails"
    old = sorted({d.dossier for d in impact.broken if d.kind != NEW_CATALOG_REJECTED})
    new = sorted({d.dossier for d in impact.broken if d.kind == NEW_CATALOG_REJECTED})
    told = []
    if old:
        told.append(
            f"{len(old)} previously valid dossier(s) of unchanged procedures now fail: "
            + ", ".join(old)
        )
    if new:
        told.append(
            f"{len(new)} valid dossier(s) of unchanged procedures, built for catalog "
            f"{impact.diff.new_version}, are refused: {', '.join(new)}"
        )
    return "; ".join(told)


def _impact_case(impact: CatalogImpact, reasons: dict[int, str], reproduce: str) -> CaseResult:
    """Unchanged procedures whose valid dossiers the newer catalog's candidate refuses."""
    broken = [d for d in impact.broken if id(d) not in reasons]
    old, new = impact.diff.old_version, impact.diff.new_version
    return CaseResult(
        case_id="REG-catalog-impact",
        title=f"catalog {old} -> {new}: previously valid dossiers of unchanged procedures",
        outcome=Outcome.FAILED if broken else Outcome.PASSED,
        requirement="DESIGN.md: a new catalog version must not break unchanged procedures",
        message=_impact_message(impact),
        evidence={
            "changed procedures": " ".join(impact.changed) or "(none)",
            "unchanged procedures": " ".join(impact.unchanged) or "(none)",
            f"catalog changes {old} -> {new} (this harness's fixtures/catalog)": "\n".join(
                f"[{c.tag}] {c.kind} {c.subject}: {c.detail}" for c in impact.diff.changes
            ),
            **_evidence(list(impact.broken), {}),
        },
        reproduce=reproduce,
    )


def _new_catalog_case(new: NewCatalogRun, reasons: dict[int, str], reproduce: str) -> CaseResult:
    """A newer catalog's dossiers: each valid one accepted, each defective one refused with
    its code (else code, XPath, message); its evidence is shown even when it passes, since
    what the new catalog brought and how each dossier was answered is the point of it."""
    failing = [d for d in new.differences if id(d) not in reasons]
    evidence = {
        f"what catalog {new.version} brings (catalog diff {new.baseline_version} -> "
        f"{new.version}, this harness's fixtures)": "\n".join(
            f"[{c.tag}] {c.kind} {c.subject}: {c.detail}" for c in new.diff.changes
        )
        or "(no change)",
        **new.lines(),
    }
    intended = sorted({reasons[id(d)] for d in new.differences if id(d) in reasons})
    if intended:
        evidence["intended differences"] = "\n".join(intended)
    if not failing:
        evidence[SHOW_EVIDENCE] = "what the newer catalog brought and how each dossier was answered"
    return CaseResult(
        case_id=f"REG-new-catalog@{new.version}",
        title=f"catalog {new.version}, newer than the baseline's {new.baseline_version}: "
        "the candidate accepts its valid dossiers and refuses its defective ones as expected",
        outcome=Outcome.FAILED if failing else Outcome.PASSED,
        # its column in "Cases by procedure": the case judges every procedure of the version
        # at once, so one cell per procedure would count it twice; the label says which
        procedure=f"catalog {new.version}: {new.procedures()}",
        requirement=NEW_CATALOG_REQUIREMENT,
        message=new.summary() + _failing(failing),
        evidence=evidence,
        reproduce=reproduce,
    )


_OTHER_FAULTS = {
    "unavailable": "unintended unavailable answer(s)",
    "missing-message": f"unintended missing {RESULT}(s)",
    "changed-message": "unintended acknowledgement failure(s)",
}
"""What a newer catalog's replay finds besides its own kinds, as its case's message says it."""


def _failing(failing: list[Difference]) -> str:
    """``; 1 unintended refusal(s); 2 defective dossier(s) answered otherwise``; then the
    unavailable answers, missing 03/TB-TS and acknowledgements answered with an error."""
    refused = sum(d.kind == NEW_CATALOG_REJECTED for d in failing)
    otherwise = sum(d.kind == NEW_CATALOG_UNEXPECTED for d in failing)
    told = [f"{refused} unintended refusal(s)"] * bool(refused)
    told += [f"{otherwise} defective dossier(s) answered otherwise, unintended"] * bool(otherwise)
    others = Counter(d.kind for d in failing if d.kind not in NEW_CATALOG_KINDS)
    told += [
        f"{others[kind]} {_OTHER_FAULTS.get(kind, f'unintended {kind} difference(s)')}"
        for kind in [*_OTHER_FAULTS, *sorted(set(others) - set(_OTHER_FAULTS))]
        if others[kind]
    ]
    return "".join(f"; {t}" for t in told)


def _unexercised_case(version: str, reproduce: str) -> CaseResult:
    """A newly served version this harness cannot build dossiers for: said, not hidden."""
    return CaseResult(
        case_id=f"REG-new-catalog@{version}",
        title=f"catalog {version}, newly served by the candidate",
        outcome=Outcome.SKIPPED,
        requirement=NEW_CATALOG_REQUIREMENT,
        message=unexercised(version),
        reproduce=reproduce,
    )


def _new_catalog_meta(result: RegressionResult) -> dict[str, str]:
    """The newer catalogs and the catalog impact in the report's header, which the HTML
    shows whatever the cases' outcomes (a case's evidence only when it failed or asks to be
    shown: ``SHOW_EVIDENCE``)."""
    meta = {}
    if result.new_catalogs:
        meta["new_catalogs"] = " | ".join(new.summary() for new in result.new_catalogs)
    if result.unexercised:
        meta["new_catalogs_not_exercised"] = " | ".join(map(unexercised, result.unexercised))
    if result.new_catalogs and result.impact is not None:
        impact = result.impact
        meta["catalog_impact"] = (
            f"{impact.diff.old_version} -> {impact.diff.new_version}: changed "
            f"{' '.join(impact.changed) or '(none)'}; unchanged "
            f"{' '.join(impact.unchanged) or '(none)'}; {_impact_message(impact)}"
        )
    return meta


def transport_line(result: RegressionResult) -> str:
    """``3 retries, 1 connection resets, 4.2 s backing off`` (what the retries hid, the
    newer catalogs' replays included)."""
    stats = result.transport
    return stats.summary() if stats is not None else ""


def _expectations_case(result: RegressionResult, reproduce: str) -> CaseResult:
    """What the expectations file excused, and which of its entries matched nothing."""
    excused: dict[str, list[Difference]] = defaultdict(list)
    for d, reason in result.intended:
        excused[reason].append(d)
    intended = [
        f"{reason}: {len(found)} difference(s), "
        + ", ".join(sorted({f"{d.kind}@{d.procedure}" for d in found}))
        for reason, found in sorted(excused.items())
    ]
    evidence = {"intended": "\n".join(intended) or "(none)"}
    if result.unused:
        evidence["unused (matched nothing)"] = "\n".join(e.describe() for e in result.unused)
    evidence[SHOW_EVIDENCE] = "what the expectations file excused, and what matched nothing"
    return CaseResult(
        case_id="REG-expectations",
        title="declared intended changes: what they excused, and what matched nothing",
        outcome=Outcome.PASSED,
        requirement="an expectations file declares only changes that happen",
        message=f"{len(result.intended)} intended difference(s); "
        f"{len(result.unused)} expectation(s) matched nothing",
        evidence=evidence,
        reproduce=reproduce,
    )


def summary_lines(result: RegressionResult) -> list[str]:
    """Under the verdict: each unintended kind with an example, what was excused, what
    was not judged, and what the transport went through."""
    lines = []
    groups: dict[str, list[Difference]] = {}
    for d in result.unintended:
        groups.setdefault(d.kind, []).append(d)
    for kind, found in sorted(groups.items()):
        procedures = ", ".join(dict.fromkeys(d.procedure for d in found))
        lines.append(f"{kind} x{len(found)} in {procedures}; e.g. {_example(found[0])}")
    lines += [new.summary() for new in result.new_catalogs]
    lines += [unexercised(version) for version in result.unexercised]
    if result.impact is not None and result.impact.broken:
        broken = sorted({d.dossier for d in result.impact.broken})
        lines.append(
            f"catalog {result.impact.diff.old_version} -> {result.impact.diff.new_version} "
            f"broke unchanged procedures: {', '.join(broken)}"
        )
    excused: dict[str, int] = {}
    for _d, reason in result.intended:
        excused[reason] = excused.get(reason, 0) + 1
    lines += [f"intended x{count}: {reason}" for reason, count in sorted(excused.items())]
    lines += [f"unused expectation (matched nothing): {e.describe()}" for e in result.unused]
    lines += _unjudged(result.unjudged)
    transport = transport_line(result)
    if result.transport is not None and result.transport.retries:
        lines.append(f"transport: {transport}")
    lines += [f"note: {note}" for note in result.notes]
    return lines


def _unjudged(unjudged: dict[tuple[str, str], str]) -> list[str]:
    """``latency-p95 not judged in 7 procedure(s): ...`` once per kind, not per cell, and
    once for kinds not judged in the same procedures for the same reason."""
    by_kind: dict[str, list[str]] = {}
    for (kind, procedure), _why in sorted(unjudged.items()):
        by_kind.setdefault(kind, []).append(procedure)
    same: dict[tuple[tuple[str, ...], str], list[str]] = {}
    for kind, procedures in by_kind.items():
        why = unjudged[(kind, procedures[0])].removeprefix("not judged: ")
        same.setdefault((tuple(procedures), why), []).append(kind)
    return [
        f"{', '.join(kinds)} not judged in {_where(procedures)}: {why}"
        for (procedures, why), kinds in same.items()
    ]


def _where(procedures: tuple[str, ...]) -> str:
    """``7 procedure(s) (600, ...) and the static files``: the static hostile files are
    timed as a group of their own, not a procedure."""
    named = [p for p in procedures if p != STATIC]
    told = [f"{len(named)} procedure(s) ({', '.join(named)})"] if named else []
    told += ["the static files"] if STATIC in procedures else []
    return " and ".join(told)


def _example(d: Difference) -> str:
    """``600/impossible-date MA_LOI: RULE-105 -> RULE-150``: where, what, before and after."""
    where = " ".join(part for part in (d.dossier or d.procedure, d.field) if part)
    change = f"{d.expected or '(none)'} -> {d.actual or '(none)'}"
    return f"{where}: {change}" if d.expected or d.actual else where


__all__ = ["REQUIREMENT", "SHOW_EVIDENCE", "report_bundle", "summary_lines", "transport_line"]
