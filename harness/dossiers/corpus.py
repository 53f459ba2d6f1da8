"""The dossier corpus: valid and defective dossiers generated from the catalog with fixed
seeds, plus the hand-made hostile files under ``fixtures/dossiers/static``.

Regression baselines and the fuzz suite replay it; because generation is deterministic
per seed, only the recipe needs to live in git, never thousands of signed files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.dossiers.defects import applies, build_defective, load_defects
from harness.dossiers.factory import Dossier, DossierFactory
from harness.paths import fixtures_dir
from harness.yamlfile import load_yaml


@dataclass(frozen=True)
class CorpusEntry:
    """One dossier to replay and what the gateway must answer (empty ``expected``: accept)."""

    name: str
    procedure: str
    defect: str | None
    expected: tuple[str, ...]
    body: bytes
    seed: int | None = None
    forms: tuple[str, ...] = ()


def _entry(name: str, dossier: Dossier) -> CorpusEntry:
    return CorpusEntry(
        name=name,
        procedure=dossier.procedure,
        defect=dossier.defect,
        expected=dossier.expected_codes,
        body=dossier.envelope,
        seed=dossier.seed,
        forms=tuple(f.form.file_name for f in dossier.forms),
    )


def generated_corpus(
    factory: DossierFactory,
    seeds: Iterable[int] = range(3),
    *,
    defects: bool = True,
    procedures: Iterable[str] | None = None,
) -> Iterator[CorpusEntry]:
    """Valid dossiers for every seed, one per older form version the catalog still
    accepts (``600/valid-TK1-TS-595``), and each applicable defect once, per procedure."""
    seed_list = list(seeds)
    catalog = factory.catalog
    for procedure in procedures or catalog.procedures:
        for seed in seed_list:
            dossier = factory.build(procedure, seed, optional_forms=seed % 2 == 1)
            yield _entry(f"{procedure}/valid-{seed:04d}", dossier)
        for code in factory.procedure(procedure).forms:
            for version in catalog.forms[code].versions[:-1]:  # the last one is current
                dossier = factory.build(
                    procedure, seed_list[0] if seed_list else 0, optional_forms=True,
                    form_versions={code: version.version},
                )  # fmt: skip
                yield _entry(f"{procedure}/valid-{version.form}-{version.version}", dossier)
        if not defects:
            continue
        for index, name in enumerate(load_defects()):
            if applies(factory, procedure, name):
                seed = seed_list[index % len(seed_list)] if seed_list else 0
                yield _entry(f"{procedure}/{name}", build_defective(factory, procedure, name, seed))


def static_corpus(directory: Path | None = None) -> Iterator[CorpusEntry]:
    """The committed hostile files and the code each must get (``static.yaml``)."""
    base = directory or fixtures_dir() / "dossiers"
    manifest = load_yaml(base / "static.yaml") or {}
    for file_name, code in manifest.items():
        yield CorpusEntry(
            name=f"static/{Path(file_name).stem}",
            procedure="",
            defect=Path(file_name).stem,
            expected=(str(code),),
            body=(base / "static" / file_name).read_bytes(),
        )


def write_corpus(entries: Iterable[CorpusEntry], directory: Path) -> Path:
    """Write each entry as ``<name>.xml`` and a ``manifest.json`` of expectations."""
    manifest = []
    for entry in entries:
        path = directory / f"{entry.name}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(entry.body)
        manifest.append(
            {
                "file": f"{entry.name}.xml",
                "procedure": entry.procedure,
                "defect": entry.defect,
                "expected": list(entry.expected),
                "seed": entry.seed,
                "forms": list(entry.forms),
            }
        )
    target = directory / "manifest.json"
    target.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return target


__all__ = ["CorpusEntry", "generated_corpus", "static_corpus", "write_corpus"]
