"""How long the certification of the reference I-VAN over every procedure takes.

Run: ``python benchmarks/bench_certification.py [--catalog VERSION] [--adapter SPEC]``.
The target (issue 4) is under 2 minutes for the reference I-VAN over every procedure of
the latest catalog with the suite's default settings (real-time waits included: a 1 s
client timeout, a 1 s burst of 503, a 1 s Retry-After per procedure). Prints the time per
scenario, the total, and whether the verdict and the target were met.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _cli import benchmark_parser

from harness.catalog import latest_version, load_catalog
from harness.certification import (
    RunFinished,
    ScenarioStarted,
    certification_verdict,
    run_certification,
)

TARGET_SECONDS = 120.0


def main() -> int:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--catalog", default=None, help="catalog version (default: latest)")
    parser.add_argument("--adapter", default="reference", help="adapter spec")
    args = parser.parse_args()
    catalog = load_catalog(args.catalog or latest_version())
    spent: dict[str, float] = defaultdict(float)
    current: list[tuple[str, float]] = []

    def listen(event: object) -> None:
        now = time.perf_counter()
        if current:
            name, since = current.pop()
            spent[name] += now - since
        if isinstance(event, ScenarioStarted):
            current.append((event.scenario, now))
        elif not isinstance(event, RunFinished) and spent:
            current.append(("(judging and report)", now))

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        bundle = run_certification(args.adapter, catalog=catalog, out=Path(out), listener=listen)
        total = time.perf_counter() - start
    print(f"catalog {catalog.version}: {len(catalog.procedures)} procedures, "
          f"{len(bundle.cases)} case results, adapter {args.adapter}")  # fmt: skip
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:22} {seconds:6.1f} s")
    met = total < TARGET_SECONDS
    verdict = certification_verdict(bundle)
    print(f"verdict: {verdict.upper()}; total {total:.1f} s "  # as `certify` prints it
          f"({'within' if met else 'OVER'} the {TARGET_SECONDS:.0f} s target)")  # fmt: skip
    return 0 if met and verdict == "passed" else 1


if __name__ == "__main__":
    sys.exit(main())
