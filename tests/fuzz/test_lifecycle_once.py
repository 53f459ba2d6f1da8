"""The lifecycle machine does its set-up work once: each sequence pages its I-VANs' feeds
on from the end the sequence before found (not through the whole feed again), and a URL
gateway is built, its admin token probed, before the cases and then reused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.types import ASGIApp, Receive, Scope, Send

from harness.catalog import load_catalog
from harness.cli import main
from harness.fuzz.http_target import http_target
from harness.fuzz.lifecycle_cli import check_lifecycle_tokens, run_cli_lifecycle
from harness.fuzz.lifecycle_run import inproc_lifecycle, run_lifecycle
from harness.fuzz.lifecycle_wire import FeedPage, LifecycleGateway
from harness.fuzz.pool import pool_for
from harness.signing import TestPKI, ensure_pki
from mock_gateway.app import create_app
from mock_gateway.local import LocalServer
from mock_gateway.testing import InProcessGateway

TOKENS = {code: f"test-token-{code}" for code in ("IVAN01", "IVAN02")}


@dataclass
class RecordsFeedEnds(LifecycleGateway):
    """Records each ``feed_end`` (one per I-VAN and sequence): the I-VAN, the ``after`` of
    each page it read, the end it found and the messages it paged through."""

    def feed_end(self, ivan: str) -> int:
        self.paging: tuple[list[int], list[str]] = ([], [])
        end = super().feed_end(ivan)
        self.found = [*getattr(self, "found", []), (ivan, *self.paging, end)]
        del self.paging
        return end

    def feed(self, ivan: str, after: int) -> FeedPage:
        page = super().feed(ivan, after)
        if hasattr(self, "paging"):  # within feed_end
            self.paging[0].append(after)
            self.paging[1].extend(entry.id for entry in page.entries)
        return page


def test_each_sequence_pages_on_from_the_feed_end_found_before(
    pki: TestPKI, bodies: dict[str, list[bytes]]
) -> None:
    with inproc_lifecycle(pki, "IVAN01") as gateway:
        gateway.__class__ = RecordsFeedEnds  # the feed grows as the machine's clock moves
        result = run_lifecycle(gateway, bodies, steps=60, seed=0, shrink_seconds=5)
    assert result.ok, result.failure
    found = gateway.found
    for ivan in ("IVAN01", "IVAN02"):
        mine = [(afters[0], end) for code, afters, _, end in found if code == ivan]
        assert len(mine) >= 3, found  # several sequences
        assert mine[0][0] == 0
        assert [start for start, _ in mine[1:]] == [end for _, end in mine[:-1]], mine
        assert mine[-2][1] > 0, "the feed had grown before the last sequence: not vacuous"
    read = [message for _, _, messages, _ in found for message in messages]
    assert len(read) == len(set(read)), "a message was paged through again"
    # one request per sequence and I-VAN, one more for each page of new messages
    requests = sum(len(afters) for _, afters, _, _ in found)
    assert requests <= len(found) + len(read), found


def _counting(app: ASGIApp, seen: Counter[tuple[str, str, str]]) -> ASGIApp:
    async def counted(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            seen[scope["method"], scope["path"], scope["query_string"].decode()] += 1
        await app(scope, receive, send)

    return counted


@pytest.fixture
def counted_server(
    pki_dir: Path,
) -> Iterator[tuple[LocalServer, str, Counter[tuple[str, str, str]]]]:
    seen: Counter[tuple[str, str, str]] = Counter()
    with InProcessGateway(pki=ensure_pki(pki_dir), ivan_tokens=TOKENS) as local:
        app = _counting(create_app(local.gateway, close=False), seen)
        with LocalServer(local.gateway, app=app) as server:
            yield server, local.token("admin"), seen


def test_a_url_gateway_is_built_and_its_admin_token_probed_once(
    pki: TestPKI, counted_server: tuple[LocalServer, str, Counter[tuple[str, str, str]]]
) -> None:
    server, admin, seen = counted_server
    target = http_target(server.url, TOKENS["IVAN01"])
    pool = pool_for(load_catalog("2026.1"), pki, "IVAN01")
    others = {"IVAN02": TOKENS["IVAN02"]}
    gateway = check_lifecycle_tokens(target, TOKENS["IVAN01"], others, admin, pool, True)
    assert gateway.clock and gateway.other_ivan == "IVAN02"  # the plain app: no fault admin
    probes = {("POST", "/admin/clock/advance", "seconds=0"), ("GET", "/admin/faults", "")}
    assert {k: seen[k] for k in probes} == dict.fromkeys(probes, 1)
    result = run_cli_lifecycle(gateway, pool=pool, steps=6, seed=0, release=None)
    assert result.ok and result.ivans == ("IVAN01", "IVAN02"), result.failure
    assert result.stats["receipts"] > 0
    assert {k: seen[k] for k in probes} == dict.fromkeys(probes, 1), seen


def test_a_url_runs_admin_token_is_probed_once_before_the_cases(
    tmp_path: Path,
    counted_server: tuple[LocalServer, str, Counter[tuple[str, str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, admin, seen = counted_server
    closed: list[LifecycleGateway] = []
    monkeypatch.setattr(LifecycleGateway, "close", lambda self: closed.append(self))
    args = ["fuzz", "--family", "valid", "--budget", "2", "--lifecycle-steps", "6"]
    args += ["--gateway", server.url, "--token", TOKENS["IVAN01"], "--admin-token", admin]
    args += ["--ivan-token", f"IVAN02={TOKENS['IVAN02']}"]
    args += ["--out", str(tmp_path / "out"), "--found", str(tmp_path / "found")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 3, result.output  # INCOMPLETE: 2 cases reach few procedures
    assert "lifecycle: held" in result.output
    probes = {("POST", "/admin/clock/advance", "seconds=0"), ("GET", "/admin/faults", "")}
    assert {k: seen[k] for k in probes} == dict.fromkeys(probes, 1), seen
    assert len(closed) == 1 and closed[0].admin is not None  # its sessions, at the end
