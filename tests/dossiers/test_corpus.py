"""The corpus: deterministic generation, the static hostile files, each with its code."""

from __future__ import annotations

import json
from pathlib import Path

from harness.catalog import load_catalog
from harness.conformance import DossierChecker
from harness.dossiers.corpus import generated_corpus, static_corpus, write_corpus
from harness.dossiers.factory import DossierFactory
from harness.signing import TestPKI


def test_static_files_get_their_codes(pki: TestPKI) -> None:
    checker = DossierChecker(load_catalog("2026.1"), pki.trust_store())
    entries = list(static_corpus())
    assert len(entries) >= 6
    for entry in entries:
        assert checker.check(entry.body).codes == list(entry.expected), entry.name


def test_generated_corpus_covers_every_procedure_and_writes_a_manifest(
    pki: TestPKI, tmp_path: Path
) -> None:
    factory = DossierFactory(load_catalog("2024.1"), pki)
    entries = list(generated_corpus(factory, seeds=[0, 1]))
    assert {e.procedure for e in entries} == set(factory.catalog.procedures)
    assert sum(e.defect is None for e in entries) == 2 * len(factory.catalog.procedures)
    manifest = json.loads(write_corpus(entries, tmp_path).read_text(encoding="utf-8"))
    assert len(manifest) == len(entries)
    assert (tmp_path / manifest[0]["file"]).read_bytes() == entries[0].body
