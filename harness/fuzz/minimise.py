"""Minimising one distinct failure: a smaller dossier that shows the *same* bug.

A distinct failure is a property broken for one cause (:func:`cause`: the codes expected
and those answered). Shrinking on the property alone drifts to whatever other bug is
easiest to hit, so two distinct failures could end on one dossier and one evidence file:
a candidate counts only when it breaks the property for the cause the run counted.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import FlakyFailure, NoSuchExample, Unsatisfiable

from harness.catalog import Catalog
from harness.fuzz._core import MutationSettings
from harness.fuzz.observation import Observation
from harness.fuzz.properties import PropertyFailed, failures
from harness.fuzz.strategies import FuzzCase, fuzz_cases
from harness.fuzz.target import is_error
from harness.signing import TestPKI

Cause = tuple[str, ...]
"""What makes two failures one bug: see :func:`cause`."""

NOT_MINIMISED = ("within-timeout",)
"""Properties whose failures are written as first seen: each try would wait a timeout."""

QUIET = {
    "database": None,
    "deadline": None,
    "derandomize": False,
    "print_blob": False,
    "suppress_health_check": list(HealthCheck),
}
"""Hypothesis settings of a campaign: no example database, no deadline, no blob printed."""


def cause(failure: PropertyFailed) -> Cause:
    """The property, the codes expected and the error codes answered (the resent answer's
    for ``idempotent``): the same bug seen under several procedures or families (a valid
    dossier and its BOM variant both refused XSD-001) is one distinct failure. Without an
    answer (a crash, a timeout) nothing tells causes apart but the family. A property that
    names its own cause (an answer that is not BHXH XML, an unsigned one, another body
    accepted under a message id) is one failure whatever the case."""
    if failure.cause is not None:
        return failure.cause
    obs = failure.observation
    answer = obs.replayed if failure.check == "idempotent" else obs.answer
    if answer is None:
        return (failure.check, failure.case.family)
    expected = ",".join(sorted(failure.case.expected_codes))
    got = ",".join(sorted({c for c in answer.codes if is_error(c)}))
    return (failure.check, expected, got)


def minimise(
    failure: PropertyFailed,
    send: Callable[[FuzzCase], Observation],
    catalog: Catalog,
    pki: TestPKI,
    mutation_settings: MutationSettings,
    attempts: int,
    seed: int,
    ivan: str,
    gone: Callable[[], bool] = lambda: False,
) -> PropertyFailed:
    """The smallest case of the same family and procedure that breaks the same property
    for the same :func:`cause`; ``failure`` itself when none does (or once ``gone()``: a
    gateway that went away fails every case alike)."""
    case, key = failure.case, cause(failure)
    family = case.family
    strategy = fuzz_cases(
        catalog,
        case.spec.procedure,
        families=() if family == "valid" else [family],
        pki=pki,
        settings=mutation_settings,
        valid=family == "valid",
        ivan=ivan,
    )
    found: list[PropertyFailed] = []

    def fails(candidate: FuzzCase) -> bool:
        if candidate.family != family or gone():
            return False
        obs = send(candidate)
        if gone():
            return False
        hits = [f for f in failures(obs) if f.check == failure.check and cause(f) == key]
        found.extend(hits[:1])
        return bool(hits)

    budget = settings(max_examples=attempts, phases=[Phase.generate, Phase.shrink], **QUIET)  # type: ignore[arg-type]
    try:
        find(strategy, fails, settings=budget, random=random.Random(seed))
    except (NoSuchExample, Unsatisfiable, FlakyFailure):
        return failure  # could not shrink (a flaky target): report the case as first seen
    return found[-1]  # find replays the minimal example last


def shrunk(check: str, minimised: bool) -> str:
    """Whether a failure's dossier is its minimal one, in words: a timeout is never
    minimised, and a dossier as first seen must not be called minimal."""
    if minimised:
        return "yes"
    if check in NOT_MINIMISED:
        return "not minimised (a timeout)"
    return "not minimised (the dossier as first seen)"


__all__ = ["NOT_MINIMISED", "QUIET", "Cause", "cause", "minimise", "shrunk"]
