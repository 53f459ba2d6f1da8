"""An acknowledgement the candidate answers with an error while a newer catalog's dossiers
are replayed is a difference, as it is in the corpus's own replay: it was ignored, so a
build whose feed broke only for a new catalog's dossiers passed ``regress``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from harness.regression import Baseline, new_catalogs
from harness.regression.cli import regress as regress_command
from tests.regression.conftest import LENIENT
from tests.regression.faulty_transport import breaking, is_ack

REFUSED = "POST /api/v1/messages/{id}/ack answered 500 Internal Server Error"


def _acks_fail_for_new_catalogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The candidate answers 500 to every acknowledgement sent while a newer catalog's
    dossiers are replayed, and to none of the corpus's own."""
    replaying: list[bool] = []
    real: Callable[..., Any] = new_catalogs.replay

    def replay_new(*args: Any, **kwargs: Any) -> Any:
        replaying.append(True)
        try:
            return real(*args, **kwargs)
        finally:
            replaying.clear()

    monkeypatch.setattr(new_catalogs, "replay", replay_new)

    def breaks(request: requests.PreparedRequest) -> bool:
        return bool(replaying) and is_ack(request)

    breaking(monkeypatch, breaks)


def test_a_new_catalog_s_refused_acknowledgement_fails_the_run_and_its_report(
    reference_2024: Baseline, baselines: Path, pki_dir: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    _acks_fail_for_new_catalogs(monkeypatch)
    args = ["--baseline", reference_2024.name, "--root", str(baselines), "--out", str(tmp_path)]
    run = CliRunner().invoke(regress_command, [*args, *LENIENT])
    assert run.exit_code == 1, run.output
    assert "regression: FAILED" in run.stdout
    assert "changed-message x" in run.stdout and "2026.1/" in run.stdout
    [folder] = tmp_path.glob("regression-*")
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "failed"
    failed = {c["case_id"]: c for c in data["cases"] if c["outcome"] == "failed"}
    assert list(failed) == ["REG-new-catalog@2026.1"]  # not the corpus's own cells
    case = failed["REG-new-catalog@2026.1"]
    message = case["message"]
    assert "acknowledgement(s) answered with an error" in message
    assert message.endswith(" unintended acknowledgement failure(s)")
    said = case["evidence"]["procedure 630a"]
    assert f"acknowledging its 02/TB-TS failed: {REFUSED}" in said
    assert f"acknowledging its 03/TB-TS failed: {REFUSED}" in said
