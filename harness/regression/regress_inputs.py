"""What ``regress`` says of its inputs before anything is sent: a baseline that does not
exist (refused, with how to record it), dossiers today's fixtures build differently or the
baseline holds no outcome for, and an expectations file that declares nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.dossiers.corpus import CorpusEntry
from harness.errors import UsageError
from harness.regression.baseline import Baseline, baseline_path
from harness.regression.expectations import Expectation
from harness.regression.fingerprint import rebuilt_differently


def refuse_unrecorded(name: str, root: Path | None) -> None:
    """No baseline ``name`` at all: say how to record it where this run looks for it (with
    ``--root`` when one was given: without it ``record`` writes under fixtures/baselines)."""
    folder = baseline_path(name, root)
    if folder.exists():
        return  # load_baseline judges what it holds
    known = sorted(p.parent.name for p in folder.parent.glob("*/meta.json"))
    where = "" if root is None else f" --root {folder.parent}"
    raise UsageError(
        f"no baseline {name!r} under {folder.parent}",
        hint=f"record one against the known-good gateway with `bhxh-harness record --name "
        f"{name}{where} --gateway URL ...`; known: {', '.join(known) or '(none)'}",
    )


def rebuilt_note(
    base: Baseline, corpus: Sequence[CorpusEntry], root: Path | None = None
) -> list[str]:
    """A note naming the dossiers today's fixtures build differently than the recorded
    ones: their differences may be the data's, not the gateway's."""
    if not base.content:
        where = "" if root is None else f" --root {root}"
        return [
            f"baseline {base.name} predates content digests, so a change of the fixtures since "
            "it was recorded cannot be told from a change of the gateway; re-record it against "
            f"the known-good gateway (bhxh-harness record --name {base.name} --force{where} "
            f"--catalog {base.recipe.catalog} ...)"
        ]
    changed = rebuilt_differently(base.content, corpus)
    if not changed:
        return []
    shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
    return [
        f"{len(changed)} dossier(s) are built differently than when baseline {base.name} was "
        f"recorded ({shown}): the fixtures changed since (fields.yaml, reference tables, "
        f"defects or catalog {base.recipe.catalog}'s files), so their differences may not be "
        "the gateway's; re-record the baseline against the known-good gateway"
    ]


def unrecorded_note(base: Baseline, corpus: Sequence[CorpusEntry]) -> list[str]:
    """A note naming the dossiers of today's corpus the baseline holds no outcome for (the
    fixtures gained them since it was recorded): there is nothing to compare them with, so
    they are not judged, and a run that judged fewer than it replayed says so."""
    unrecorded = sorted(e.name for e in corpus if e.name not in base.outcomes)
    if not unrecorded:
        return []
    shown = ", ".join(unrecorded[:3])
    more = f" and {len(unrecorded) - 3} more" if len(unrecorded) > 3 else ""
    return [
        f"{len(unrecorded)} dossier(s) of today's corpus are not in baseline {base.name} "
        f"({shown}{more}): the fixtures gained them since it was recorded, so they were "
        "replayed but not judged; re-record the baseline against the known-good gateway to "
        "judge them"
    ]


def empty_expectations(path: Path | None, declared: list[Expectation]) -> list[str]:
    """A note when ``--expectations`` names a file that declares nothing: the run judges
    every difference unintended, which a user who meant to excuse some should hear of."""
    if path is None or declared:
        return []
    return [
        f"expectations file {path} declares no intended difference (it is empty, or its "
        "`expected` list is): every difference counts as unintended"
    ]


__all__ = ["empty_expectations", "rebuilt_note", "refuse_unrecorded", "unrecorded_note"]
