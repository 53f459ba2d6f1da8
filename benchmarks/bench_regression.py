"""Regression replay throughput: dossiers per second replayed against the in-process gateway
(target: 10,000 in under 60 s on the project's 2-core box, linear in corpus size).

Run: ``python benchmarks/bench_regression.py [--sizes 1000 10000] [--catalog V]``.
The replay is the real one (:func:`harness.regression.replay`): submit with a fresh
``X-Message-Id``, resubmit accepted dossiers (idempotency), fast-forward the clock through
the admin API, read and acknowledge every 02/TB-TS and 03/TB-TS, normalise and mask. The
corpus is the regression corpus (one seed: valid, defective, quirks, static files) cycled
to N entries; each replay of a body is a new submission with a new message id, so the
gateway checks, signs and stores every one (no cache on the gateway side). Generation is
excluded: ``record``/``regress`` build a corpus once and its cost is the factory's
(see bench_factory.py). Single process, single thread: no parallelism to flatter it.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from harness.catalog import latest_version
from harness.dossiers.corpus import CorpusEntry
from harness.regression import CorpusRecipe, build_corpus, load_masks, open_target, replay
from harness.signing import ensure_pki


def cycled(base: list[CorpusEntry], size: int) -> list[CorpusEntry]:
    """``size`` entries cycling through ``base``, each with a unique name."""
    return [
        replace(base[i % len(base)], name=f"{base[i % len(base)].name}#{i // len(base)}")
        for i in range(size)
    ]


def replay_rate(base: list[CorpusEntry], size: int) -> tuple[float, float, int]:
    """(dossiers per second, seconds, accepted) for one replay of ``size`` dossiers."""
    corpus = cycled(base, size)
    masks = load_masks()
    with open_target("inproc", pki=ensure_pki()) as target:
        start = time.perf_counter()
        run = replay(target, corpus, masks)
        elapsed = time.perf_counter() - start
    accepted = sum(1 for o in run.outcomes.values() if o["accepted"])
    finished = sum(1 for o in run.outcomes.values() if len(o["messages"]) == 2)
    assert finished == accepted, f"{accepted - finished} accepted dossiers lack their messages"
    return size / elapsed, elapsed, accepted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--catalog", default=None)
    parser.add_argument("--warmup", type=int, default=200, help="Dossiers replayed first.")
    args = parser.parse_args()
    recipe = CorpusRecipe(args.catalog or latest_version())
    started = time.perf_counter()
    base = build_corpus(recipe, ensure_pki())
    print(
        f"corpus: {len(base)} distinct dossiers from catalog {recipe.catalog} "
        f"(built in {time.perf_counter() - started:.1f} s, not counted)"
    )
    replay_rate(base, args.warmup)  # first-call costs (imports, caches) are not per dossier
    rates = []
    for size in args.sizes:
        rate, elapsed, accepted = replay_rate(base, size)
        rates.append((size, rate))
        print(
            f"{size:>6} dossiers: {elapsed:6.1f} s  {rate:6.0f} dossiers/s  ({accepted} accepted)"
        )
    if len(rates) > 1:
        (small, r1), (large, r2) = rates[0], rates[-1]
        print(f"linearity: rate at {large} / rate at {small} = {r2 / r1:.2f} (1.00 is linear)")


if __name__ == "__main__":
    main()
