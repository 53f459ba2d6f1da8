"""A baseline taken differently from the candidate run: the cause is named, not left to guess.

An in-process baseline timed against an HTTP candidate is slower by the transport alone,
and a candidate serving a catalog version the baseline's gateway did not (2024.1 beside
2026.1) judges the dossiers dated in its period by it: both failed ``regress`` with no
cause named. Latency is now judged only when both were reached the same way, and the
extra catalog versions are named with the differences that may come from them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.regression import LatencyThresholds, record, regress, save_baseline
from harness.regression.report import report_bundle, summary_lines
from harness.signing import TestPKI
from mock_gateway.config import DEFAULT_ADMIN_TOKEN, DEFAULT_IVAN_TOKENS
from mock_gateway.testing import ServerProcess
from tests.regression.conftest import FUNCTIONAL


@pytest.fixture(scope="module")
def only_2026(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> Path:
    """Baseline ``only-2026`` (procedure 630a) of an in-process gateway serving 2026.1 only."""
    root = tmp_path_factory.mktemp("fix20-baselines")
    record(
        gateway="inproc", catalog="2026.1", name="only-2026", root=root, pki=pki,
        catalogs=("2026.1",), procedures=("630a",),
    )  # fmt: skip
    return root


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A mock gateway over HTTP serving every catalog version, as ``bhxh-harness serve``."""
    folder = tmp_path_factory.mktemp("fix20-http")
    with ServerProcess(folder / "gateway.sqlite3", clock_speed=20_000.0) as running:
        yield running


def test_an_inproc_baseline_against_an_http_candidate_names_both_causes(
    only_2026: Path, server: ServerProcess, pki: TestPKI, tmp_path: Path
) -> None:
    """The QA probe: record in-process serving 2026.1, regress against ``serve`` over HTTP."""
    result = regress(
        baseline="only-2026", gateway=server.url, root=only_2026, pki=pki,
        token=DEFAULT_IVAN_TOKENS["IVAN01"], admin_token=DEFAULT_ADMIN_TOKEN,
    )  # fmt: skip
    assert not any(d.kind.startswith("latency-") for d in result.differences)
    [latency] = [n for n in result.notes if n.startswith("latency not judged")]
    assert "in-process (inproc)" in latency and f"over HTTP ({server.url})" in latency
    assert "record the baseline against a URL gateway" in latency
    assert result.unjudged[("latency-p50", "630a")].startswith("not judged: baseline and")
    [catalogs] = [n for n in result.notes if n.startswith("the candidate serves catalog 2024.1")]
    assert "a deployment difference" in catalogs
    assert "may come from it rather than from the release" in catalogs
    assert "changed-answer 630a/procedure-not-in-force" in catalogs
    lines = summary_lines(result)
    assert f"note: {latency}" in lines and f"note: {catalogs}" in lines
    meta = json.loads(report_bundle(result, tmp_path).write().joinpath("results.json").read_text())
    assert latency in meta["run"]["meta"]["notes"] and catalogs in meta["run"]["meta"]["notes"]


def test_an_extra_older_catalog_s_differences_say_where_they_may_come_from(
    only_2026: Path, pki: TestPKI
) -> None:
    result = regress(baseline="only-2026", root=only_2026, pki=pki, thresholds=FUNCTIONAL)
    # the candidate's answer does differ: named and explained, but not excused
    [changed] = result.unintended
    assert (changed.kind, changed.dossier) == ("changed-answer", "630a/procedure-not-in-force")
    assert "2024.1" in result.causes["630a/procedure-not-in-force"]
    [case] = [c for c in report_bundle(result).cases if c.case_id == "REG-changed-answer@630a"]
    assert "note: catalog 2024.1, which the candidate serves" in "".join(case.evidence.values())
    assert not any("latency not judged" in n for n in result.notes)  # both in-process


def test_latency_is_judged_only_when_both_were_reached_the_same_way(
    only_2026: Path, pki: TestPKI, tmp_path: Path
) -> None:
    """A baseline far faster than any gateway: judged in-process vs in-process, not judged
    once the baseline says it was timed over HTTP."""
    from harness.regression import load_baseline

    base = load_baseline("only-2026", only_2026)
    instant = {p: {"n": 100, "p50_ms": 0.01, "p95_ms": 0.01} for p in base.latency}
    strict = LatencyThresholds(min_samples=1)
    for name, gateway in (("same-way", "inproc"), ("over-http", "http://127.0.0.1:18432")):
        save_baseline(
            dataclasses.replace(base, name=name, gateway=gateway, latency=instant), tmp_path
        )
    judged = regress(baseline="same-way", root=tmp_path, pki=pki, thresholds=strict)
    assert "latency-p50" in {d.kind for d in judged.unintended}
    unjudged = regress(baseline="over-http", root=tmp_path, pki=pki, thresholds=strict)
    assert not any(d.kind.startswith("latency-") for d in unjudged.differences)
    [note] = [n for n in unjudged.notes if n.startswith("latency not judged")]
    assert "record the baseline with --gateway inproc" in note
    assert any(
        line.startswith("latency-p50, latency-p95 not judged in")
        for line in summary_lines(unjudged)
    )
    [case] = [c for c in report_bundle(unjudged).cases if c.case_id == "REG-latency-p50@630a"]
    assert case.outcome.value == "skipped"


def test_how_a_gateway_was_reached() -> None:
    from harness.regression.deployment import latency_unjudged_note, reached

    assert [reached(g) for g in ("inproc", "inproc[slow-d02]", "http://x:1", "")] == [
        "in-process", "in-process", "over HTTP", "",
    ]  # fmt: skip
    assert latency_unjudged_note("inproc[slow-d02]", "inproc") is None
    assert latency_unjudged_note("https://a", "http://b:8") is None
    assert latency_unjudged_note("", "http://b:8") is None  # an older baseline: as before
