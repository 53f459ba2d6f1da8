"""``record`` and ``regress``: the regression suite's two entry points.

``record`` replays the corpus against a known-good gateway and stores a baseline;
``regress`` rebuilds the same corpus from the baseline's recipe, replays it against a
candidate, and reports every difference (minus those an expectations file declares).
The gateway is ``"inproc"`` (the mock gateway's core, optionally simulating a faulty
release) or any URL, reached with only its URL, an I-VAN token, an optional admin token
and a TLS option.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.catalog import in_effect_order, latest_version, list_versions, load_catalog
from harness.dossiers.corpus import CorpusEntry
from harness.errors import GatewayUnavailable, UsageError
from harness.identities import DEFAULT_IVAN_CODE
from harness.message_kinds import RESULT
from harness.paths import writable_folder
from harness.regression.baseline import (
    Baseline,
    baseline_path,
    file_sha256,
    latency_summary,
    load_baseline,
    percentile,
    save_baseline,
)
from harness.regression.compare import (
    Difference,
    LatencyThresholds,
    compare,
    compare_catalogs,
    compare_latency,
    unjudged_latency,
)
from harness.regression.corpus import CorpusRecipe, baselines_dir, build_corpus
from harness.regression.deployment import (
    causes,
    extra_catalogs_note,
    governed_elsewhere,
    latency_unjudged,
    latency_unjudged_note,
)
from harness.regression.expectations import (
    CatalogImpact,
    Expectation,
    apply_expectations,
    catalog_impact,
    load_expectations,
)
from harness.regression.fingerprint import corpus_digests, rebuilt_differently
from harness.regression.new_catalogs import NewCatalogRun, replay_new_catalogs
from harness.regression.normalise import Masks, load_masks, signature_notes
from harness.regression.preflight import base_url, check_gateway, probe_body, served_versions
from harness.regression.replay import GatewayTarget, Replay, replay, time_submissions
from harness.regression.transport import TransportStats
from harness.reporting import new_run_id
from harness.reporting.bundle import when_stopped
from harness.served_catalogs import ServedCatalogs
from harness.served_versions import check_serves, dossier_periods
from harness.signing import TestPKI, ensure_pki

Progress = Callable[[int, int], None]


@contextmanager
def open_target(
    gateway: str,
    *,
    token: str | None = None,
    admin_token: str | None = None,
    verify_tls: bool | str = True,
    release: str | None = None,
    catalogs: tuple[str, ...] = (),
    pki: TestPKI | None = None,
    poll_timeout: float = 300.0,
    poll_interval: float = 2.0,
    ivan: str = DEFAULT_IVAN_CODE,
    probe: bytes | None = None,
    ivan_hint: str = "",
    catalog_required: bool = True,
) -> Iterator[GatewayTarget]:
    """A :class:`GatewayTarget` for ``"inproc"`` (a fresh mock gateway) or a URL; a URL
    gateway is checked first (:func:`~harness.regression.preflight.check_gateway`), with
    ``probe`` (a dossier it must refuse) telling whether the token is ``ivan``'s (without
    ``catalog_required``, a catalog endpoint answering 500 does not stop the run)."""
    if gateway != "inproc":
        url = base_url(gateway)
        if not token:
            raise UsageError("a gateway URL needs an I-VAN token", hint="--token <bearer>")
        if release or catalogs:
            raise UsageError("--release and --serve-catalog only apply to --gateway inproc")
        target = GatewayTarget(
            url, token, admin_token, verify_tls, name=gateway,
            poll_timeout=poll_timeout, poll_interval=poll_interval,
        )  # fmt: skip
        check_gateway(
            target, ivan=ivan, probe=probe, ivan_hint=ivan_hint, catalog_required=catalog_required
        )
        yield target
        return
    from harness.regression._inproc import inproc_target  # the only mock_gateway import

    with inproc_target(release=release, catalogs=catalogs, pki=pki, ivan=ivan) as target:
        yield target


def _replay(
    gateway: str,
    recipe: CorpusRecipe,
    corpus: list[CorpusEntry],
    masks: Masks,
    pki: TestPKI,
    ivan_hint: str,
    on_progress: Progress | None,
    max_backoff: float | None,
    target_options: dict[str, Any],
    on_stop: Callable[[Replay], None] | None = None,
    after: Callable[[GatewayTarget, Replay], None] | None = None,
) -> Replay:
    """Open the target (checking a URL gateway first) and replay ``corpus`` against it
    (``on_stop``: see :func:`~harness.regression.replay.replay`); ``after`` then sends
    more to the same gateway (an in-process one is gone once the target closes)."""
    options: dict[str, Any] = dict(target_options)
    options.update(ivan=recipe.ivan_code, probe=probe_body(corpus), ivan_hint=ivan_hint)
    with open_target(gateway, pki=pki, **options) as target:

        def stopped(partial: Replay) -> None:
            partial.target = target.name
            (on_stop or (lambda _partial: None))(partial)

        run = replay(
            target, corpus, masks, on_progress=_progress(len(corpus), on_progress),
            max_backoff=max_backoff, on_stop=stopped,
        )  # fmt: skip
        run.target = target.name
        if after is not None:
            after(target, run)
    return run


def _confirm_latency(
    gateway: str,
    corpus: Sequence[CorpusEntry],
    first: dict[str, list[float]],
    slower: Sequence[Difference],
    pki: TestPKI,
    max_backoff: float | None,
    options: dict[str, Any],
) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Time the procedures that looked slower once more and keep, for each, the sample
    with the lower median: a release that is slower is slower twice, while a busy
    machine (another job, a CPU-hungry neighbour) rarely hits the same procedure twice.
    Returns the latency summary and a note per procedure re-timed."""
    procedures = {d.procedure for d in slower if d.procedure != "all"}
    if not procedures:
        return latency_summary(first), []
    entries = [e for e in corpus if (e.procedure or "static") in procedures]
    with open_target(gateway, pki=pki, **options) as target:
        second = time_submissions(target, entries, max_backoff=max_backoff)
    kept = dict(first)
    notes = []
    for procedure in sorted(procedures):
        before, again = first.get(procedure, []), second.get(procedure, [])
        if not again:
            continue
        p50_first, p50_again = percentile(before, 50), percentile(again, 50)
        if p50_again < p50_first:
            kept[procedure] = again
        notes.append(
            f"latency of {procedure} timed twice (it looked slower): p50 {p50_first:.1f} ms, "
            f"then {p50_again:.1f} ms; the lower is judged"
        )
    return latency_summary(kept), notes


def _rebuilt_note(
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


def _unrecorded_note(base: Baseline, corpus: Sequence[CorpusEntry]) -> list[str]:
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


def _masks_digest(masks_path: Path | None) -> str:
    return file_sha256(masks_path or baselines_dir() / "masks.yaml")


def _progress(total: int, on_progress: Progress | None) -> Callable[[int], None] | None:
    if on_progress is None:
        return None
    return lambda done: on_progress(done, total)


def record(
    *,
    gateway: str = "inproc",
    catalog: str | None = None,
    name: str,
    seeds: tuple[int, ...] = (0,),
    procedures: tuple[str, ...] = (),
    root: Path | None = None,
    masks_path: Path | None = None,
    pki: TestPKI | None = None,
    on_progress: Progress | None = None,
    on_surprise: Callable[[str], None] | None = None,
    ivan: str | None = None,
    max_backoff: float | None = None,
    on_transport: Callable[[TransportStats], None] | None = None,
    replace: bool = False,
    **target_options: object,
) -> tuple[Baseline, Path]:
    """Replay the corpus of ``catalog`` against ``gateway`` and store baseline ``name``.

    ``on_surprise`` hears of each dossier not answered as the corpus expects: a baseline
    records whatever the gateway said, so one taken from a gateway that is not known-good
    (or a corpus whose expectation is wrong) would otherwise pass unnoticed. An existing
    baseline is replaced only with ``replace``: a good one is what every later regress
    run is judged against.
    """
    folder = baseline_path(name, root)  # before anything is sent: no replay for nothing
    writable_folder(  # only checked: a refused or stopped run must leave no folder behind
        folder.parent,
        "baselines",
        hint="give --root a folder that exists or can be created, and is writable",
        create=False,
    )
    if not replace and (folder / "meta.json").exists():
        raise UsageError(
            f"baseline {name} already exists ({folder})",
            hint="choose another --name, or pass --force to replace it (git diff then shows "
            "what the new recording changed)",
        )
    pki = pki or ensure_pki()
    code = "" if ivan in (None, DEFAULT_IVAN_CODE) else str(ivan)
    version = record_catalog(catalog, served_by(gateway, target_options), procedures)
    recipe = CorpusRecipe(version, tuple(seeds), procedures=procedures, ivan=code)
    corpus = build_corpus(recipe, pki)
    masks = load_masks(masks_path, trust=pki.trust_store())
    hint = (
        "pass --ivan with the token's I-VAN code (the corpus is then built for it), "
        f"or a token of {recipe.ivan_code}"
    )
    run = _replay(
        gateway, recipe, corpus, masks, pki, hint, on_progress, max_backoff, target_options
    )
    if on_transport is not None and run.transport is not None:
        on_transport(run.transport)
    _refuse_unfinished(run, name)
    notes = surprises(corpus, run.outcomes) + signature_notes(run.outcomes)
    for note in notes + _unacknowledged_notes(run):
        (on_surprise or (lambda _note: None))(note)
    baseline = Baseline.from_replay(
        name, recipe, run.target, _masks_digest(masks_path), run, corpus_digests(corpus)
    )
    return baseline, save_baseline(baseline, root)


def served_by(gateway: str, options: dict[str, Any]) -> list[str] | None:
    """The catalog versions ``gateway`` serves, oldest first: the in-process gateway's
    (``catalogs``, default every version on disk), or a URL's ``/healthz`` list (None when
    it does not say, or when :func:`open_target` is to refuse the options anyway)."""
    if gateway == "inproc":
        return ServedCatalogs(tuple(options.get("catalogs") or ())).versions
    if not options.get("token") or options.get("release") or options.get("catalogs"):
        return None
    verify = options.get("verify_tls", True)
    url = base_url(gateway)
    return served_versions(GatewayTarget(url, str(options["token"]), verify_tls=verify))


def record_catalog(
    catalog: str | None, served: list[str] | None, procedures: Sequence[str] = ()
) -> str:
    """The corpus's catalog: ``catalog``, which the gateway must serve for the corpus's
    periods (:func:`harness.served_versions.check_serves`), or by default the newest (by
    ``effective_from``) it serves that this harness has. A corpus of a version the gateway
    does not serve is answered by another version's rules, not recorded."""
    on_disk = list_versions()
    if served is None:
        return catalog or latest_version()
    if catalog is not None:
        if catalog in on_disk:  # else loading it says the version is not found
            chosen = load_catalog(catalog)
            check_serves(
                chosen,
                served,
                dossier_periods(chosen, procedures or None),
                hint="pass --catalog with one of those, or leave it out to record the newest "
                "one it serves that this harness has",
            )
        return catalog
    have = in_effect_order(served)
    if not have:
        raise UsageError(
            f"the gateway serves catalog {' '.join(served) or '(none)'}, none of which this "
            f"harness has (it has {' '.join(on_disk)})",
            hint="add the version's folder under fixtures/catalog (or set BHXH_HARNESS_HOME "
            "to a copy that has it), or record against a gateway serving one of those",
        )
    return have[-1]


def _refuse_unfinished(run: Replay, name: str) -> None:
    """Store no baseline whose lifecycle messages were still awaited when polling timed out:
    it would read as a gateway that sends none, and every later regress would fail on it."""
    if not run.waiting:
        return
    accepted = sum(1 for outcome in run.outcomes.values() if outcome.get("accepted"))
    raise GatewayUnavailable(
        f"could not conclude: {run.waiting} of {accepted} accepted dossier(s) were still "
        f"waiting for their {RESULT} when feed polling timed out, so baseline {name} was "
        "not written (without those messages it would not be what this gateway does)\n"
        "Hint: pass --admin-token so the harness fast-forwards the gateway's clock, or give "
        "a longer --poll-timeout (or serve the gateway with a faster --clock-speed)"
    )


def surprises(corpus: Sequence[CorpusEntry], outcomes: dict[str, dict[str, Any]]) -> list[str]:
    """Each dossier whose answer is not the one its corpus entry expects, as one line (an
    accepted one whose 03/TB-TS never came too: its baseline lacks the lifecycle)."""
    found = []
    for entry in corpus:
        outcome = outcomes.get(entry.name)
        if outcome is None:
            continue
        codes = list(outcome.get("codes") or [])
        got = "accepted" if outcome.get("accepted") else " ".join(codes) or "rejected"
        if outcome.get("unavailable"):
            got = f"unavailable ({outcome['unavailable']})"
        if not entry.expected and not outcome.get("accepted"):
            found.append(f"{entry.name}: expected accepted, got {got}")
        elif entry.expected and (outcome.get("accepted") or not set(entry.expected) <= set(codes)):
            found.append(f"{entry.name}: expected {' '.join(entry.expected)}, got {got}")
        elif outcome.get("accepted") and not _has_result(outcome):
            found.append(f"{entry.name}: accepted, but its {RESULT} never came")
    return found


def _unacknowledged_notes(run: Replay) -> list[str]:
    """One line per message whose acknowledgement the gateway refused: a known-good
    gateway takes every acknowledgement, and a baseline does not keep them."""
    return [
        f"{name}: acknowledging its {kind} failed: {what}"
        for name, kinds in sorted(run.unacknowledged.items())
        for kind, what in sorted(kinds.items())
    ]


def _has_result(outcome: dict[str, Any]) -> bool:
    """Whether the dossier's messages include its 03/TB-TS result."""
    return any(m.get("kind") == RESULT for m in outcome.get("messages") or ())


@dataclass
class RegressionResult:
    """Everything ``regress`` found; ``ok`` when no difference is unintended."""

    baseline: Baseline
    target: str
    corpus: list[CorpusEntry]
    run: Replay
    unintended: list[Difference]
    intended: list[tuple[Difference, str]]
    unused: list[Expectation]
    latency: dict[str, dict[str, float]]
    thresholds: LatencyThresholds
    impact: CatalogImpact | None
    notes: list[str] = field(default_factory=list)
    unjudged: dict[tuple[str, str], str] = field(default_factory=dict)
    """(latency kind, procedure) -> why it was not judged (too few samples)."""
    started_at: datetime = field(kw_only=True)
    """When the run began (UTC), before the baseline was read: its report's start."""
    run_id: str = field(kw_only=True)
    """The report's run id (and folder name), stamped when the run began."""
    new_catalogs: list[NewCatalogRun] = field(default_factory=list, kw_only=True)
    """The catalogs the candidate serves newer than the baseline's, their valid dossiers
    replayed (none for a candidate serving the baseline's catalogs)."""
    unexercised: list[str] = field(default_factory=list, kw_only=True)
    """Newly served catalog versions this harness does not have: not exercised."""
    causes: dict[str, str] = field(default_factory=dict, kw_only=True)
    """Dossier name -> what its differences may come from other than the release (a
    catalog version the candidate serves and the baseline's gateway did not)."""

    @property
    def ok(self) -> bool:
        return not self.unintended

    @property
    def differences(self) -> list[Difference]:
        return self.unintended + [d for d, _ in self.intended]

    def kinds(self) -> set[str]:
        """Kinds of the unintended differences (what the matrix test looks at)."""
        return {d.kind for d in self.unintended}


def regress(
    *,
    baseline: str,
    gateway: str = "inproc",
    expectations: Path | None = None,
    thresholds: LatencyThresholds | None = None,
    root: Path | None = None,
    masks_path: Path | None = None,
    pki: TestPKI | None = None,
    on_progress: Progress | None = None,
    max_backoff: float | None = None,
    on_interrupted: Callable[[RegressionResult], None] | None = None,
    **target_options: object,
) -> RegressionResult:
    """Replay baseline ``baseline``'s corpus against ``gateway`` and diff the outcomes.

    Stopped by Ctrl-C or SIGTERM once a dossier was replayed, the run first hands
    ``on_interrupted`` what it found so far (see :func:`_interrupted`).
    """
    started_at, run_id = datetime.now(UTC), new_run_id("regression")
    pki = pki or ensure_pki()
    _refuse_unrecorded(baseline, root)
    base = load_baseline(baseline, root, masks=masks_path)
    # a build whose catalog endpoint answers 500 is judged on the rest, with a note
    target_options = {**target_options, "catalog_required": False}
    declared = load_expectations(expectations)
    notes = _empty_expectations(expectations, declared)
    thresholds = thresholds or LatencyThresholds()
    masks = load_masks(masks_path, trust=pki.trust_store())
    corpus = build_corpus(base.recipe, pki)
    notes += _rebuilt_note(base, corpus, root) + _unrecorded_note(base, corpus)
    hint = (
        f"pass a token of {base.recipe.ivan_code}, or record a baseline for the token's "
        "I-VAN first (bhxh-harness record --ivan CODE ...)"
    )

    def stopped(partial: Replay, *, messages_read: bool) -> None:
        if on_interrupted is not None and partial.outcomes:
            on_interrupted(
                _interrupted(base, corpus, partial, declared, messages_read, started_at, run_id)
            )

    newer: list[NewCatalogRun] = []
    unknown: list[str] = []

    def new_catalogs(target: GatewayTarget, done: Replay) -> None:
        with when_stopped(lambda: stopped(done, messages_read=True)):
            runs, missing = replay_new_catalogs(
                target, base, done.catalogs, masks, pki,
                max_backoff=max_backoff, on_progress=on_progress,
            )  # fmt: skip
        newer.extend(runs)
        unknown.extend(missing)

    run = _replay(
        gateway, base.recipe, corpus, masks, pki, hint, on_progress, max_backoff, target_options,
        on_stop=lambda partial: stopped(partial, messages_read=False), after=new_catalogs,
    )  # fmt: skip
    meta = {e.name: (e.procedure or "static", e.forms) for e in corpus}
    found = compare(base.outcomes, run.outcomes, meta) + _unacknowledged(run, meta)
    latency = latency_summary(run.latencies_ms)
    unreached = latency_unjudged_note(base.gateway, gateway)
    if unreached is None:
        options = {**target_options, "ivan": base.recipe.ivan_code, "ivan_hint": hint}
        with when_stopped(lambda: stopped(run, messages_read=True)):
            latency, slower, retimed = _judge_latency(
                gateway, corpus, run, base.latency, thresholds, pki, max_backoff, options
            )
        notes += retimed
        found += slower
        unjudged = unjudged_latency(base.latency, latency, thresholds)
    else:
        notes.append(unreached)
        unjudged = latency_unjudged(sorted(set(base.latency) | set(latency)), unreached)
    found += compare_catalogs(base.catalogs, run.catalogs) + _catalog_broken(base, run)
    moved = governed_elsewhere(corpus, base.catalogs, run.catalogs)
    notes += extra_catalogs_note(base.gateway, base.catalogs, run.catalogs, moved, found)
    found += [d for new in newer for d in new.differences]
    intended, unintended, unused = apply_expectations(found, declared)
    impact = catalog_impact(base.catalogs, run.catalogs, found, moved)
    return RegressionResult(
        base, run.target, corpus, run, unintended, intended, unused, latency, thresholds,
        impact, notes + run.notes, unjudged,
        started_at=started_at, run_id=run_id, new_catalogs=newer, unexercised=unknown,
        causes=causes(moved),
    )  # fmt: skip


def _unacknowledged(run: Replay, meta: dict[str, tuple[str, tuple[str, ...]]]) -> list[Difference]:
    """A message whose acknowledgement the candidate answered with an error (the feed read
    on): an I-VAN cannot tell the gateway it has the message, a changed lifecycle."""
    out = []
    for name, kinds in sorted(run.unacknowledged.items()):
        procedure, forms = meta.get(name, ("static", ()))
        for kind, what in sorted(kinds.items()):
            about = f"{kind} acknowledgement"
            out.append(
                Difference("changed-message", procedure, name, forms, about, "acknowledged", what)
            )
    return out


def _catalog_broken(base: Baseline, run: Replay) -> list[Difference]:
    """The candidate's catalog endpoint answering 500 where the baseline's listed its
    catalogs: the rest is judged, but an I-VAN can no longer learn what is served."""
    if not run.catalog_broken or not base.catalogs:
        return []
    served = " ".join(base.catalogs)
    return [
        Difference("catalog-removed", "all", "", (), "served catalogs", served, run.catalog_broken)
    ]


def _refuse_unrecorded(name: str, root: Path | None) -> None:
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


def _empty_expectations(path: Path | None, declared: list[Expectation]) -> list[str]:
    """A note when ``--expectations`` names a file that declares nothing: the run judges
    every difference unintended, which a user who meant to excuse some should hear of."""
    if path is None or declared:
        return []
    return [
        f"expectations file {path} declares no intended difference (it is empty, or its "
        "`expected` list is): every difference counts as unintended"
    ]


def _judge_latency(
    gateway: str,
    corpus: Sequence[CorpusEntry],
    run: Replay,
    recorded: dict[str, dict[str, float]],
    thresholds: LatencyThresholds,
    pki: TestPKI,
    max_backoff: float | None,
    options: dict[str, Any],
) -> tuple[dict[str, dict[str, float]], list[Difference], list[str]]:
    """The candidate's latency summary, its latency differences from ``recorded``, and the
    notes of the procedures timed twice because they looked slower the first time."""
    latency = latency_summary(run.latencies_ms)
    notes: list[str] = []
    retimed: set[str] = set()
    while True:  # re-timing one procedure moves the machine factor, which may flag another
        slower = compare_latency(recorded, latency, thresholds)
        due = _due(slower, latency, retimed)
        if not due:  # each procedure is timed twice at most: at most one pass per procedure
            return latency, _with_times(slower, recorded, latency), notes
        notes += _whole_gateway_note(slower, due)
        again = [Difference("latency-p50", procedure) for procedure in sorted(due)]
        summary, more = _confirm_latency(
            gateway, corpus, run.latencies_ms, again, pki, max_backoff, options
        )
        latency = {**latency, **{p: summary[p] for p in due if p in summary}}
        retimed |= due
        notes += more


def _due(
    slower: Sequence[Difference], latency: dict[str, dict[str, float]], retimed: set[str]
) -> set[str]:
    """The procedures to time again: each flagged one (every one when the whole gateway is,
    ``all``) not timed twice yet, so the final verdict never rests on a single timing."""
    flagged = {d.procedure for d in slower}
    if "all" in flagged:
        flagged = set(latency)
    return (flagged & set(latency)) - retimed


def _whole_gateway_note(slower: Sequence[Difference], due: set[str]) -> list[str]:
    """Why every procedure is timed again: the run's median slowdown passed its limit."""
    whole = next((d for d in slower if d.procedure == "all"), None)
    if whole is None:
        return []
    return [
        f"the whole gateway looked slower (median p50 ratio {whole.actual}, "
        f"{whole.expected}): {len(due)} procedure(s) timed twice ({', '.join(sorted(due))}), "
        "the lower median of each is judged"
    ]


def _with_times(
    slower: list[Difference],
    recorded: dict[str, dict[str, float]],
    latency: dict[str, dict[str, float]],
) -> list[Difference]:
    """The whole gateway's slowdown (a ratio of medians) with the times it was measured
    on: the procedures' median p50 before and now, as a procedure's difference shows."""
    common = sorted(set(recorded) & set(latency))
    if not common:
        return slower
    before = _lower_median([float(recorded[p]["p50_ms"]) for p in common])
    now = _lower_median([float(latency[p]["p50_ms"]) for p in common])
    return [
        dataclasses.replace(
            d,
            expected=f"{d.expected}; procedures' median p50 {before:.1f} ms",
            actual=f"{d.actual}; procedures' median p50 {now:.1f} ms",
        )
        if d.procedure == "all" and d.kind == "latency-p50"
        else d
        for d in slower
    ]


def _lower_median(values: list[float]) -> float:
    """The lower median, as the machine factor takes it (never flattering)."""
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def _interrupted(
    base: Baseline,
    corpus: Sequence[CorpusEntry],
    partial: Replay,
    declared: list[Expectation],
    messages_read: bool,
    started_at: datetime,
    run_id: str,
) -> RegressionResult:
    """What a stopped run found: the differences of the dossiers replayed so far (of their
    lifecycle messages only when all were read); latency, served catalogs and what the
    expectations did not match are not judged, the dossiers not replayed not compared."""
    replayed = [e for e in corpus if e.name in partial.outcomes]
    meta = {e.name: (e.procedure or "static", e.forms) for e in replayed}
    keys = {"messages"} if not messages_read else set()
    before = {n: _without(o, keys) for n, o in base.outcomes.items() if n in partial.outcomes}
    after = {name: _without(o, keys) for name, o in partial.outcomes.items()}
    intended, unintended, _unused = apply_expectations(compare(before, after, meta), declared)
    stop = f"the run was stopped after {len(replayed)} of {len(corpus)} dossiers"
    if len(replayed) == len(corpus):
        stop = f"the run was stopped after its {len(corpus)} dossiers were replayed"
    kinds = ["latency-p50", "latency-p95", "catalog-removed"]
    kinds += [] if messages_read else ["missing-message", "extra-message", "changed-message"]
    procedures = {e.procedure or "static" for e in replayed}
    unread = "" if messages_read else "lifecycle messages, "
    note = f"{stop}: {unread}latency and served catalogs not judged"
    return RegressionResult(
        base, partial.target, replayed, partial, unintended, intended, [], {},
        LatencyThresholds(), None, [note],
        {(kind, procedure): f"not judged: {stop}" for kind in kinds for procedure in procedures},
        started_at=started_at, run_id=run_id,
    )  # fmt: skip


def _without(outcome: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in outcome.items() if k not in keys}


__all__ = ["RegressionResult", "open_target", "record", "regress"]
