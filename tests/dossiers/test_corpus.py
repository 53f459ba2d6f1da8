"""The corpus: deterministic generation, the static hostile files, each with its code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.catalog import load_catalog
from harness.catalog.loader import catalogs_dir
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


def test_older_form_versions_the_catalog_still_accepts_are_in_the_corpus(
    pki: TestPKI, tmp_path: Path
) -> None:
    """2026.1 plus an older TK1-TS version 590 it still accepts: senders who have not moved
    to 595 must stay accepted, so a baseline has to replay a 590 file too."""
    folder = tmp_path / "2026.1"
    shutil.copytree(catalogs_dir() / "2026.1", folder)
    xsd = folder / "xsd"
    shutil.copy(xsd / "TK1-TS-595.xsd", xsd / "TK1-TS-590.xsd")
    catalog_yaml = folder / "catalog.yaml"
    text = catalog_yaml.read_text(encoding="utf-8")
    current = '      "595": {xsd: xsd/TK1-TS-595.xsd, rules: [rules/common.sch, rules/TK1-TS.sch]}'
    older = current.replace("595", "590")
    assert text.count(current) == 1
    catalog_yaml.write_text(text.replace(current, f"{older}\n{current}"), encoding="utf-8")
    catalog = load_catalog("2026.1", root=tmp_path)
    factory = DossierFactory(catalog, pki)
    checker = DossierChecker(catalog, pki.trust_store())

    entries = list(generated_corpus(factory, seeds=[0], defects=False))
    older_ones = {e.name: e for e in entries if "TK1-TS-590.xml" in e.forms}
    users = [p for p, proc in catalog.procedures.items() if "TK1-TS" in proc.forms]
    assert set(older_ones) == {f"{p}/valid-TK1-TS-590" for p in users}
    for entry in older_ones.values():
        assert entry.expected == () and checker.check(entry.body).accepted, entry.name
    assert all("TK1-TS-590.xml" not in e.forms for e in entries if e.name.endswith("-0000"))
