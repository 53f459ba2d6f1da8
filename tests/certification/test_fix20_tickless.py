"""The reference I-VAN driven as a command without ``tick`` (as the guides allow) is PASSED
or INCOMPLETE, never FAILED: it once left a dossier refused by the 503 burst in its outbox,
and resent it during the next scenario's submit, where it took that scenario's only 503.

A tick-less I-VAN can only resend inside the ``submit`` that met the refusal, so the
reference now outlasts a short burst there, the retry checks block (not fail) one that
defers the resend to a later call, and a dossier of an earlier scenario that takes a
fault is named in the skip reason.
"""

from __future__ import annotations

import random
import re
import shlex
import sys
from typing import Any

import pytest

from harness.certification import ReferenceIvan, load_suite, run_certification
from harness.certification.suite import suite_dir
from harness.client import RetryPolicy
from harness.reporting import ReportBundle
from tests.certification.conftest import FAST

SUBMIT_ONLY = (
    f"{shlex.quote(sys.executable)} -m harness.certification.reference_cli submit {{dossier}} "
    "--now {now}"
)


def _outcomes(bundle: ReportBundle) -> dict[str, tuple[str, str]]:
    return {c.case_id.split("@")[0]: (c.outcome.value, c.message) for c in bundle.cases}


@pytest.fixture(scope="module")
def submit_only(tmp_path_factory: pytest.TempPathFactory, pki: Any) -> dict[str, tuple[str, str]]:
    """One run of the whole suite on procedure 600 with the suite's own settings (the QA
    probe's: a one-second burst), the reference as a command with no tick template."""
    out = tmp_path_factory.mktemp("tickless")
    return _outcomes(run_certification(SUBMIT_ONLY, procedures=["600"], out=out))


def _documented_tickless_skips() -> set[str]:
    """The cases the vendor guide says are skipped without tick ("CERT-MSG-01/02/03, ...")."""
    text = " ".join((suite_dir() / "README.md").read_text(encoding="utf-8").split())
    listed = re.search(
        r"Without `tick` BHXH's messages cannot reach the employer, so (.+?) are", text
    )
    assert listed, "the vendor guide no longer lists what is skipped without tick"
    found: set[str] = set()
    for area, numbers in re.findall(r"CERT-([A-Z]+)-([\d/]+)", listed.group(1)):
        found |= {f"CERT-{area}-{n}" for n in numbers.split("/")}
    return found


def test_a_submit_only_reference_fails_nothing(submit_only: dict[str, tuple[str, str]]) -> None:
    bad = {c: o for c, o in submit_only.items() if o[0] in ("failed", "error")}
    assert bad == {}


def test_it_skips_exactly_the_documented_cases_for_the_true_reason(
    submit_only: dict[str, tuple[str, str]],
) -> None:
    skipped = {c: m for c, (o, m) in submit_only.items() if o == "skipped"}
    needing_tick = {c.id for c in load_suite().cases.values() if "tick" in c.needs}
    assert set(skipped) == needing_tick == _documented_tickless_skips()
    assert all(
        m.startswith("not supported by the adapter: no tick operation") for m in skipped.values()
    )


def test_it_waits_out_the_burst_and_the_retry_after_inside_submit(
    submit_only: dict[str, tuple[str, str]],
) -> None:
    assert submit_only["CERT-RTY-01"][0] == "passed", submit_only["CERT-RTY-01"]
    assert submit_only["CERT-RTY-02"][0] == "passed", submit_only["CERT-RTY-02"]


def test_the_reference_backoff_of_one_call_always_outlasts_the_suite_burst() -> None:
    """Its attempts within the burst stay under the limit, and one always comes after it."""
    settings = load_suite().settings
    window, limit = float(settings["burst_window"]), int(settings["burst_max_attempts"])
    policy = ReferenceIvan.retry
    for seed in range(300):
        rng, started, at = random.Random(seed), [0.0], 0.0
        for attempt in range(1, policy.attempts):
            at += policy.delay(attempt, None, rng)
            started.append(at)
        assert started[-1] > window, seed
        assert sum(1 for t in started if t < window) <= limit, seed


class DefersToNextCall(ReferenceIvan):
    """Tick-less, and tries a dossier once per call: a refused one waits in its outbox."""

    name = spec = "python:defers-to-next-call"
    capabilities = frozenset({"recover", "restart"})
    retry = RetryPolicy(attempts=1, base_delay=0.05)


@pytest.fixture(scope="module")
def deferring(tmp_path_factory: pytest.TempPathFactory, pki: Any) -> dict[str, tuple[str, str]]:
    out = tmp_path_factory.mktemp("defers")
    cases = ["CERT-RTY-01", "CERT-RTY-02"]
    bundle = run_certification(DefersToNextCall(), ["600"], out=out, cases=cases, settings=FAST)
    return _outcomes(bundle)


def test_a_tickless_ivan_that_resends_later_is_blocked_not_failed(
    deferring: dict[str, tuple[str, str]],
) -> None:
    outcome, message = deferring["CERT-RTY-01"]
    assert outcome == "skipped", message
    assert message.startswith("blocked: the dossier was never sent again after the burst within")
    assert "tick" in message


def test_a_leftover_dossier_that_takes_the_fault_is_named(
    deferring: dict[str, tuple[str, str]],
) -> None:
    outcome, message = deferring["CERT-RTY-02"]
    assert outcome == "skipped", message
    assert re.search(r"a dossier of an earlier scenario \(X-Message-Id [\w-]+\)", message), message
