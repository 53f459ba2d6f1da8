"""Dossiers built and signed per second, and checked per second, for every procedure.

Run: ``python benchmarks/bench_factory.py [--seconds 3]``. Figures are per process on one
core; compare the ratios within one run, not absolute numbers across machines. The ratio
column, checked/built, is how many dossiers the checker gets through in the time the
factory builds and signs one (above 1: making a dossier costs more than checking it).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from _cli import benchmark_parser

from harness.catalog import latest_version, load_catalog
from harness.conformance import DossierChecker
from harness.dossiers.factory import DossierFactory
from harness.signing import ensure_pki


def _rate(seconds: float, action) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        action(count)
        count += 1
    return count / (time.perf_counter() - start), count


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--catalog", default=None, help="catalog version (default: latest)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pki = ensure_pki(Path(tmp))
        factory = DossierFactory(load_catalog(args.catalog or latest_version()), pki)
        checker = DossierChecker(factory.catalog, pki.trust_store())
        for code in factory.catalog.procedures:  # first-call costs: compiled schemas and rules
            checker.check(factory.build(code, 0).envelope)
        print(f"catalog {factory.catalog.version}, {args.seconds:.1f} s per figure")
        print(
            f"{'procedure':10} {'built+signed/s':>15} {'checked/s':>10} {'checked/built':>14}"
            f" {'bytes':>7}"
        )
        for code in factory.catalog.procedures:
            build_rate, _ = _rate(args.seconds, lambda i, c=code: factory.build(c, i))
            sample = [factory.build(code, i).envelope for i in range(20)]
            check_rate, _ = _rate(args.seconds, lambda i, s=sample: checker.check(s[i % 20]))
            print(
                f"{code:10} {build_rate:15.0f} {check_rate:10.0f} {check_rate / build_rate:14.2f}"
                f" {len(sample[0]):7d}"
            )


if __name__ == "__main__":
    main()
