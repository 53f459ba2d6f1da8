"""Catalog versions the candidate serves that are newer than the baseline's: exercised.

The baseline's corpus is built for one catalog version, and a gateway judges a dossier by
the version in effect for its period, so a newly served version governs no dossier of the
corpus: a broken rule, procedure or form version in it would pass ``regress`` unseen.
After the corpus, the dossiers of each newer version this harness has on disk (built by
the same factory for the baseline's seeds, so dated in that version's period) are
replayed: each valid one (per procedure and per accepted form version) must be accepted,
and each named defect applying to the version's procedures refused with its code, since a
candidate accepting everything of a new procedure passes on valid dossiers alone. What the
corpus's replay holds against a candidate is held here alike: an acknowledgement answered
with an error, a dossier answered ``unavailable``, an accepted one whose 03/TB-TS never
came are differences; the replay's notes and transport count join the run's. A newer
version this harness does not have is said, never silently skipped.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.catalog import in_effect_order, list_versions, load_catalog
from harness.catalog.diff import CatalogDiff, diff_catalogs
from harness.dossiers.corpus import CorpusEntry
from harness.message_kinds import RESULT
from harness.regression.baseline import Baseline
from harness.regression.candidate_faults import meta_of, unacknowledged
from harness.regression.compare import (
    NEW_CATALOG_REJECTED,
    NEW_CATALOG_UNEXPECTED,
    Difference,
    answered,
    availability,
)
from harness.regression.corpus import CorpusRecipe, build_corpus
from harness.regression.expectations import form_versions
from harness.regression.normalise import Masks
from harness.regression.recording import has_result
from harness.regression.replay import GatewayTarget, Replay, replay
from harness.regression.transport import TransportStats
from harness.signing import TestPKI

_ADDED = {"procedure-added", "form-added", "form-version-added"}
_REMOVED = {"procedure-removed", "form-removed", "form-version-removed"}
_CURRENT_CHANGED = "form-current-changed"
_BREAKING_SHOWN = 3
"""Breaking changes named in the one-line summary; the report's case lists them all."""
AS_EXPECTED = "refused as expected"


@dataclass
class NewCatalogRun:
    """One newer catalog version's valid dossiers, replayed against the candidate."""

    version: str
    baseline_version: str
    """The baseline's newest catalog version, which ``diff`` starts from."""
    diff: CatalogDiff
    entries: list[CorpusEntry]
    """The version's valid dossiers (each must be accepted)."""
    outcomes: dict[str, dict[str, Any]]
    differences: list[Difference]
    defective: list[CorpusEntry] = field(default_factory=list)
    """The version's defective dossiers (each must be refused with its defect's codes)."""
    unacknowledged: dict[str, dict[str, str]] = field(default_factory=dict)
    """Dossier name -> message kind -> the answer refusing its acknowledgement (each one a
    ``changed-message`` difference, as in the corpus's replay)."""
    notes: list[str] = field(default_factory=list)
    """The replay's notes (feed polling stopped, catalogs unread), as the run's own."""
    waiting: int = 0
    """Accepted dossiers still awaiting their 03/TB-TS when feed polling stopped."""
    transport: TransportStats | None = None
    """The replay's retries and resets, added to the run's transport line."""

    @property
    def names(self) -> dict[str, str]:
        """Procedure code -> its name in this version (NFC): a new code alone tells nobody."""
        procedures = load_catalog(self.version).procedures
        return {code: unicodedata.normalize("NFC", p.name) for code, p in procedures.items()}

    def items(self) -> list[str]:
        """``+600o``, ``+D02-TS-490``, ``-D02-TS-595``: what the version adds and removes."""
        out = [f"+{c.subject}" for c in self.diff.changes if c.kind in _ADDED]
        return out + [f"-{c.subject}" for c in self.diff.changes if c.kind in _REMOVED]

    def named_items(self) -> list[str]:
        """:meth:`items`, an added procedure with its name: ``+605 (Đăng ký ...)``."""
        added = self.added()
        return [
            f"{item} ({self.names[item[1:]]})" if item[1:] in added and item[1:] in self.names
            else item
            for item in self.items()
        ]  # fmt: skip

    def added(self) -> set[str]:
        """The procedures this version adds (that the baseline's catalog lacks)."""
        return {c.subject for c in self.diff.changes if c.kind == "procedure-added"}

    def procedures(self) -> str:
        """``600 601 +605 630a``: the procedures replayed, those the version adds marked."""
        codes = sorted({e.procedure for e in [*self.entries, *self.defective]})
        return " ".join(f"+{p}" if p in self.added() else p for p in codes)

    def brought(self) -> str:
        """``+630a, -D02-TS-595; D02-TS: current version 595 -> 505; 2 breaking for
        senders: ...``: what a sender must know of the new version, in a few words."""
        told = [
            ", ".join(self.named_items()) or "no procedure, form or form version added or removed"
        ]
        told += [
            f"{c.subject}: {c.detail}" for c in self.diff.changes if c.kind == _CURRENT_CHANGED
        ]
        breaking = [f"{c.kind} {c.subject}" for c in self.diff.breaking]
        if breaking:
            more = len(breaking) - _BREAKING_SHOWN
            shown = ", ".join(breaking[:_BREAKING_SHOWN]) + (
                f" and {more} more" if more > 0 else ""
            )
            told.append(f"{len(breaking)} breaking for senders: {shown}")
        return "; ".join(told)

    def summary(self) -> str:
        """``candidate serves 2026.2 (newer than the baseline's 2026.1): +600o; 35 defective
        dossier(s) replayed: 35 refused as expected; 9 valid dossier(s) replayed: 9
        accepted``: the new catalog in one line (the valid count last, as before, then the
        lifecycle faults and acknowledgements answered with an error, if any)."""
        counts = Counter(_verdict(self.outcomes.get(e.name)) for e in self.entries)
        told = [f"{counts.pop('accepted', 0)} accepted"]
        told += [f"{n} {what}" for what, n in sorted(counts.items())]
        unfinished = sum(1 for e in self.entries if _without_result(self.outcomes.get(e.name)))
        if unfinished:
            told[0] += f" ({unfinished} without its {RESULT})"
        defective = ""
        if self.defective:
            found = Counter(self.defect_verdict(e) for e in self.defective)
            said = [f"{found.pop(AS_EXPECTED, 0)} {AS_EXPECTED}"]
            said += [f"{n} {what}" for what, n in sorted(found.items())]
            defective = f"{len(self.defective)} defective dossier(s) replayed: {', '.join(said)}; "
        refused = sum(len(kinds) for kinds in self.unacknowledged.values())
        acks = f"; {refused} acknowledgement(s) answered with an error" if refused else ""
        if self.waiting:
            acks += f"; {self.waiting} still waiting for {RESULT} when feed polling stopped"
        return (
            f"candidate serves {self.version} (newer than the baseline's "
            f"{self.baseline_version}): {self.brought()}; {defective}{len(self.entries)} valid "
            f"dossier(s) replayed: {', '.join(told)}{acks}"
        )

    def valid_accepted(self, procedure: str) -> bool:
        """Whether every valid dossier of ``procedure`` was accepted: a defective one
        refused for another reason is then a fault of its own, not the valid one's."""
        mine = [e for e in self.entries if e.procedure == procedure]
        return all(_verdict(self.outcomes.get(e.name)) == "accepted" for e in mine)

    def defect_verdict(self, entry: CorpusEntry) -> str:
        """``refused as expected``, ``answered otherwise``, ``unavailable``, ``not
        replayed``, or ``not judged`` (refused otherwise while a valid dossier of its
        procedure was refused too: the same fault, counted once as a refusal)."""
        outcome = self.outcomes.get(entry.name)
        verdict = _verdict(outcome)
        if outcome is None or verdict in ("not replayed", "unavailable"):
            return verdict
        if verdict == "refused" and set(entry.expected) <= set(outcome.get("codes") or ()):
            return AS_EXPECTED
        if verdict == "refused" and not self.valid_accepted(entry.procedure):
            return "not judged"
        return "answered otherwise"

    def lines(self) -> dict[str, str]:
        """Per procedure, each dossier with its form versions: accepted, or refused with
        code, XPath and message, a defective one with the codes it expects, and each
        acknowledgement answered with an error (the evidence of its ``REG-new-catalog``
        case)."""
        grouped: dict[str, list[str]] = {}
        for entry in self.entries:
            outcome = self.outcomes.get(entry.name)
            forms = ", ".join(form_versions(entry.forms))
            grouped.setdefault(entry.procedure, []).append(
                f"{entry.name} ({forms}): {_described(outcome, self.waiting)}"
                f"{self._refused_acks(entry)}"
            )
        for entry in self.defective:
            outcome = self.outcomes.get(entry.name)
            got = answered(outcome) if outcome else ""
            got = str(outcome["unavailable"]) if outcome and outcome.get("unavailable") else got
            grouped.setdefault(entry.procedure, []).append(
                f"{entry.name} (expects {' '.join(entry.expected)}): "
                f"{self.defect_verdict(entry)}{': ' + got if got else ''}"
                f"{self._refused_acks(entry)}"
            )
        return {f"procedure {p}": "\n".join(lines) for p, lines in sorted(grouped.items())}

    def _refused_acks(self, entry: CorpusEntry) -> str:
        """``; acknowledging its 02/TB-TS failed: POST ... answered 500 ...`` per message."""
        kinds = self.unacknowledged.get(entry.name, {})
        return "".join(
            f"; acknowledging its {kind} failed: {what}" for kind, what in sorted(kinds.items())
        )


def _verdict(outcome: dict[str, Any] | None) -> str:
    if outcome is None:
        return "not replayed"
    if outcome.get("unavailable"):
        return "unavailable"
    return "accepted" if outcome.get("accepted") else "refused"


def _without_result(outcome: dict[str, Any] | None) -> bool:
    """Accepted, and its 03/TB-TS never came (a ``missing-message`` difference)."""
    if outcome is None or outcome.get("unavailable") or not outcome.get("accepted"):
        return False
    return not has_result(outcome)


def _described(outcome: dict[str, Any] | None, waiting: int = 0) -> str:
    """``accepted, 03/TB-TS received`` or ``refused: 400 RULE-110 at XPATH: message``;
    with ``waiting``, one not received was still awaited when feed polling stopped."""
    verdict = _verdict(outcome)
    if outcome is None or verdict == "not replayed":
        return verdict
    if verdict == "unavailable":
        return f"unavailable ({outcome['unavailable']})"  # a difference, as in the corpus's
    if verdict == "refused":
        return f"refused: {answered(outcome)}"
    if not _without_result(outcome):
        return f"accepted, {RESULT} received"
    awaited = " (still awaited when feed polling stopped)" if waiting else ""
    return f"accepted, {RESULT} not received{awaited}"


def newest_of_baseline(base: Baseline) -> str:
    """The newest (by ``effective_from``) of the catalogs the baseline's gateway served
    and its corpus's own, among those this harness has."""
    return in_effect_order([*base.catalogs, base.recipe.catalog])[-1]


def newer_served(base: Baseline, served: Sequence[str]) -> tuple[list[str], list[str]]:
    """Served versions newer than the baseline's newest that this harness has (oldest
    first), and the newly served ones it does not have (their dates are unknown here)."""
    on_disk = list_versions()
    later = on_disk[on_disk.index(newest_of_baseline(base)) + 1 :]
    newer = in_effect_order(v for v in served if v in later)
    unknown = [v for v in served if v not in on_disk and v not in base.catalogs]
    return newer, unknown


def unexercised(version: str) -> str:
    """What a run says of a newly served version this harness does not have."""
    return (
        f"catalog {version} served by the candidate is not in this harness's fixtures: not "
        f"exercised (add fixtures/catalog/{version} to replay its valid dossiers)"
    )


def new_catalog_corpus(
    recipe: CorpusRecipe, version: str, pki: TestPKI, *, defects: bool = False
) -> list[CorpusEntry]:
    """The valid dossiers of ``version`` (with ``defects``, the ones its intake refuses too)
    for the baseline's seeds, procedures and I-VAN, named ``<version>/<dossier>``: a
    procedure the version adds is always in, one the baseline left out stays out. A dossier
    accepted with a result defect is left to the baseline's own corpus, where its 03/TB-TS
    is compared field by field."""
    wanted: tuple[str, ...] = ()
    if recipe.procedures:
        old = load_catalog(recipe.catalog).procedures
        new = load_catalog(version).procedures
        wanted = tuple(p for p in new if p in recipe.procedures or p not in old)
    valid = dataclasses.replace(
        recipe, catalog=version, static=False, quirks=False, procedures=wanted
    )
    return [
        dataclasses.replace(e, name=f"{version}/{e.name}")
        for e in build_corpus(valid, pki, defects=defects)
        if not e.result
    ]


def refusals(version: str, entries: Sequence[CorpusEntry], run: Replay) -> list[Difference]:
    """A ``new-catalog-rejected`` difference per valid dossier the candidate refused."""
    out = []
    for entry in entries:
        outcome = run.outcomes.get(entry.name)
        if outcome is None or outcome.get("accepted") or outcome.get("unavailable"):
            continue
        out.append(
            Difference(
                NEW_CATALOG_REJECTED, entry.procedure, entry.name, entry.forms,
                f"catalog {version}", f"accepted (valid for catalog {version})",
                answered(outcome),
            )
        )  # fmt: skip
    return out


def unexpected(version: str, new: NewCatalogRun) -> list[Difference]:
    """A ``new-catalog-unexpected`` difference per defective dossier answered otherwise
    than its defect expects (accepted, or refused for another reason)."""
    out = []
    for entry in new.defective:
        outcome = new.outcomes.get(entry.name)
        if outcome is None or new.defect_verdict(entry) != "answered otherwise":
            continue
        out.append(
            Difference(
                NEW_CATALOG_UNEXPECTED, entry.procedure, entry.name, entry.forms,
                f"catalog {version}",
                f"refused with {' '.join(entry.expected)} ({entry.defect} in catalog {version})",
                answered(outcome),
            )
        )  # fmt: skip
    return out


def unfinished(version: str, new: NewCatalogRun) -> list[Difference]:
    """What the corpus's replay finds of a dossier besides its verdict: ``unavailable`` (a
    valid or defective one the candidate gave no answer to), and a ``missing-message`` for
    an accepted valid one whose 03/TB-TS never came."""
    out = []
    for entry in [*new.entries, *new.defective]:
        outcome = new.outcomes.get(entry.name)
        if outcome is None:
            continue
        about = (entry.procedure, entry.name, entry.forms)
        if outcome.get("unavailable"):
            wanted = f"accepted (valid for catalog {version})"
            if entry.expected:
                wanted = f"refused with {' '.join(entry.expected)} ({entry.defect})"
            got = availability(outcome)
            out.append(Difference("unavailable", *about, "availability", wanted, got))
        elif not entry.expected and _without_result(outcome):
            out.append(Difference("missing-message", *about, RESULT, "present", "absent"))
    return out


def _progress(
    total: int, on_progress: Callable[[int, int], None] | None
) -> Callable[[int], None] | None:
    if on_progress is None:
        return None
    return lambda done: on_progress(done, total)


def replay_new_catalogs(
    target: GatewayTarget,
    base: Baseline,
    served: Sequence[str],
    masks: Masks,
    pki: TestPKI,
    *,
    max_backoff: float | None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[list[NewCatalogRun], list[str]]:
    """Replay each newer served version's valid and defective dossiers against ``target``;
    the runs (a refused acknowledgement, an ``unavailable`` answer, a missing 03/TB-TS each
    a difference of its run, as in the corpus's replay), and the newly served versions
    this harness does not have."""
    newer, unknown = newer_served(base, served)
    runs = []
    old = newest_of_baseline(base)
    for version in newer:
        entries = new_catalog_corpus(base.recipe, version, pki, defects=True)
        done = _progress(len(entries), on_progress)
        run = replay(target, entries, masks, on_progress=done, max_backoff=max_backoff)
        diff = diff_catalogs(load_catalog(old), load_catalog(version))
        valid = [e for e in entries if not e.expected]
        new = NewCatalogRun(
            version, old, diff, valid, run.outcomes, refusals(version, valid, run),
            defective=[e for e in entries if e.expected], unacknowledged=run.unacknowledged,
            notes=[f"catalog {version}'s dossiers: {n}" for n in run.notes],
            waiting=run.waiting, transport=run.transport,
        )  # fmt: skip
        new.differences += unexpected(version, new) + unfinished(version, new)
        new.differences += unacknowledged(run, meta_of(entries))
        runs.append(new)
    return runs, unknown


__all__ = [
    "AS_EXPECTED",
    "NEW_CATALOG_REJECTED",
    "NEW_CATALOG_UNEXPECTED",
    "NewCatalogRun",
    "new_catalog_corpus",
    "newer_served",
    "newest_of_baseline",
    "replay_new_catalogs",
    "unexercised",
    "unexpected",
    "unfinished",
]
