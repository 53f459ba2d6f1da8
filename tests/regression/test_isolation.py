"""The isolation check: a second I-VAN's dossiers must stay out of the replaying I-VAN's
reach (404 on its status, absent from the feed, its messages not acknowledgeable).

A release that loses the feed's I-VAN filter changes no compared outcome (the replay acts
as one I-VAN), so without this check ``regress`` passed it; these tests pin the check
itself, the matrix (``test_matrix.py``) that ``leaks-feed`` is caught by ``regress``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from requests.adapters import BaseAdapter

from harness.errors import ConfigError, GatewayUnavailable, UsageError
from harness.gateway_url import ivan_probe
from harness.regression import Baseline, cli, record, regress
from harness.regression.corpus import CorpusRecipe
from harness.regression.isolation import LEAKED, Canary, Isolation, canaries, check_isolation
from harness.regression.preflight import check_neighbour
from harness.regression.replay import GatewayTarget
from harness.regression.target import open_target
from harness.regression.transport import WrappingAdapter, wrapped
from harness.signing import TestPKI
from mock_gateway.config import DEFAULT_ADMIN_TOKEN
from mock_gateway.testing import ServerProcess
from tests.regression.conftest import FUNCTIONAL

RECIPE = CorpusRecipe(catalog="2026.1", procedures=("604", "612"))


@pytest.fixture(scope="module")
def sent(pki: TestPKI) -> list[Canary]:
    return canaries(RECIPE, pki, "IVAN02")


def _check(pki: TestPKI, sent: list[Canary], release: str | None = None) -> Isolation:
    with open_target("inproc", pki=pki, release=release) as target:
        return check_isolation(target, sent, ["604", "612"])


def test_the_reference_gateway_keeps_each_ivan_to_its_own(pki: TestPKI, sent: list[Canary]) -> None:
    found = _check(pki, sent)
    assert found.differences == [] and found.unjudged == {}


def test_a_feed_listing_another_ivans_messages_is_a_leak_in_each_procedure(
    pki: TestPKI, sent: list[Canary]
) -> None:
    found = _check(pki, sent, release="leaks-feed")
    leaks = found.differences
    assert {(d.kind, d.procedure, d.field) for d in leaks} == {
        (LEAKED, "604", "own feed"),
        (LEAKED, "612", "own feed"),
    }
    assert {d.actual for d in leaks} == {
        "02/TB-TS of IVAN02's dossier listed",
        "03/TB-TS of IVAN02's dossier listed",
    }


def test_another_ivans_dossier_status_answered_is_a_leak(pki: TestPKI, sent: list[Canary]) -> None:
    found = _check(pki, sent, release="leaks-dossier-status")
    got = {(d.procedure, d.field, d.actual) for d in found.differences}
    assert got == {(p, "GET /api/v1/dossiers/{ma_gdich}", "200") for p in ("604", "612")}


def test_without_a_second_ivan_every_procedure_is_not_judged(
    pki: TestPKI, sent: list[Canary]
) -> None:
    with open_target("inproc", pki=pki) as target:
        found = check_isolation(replace(target, neighbour=None), sent, ["604", "612"])
    assert found.differences == []
    assert set(found.unjudged) == {(LEAKED, "604"), (LEAKED, "612")}
    assert all("give --ivan-token NAME=TOKEN" in why for why in found.unjudged.values())


def test_a_neighbour_dossier_the_gateway_refuses_leaves_its_procedure_unjudged(
    pki: TestPKI, sent: list[Canary]
) -> None:
    broken = [replace(sent[0], body=sent[0].body.replace(b"<MaThuTuc>", b"<MaThuTuc>9"))]
    with open_target("inproc", pki=pki) as target:
        found = check_isolation(target, broken + sent[1:], ["604", "612"])
    assert found.differences == []
    assert list(found.unjudged) == [(LEAKED, "604")]
    assert found.unjudged[(LEAKED, "604")].startswith("not judged: IVAN02's dossier was answered 4")


TOKENS = {"IVAN01": "t-one", "IVAN02": "t-two", "IVAN03": "t-three"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pki: TestPKI) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("isolation-http")
    tokens = tuple(f"--ivan-token={code}={token}" for code, token in TOKENS.items())
    with ServerProcess(folder / "gateway.sqlite3", clock_speed=20_000.0, extra=tokens) as running:
        yield running


def _url_target(server: ServerProcess, neighbour: tuple[str, str]) -> GatewayTarget:
    return GatewayTarget(server.url, TOKENS["IVAN01"], neighbour=neighbour)


@pytest.mark.parametrize(
    ("neighbour", "error", "message"),
    [
        (("IVAN01", "t-two"), UsageError, "IVAN01 is the I-VAN the corpus's dossiers name"),
        (("IVAN02", "t-one"), UsageError, "the same token as --token"),
        (("IVAN02", "not-a-token"), ConfigError, "--ivan-token IVAN02=... is refused"),
        (("IVAN02", "t-three"), ConfigError, "the token given for IVAN02 is another I-VAN's"),
    ],
)
def test_a_url_neighbour_token_is_checked_before_anything_is_sent(
    server: ServerProcess,
    sent: list[Canary],
    neighbour: tuple[str, str],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        check_neighbour(_url_target(server, neighbour), "IVAN01", ivan_probe(sent[0].body))


def test_the_right_url_neighbour_token_passes(server: ServerProcess, sent: list[Canary]) -> None:
    check_neighbour(_url_target(server, ("IVAN02", "t-two")), "IVAN01", ivan_probe(sent[0].body))


def test_regress_against_a_url_judges_isolation_with_a_second_ivans_token(
    server: ServerProcess, pki: TestPKI, tmp_path: Path
) -> None:
    record(
        gateway=server.url, catalog="2026.1", name="iso", procedures=("604",), root=tmp_path,
        pki=pki, token=TOKENS["IVAN01"], admin_token=DEFAULT_ADMIN_TOKEN,
    )  # fmt: skip
    options = dict(
        baseline="iso", gateway=server.url, root=tmp_path, pki=pki, token=TOKENS["IVAN01"],
        admin_token=DEFAULT_ADMIN_TOKEN, thresholds=FUNCTIONAL,
    )  # fmt: skip
    judged = regress(**options, neighbour=("IVAN02", "t-two"))  # type: ignore[arg-type]
    assert judged.ok and (LEAKED, "604") not in judged.unjudged
    unjudged = regress(**options)  # type: ignore[arg-type]
    assert unjudged.ok and "give --ivan-token" in unjudged.unjudged[(LEAKED, "604")]
    with pytest.raises(ConfigError, match="another I-VAN's"):
        regress(**options, neighbour=("IVAN02", "t-three"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        (["IVAN02=t-two"], "--ivan-token only applies to a gateway URL"),
        (["IVAN02=t-two", "IVAN03=t-three"], "--ivan-token given for 2 I-VANs"),
        (["IVAN02"], "not NAME=TOKEN"),
    ],
)
def test_regress_refuses_an_ivan_token_it_cannot_use(
    tokens: list[str], message: str, reference: Baseline, baselines: Path
) -> None:
    args = ["--baseline", reference.name, "--root", str(baselines), "--gateway", "inproc"]
    given = [f"--ivan-token={token}" for token in tokens]
    refused = CliRunner().invoke(cli.regress, [*args, *given])
    assert refused.exit_code == 2, refused.output
    assert message in refused.output and "Traceback" not in refused.output


class _Rewriting(WrappingAdapter):
    """Answers 403 where the gateway said 404 to ``GET /api/v1/dossiers/...`` (a build that
    tells a stranger the dossier exists), and drops the connection of a canary sent with
    ``drop`` set."""

    def __init__(self, inner: BaseAdapter, drop: bool) -> None:
        super().__init__(inner)
        self.drop = drop

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if self.drop and request.method == "POST" and str(request.url).endswith("/dossiers"):
            raise requests.ConnectionError("dropped")
        response = super().send(request, *args, **kwargs)
        looked = request.method == "GET" and "/api/v1/dossiers/" in str(request.url)
        if looked and response.status_code == 404:
            response.status_code = 403
        return response


def _rewritten(target: GatewayTarget, drop: bool = False) -> GatewayTarget:
    factory = target.session_factory
    assert factory is not None
    return replace(
        target, session_factory=lambda: wrapped(factory(), lambda a: _Rewriting(a, drop))
    )


def test_a_403_for_another_ivans_dossier_is_a_leak(pki: TestPKI, sent: list[Canary]) -> None:
    """DESIGN.md: 404, not 403: a 403 tells the stranger that the dossier exists."""
    with open_target("inproc", pki=pki) as target:
        found = check_isolation(_rewritten(target), sent, ["604"])
    assert [(d.procedure, d.field, d.actual) for d in found.differences] == [
        ("604", "GET /api/v1/dossiers/{ma_gdich}", "403")
    ]


def test_a_gateway_gone_during_the_check_is_unavailable_not_a_traceback(
    pki: TestPKI, sent: list[Canary], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("harness.client.time.sleep", lambda _seconds: None)
    unavailable = pytest.raises(GatewayUnavailable, match="during the isolation check")
    with open_target("inproc", pki=pki) as target, unavailable:
        check_isolation(_rewritten(target, drop=True), sent, ["604"])


def test_without_the_admin_token_the_neighbours_messages_are_polled_for(
    server: ServerProcess, sent: list[Canary]
) -> None:
    """The served clock runs 20,000 times fast: its 03/TB-TS comes while polling."""
    target = replace(_url_target(server, ("IVAN02", "t-two")), poll_interval=0.1)
    found = check_isolation(target, sent[:1], ["604"])
    assert (found.differences, found.unjudged, found.notes) == ([], {}, [])


def test_messages_that_never_come_are_named_in_a_note(pki: TestPKI, sent: list[Canary]) -> None:
    """A frozen clock and no admin token: the look goes ahead and says what it missed."""
    with open_target("inproc", pki=pki) as target:
        frozen = replace(target, admin_token=None, poll_timeout=0.3, poll_interval=0.05)
        found = check_isolation(frozen, sent, ["604", "612"])
    assert found.differences == []
    assert found.notes == [
        "isolation: 2 of IVAN02's dossier(s) had no 03/TB-TS yet when looked for; "
        "their later messages were not looked for"
    ]


def test_record_warns_when_the_gateway_leaks(pki: TestPKI, tmp_path: Path) -> None:
    """A baseline records whatever the gateway said; one from a leaking gateway is recorded,
    but not silently (as one from a gateway answering dossiers unexpectedly)."""
    heard: list[str] = []
    options = dict(procedures=("604",), root=tmp_path, pki=pki, on_surprise=heard.append)
    record(name="kept-apart", **options)  # type: ignore[arg-type]
    assert heard == []
    record(name="leaky", release="leaks-feed", **options)  # type: ignore[arg-type]
    assert heard == [
        f"isolation (604): another I-VAN's dossier reached this one: own feed: {kind} of "
        "IVAN02's dossier listed (expected absent)"
        for kind in ("02/TB-TS", "03/TB-TS")
    ]


def test_record_s_warning_counts_leaks_apart(tmp_path: Path, pki_dir: Path) -> None:
    args = ["--name", "leaky", "--procedure", "604", "--root", str(tmp_path)]
    leaky = CliRunner().invoke(cli.record, [*args, "--release", "leaks-feed"])
    assert leaky.exit_code == 0, leaky.output
    assert "warning: 2 leak(s) of another I-VAN's dossier; is this gateway known-good?" in (
        leaky.output
    )
    assert "isolation (604): another I-VAN's dossier reached this one: own feed" in leaky.output
