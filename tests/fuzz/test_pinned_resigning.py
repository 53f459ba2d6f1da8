"""Re-signed mutants carry the pool's pinned SigningTime: the same seed sends the same bytes
on any day, for the families that re-sign a dossier (content, envelope, signature)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.catalog import Catalog
from harness.fuzz import CheckerTarget, Submitted, run_fuzz
from harness.fuzz import pool as pool_module
from harness.signing import TestPKI, xmldsig

RESIGNING = ("facet", "wage", "date", "envelope", "signature")


@dataclass
class Recording(CheckerTarget):
    """Answers as the checker does and keeps every body it was sent, in order."""

    bodies: list[bytes] = field(default_factory=list)

    def submit(self, body: bytes, message_id: str) -> Submitted:
        self.bodies.append(body)
        return super().submit(body, message_id)


def _run_at(
    moment: datetime,
    catalog: Catalog,
    pki: TestPKI,
    target: CheckerTarget,
    found: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> list[bytes]:
    """One run with a fresh pool, while the signer's clock says ``moment``."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: object = None) -> Frozen:  # type: ignore[override]
            return cls.fromtimestamp(moment.timestamp(), UTC)

    monkeypatch.setattr(xmldsig, "datetime", Frozen)
    monkeypatch.setattr(pool_module, "_POOLS", {})  # fresh state: nothing built before
    recording = Recording(target.checker)
    run_fuzz(
        recording, catalog, budget=30, seed=5, pki=pki, families=RESIGNING, found=found,
        minimise=0,
    )  # fmt: skip
    return recording.bodies


def test_the_same_seed_sends_the_same_resigned_bodies_on_another_day(
    catalog: Catalog,
    pki: TestPKI,
    target_for: Callable[[str], CheckerTarget],
    found: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = _run_at(datetime(2026, 3, 1, 8, tzinfo=UTC), catalog, pki,
                    target_for(catalog.version), found, monkeypatch)  # fmt: skip
    second = _run_at(datetime(2026, 9, 9, 17, tzinfo=UTC), catalog, pki,
                     target_for(catalog.version), found, monkeypatch)  # fmt: skip
    assert len(first) >= 30  # a property may send a case twice (idempotency)
    assert b"2026-03-01T08" not in b"".join(first)  # no mutant stamped with the clock
    assert first == second
