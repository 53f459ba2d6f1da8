"""A candidate that answers 500 (to every dossier, to acknowledgements, to its catalog)
gets a verdict naming what failed, not "could not conclude" with a hint about a gateway
that is not running or a wrong URL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import harness.regression._inproc as inproc
from harness.errors import ConfigError
from harness.regression import Baseline, build_corpus, regress
from harness.regression.preflight import check_gateway, probe_body
from harness.regression.replay import GatewayTarget
from harness.regression.transport import wrapped
from harness.signing import TestPKI
from tests.regression.conftest import FUNCTIONAL
from tests.regression.faulty_transport import Breaking, Breaks, breaking, is_ack


def _regress(reference: Baseline, baselines: Path, pki: TestPKI) -> Any:
    return regress(
        baseline=reference.name, gateway="inproc", root=baselines, pki=pki,
        thresholds=FUNCTIONAL, max_backoff=0.05,
    )  # fmt: skip


def test_a_500_to_every_dossier_is_a_failed_run_each_sent_twice(
    reference: Baseline, baselines: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 500 is retried once with the same X-Message-Id (an acknowledge-then-500 then gets
    its stored receipt); one that persists is the answer, and its waits stop nothing."""
    sent = breaking(
        monkeypatch,
        lambda r: r.method == "POST" and str(r.url).endswith("/api/v1/dossiers"),
    )
    result = _regress(reference, baselines, pki)
    assert not result.ok and "newly-rejected" in result.kinds()
    assert "unavailable" not in result.kinds()
    assert set(sent.values()) == {2}
    assert result.latency == {}  # a failure is no sample of the release's processing time


def test_a_refused_acknowledgement_is_a_difference_naming_the_request(
    reference: Baseline, baselines: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    breaking(monkeypatch, is_ack)
    result = _regress(reference, baselines, pki)
    acks = [d for d in result.unintended if d.field.endswith("acknowledgement")]
    assert acks and {d.kind for d in acks} == {"changed-message"}
    assert {d.actual for d in acks} == {
        "POST /api/v1/messages/{id}/ack answered 500 Internal Server Error"
    }
    assert {d.field for d in acks} == {"02/TB-TS acknowledgement", "03/TB-TS acknowledgement"}


def test_a_catalog_endpoint_answering_500_is_a_difference_the_rest_judged(
    reference: Baseline, baselines: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    breaking(monkeypatch, lambda r: str(r.url).endswith("/api/v1/catalog"))
    result = _regress(reference, baselines, pki)
    assert [(d.kind, d.actual) for d in result.unintended] == [
        ("catalog-removed", "GET /api/v1/catalog answered 500 Internal Server Error")
    ]
    assert not any("catalog removal not judged" in note for note in result.notes)


@contextmanager
def _catalog_broken(pki: TestPKI, token: str | None = None) -> Iterator[GatewayTarget]:
    """An in-process gateway whose ``GET /api/v1/catalog`` answers 500."""
    with inproc.inproc_target(release=None, catalogs=(), pki=pki) as target:
        factory = target.session_factory
        assert factory is not None
        breaks: Breaks = lambda r: str(r.url).endswith("/api/v1/catalog")  # noqa: E731
        target.session_factory = lambda: wrapped(
            factory(), lambda adapter: Breaking(adapter, breaks, Counter())
        )
        target.token = token or target.token
        yield target


def test_the_preflight_tells_a_broken_catalog_endpoint_from_a_wrong_url(pki: TestPKI) -> None:
    probe = probe_body(build_corpus(_recipe(), pki))
    with _catalog_broken(pki) as target:
        check_gateway(target, ivan="IVAN01", probe=probe, ivan_hint="", catalog_required=False)
        with pytest.raises(ConfigError) as refused:
            check_gateway(target, ivan="IVAN01", probe=probe, ivan_hint="")
    said = str(refused.value)
    assert "answers, but its catalog endpoint failed: GET /api/v1/catalog answered 500" in said
    assert "host and port" not in said


def test_a_broken_catalog_endpoint_still_has_the_token_checked(pki: TestPKI) -> None:
    with (
        _catalog_broken(pki, token="not-a-token") as target,
        pytest.raises(ConfigError, match="refuses the I-VAN token"),
    ):
        check_gateway(target, ivan="IVAN01", probe=None, ivan_hint="", catalog_required=False)


def _recipe() -> Any:
    from harness.regression.corpus import CorpusRecipe

    return CorpusRecipe("2026.1", (0,), procedures=("600",))
