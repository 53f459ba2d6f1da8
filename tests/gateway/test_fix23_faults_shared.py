"""Workers of one store run one fault plan: a maintenance window counted from the same
moment, and a hook's ``skip``/``times`` spent once for all of them, not once per worker.

Two :class:`FaultyGateway` on one in-process gateway stand for two workers (they share the
store, not memory); ``test_fix23_faults_workers`` shows the same on real processes.
Before, each worker counted from when it adopted the plan and kept its own budget.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.signing import TestPKI
from mock_gateway import fault_store
from mock_gateway.fault_plan import PLAN_SETTING, publish_plan
from mock_gateway.faults import FAULT_HEADER
from mock_gateway.faulty_app import FaultSpec, FaultyGateway
from mock_gateway.store import Store
from mock_gateway.testing import InProcessGateway
from tests.faulty_calls import accepted_envelopes, call, submit
from tests.postgres import fresh_store_url

ADMIN = "test-admin-token"
MAINTENANCE = [FaultSpec("maintenance", {"start": 0, "duration": 600})]


@pytest.fixture
def gw(pki: TestPKI) -> Iterator[InProcessGateway]:
    with InProcessGateway(pki=pki) as gateway:
        yield gateway


@pytest.fixture
def pair(gw: InProcessGateway, monkeypatch: pytest.MonkeyPatch) -> list[FaultyGateway]:
    """Two workers that look for a newly published plan on every request."""
    monkeypatch.setattr("mock_gateway.fault_plan.PLAN_POLL_SECONDS", 0.0)
    return [FaultyGateway(gw.gateway), FaultyGateway(gw.gateway)]


@pytest.fixture(scope="module")
def envelopes(pki: TestPKI) -> Callable[[], bytes]:
    """Distinct signed dossiers the gateway accepts."""
    return accepted_envelopes(pki, 700)


def put_plan(faulty: FaultyGateway, spec: str) -> None:
    body = json.dumps({"spec": spec}).encode()
    headers = {"Content-Type": "application/json"}
    assert call(faulty, "PUT", "/admin/faults", token=ADMIN, body=body, **headers).status == 200


def hits(faulty: FaultyGateway) -> list[int]:
    state: dict[str, Any] = json.loads(call(faulty, "GET", "/admin/faults", token=ADMIN).body)
    return [h["hits"] for h in state["hits"]]


# -- item 1: one moment for a maintenance window ------------------------------------------


def test_a_window_set_through_one_worker_is_counted_from_that_moment_by_all(
    gw: InProcessGateway, pair: list[FaultyGateway]
) -> None:
    """The worker that adopts the plan later (after an advance) counts from the PUT too."""
    first, second = pair
    put_plan(first, "maintenance:start=0,duration=600")
    gw.advance(300)
    answers = [call(worker, "GET", "/api/v1/catalog") for worker in (second, first, second)]
    assert [a.headers.get("Retry-After") for a in answers] == ["300"] * 3
    gw.advance(400)
    assert [call(w, "GET", "/api/v1/catalog").status for w in pair] == [200, 200]


def test_a_start_plan_is_counted_from_when_the_first_worker_started(
    gw: InProcessGateway,
) -> None:
    """``serve`` publishes its --faults plan before the workers start; the first worker
    settles its start moment, and a worker starting later (one restarted) keeps it."""
    publish_plan(gw.gateway.store, MAINTENANCE, 0)  # what serve's preflight does
    early = FaultyGateway(gw.gateway, MAINTENANCE)
    gw.advance(300)
    late = FaultyGateway(gw.gateway, MAINTENANCE)
    said = [call(w, "GET", "/api/v1/catalog").headers.get("Retry-After") for w in (early, late)]
    assert said == ["300", "300"]


def test_a_worker_of_serve_adopts_the_published_plan_over_its_start_plan(
    gw: InProcessGateway,
) -> None:
    """A worker restarted after PUT /admin/faults runs what the others run, not --faults."""
    publisher = FaultyGateway(gw.gateway)
    publisher.publish([FaultSpec("latency", {"seconds": 0.01})])
    restarted = FaultyGateway(gw.gateway, MAINTENANCE, follow=True)
    assert restarted.specs == [FaultSpec("latency", {"seconds": 0.01})]


def test_a_plan_published_without_its_moment_is_still_adopted(gw: InProcessGateway) -> None:
    """A row an older version wrote (no ``at``) is settled by the first worker to read it."""
    worker = FaultyGateway(gw.gateway)
    plan = {"profiles": [{"name": "maintenance", "params": {"start": 0, "duration": 600}}]}
    gw.gateway.store.publish_setting(PLAN_SETTING, json.dumps(plan | {"seed": 3}))
    worker.follow_published()
    assert worker.specs == MAINTENANCE and worker.seed == 3
    assert call(worker, "GET", "/api/v1/catalog").headers.get("Retry-After") == "600"


# -- item 2: a budget spent once for every worker ------------------------------------------


def test_a_burst_count_is_spent_once_across_workers(pair: list[FaultyGateway]) -> None:
    first, second = pair
    put_plan(first, "burst-503:count=2,retry_after=1")
    statuses = [call(pair[i % 2], "POST", "/api/v1/dossiers").status for i in range(8)]
    assert statuses.count(503) == 2 and statuses[:2] == [503, 503]
    assert hits(first) == [2] and hits(second) == [2]  # what clients saw, on every worker


def test_skip_is_counted_across_workers(
    pair: list[FaultyGateway], envelopes: Callable[[], bytes]
) -> None:
    """skip=1, times=1: the second submission overall is the one answered 500."""
    first, _ = pair
    put_plan(first, "ack-then-500:skip=1,times=1")
    statuses = [submit(pair[i % 2], envelopes(), f"skip-{i}").status for i in range(4)]
    assert statuses == [202, 500, 202, 202]


def test_ack_then_500_once_means_the_retry_elsewhere_gets_its_receipt(
    pair: list[FaultyGateway], envelopes: Callable[[], bytes]
) -> None:
    first, second = pair
    put_plan(first, "ack-then-500:times=1")
    envelope = envelopes()
    assert submit(first, envelope, "a500-once").status == 500
    retried = submit(second, envelope, "a500-once")
    assert retried.status in (200, 202) and b"SRV-002" not in retried.body


def test_a_reset_once_resets_one_submission_of_all_workers(
    pair: list[FaultyGateway], envelopes: Callable[[], bytes]
) -> None:
    first, _ = pair
    put_plan(first, "connection-reset:times=1")
    answers = [submit(pair[i % 2], envelopes(), f"reset-{i}") for i in range(4)]
    assert ["reset" in a.headers.get(FAULT_HEADER, "") for a in answers] == [
        True,
        False,
        False,
        False,
    ]


def test_a_new_plan_starts_with_a_full_budget(pair: list[FaultyGateway]) -> None:
    first, second = pair
    put_plan(first, "burst-503:count=1")
    assert call(second, "POST", "/api/v1/dossiers").status == 503
    put_plan(second, "burst-503:count=1")
    assert call(first, "POST", "/api/v1/dossiers").status == 503
    assert call(second, "POST", "/api/v1/dossiers").status != 503


def test_a_hook_without_a_budget_writes_nothing(
    gw: InProcessGateway, pair: list[FaultyGateway]
) -> None:
    first, second = pair
    put_plan(first, "latency:seconds=0.001")
    for worker in pair:
        assert FAULT_HEADER in call(worker, "GET", "/api/v1/catalog").headers
    version = gw.gateway.store.setting(PLAN_SETTING)
    assert version is not None and gw.gateway.store.fault_hits(version[0]) == {}
    hits(first)  # a worker writes its own pending hits before it answers
    assert hits(second) == hits(first) == [2]  # every worker's hits, counted in batches


def test_a_plan_set_in_this_process_only_keeps_its_own_counts(gw: InProcessGateway) -> None:
    """set_plan (the in-process suites) publishes nothing, so it counts in memory."""
    faulty = FaultyGateway(gw.gateway)
    faulty.set_plan([FaultSpec("burst-503", {"count": 1})])
    statuses = [call(faulty, "POST", "/api/v1/dossiers").status for _ in range(2)]
    assert statuses[0] == 503 and statuses[1] != 503 and hits(faulty) == [1]


# -- the atomic claim, on SQLite and PostgreSQL --------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_store_url(request, tmp_path, "budget") as url:
        yield url


def test_two_stores_racing_for_a_budget_take_it_exactly(shared_url: str) -> None:
    stores = [Store(shared_url), Store(shared_url)]
    taken: list[int | None] = []
    seen: list[int] = []

    def worker(store: Store) -> None:
        for _ in range(10):
            taken.append(store.claim_fault_hit(7, 0, 3))
            seen.append(store.count_fault_request(7, 1))

    try:
        threads = [threading.Thread(target=worker, args=(s,)) for s in stores * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(t for t in taken if t is not None) == [1, 2, 3]
        assert sorted(seen) == list(range(1, 41))
        assert stores[0].fault_hits(7) == {0: 3, 1: 0}
        stores[1].forget_fault_budgets(8)
        assert stores[0].fault_hits(7) == {}
    finally:
        for store in stores:
            store.close()


# -- item 3: Retry-After in real seconds ---------------------------------------------------


def test_maintenance_retry_after_is_real_seconds_on_a_running_clock(pki: TestPKI) -> None:
    """At --clock-speed 100, 600 simulated seconds are 6 real ones."""
    with InProcessGateway(pki=pki, clock_speed=100) as fast:
        faulty = FaultyGateway(fast.gateway)
        faulty.set_plan(MAINTENANCE)
        refused = call(faulty, "GET", "/api/v1/catalog")
        assert refused.status == 503 and 1 <= int(refused.headers["Retry-After"]) <= 6


def test_maintenance_retry_after_is_simulated_seconds_on_a_frozen_clock(
    gw: InProcessGateway,
) -> None:
    faulty = FaultyGateway(gw.gateway)
    faulty.set_plan(MAINTENANCE)
    gw.advance(599.5)
    assert call(faulty, "GET", "/api/v1/catalog").headers["Retry-After"] == "1"


def test_a_closing_worker_writes_its_last_batch(pki: TestPKI, tmp_path: Path) -> None:
    """A worker stopped (SIGTERM closes the gateway) within 0.1 s of a hit keeps it."""
    with InProcessGateway(pki=pki, directory=tmp_path) as gw:
        worker = FaultyGateway(gw.gateway)
        put_plan(worker, "latency:seconds=0.001")
        version = gw.gateway.store.setting(PLAN_SETTING)
        assert version is not None
        assert FAULT_HEADER in call(worker, "GET", "/api/v1/catalog").headers
    store = Store(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    try:
        assert sum(fault_store.hook_hits(store, version[0]).values()) == 1
    finally:
        store.close()
