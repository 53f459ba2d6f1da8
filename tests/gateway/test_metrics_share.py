"""``/metrics`` is the sum over every worker, whichever worker a scrape reaches."""

from __future__ import annotations

import re
import time
from pathlib import Path

import requests

from harness.signing import TestPKI
from mock_gateway.config import DEFAULT_IVAN_TOKENS
from mock_gateway.metrics import Metrics
from mock_gateway.metrics_share import PUBLISH_SECONDS, MetricsShare
from mock_gateway.testing import ServerProcess


def _count(text: str, route: str) -> int:
    found = re.search(rf'bhxh_gateway_requests_total{{route="{route}",[^}}]*}} (\d+)', text)
    return int(found[1]) if found else 0


def test_render_adds_other_workers_snapshots() -> None:
    mine, theirs = Metrics(), Metrics()
    mine.observe("get_catalog", "GET", 200, 0.002, "OK")
    for seconds in (0.002, 3.0):
        theirs.observe("get_catalog", "GET", 200, seconds, "OK")
    theirs.observe("submit_dossier", "POST", 400, 0.01, "XML-001")
    text = mine.render(others=[theirs.snapshot()]).decode()
    assert _count(text, "get_catalog") == 3 and _count(text, "submit_dossier") == 1
    assert 'bhxh_gateway_outcomes_total{code="OK"} 3' in text
    assert 'bhxh_gateway_outcomes_total{code="XML-001"} 1' in text
    assert 'duration_seconds_bucket{route="get_catalog",le="0.0025"} 2' in text
    assert 'duration_seconds_bucket{route="get_catalog",le="+Inf"} 3' in text
    assert 'duration_seconds_count{route="get_catalog"} 3' in text
    assert _count(mine.render().decode(), "get_catalog") == 1  # its own numbers untouched


def test_a_share_sees_the_others_files_never_its_own_and_skips_broken_ones(
    tmp_path: Path,
) -> None:
    first, second = Metrics(), Metrics()
    first.observe("get_catalog", "GET", 200, 0.001, "OK")
    a, b = MetricsShare(tmp_path, first), MetricsShare(tmp_path, second)
    a.publish()
    b.publish()
    (tmp_path / "worker-broken.json").write_text("{not json", encoding="utf-8")
    assert [len(s["requests"]) for s in b.others()] == [1]
    assert [len(s["requests"]) for s in a.others()] == [0]
    assert not list(tmp_path.glob("*.tmp"))  # written whole, then renamed


def test_every_scrape_of_a_two_worker_server_counts_every_request(
    tmp_path: Path, pki: TestPKI
) -> None:
    del pki
    headers = {"Authorization": f"Bearer {DEFAULT_IVAN_TOKENS['IVAN01']}"}
    with ServerProcess(tmp_path / "gateway.sqlite3", workers=2) as server:
        for _ in range(40):  # a new connection each: the kernel spreads them over both
            assert requests.get(f"{server.url}/api/v1/catalog", headers=headers).ok
        time.sleep(PUBLISH_SECONDS * 2.5)
        seen = {_count(requests.get(f"{server.url}/metrics").text, "get_catalog") for _ in range(8)}
    assert seen == {40}
