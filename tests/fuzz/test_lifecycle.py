"""The lifecycle machine in the library: a correct gateway holds every property, a faulty
one fails with the property it breaks and the steps (shrunk) that show it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from harness.fuzz.lifecycle_wire import DossierView, LifecycleGateway
from harness.signing import TestPKI
from tests.fuzz.conftest import run_inproc as _run


@dataclass
class LosesProcessedDossiers(LifecycleGateway):
    """Forgets every dossier once time passed: its owner reads 404 (a purge gone wrong).
    Each sequence starts on a gateway that has not purged yet (so hypothesis can shrink)."""

    def feed_end(self, ivan: str) -> int:
        self.purged = False
        return super().feed_end(ivan)

    def advance(self, seconds: float) -> bool:
        self.purged = True
        return super().advance(seconds)

    def dossier(self, ivan: str, ma_gdich: str) -> DossierView:
        return (
            DossierView(404) if getattr(self, "purged", False) else super().dossier(ivan, ma_gdich)
        )


@dataclass
class ShowsEveryDossier(LifecycleGateway):
    """Lets any I-VAN read any dossier (the owner check dropped)."""

    def dossier(self, ivan: str, ma_gdich: str) -> DossierView:
        view = super().dossier(ivan, ma_gdich)
        return view if view.status == 200 else super().dossier(self.own_ivan, ma_gdich)


def test_a_correct_gateway_holds_every_property_and_is_exercised(
    pki: TestPKI, bodies: dict[str, list[bytes]]
) -> None:
    result = _run(pki, bodies)
    assert result.ok, result.failure
    assert result.left_out == ()
    assert result.stats["steps"] == 60
    assert all(result.stats[k] > 0 for k in ("receipts", "messages", "acked", "refused"))


@pytest.mark.parametrize(
    ("release", "kind", "check"),
    [
        ("idempotency-broken", None, "lifecycle-idempotent"),
        ("leaks-feed", None, "lifecycle-isolated"),
        ("leaks-dossier-status", None, "lifecycle-isolated"),
        ("loses-acknowledged", None, "lifecycle-dossier-kept"),
        (None, LosesProcessedDossiers, "lifecycle-dossier-kept"),
        (None, ShowsEveryDossier, "lifecycle-isolated"),
    ],
)
def test_a_faulty_gateway_fails_the_property_it_breaks_with_shrunk_steps(
    pki: TestPKI,
    bodies: dict[str, list[bytes]],
    release: str | None,
    kind: type[LifecycleGateway] | None,
    check: str,
) -> None:
    result = _run(pki, bodies, release=release, kind=kind)
    assert result.failure is not None
    assert result.failure.check == check
    steps = result.failure.steps
    assert steps[0].startswith("submit as IVAN01: dossier 0")  # every sequence's start
    assert not any("receipts_kept_and_isolated" in step for step in steps)  # no invariants
    if not result.failure.flaky:  # a replay hypothesis could repeat: shrunk steps
        assert any("submit" in step for step in steps), result.failure
        assert len(steps) <= 12, steps
    case = result.case()
    assert case.outcome.value == "failed" and check in case.message
