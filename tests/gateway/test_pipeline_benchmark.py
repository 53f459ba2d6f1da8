"""benchmarks/bench_pipeline.py charges every stage it names: a renamed or bypassed
pipeline function would otherwise leave its stage silently at zero."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from harness.dossiers.factory import DossierFactory
from harness.signing import TestPKI
from mock_gateway.testing import InProcessGateway

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCHMARKS))  # the scripts import each other as siblings
    try:
        import bench_pipeline

        yield bench_pipeline
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_every_stage_is_charged_and_the_rest_is_small(
    bench: ModuleType, factory: DossierFactory, pki: TestPKI
) -> None:
    procedure = next(iter(factory.catalog.procedures))
    bodies = [factory.build(procedure, seed).envelope for seed in range(3)]
    with InProcessGateway(pki=pki) as gw:
        gw.gateway.warm_up()
        stages, total = bench.measure(gw, bodies, 12)
    idle = [label for label, spent in stages.items() if spent <= 0]
    assert not idle, f"stages never called: {idle}"
    assert sum(stages.values()) < total


def test_wrappers_are_removed_after_the_run(bench: ModuleType) -> None:
    originals = [getattr(owner, name) for _, owner, name in bench.STAGES]
    with bench.StageClock().installed():
        assert [getattr(owner, name) for _, owner, name in bench.STAGES] != originals
    assert [getattr(owner, name) for _, owner, name in bench.STAGES] == originals


def test_a_stage_excludes_the_stages_it_calls(bench: ModuleType) -> None:
    clock = bench.StageClock()

    def inner() -> None:
        sum(range(200_000))

    timed_inner = clock.wrap("inner", inner)

    def outer() -> None:
        timed_inner()

    clock.wrap("outer", outer)()
    assert clock.spent["inner"] > 20 * clock.spent["outer"] >= 0
