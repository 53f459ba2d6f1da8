"""``record`` and ``regress``: the regression suite's two entry points.

``record`` replays the corpus against a known-good gateway and stores a baseline;
``regress`` rebuilds the same corpus from the baseline's recipe, replays it against a
candidate, and reports every difference (minus those an expectations file declares).
The gateway is ``"inproc"`` (the mock gateway's core, optionally simulating a faulty
release) or any URL, reached with only its URL, an I-VAN token, an optional admin token
and a TLS option (:mod:`~harness.regression.target`). What each checks and judges lives
beside it: ``recording``, ``regress_inputs``, ``candidate_faults``, ``latency_retiming``,
``new_catalogs``, ``deployment``; the outcome is a :class:`RegressionResult` (``result``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.dossiers.corpus import CorpusEntry
from harness.errors import UsageError
from harness.gateway_url import dossier_probe
from harness.identities import DEFAULT_IVAN_CODE
from harness.paths import writable_folder
from harness.regression.baseline import (
    Baseline,
    baseline_path,
    file_sha256,
    latency_summary,
    load_baseline,
    save_baseline,
)
from harness.regression.candidate_faults import catalog_broken, meta_of, unacknowledged
from harness.regression.compare import (
    LatencyThresholds,
    compare,
    compare_catalogs,
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
from harness.regression.expectations import apply_expectations, catalog_impact, load_expectations
from harness.regression.fingerprint import corpus_digests
from harness.regression.isolation import (
    Isolation,
    judge_isolation,
    leak_line,
    neighbour_factory,
)
from harness.regression.latency_retiming import judge_latency
from harness.regression.new_catalogs import NewCatalogRun, replay_new_catalogs
from harness.regression.normalise import Masks, load_masks, signature_notes
from harness.regression.preflight import probe_body
from harness.regression.recording import (
    record_catalog,
    refuse_unfinished,
    served_by,
    surprises,
    unacknowledged_notes,
)
from harness.regression.regress_inputs import (
    empty_expectations,
    rebuilt_note,
    refuse_unrecorded,
    unrecorded_note,
)
from harness.regression.replay import GatewayTarget, Replay, replay
from harness.regression.result import RegressionResult, interrupted
from harness.regression.target import open_target
from harness.regression.transport import TransportStats
from harness.reporting import new_run_id
from harness.reporting.bundle import when_stopped
from harness.signing import TestPKI, ensure_pki

Progress = Callable[[int, int], None]


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
    if options.get("neighbour"):  # a URL's second I-VAN, checked before anything is sent
        options["neighbour_probe"] = dossier_probe(
            neighbour_factory(recipe, pki, options["neighbour"][0])
        )
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
    leaks: list[str] = []

    def isolation(target: GatewayTarget, done: Replay) -> None:
        if target.neighbour is not None:  # a known-good gateway keeps I-VANs apart
            found = judge_isolation(target, recipe, pki, corpus, done.outcomes)
            leaks.extend(leak_line(d) for d in found.differences)

    run = _replay(
        gateway, recipe, corpus, masks, pki, hint, on_progress, max_backoff, target_options,
        after=isolation,
    )  # fmt: skip
    if on_transport is not None and run.transport is not None:
        on_transport(run.transport)
    refuse_unfinished(run, name)
    notes = surprises(corpus, run.outcomes) + signature_notes(run.outcomes) + leaks
    for note in notes + unacknowledged_notes(run):
        (on_surprise or (lambda _note: None))(note)
    baseline = Baseline.from_replay(
        name, recipe, run.target, _masks_digest(masks_path), run, corpus_digests(corpus)
    )
    return baseline, save_baseline(baseline, root)


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
    ``on_interrupted`` what it found so far
    (see :func:`~harness.regression.result.interrupted`).
    """
    started_at, run_id = datetime.now(UTC), new_run_id("regression")
    pki = pki or ensure_pki()
    refuse_unrecorded(baseline, root)
    base = load_baseline(baseline, root, masks=masks_path)
    # a build whose catalog endpoint answers 500 is judged on the rest, with a note
    target_options = {**target_options, "catalog_required": False}
    declared = load_expectations(expectations)
    notes = empty_expectations(expectations, declared)
    thresholds = thresholds or LatencyThresholds()
    masks = load_masks(masks_path, trust=pki.trust_store())
    corpus = build_corpus(base.recipe, pki)
    notes += rebuilt_note(base, corpus, root) + unrecorded_note(base, corpus)
    hint = (
        f"pass a token of {base.recipe.ivan_code}, or record a baseline for the token's "
        "I-VAN first (bhxh-harness record --ivan CODE ...)"
    )

    def stopped(partial: Replay, *, messages_read: bool) -> None:
        if on_interrupted is not None and partial.outcomes:
            on_interrupted(
                interrupted(base, corpus, partial, declared, messages_read, started_at, run_id)
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

    isolation = Isolation()

    def after(target: GatewayTarget, done: Replay) -> None:
        nonlocal isolation
        new_catalogs(target, done)
        with when_stopped(lambda: stopped(done, messages_read=True)):
            isolation = judge_isolation(target, base.recipe, pki, corpus, done.outcomes)

    run = _replay(
        gateway, base.recipe, corpus, masks, pki, hint, on_progress, max_backoff, target_options,
        on_stop=lambda partial: stopped(partial, messages_read=False), after=after,
    )  # fmt: skip
    meta = meta_of(corpus)
    found = compare(base.outcomes, run.outcomes, meta) + unacknowledged(run, meta)
    found += isolation.differences
    notes += isolation.notes
    latency = latency_summary(run.latencies_ms)
    unreached = latency_unjudged_note(base.gateway, gateway)
    if unreached is None:
        options = {**target_options, "ivan": base.recipe.ivan_code, "ivan_hint": hint}
        with when_stopped(lambda: stopped(run, messages_read=True)):
            latency, slower, retimed = judge_latency(
                gateway, corpus, run, base.latency, thresholds, pki, max_backoff, options
            )
        notes += retimed
        found += slower
        unjudged = unjudged_latency(base.latency, latency, thresholds)
    else:
        notes.append(unreached)
        unjudged = latency_unjudged(sorted(set(base.latency) | set(latency)), unreached)
    unjudged.update(isolation.unjudged)
    found += compare_catalogs(base.catalogs, run.catalogs) + catalog_broken(base, run)
    moved = governed_elsewhere(corpus, base.catalogs, run.catalogs)
    notes += extra_catalogs_note(base.gateway, base.catalogs, run.catalogs, moved, found)
    found += [d for new in newer for d in new.differences]
    intended, unintended, unused = apply_expectations(found, declared)
    impact = catalog_impact(base.catalogs, run.catalogs, found, moved)
    return RegressionResult(
        base, run.target, corpus, run, unintended, intended, unused, latency, thresholds,
        impact, notes + run.notes + [n for new in newer for n in new.notes], unjudged,
        started_at=started_at, run_id=run_id, new_catalogs=newer, unexercised=unknown,
        causes=causes(moved),
    )  # fmt: skip


__all__ = ["RegressionResult", "open_target", "record", "regress"]
