"""Stateful fuzzing of the dossier lifecycle: a thin pytest wrapper over the library's
machine (:mod:`harness.fuzz.lifecycle`), which ``bhxh-harness fuzz`` runs too.

Two I-VANs submit, resubmit, read their feeds, acknowledge, try to read each other's
dossiers and messages, let simulated time pass and switch a 503 burst on and off; every
receipt must stay readable by its owner only, a message id answers one receipt, the feed
never repeats or leaks, an acknowledged message stays acknowledged. The in-process mock
gateway is the system under test (``BHXH_LIFECYCLE_STEPS`` sets the steps, default 150).
"""

from __future__ import annotations

import os

from harness.catalog import load_catalog
from harness.fuzz.lifecycle_run import inproc_lifecycle, lifecycle_bodies, run_lifecycle
from harness.signing import TestPKI


def test_lifecycle_state_machine(pki: TestPKI) -> None:
    catalog = load_catalog("2026.1")
    steps = int(os.environ.get("BHXH_LIFECYCLE_STEPS", "150"))
    with inproc_lifecycle(pki, "IVAN01") as gateway:
        bodies = {i: lifecycle_bodies(catalog, pki, i) for i in ("IVAN01", "IVAN02")}
        result = run_lifecycle(gateway, bodies, steps=steps, seed=0)
    failure = result.failure
    assert failure is None, f"{failure.check}: {failure.reason}\n" + "\n".join(failure.steps)
    assert all(result.stats[k] > 0 for k in ("receipts", "messages", "acked", "refused")), (
        result.stats
    )
