"""The lifecycle machine's QA probe findings: the machine always submits first, records its
own steps in words, acks its own dossiers' messages, ends at its step count or the
--duration deadline, and says when it exercised nothing; a gateway going away, Ctrl-C and
the user's token mistakes are no findings about the gateway."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import main
from harness.fuzz.lifecycle_run import (
    LifecycleResult,
    inproc_lifecycle,
    run_lifecycle,
)
from harness.fuzz.lifecycle_wire import DossierView, FeedEntry, FeedPage, LifecycleGateway
from harness.signing import TestPKI, ensure_pki
from mock_gateway.local import LocalServer
from mock_gateway.testing import InProcessGateway
from tests.fuzz.conftest import run_inproc as _run

TOKEN = "test-token-IVAN01"


# -- 2: every sequence exercises receipts; a run that exercised nothing says so -------------


def test_a_lone_token_run_still_submits_and_is_not_vacuous(
    pki: TestPKI, bodies: dict[str, list[bytes]]
) -> None:
    result = _run(pki, bodies, steps=30, alone=True)
    assert result.ok, result.failure
    assert result.stats["receipts"] > 0, result.stats
    assert not result.no_verdict


def test_no_receipt_is_no_verdict_and_a_rule_without_effect_is_said() -> None:
    stats = dict.fromkeys(("steps", "receipts", "resubmitted", "messages", "acked"), 0)
    vacuous = LifecycleResult(30, 0, ("IVAN01",), stats=stats | {"steps": 30})
    assert "no receipt" in vacuous.no_verdict
    assert vacuous.outcome().startswith("no verdict")
    assert vacuous.case().outcome.value == "skipped"
    part = LifecycleResult(30, 0, ("IVAN01",), stats=stats | {"receipts": 3, "messages": 2})
    assert not part.no_verdict
    assert part.outcome().startswith("held, but no resubmission, no ack was exercised")


# -- 4: the steps as run, in words --------------------------------------------------------


def test_shrunk_steps_are_the_machines_own_words(
    pki: TestPKI, bodies: dict[str, list[bytes]]
) -> None:
    result = _run(pki, bodies, release="idempotency-broken")
    failure = result.failure
    assert failure is not None and failure.check == "lifecycle-idempotent"
    assert not failure.flaky
    assert failure.steps[0].startswith("submit as IVAN01: dossier 0, message id lifecycle-")
    assert any(step.startswith("resubmit as ") for step in failure.steps), failure.steps
    assert not any("state" in step or "data(" in step for step in failure.steps)
    assert "answered 409, not 202" in failure.reason  # no stray space before the comma
    assert result.stats["steps"] <= 60  # what ran before the failure, not shrinking's replays


@dataclass
class LosesOneDossierOnce(LifecycleGateway):
    """Answers 404 once to the owner of a dossier, then never again: hypothesis cannot
    replay the failure (a URL whose state moved on)."""

    def dossier(self, ivan: str, ma_gdich: str) -> DossierView:
        view = super().dossier(ivan, ma_gdich)
        if view.status == 200:
            self.calls = getattr(self, "calls", 0) + 1
            if self.calls == 6:
                return DossierView(404)
        return view


def test_a_failure_hypothesis_cannot_replay_shows_the_steps_as_run(
    pki: TestPKI, bodies: dict[str, list[bytes]]
) -> None:
    result = _run(pki, bodies, kind=LosesOneDossierOnce)
    failure = result.failure
    assert failure is not None and failure.check == "lifecycle-dossier-kept"
    assert failure.flaky
    assert failure.steps, "the steps as run are always shown"
    assert failure.steps[0].startswith("submit as IVAN01")


# -- 6: acks go to the machine's own dossiers' messages -------------------------------------


@dataclass
class FeedsForeignMessages(LifecycleGateway):
    """Every feed page carries a message of a dossier the machine never sent (the fuzz
    cases' or an earlier run's); the acks the machine sends are recorded."""

    def feed(self, ivan: str, after: int) -> FeedPage:
        page = super().feed(ivan, after)
        n = getattr(self, "foreign", 0) + 1
        self.foreign = n
        stranger = FeedEntry(f"foreign-{n}", f"FOREIGN{n}", "", True)
        return FeedPage(page.status, (stranger, *page.entries), page.cursor)

    def ack(self, ivan: str, message_id: str) -> tuple[int, str]:
        if not hasattr(self, "acks"):
            self.acks: list[str] = []
        self.acks.append(message_id)
        if message_id.startswith("foreign-"):
            return 200, "2026-01-01T00:00:00"
        return super().ack(ivan, message_id)


def test_the_machine_acks_only_its_own_dossiers_messages(
    pki: TestPKI, bodies: dict[str, list[bytes]]
) -> None:
    with inproc_lifecycle(pki, "IVAN01") as gateway:
        gateway.__class__ = FeedsForeignMessages
        result = run_lifecycle(gateway, bodies, steps=80, seed=0, shrink_seconds=5)
        acks = list(getattr(gateway, "acks", []))
    assert result.ok, result.failure
    assert acks, "the machine acknowledged something"
    # the other I-VAN's stranger ack of an own message is a 404 check, not an ack it chose
    assert not [m for m in acks if m.startswith("foreign-")], acks


# -- 9: bounds ------------------------------------------------------------------------------


def test_exactly_the_steps_asked_run_and_the_title_says_them(
    pki: TestPKI, bodies: dict[str, list[bytes]]
) -> None:
    result = _run(pki, bodies, steps=40)
    assert result.ran == 40, result.stats
    assert "40 of 40 steps" in result.case().title


def test_the_deadline_stops_the_lifecycle_after_its_start(
    pki: TestPKI, bodies: dict[str, list[bytes]]
) -> None:
    result = _run(pki, bodies, steps=5000, deadline=time.perf_counter())
    assert result.ok and result.cut_short == "stopped at the --duration deadline"
    assert result.ran == 0 and result.stats["receipts"] > 0  # its start still ran
    assert "0 of 5000 steps" in result.case().title


def test_more_than_ten_thousand_steps_are_refused() -> None:
    result = CliRunner().invoke(main, ["fuzz", "--budget", "5", "--lifecycle-steps", "10001"])
    assert result.exit_code == 2, result.output
    assert "--lifecycle-steps 10001: at most 10,000 steps" in result.stderr


# -- 7, 8, 10: the CLI's report of a lifecycle failure or pass -----------------------------


def test_a_lifecycle_only_failure_is_counted_saved_and_reproducible(
    tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dossier = LifecycleGateway.dossier

    def shows_every_dossier(self: LifecycleGateway, ivan: str, ma_gdich: str) -> DossierView:
        view = dossier(self, ivan, ma_gdich)  # the owner check dropped: only lifecycle sees it
        return view if view.status == 200 else dossier(self, self.own_ivan, ma_gdich)

    monkeypatch.setattr(LifecycleGateway, "dossier", shows_every_dossier)
    out, found = tmp_path / "out", tmp_path / "found"
    args = ["fuzz", "--family", "valid", "--budget", "7", "--seed", "3"]
    args += ["--lifecycle-steps", "60", "--out", str(out), "--found", str(found)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "fuzz: FAILED: 1 distinct failure(s) in 7 cases" in result.output
    assert "lifecycle: lifecycle-isolated:" in result.output
    assert "state = Lifecycle()" not in result.output
    saved = list((found / "lifecycle").glob("lifecycle-isolated-seed3-*.txt"))
    assert len(saved) == 1, list(found.rglob("*"))
    text = saved[0].read_text(encoding="utf-8")
    assert "check: lifecycle-isolated" in text and "seed: 3" in text
    assert "--seed 3 --family valid --budget 1 --lifecycle-steps 60" in text
    assert "submit as IVAN01" in text
    data = json.loads(next(out.glob("*/results.json")).read_text(encoding="utf-8"))
    case = next(c for c in data["cases"] if c["case_id"] == "FUZZ-lifecycle")
    assert "--lifecycle-steps 60" in case["reproduce"]


def test_a_passing_lifecycle_names_what_was_left_out_in_its_case() -> None:
    stats = {"steps": 10, "receipts": 3, "resubmitted": 1, "messages": 2, "acked": 1}
    left = ("advance (simulated time): no --admin-token for this gateway",)
    case = LifecycleResult(10, 0, ("IVAN01",), left, stats).case()
    assert case.outcome.value == "passed"
    assert "Left out: advance (simulated time): no --admin-token" in case.message


def test_admin_token_help_says_it_touches_every_ivan() -> None:
    result = CliRunner().invoke(main, ["fuzz", "--help"])
    assert "503 bursts on for every I-VAN" in " ".join(result.output.split())


# -- 1, 3, 5: a URL gateway: gone, wrong tokens; Ctrl-C -----------------------------------


@pytest.fixture
def served(pki_dir: Path) -> Iterator[LocalServer]:
    tokens = {code: f"test-token-{code}" for code in ("IVAN01", "IVAN02", "IVAN03")}
    with (
        InProcessGateway(pki=ensure_pki(pki_dir), ivan_tokens=tokens) as gateway,
        LocalServer(gateway.gateway) as server,
    ):
        yield server


def _fuzz(tmp_path: Path, *args: str) -> Result:
    out, found = tmp_path / "out", tmp_path / "found"
    base = ["fuzz", "--family", "valid", "--budget", "4", "--out", str(out), "--found", str(found)]
    return CliRunner().invoke(main, [*base, *args])


@pytest.mark.parametrize(
    ("option", "said"),
    [
        ("IVAN02=wrong-token", "--ivan-token IVAN02=... is refused by the gateway (401 AUTH-002)"),
        (f"IVAN02={TOKEN}", "--ivan-token IVAN02=...: the same token as --token"),
        ("IVAN02=test-token-IVAN03", "the token given for IVAN02 is another I-VAN's"),
        ("IVAN01=test-token-IVAN02", "--ivan-token IVAN01=...: IVAN01 is --ivan"),
    ],
)
def test_a_wrong_second_token_is_refused_before_any_case(
    tmp_path: Path, served: LocalServer, option: str, said: str
) -> None:
    result = _fuzz(tmp_path, "--gateway", served.url, "--token", TOKEN, "--ivan-token", option)
    assert result.exit_code == 2, result.output
    assert said in result.stderr
    assert "fuzz:" not in result.output
    assert not list((tmp_path / "out").glob("*/results.json"))


def test_a_wrong_admin_token_is_refused_before_any_case(
    tmp_path: Path, served: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[LifecycleGateway] = []
    monkeypatch.setattr(LifecycleGateway, "close", lambda self: closed.append(self))
    args = ["--gateway", served.url, "--token", TOKEN, "--admin-token", "wrong-admin"]
    result = _fuzz(tmp_path, *args)
    assert result.exit_code == 2, result.output
    assert len(closed) == 1  # the refused admin session is not left open
    assert "--admin-token is refused by the gateway (401): check it" in result.stderr
    assert "fuzz:" not in result.output


def test_a_gateway_gone_during_the_lifecycle_gives_exit_3_and_a_report(
    tmp_path: Path, served: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = LifecycleGateway.feed
    calls = [0]

    def stop_serving(self: LifecycleGateway, ivan: str, after: int) -> FeedPage:
        calls[0] += 1
        if calls[0] == 8:
            served.__exit__(None, None, None)  # as SIGTERM would stop `serve`
        return feed(self, ivan, after)

    monkeypatch.setattr(LifecycleGateway, "feed", stop_serving)
    args = ["--gateway", served.url, "--token", TOKEN, "--lifecycle-steps", "60"]
    result = _fuzz(tmp_path, *args)
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert "lifecycle: no verdict: the gateway went away during the lifecycle" in result.output
    data = json.loads(next((tmp_path / "out").glob("*/results.json")).read_text("utf-8"))
    assert data["verdict"] == "incomplete"
    case = next(c for c in data["cases"] if c["case_id"] == "FUZZ-lifecycle")
    assert case["outcome"] == "skipped" and "went away" in case["message"]


def test_ctrl_c_during_the_lifecycle_keeps_the_cases_report(
    tmp_path: Path, pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed, calm = LifecycleGateway.feed, LifecycleGateway.calm
    calls, calmed = [0], [0]

    def interrupted(self: LifecycleGateway, ivan: str, after: int) -> FeedPage:
        calls[0] += 1
        if calls[0] == 8:
            raise KeyboardInterrupt
        return feed(self, ivan, after)

    def counted_calm(self: LifecycleGateway) -> bool:
        calmed[0] += 1
        return calm(self)

    monkeypatch.setattr(LifecycleGateway, "feed", interrupted)
    monkeypatch.setattr(LifecycleGateway, "calm", counted_calm)
    result = _fuzz(tmp_path, "--lifecycle-steps", "60")
    assert result.exit_code == 130, result.output
    assert "fuzz: STOPPED" in result.output
    assert "lifecycle: no verdict: lifecycle stopped" in result.output
    data = json.loads(next((tmp_path / "out").glob("*/results.json")).read_text("utf-8"))
    assert data["verdict"] == "interrupted"
    cases = {c["case_id"]: c for c in data["cases"]}
    assert "FUZZ-valid@600" in cases or any(k.startswith("FUZZ-valid@") for k in cases)
    assert cases["FUZZ-lifecycle"]["outcome"] == "skipped"
    assert calmed[0] >= 1  # any 503 burst it switched on is switched off


def test_an_end_hypothesis_wraps_in_its_flaky_is_still_that_end() -> None:
    from hypothesis.errors import FlakyStrategyDefinition

    from harness.fuzz.lifecycle import RunOver
    from harness.fuzz.lifecycle_run import _ending

    over = RunOver("stopped at the --duration deadline")
    try:
        try:
            raise over
        except RunOver:
            raise FlakyStrategyDefinition("Inconsistent data generation!") from None
    except FlakyStrategyDefinition as flaky:
        assert _ending(flaky) is over  # the context survives "from None"
