"""A ``--gateway URL`` that outlives one run: each run judges only its own traffic, a
refused I-VAN credential stops the run before any case, and a run refuses a gateway
another run is driving (the fault plan and the clock are gateway-wide)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.certification import run_certification
from harness.certification.gateway import ADMIN_PREFIX
from harness.certification.records import TrafficRow
from harness.certification.window import foreign_writes, refuse_if_busy, refuse_several_workers
from harness.errors import ConfigError
from harness.signing import TestPKI
from tests.certification.conftest import FAST, PROCEDURE
from tests.certification.test_remote import serve

CASES = ["CERT-FWD-01", "CERT-REC-01", "CERT-SCH-01"]


def _ids(bundle_dir: Path) -> list[int]:
    lines = (bundle_dir / "traffic.jsonl").read_text(encoding="utf-8").splitlines()
    return [int(json.loads(line)["id"]) for line in lines]


def test_a_second_run_judges_only_its_own_traffic(tmp_path: Path, pki: TestPKI) -> None:
    with serve("mock_gateway.faulty_app:app_factory", tmp_path, pki) as url:
        first, second = (
            run_certification(
                "reference",
                procedures=[PROCEDURE],
                gateway_url=url,
                cases=CASES,
                out=tmp_path / name,
                settings=FAST,
            )
            for name in ("one", "two")
        )
    assert [c.outcome.value for c in first.cases] == ["passed"] * 3
    assert [c.outcome.value for c in second.cases] == ["passed"] * 3, [
        c.message for c in second.cases
    ]
    assert min(_ids(second.directory)) > max(_ids(first.directory))


def test_a_refused_ivan_token_stops_the_run_before_any_case(tmp_path: Path, pki: TestPKI) -> None:
    with serve("mock_gateway.faulty_app:app_factory", tmp_path, pki) as url:
        run_certification(
            "reference", [PROCEDURE], url, cases=["CERT-SCH-01"], out=tmp_path, settings=FAST
        )
        with pytest.raises(ConfigError, match="refuses the I-VAN credential of IVAN01") as err:
            run_certification(
                "reference",
                procedures=[PROCEDURE],
                gateway_url=url,
                cases=["CERT-SCH-01"],
                out=tmp_path / "refused",
                settings=FAST,
                tokens={"token": "not-a-real-token"},
            )
    assert "--ivan-token" in str(err.value)
    assert not (tmp_path / "refused").exists()


def _row(row_id: int, method: str, path: str, message_id: str, age: float) -> TrafficRow:
    started = datetime(2026, 1, 5, 9, 0, tzinfo=UTC) - timedelta(seconds=age)
    return TrafficRow(row_id, "admin", method, path, message_id, 200, b"", b"", started, 1, "OK")


class _Log:
    url = "http://gateway.test"

    def __init__(self, rows: list[TrafficRow]) -> None:
        self.rows = rows

    def traffic(self, after: int = 0) -> list[TrafficRow]:
        return [r for r in self.rows if r.id > after]


def test_a_gateway_another_run_drives_is_refused() -> None:
    other = f"{ADMIN_PREFIX}certify-other-7"
    busy = _Log([_row(1, "PUT", "/admin/faults", other, 5), _row(2, "GET", "/healthz", "", 0)])
    with pytest.raises(ConfigError, match="another client is driving") as err:
        refuse_if_busy(busy, 2)  # type: ignore[arg-type]
    assert "PUT /admin/faults" in str(err.value) and "serve a gateway of your own" in str(err.value)
    ended = f"{ADMIN_PREFIX}certify-other-end"
    done = _Log([_row(1, "PUT", "/admin/faults", other, 5), _row(2, "DELETE", "/x", ended, 4)])
    refuse_if_busy(done, 2)  # type: ignore[arg-type]  # that run said it ended
    old = _Log([_row(1, "PUT", "/admin/faults", other, 300), _row(2, "GET", "/healthz", "", 0)])
    refuse_if_busy(old, 2)  # type: ignore[arg-type]  # long quiet


def test_fault_plan_changes_of_another_run_are_foreign() -> None:
    mine = _row(1, "PUT", "/admin/faults", f"{ADMIN_PREFIX}certify-me-1", 0)
    theirs = _row(2, "POST", "/admin/clock/advance", f"{ADMIN_PREFIX}certify-them-3", 0)
    untagged = _row(3, "DELETE", "/admin/faults", "", 0)
    read = _row(4, "GET", "/admin/faults/log", "", 0)
    assert foreign_writes([mine, theirs, untagged, read], "certify-me") == [theirs, untagged]


class _Workers:
    url = "http://gateway.test"

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def worker_count(self) -> int:
        return self.workers


def test_a_gateway_served_by_several_workers_is_refused() -> None:
    """Fault counts and the fault log are per worker: four runs of the reference I-VAN
    against --workers 2 gave four different verdicts."""
    refuse_several_workers(_Workers(1))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="served by 2 worker processes") as err:
        refuse_several_workers(_Workers(2))  # type: ignore[arg-type]
    assert "--workers 1" in (err.value.hint or "")


def test_certify_refuses_a_served_two_worker_gateway(tmp_path: Path, pki: TestPKI) -> None:
    from mock_gateway.testing import ServerProcess

    with (
        ServerProcess(tmp_path / "gateway.sqlite3", workers=2) as running,
        pytest.raises(ConfigError, match="served by 2 worker processes"),
    ):
        run_certification(
            "reference",
            procedures=[PROCEDURE],
            gateway_url=running.url,
            cases=["CERT-SCH-01"],
            out=tmp_path / "refused",
            settings=FAST,
        )
    assert not (tmp_path / "refused").exists()
