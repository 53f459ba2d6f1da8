"""A newer catalog's replay is held to what the corpus's replay is held to: an accepted valid
dossier whose 03/TB-TS never came is a ``missing-message`` difference, a dossier answered
``unavailable`` an ``unavailable`` one, the replay's notes (feed polling stopped) and its
waiting count are said, and its retries join the run's transport line. Each was dropped or
shown only in the case's evidence, so such a candidate passed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from harness.catalog import load_catalog
from harness.catalog.diff import diff_catalogs
from harness.client import FeedMessage
from harness.dossiers.corpus import CorpusEntry
from harness.message_kinds import RESULT
from harness.regression import Baseline, new_catalogs, regress
from harness.regression.cli import regress as regress_command
from harness.regression.new_catalogs import NewCatalogRun, unfinished
from harness.regression.replay import GatewayTarget
from harness.signing import TestPKI
from tests.regression.conftest import FUNCTIONAL, LENIENT
from tests.regression.faulty_transport import breaking, replay_module

NEW = "2026.1"
CASE = f"REG-new-catalog@{NEW}"


def _while_new_catalogs(
    monkeypatch: pytest.MonkeyPatch,
    target: Callable[[GatewayTarget], GatewayTarget] = lambda t: t,
) -> list[list[CorpusEntry]]:
    """The corpora replayed as newer catalogs' (non-empty while one is replayed), each
    against ``target`` of the run's gateway."""
    replaying: list[list[CorpusEntry]] = []
    real: Callable[..., Any] = new_catalogs.replay

    def replay_new(gateway: GatewayTarget, corpus: list[CorpusEntry], *args: Any, **kw: Any) -> Any:
        replaying.append(corpus)
        try:
            return real(target(gateway), corpus, *args, **kw)
        finally:
            replaying.clear()

    monkeypatch.setattr(new_catalogs, "replay", replay_new)
    return replaying


def _run(baseline: Baseline, baselines: Path, out: Path) -> tuple[Any, dict[str, Any]]:
    args = ["--baseline", baseline.name, "--root", str(baselines), "--out", str(out)]
    run = CliRunner().invoke(regress_command, [*args, *LENIENT])
    [folder] = out.glob("regression-*")
    return run, json.loads((folder / "results.json").read_text(encoding="utf-8"))


def _failed(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["case_id"]: c for c in data["cases"] if c["outcome"] == "failed"}


def test_a_new_catalog_dossier_whose_result_never_came_fails_its_case(
    reference_2024: Baseline, baselines: Path, pki_dir: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The candidate loses every 03/TB-TS of the newer catalog's dossiers (the feed never
    carries them), as the corpus's replay would call a ``missing-message``."""
    replaying = _while_new_catalogs(monkeypatch)
    real: Callable[..., list[FeedMessage]] = replay_module._read_feed

    def lossy(client: Any, refused: dict[str, str]) -> list[FeedMessage]:
        batch = real(client, refused)
        return [m for m in batch if not (replaying and m.kind == RESULT)]

    monkeypatch.setattr(replay_module, "_read_feed", lossy)
    run, data = _run(reference_2024, baselines, tmp_path)
    assert run.exit_code == 1, run.output
    assert "regression: FAILED" in run.stdout and "missing-message x7 in " in run.stdout
    assert list(_failed(data)) == [CASE]  # not the corpus's own cells
    case = _failed(data)[CASE]
    assert "7 valid dossier(s) replayed: 7 accepted (7 without its 03/TB-TS)" in case["message"]
    assert case["message"].endswith("; 7 unintended missing 03/TB-TS(s)")
    said = case["evidence"]["procedure 630a"]
    assert f"{NEW}/630a/valid-0000 (M01B-HSB-505): accepted, 03/TB-TS not received" in said


def test_a_new_catalog_s_polling_timeout_is_noted_counted_and_judged(
    reference_2024: Baseline, baselines: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an admin token and with no time to wait, the newer catalog's dossiers are
    still awaiting their 03/TB-TS when polling stops: said, counted, and not a pass."""
    no_time = {"admin_token": None, "poll_timeout": 0.0, "poll_interval": 0.0}
    _while_new_catalogs(monkeypatch, lambda t: dataclasses.replace(t, **no_time))
    result = regress(baseline=reference_2024.name, root=baselines, pki=pki, thresholds=FUNCTIONAL)
    note = f"catalog {NEW}'s dossiers: feed polling stopped after 0 s with 7 dossier(s) still "
    assert f"{note}waiting for {RESULT}" in result.notes
    [new] = result.new_catalogs
    assert new.waiting == len(new.entries) == 7
    assert new.summary().endswith(f"; 7 still waiting for {RESULT} when feed polling stopped")
    assert not result.ok
    assert {(d.kind, d.field, d.actual) for d in result.unintended} == {
        ("missing-message", RESULT, "absent")
    }
    assert "(still awaited when feed polling stopped)" in new.lines()["procedure 630a"]


def test_a_new_catalog_dossier_answered_unavailable_fails_and_its_retries_are_counted(
    reference_2024: Baseline, baselines: Path, pki_dir: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The candidate answers 503 to every submission of the newer catalog's valid 630a
    dossier: ``unavailable`` after the client's retries, which the transport line counts."""
    replaying = _while_new_catalogs(monkeypatch)

    def breaks(request: requests.PreparedRequest) -> bool:
        if not replaying or request.method != "POST" or request.body is None:
            return False
        [valid] = [e for e in replaying[0] if e.name == f"{NEW}/630a/valid-0000"]
        return request.body == valid.body

    sent = breaking(monkeypatch, breaks, status=503)
    run, data = _run(reference_2024, baselines, tmp_path)
    assert run.exit_code == 1, run.output
    assert "unavailable x1 in 630a; e.g. " in run.stdout
    case = _failed(data)[CASE]
    assert list(_failed(data)) == [CASE]
    assert "6 accepted, 1 unavailable" in case["message"]
    assert case["message"].endswith("; 1 unintended unavailable answer(s)")
    [attempts] = sent.values()  # one dossier, sent until the client gave up
    retries = f"{attempts - 1} retries, 0 connection resets"
    assert data["run"]["meta"]["transport"].startswith(retries)
    assert f"  transport: {retries}" in run.stdout


def test_a_defective_dossier_answered_unavailable_is_a_difference_too() -> None:
    """As in the corpus's replay, whatever the dossier: no answer is no verdict."""
    diff = diff_catalogs(load_catalog("2024.1"), load_catalog(NEW))
    gave_up = "ConnectionError (no answer) after 6 attempts"
    entry = CorpusEntry(f"{NEW}/600/blank-name", "600", "blank-name", ("RULE-112",), b"")
    outcome = {"status": 0, "accepted": False, "codes": [], "unavailable": gave_up}
    new = NewCatalogRun(NEW, "2024.1", diff, [], {entry.name: outcome}, [], defective=[entry])
    [d] = unfinished(NEW, new)
    assert (d.kind, d.dossier, d.expected, d.actual) == (
        "unavailable",
        entry.name,
        "refused with RULE-112 (blank-name)",
        f"unavailable: {gave_up}",
    )
    assert new.lines()["procedure 600"] == (
        f"{entry.name} (expects RULE-112): unavailable: {gave_up}"
    )
