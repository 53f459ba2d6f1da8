"""Regression replay throughput: dossiers per second replayed against the in-process gateway
(target: 10,000 in under 60 s on the project's 2-core box, linear in corpus size).

Run: ``python benchmarks/bench_regression.py [--sizes 1000 10000] [--catalog V]``.
The replay is the real one (:func:`harness.regression.replay`): submit with a fresh
``X-Message-Id``, resubmit accepted dossiers (idempotency), fast-forward the clock through
the admin API, read and acknowledge every 02/TB-TS and 03/TB-TS, normalise and mask. The
corpus is the regression corpus (one seed: valid, defective, quirks, static files)
replayed in whole passes: each size is rounded up to a multiple of the corpus, so every
size replays the same mix and the linearity ratio compares like with like. Each replay
of a body is a new submission with a new message id, so the gateway checks, signs and
stores every one (no cache on the gateway side). Generation is excluded:
``record``/``regress`` build a corpus once and its cost is the factory's (see
bench_factory.py). Single process, single thread: no parallelism to flatter it.
"""

from __future__ import annotations

import time
from dataclasses import replace

from _cli import benchmark_parser

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


def whole_passes(size: int, corpus: int) -> int:
    """``size`` rounded up to whole passes over a corpus of ``corpus`` entries (one at least)."""
    return max(1, -(-size // corpus)) * corpus


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
    parser = benchmark_parser(__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1000, 10000],
        help="dossiers per timed replay, each rounded up to whole passes over the corpus",
    )
    parser.add_argument("--catalog", default=None, help="corpus catalog version (default: latest)")
    parser.add_argument("--warmup", type=int, default=200, help="dossiers replayed first, untimed")
    args = parser.parse_args()
    recipe = CorpusRecipe(args.catalog or latest_version())
    started = time.perf_counter()
    base = build_corpus(recipe, ensure_pki())
    print(
        f"corpus: {len(base)} distinct dossiers from catalog {recipe.catalog} "
        f"(built in {time.perf_counter() - started:.1f} s, not counted)"
    )
    replay_rate(base, args.warmup)  # first-call costs (imports, caches) are not per dossier
    sizes = list(dict.fromkeys(whole_passes(size, len(base)) for size in args.sizes))
    if sizes != args.sizes:
        print(
            f"sizes rounded up to whole passes over the {len(base)}-dossier corpus, so each "
            f"replays the same mix: {' '.join(map(str, sizes))}"
        )
    rates = []
    for size in sizes:
        rate, elapsed, accepted = replay_rate(base, size)
        rates.append((size, rate))
        print(
            f"{size:>6} dossiers ({size // len(base)} x corpus): {elapsed:6.1f} s  "
            f"{rate:6.0f} dossiers/s  ({accepted} accepted, {accepted / size:.0%})"
        )
    if len(rates) > 1:
        (small, r1), (large, r2) = rates[0], rates[-1]
        print(f"linearity: rate at {large} / rate at {small} = {r2 / r1:.2f} (1.00 is linear)")
    elif len(args.sizes) > 1:
        print("linearity: not measured (the sizes round to one number of passes; give larger ones)")


if __name__ == "__main__":
    main()
