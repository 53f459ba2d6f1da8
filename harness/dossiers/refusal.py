"""What ``catalog check`` and ``serve`` find wrong with a catalog: a :class:`Refusal`
(where, the problem, what to fix), its kind, and an exception said as one.

Every check of the smoke run (:mod:`.smoke`) answers in refusals, so they are grouped and
worded in one place (:mod:`.refusal_report`); a kind in :data:`WARNINGS` only warns.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import UsageError

FIX_DATA = "fix the catalog data it names, then run `bhxh-harness catalog check` again"
"""The hint of a problem whose error gives none."""

BUILD, REFUSED, FAILS, VALUE, DEFECT = "build", "refused", "fails", "value", "defect"
AGREE, DEFECTS_FILE, UNUSED = "agree", "defects-file", "unused"
CHOICE, ORPHAN = "choice", "orphan"
UNJUDGED, UNEXERCISED, UNDATED, UNTESTED = "unjudged", "unexercised", "undated", "untested"
WARNINGS = frozenset({UNJUDGED, UNEXERCISED, UNDATED, UNTESTED})
"""The kinds that only warn: ``catalog check`` prints them and passes."""
HEADERS = {
    BUILD: "the dossier factory cannot build its valid dossiers",
    REFUSED: "the dossier factory's valid dossiers are refused",
    FAILS: "checking the factory's dossiers fails",
    VALUE: "fields.yaml gives values the XSDs refuse",
    CHOICE: "fields.yaml gives values the rules refuse",
    DEFECT: "defective dossiers do not get the codes defects.yaml expects",
    DEFECTS_FILE: "fixtures/dossiers/defects.yaml cannot be read",
    UNUSED: "defects.yaml names defects no catalog version can build",
    AGREE: "catalog.yaml's agrees_with_forms names paths no valid dossier has",
    ORPHAN: "catalog.yaml lists forms no procedure takes",
    UNJUDGED: "shared data is not judged",
    UNEXERCISED: "the dossier factory never writes an element a form version adds",
    UNDATED: "no rule checks that a date is a real one",
    UNTESTED: "no named defect breaks a rule code the version adds",
}
"""What each kind of refusal says of the catalog, in the order they are named."""


@dataclass(frozen=True)
class Refusal:
    """Why the factory's valid dossier of a procedure (or, for a value of ``fields.yaml``,
    of none in particular: "") was refused, and what to fix. ``kind``: one of
    :data:`HEADERS`; ``gateway``: the gateway itself is at fault (it would answer 500,
    or refuse every dossier), not possibly the factory's data."""

    procedure: str
    where: str
    problem: str
    hint: str
    kind: str = REFUSED
    gateway: bool = False
    same: str = ""
    """Refusals with the same ``same`` (and place and hint) are one problem met in several
    rows, whatever values their texts quote; "" compares the texts, rows left out."""


def said(exc: Exception) -> tuple[str, str]:
    """An exception as (problem, hint): a :class:`UsageError` says both (a CatalogError names
    the file at fault); anything else is named by its type."""
    if isinstance(exc, UsageError):
        return exc.problem, exc.hint or FIX_DATA
    return f"{type(exc).__name__}: {exc}", FIX_DATA


def unbuilt(procedure: str, where: str, exc: Exception, *, kind: str = BUILD) -> Refusal:
    """The factory could not build a dossier: its data (``fields.yaml``) or its code."""
    problem, hint = said(exc)
    return Refusal(procedure, where, f"cannot build it: {problem}", hint, kind)


def failed(procedure: str, where: str, exc: Exception) -> Refusal:
    """Checking a built dossier raised: a rule failing when run (named by its file), or a
    gateway bug; either way the gateway would answer 500."""
    problem, hint = said(exc)
    return Refusal(procedure, where, problem, hint, FAILS, gateway=True)


__all__ = [
    "AGREE",
    "BUILD",
    "CHOICE",
    "DEFECT",
    "DEFECTS_FILE",
    "FAILS",
    "FIX_DATA",
    "HEADERS",
    "ORPHAN",
    "REFUSED",
    "UNDATED",
    "UNEXERCISED",
    "UNJUDGED",
    "UNTESTED",
    "UNUSED",
    "VALUE",
    "WARNINGS",
    "Refusal",
    "failed",
    "said",
    "unbuilt",
]
