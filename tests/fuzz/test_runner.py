"""run_fuzz: counts everything, is repeatable per seed, validates its arguments early."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.catalog import Catalog
from harness.errors import UsageError
from harness.fuzz import (
    CaseExecuted,
    CheckerTarget,
    FailureMinimised,
    FuzzFinished,
    run_fuzz,
)
from harness.fuzz.events import Event
from harness.signing import TestPKI


def test_a_conforming_checker_passes_and_every_case_is_counted(
    catalog: Catalog, pki: TestPKI, target_for: Callable[[str], CheckerTarget], found: Path
) -> None:
    events: list[Event] = []
    report = run_fuzz(
        target_for(catalog.version),
        catalog,
        budget=120,
        seed=11,
        pki=pki,
        found=found,
        on_event=events.append,
    )
    assert not report.failures, report.failures
    assert report.cases == 120
    assert sum(c.executed for c in report.families.values()) == 120
    assert sum(report.mutations.values()) == 120
    assert len(report.families) >= 6  # the run spread over families
    assert sum(isinstance(e, CaseExecuted) for e in events) == 120
    assert isinstance(events[-1], FuzzFinished) and events[-1].report is report
    assert sum(isinstance(e, FailureMinimised) for e in events) == len(report.failures)
    json.dumps(report.to_dict())


def test_the_same_seed_draws_the_same_cases(
    catalog: Catalog, pki: TestPKI, target_for: Callable[[str], CheckerTarget], found: Path
) -> None:
    def names(seed: int) -> list[str]:
        drawn: list[str] = []

        def note(event: Event) -> None:
            if isinstance(event, CaseExecuted):
                drawn.append(event.observation.case.name)

        run_fuzz(
            target_for(catalog.version),
            catalog,
            budget=40,
            seed=seed,
            pki=pki,
            found=found,
            minimise=0,
            on_event=note,
        )
        return drawn

    assert names(3) == names(3)
    assert names(3) != names(4)


def test_a_duration_bounds_the_run(
    catalog: Catalog, pki: TestPKI, target_for: Callable[[str], CheckerTarget], found: Path
) -> None:
    report = run_fuzz(
        target_for(catalog.version),
        catalog,
        duration=0.5,
        seed=1,
        pki=pki,
        found=found,
        minimise=0,
    )
    assert report.cases > 0 and 0.5 <= report.elapsed < 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "give --budget \\(cases\\) or --duration"),
        ({"budget": 0}, "--budget 0: give at least 1 case"),
        ({"duration": -1.0}, "--duration -1: give a positive number of seconds"),
        ({"duration": float("nan")}, "--duration nan: give a positive number"),
        ({"budget": 5, "families": ["nope"]}, "--family nope: not a mutation family"),
        ({"budget": 5, "procedure": "999"}, "procedure='999'"),
    ],
)
def test_bad_arguments_fail_before_anything_runs(
    options: dict[str, object],
    message: str,
    catalog: Catalog,
    pki: TestPKI,
    target_for: Callable[[str], CheckerTarget],
) -> None:
    with pytest.raises(UsageError, match=message):
        run_fuzz(target_for(catalog.version), catalog, pki=pki, **options)  # type: ignore[arg-type]
