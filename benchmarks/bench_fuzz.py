"""Fuzzing throughput: valid signed dossiers generated per second, and fuzz cases executed
per second against the gateway's check alone and against the in-process gateway.

Run: ``python benchmarks/bench_fuzz.py [--examples 600] [--budget 1500] [--catalog V]``.
Columns, each per wall-clock second (per CPU second of this process in brackets):

- ``generated/s``: a fresh draw of ``valid_dossiers`` through hypothesis, as a test would
  draw it: every example is built and signed by the factory unless the pool already holds
  its spec (the hit rate is printed, because that is what makes the figure), so it is
  bound by ``DossierFactory.build``.
- ``re-drawn/s``: the same draw again, as hypothesis does when it shrinks or replays,
  served by the pool.
- ``executed/s``: ``run_fuzz`` end to end against the checker alone (``CheckerTarget``):
  drawing, mutating, re-signing, checking and judging every property, valid cases
  included.
- ``vs gateway/s``: the same run against the in-process mock gateway (its request
  handling and store included); wall-clock only.

Targets on the project's 2-core box: ``generated/s`` >= 250, and ``executed/s`` and
``vs gateway/s`` >= 150 each; every one is judged on its wall-clock figure and printed
as met or missed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from _cli import benchmark_parser
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as seed_run

from harness.catalog import list_versions, load_catalog
from harness.conformance import DossierChecker
from harness.dossiers.factory import Dossier
from harness.fuzz import CheckerTarget, pool_for, run_fuzz, valid_dossiers
from harness.signing import TestPKI, ensure_pki

TARGETS = (  # printed column, at least this many per wall-clock second, what it runs against
    ("generated/s", 250.0, "fresh draws"),
    ("executed/s", 150.0, "against the checker alone"),
    ("vs gateway/s", 150.0, "against the in-process gateway"),
)


def generated_per_second(
    version: str, pki: TestPKI, examples: int, seed: int
) -> tuple[float, float, float]:
    """Dossiers per wall second and per CPU second of this process, and the pool hit rate."""
    catalog = load_catalog(version)
    pool = pool_for(catalog, pki)
    built: list[Dossier] = []

    @seed_run(seed)
    @settings(
        max_examples=examples,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(valid_dossiers(catalog, pki=pki))
    def draw(dossier: Dossier) -> None:
        built.append(dossier)

    hits, misses = pool.hits, pool.misses
    start, cpu = time.perf_counter(), time.process_time()
    draw()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    looked_up = (pool.hits - hits) + (pool.misses - misses)
    return len(built) / elapsed, len(built) / cpu, (pool.hits - hits) / max(1, looked_up)


def executed_per_second(
    version: str, pki: TestPKI, budget: int, found: Path
) -> tuple[float, float]:
    """Fuzz cases per wall second and per CPU second of this process."""
    catalog = load_catalog(version)
    target = CheckerTarget(DossierChecker(catalog, pki.trust_store()))
    cpu = time.process_time()
    report = run_fuzz(target, catalog, budget=budget, seed=1, pki=pki, found=found, minimise=0)
    return report.cases_per_second, report.cases / (time.process_time() - cpu)


def executed_against_gateway(version: str, pki: TestPKI, budget: int, found: Path) -> float:
    """Fuzz cases per wall second against the in-process mock gateway (store included)."""
    from harness.fuzz.http_target import HttpTarget
    from mock_gateway.testing import InProcessGateway
    from mock_gateway.transport import DEFAULT_BASE_URL

    catalog = load_catalog(version)
    with InProcessGateway(pki=pki) as gateway:
        target = HttpTarget(gateway.session(DEFAULT_BASE_URL), DEFAULT_BASE_URL, name="inproc")
        report = run_fuzz(target, catalog, budget=budget, seed=1, pki=pki, found=found, minimise=0)
    return report.cases_per_second


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--examples", type=int, default=600, help="valid dossiers to draw")
    parser.add_argument("--budget", type=int, default=1500, help="fuzz cases to execute")
    parser.add_argument("--catalog", default=None, help="one catalog version (default: all)")
    args = parser.parse_args()
    versions = [args.catalog] if args.catalog else list_versions()
    with tempfile.TemporaryDirectory() as tmp:
        pki = ensure_pki(Path(tmp) / "pki")
        for version in versions:  # warm up: compile schemas and rules, load XSD facts
            executed_per_second(version, pki, 50, Path(tmp) / "found")
        print("per wall-clock second (per CPU second of this process, which other load on")
        print("the machine does not inflate)")
        print(
            f"{'catalog':8} {'generated/s':>15} {'re-drawn/s':>15} {'executed/s':>15}"
            f" {'vs gateway/s':>13}"
        )
        measured: dict[str, dict[str, float]] = {}
        for version in versions:
            cold, cold_cpu, hits = generated_per_second(version, pki, args.examples, seed=1)
            warm, warm_cpu, _ = generated_per_second(version, pki, args.examples, seed=1)
            run, run_cpu = executed_per_second(version, pki, args.budget, Path(tmp) / "found")
            gw = executed_against_gateway(version, pki, args.budget, Path(tmp) / "found")
            print(
                f"{version:8} {cold:6.0f} ({cold_cpu:5.0f})  {warm:6.0f} ({warm_cpu:5.0f})"
                f"  {run:6.0f} ({run_cpu:5.0f})  {gw:12.0f}   pool hits on first draw: {hits:.0%}"
            )
            measured[version] = {"generated/s": cold, "executed/s": run, "vs gateway/s": gw}
        print("targets, on the wall-clock figures:")
        for column, least, what in TARGETS:
            verdicts = ", ".join(
                f"{version} {figures[column]:.0f} {'met' if figures[column] >= least else 'missed'}"
                for version, figures in measured.items()
            )
            print(f"  {column:12} >= {least:3.0f}/s, {what}: {verdicts}")


if __name__ == "__main__":
    main()
