"""regress rebuilds the corpus from today's fixtures; when they changed since the
recording (an edited fields.yaml, say), the rebuilt dossiers differ and their differences
are the data's, not the gateway's. The baseline keeps a digest of each dossier's unsigned
content, the same on any machine's PKI, and regress names the dossiers built differently."""

from __future__ import annotations

import json
from pathlib import Path

from harness.regression import record, regress
from harness.regression.corpus import CorpusRecipe, build_corpus
from harness.regression.fingerprint import content_digest, corpus_digests
from harness.signing import TestPKI, ensure_pki
from tests.regression.conftest import FUNCTIONAL

RECIPE = CorpusRecipe("2026.1", procedures=("604",))


def test_the_digest_ignores_who_signed_and_sees_what_was_said(pki: TestPKI, tmp_path: Path) -> None:
    mine = corpus_digests(build_corpus(RECIPE, pki))
    other_machine = corpus_digests(build_corpus(RECIPE, ensure_pki(tmp_path / "other-pki")))
    assert mine == other_machine
    reseeded = corpus_digests(build_corpus(CorpusRecipe("2026.1", (1,), procedures=("604",)), pki))
    valid = next(name for name in mine if name.startswith("604/valid"))
    assert mine[valid] not in reseeded.values()  # another seed: another person, unit...
    assert content_digest(b"<not xml") != content_digest(b"<not xml either")


def test_regress_names_the_dossiers_built_differently_than_recorded(
    pki: TestPKI, tmp_path: Path
) -> None:
    baseline, folder = record(
        gateway="inproc", catalog="2026.1", name="fp", root=tmp_path, pki=pki,
        procedures=("604",),
    )  # fmt: skip
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert meta["content_sha256"] == baseline.content and len(baseline.content) > 5
    unchanged = regress(baseline="fp", root=tmp_path, pki=pki, thresholds=FUNCTIONAL)
    assert not any("built differently" in note for note in unchanged.notes)

    valid = next(name for name in baseline.content if name.startswith("604/valid"))
    meta["content_sha256"][valid] = "0" * 16  # as if fields.yaml changed that dossier
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    result = regress(baseline="fp", root=tmp_path, pki=pki, thresholds=FUNCTIONAL)
    [note] = [n for n in result.notes if "built differently" in n]
    assert note.startswith(f"1 dossier(s) are built differently than when baseline fp was "
                           f"recorded ({valid}): the fixtures changed since")  # fmt: skip
    assert "re-record the baseline" in note


def test_a_baseline_recorded_before_digests_says_so(pki: TestPKI, tmp_path: Path) -> None:
    _, folder = record(
        gateway="inproc", catalog="2026.1", name="old", root=tmp_path, pki=pki,
        procedures=("604",),
    )  # fmt: skip
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    del meta["content_sha256"]
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    result = regress(baseline="old", root=tmp_path, pki=pki, thresholds=FUNCTIONAL)
    [note] = [n for n in result.notes if "predates content digests" in n]
    assert "record --name old --force" in note
