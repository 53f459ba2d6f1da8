"""A run stopped once its corpus's lifecycle was read (while a newer catalog's dossiers
replay, or latency is re-timed) keeps the acknowledgements the candidate answered with an
error: its partial report judged changed messages, yet dropped those differences."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.regression import Baseline, RegressionResult, regress
from harness.signing import TestPKI
from tests.regression.conftest import FUNCTIONAL
from tests.regression.faulty_transport import breaking, is_ack


def test_a_run_stopped_after_the_lifecycle_was_read_keeps_refused_acknowledgements(
    reference_2024: Baseline, baselines: Path, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    breaking(monkeypatch, is_ack)
    corpus_done: list[bool] = []

    def stop_in_the_new_catalog(done: int, total: int) -> None:
        if corpus_done:  # the newer catalog's replay: the corpus's is done, its feed read
            raise KeyboardInterrupt
        corpus_done.extend([True] * (done == total))

    kept: list[RegressionResult] = []
    with pytest.raises(KeyboardInterrupt):
        regress(
            baseline=reference_2024.name, root=baselines, pki=pki, thresholds=FUNCTIONAL,
            on_progress=stop_in_the_new_catalog, on_interrupted=kept.append,
        )  # fmt: skip
    [partial] = kept
    assert len(partial.run.outcomes) == len(partial.corpus)  # every dossier replayed
    assert not any(kind == "changed-message" for kind, _ in partial.unjudged)  # judged
    acks = [d for d in partial.unintended if d.field.endswith("acknowledgement")]
    assert acks and {d.kind for d in acks} == {"changed-message"}
    assert not any(d.dossier.startswith("2026.1/") for d in acks)  # the corpus's own
