"""The dossier corpus: valid and defective dossiers generated from the catalog with fixed
seeds, plus the hand-made hostile files under ``fixtures/dossiers/static``.

Regression baselines and the fuzz suite replay it; because generation is deterministic
per seed, only the recipe needs to live in git, never thousands of signed files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from harness.dossiers.defects import applies, build_defective, load_defects
from harness.dossiers.factory import Dossier, DossierFactory
from harness.errors import ConfigError
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
    result: tuple[str, ...] = ()
    """Of an accepted dossier, the ``RES-*`` codes its 03/TB-TS must list as defective rows."""


def _entry(name: str, dossier: Dossier) -> CorpusEntry:
    return CorpusEntry(
        name=name,
        procedure=dossier.procedure,
        defect=dossier.defect,
        expected=dossier.expected_codes,
        body=dossier.envelope,
        seed=dossier.seed,
        forms=tuple(f.form.file_name for f in dossier.forms),
        result=dossier.result_codes,
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


MANIFEST = "manifest.json"


def write_corpus(entries: Iterable[CorpusEntry], directory: Path) -> Path:
    """Write each entry as ``<name>.xml`` and a ``manifest.json`` of expectations.

    A folder holding an earlier corpus is replaced: the files its manifest lists that the
    new corpus does not name are removed (``dossier check DIR`` would read them as part of
    it), and no other file. A non-empty folder holding no corpus is refused.
    """
    owned = _owned(directory)
    corpus = list(entries)
    rows = [_row(entry) for entry in corpus]
    names = {row["file"] for row in rows}
    stale = [row for row in owned if row["file"] not in names]
    directory.mkdir(parents=True, exist_ok=True)
    # until the end, the manifest names old and new files alike: a run stopped halfway
    # leaves no file of ours that the next one would not know to remove
    _write_manifest(directory, rows + stale)
    for entry in corpus:
        path = directory / f"{entry.name}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(entry.body)
    _remove(directory, [row["file"] for row in stale])
    return _write_manifest(directory, rows)


def _row(entry: CorpusEntry) -> dict[str, Any]:
    return {
        "file": f"{entry.name}.xml",
        "procedure": entry.procedure,
        "defect": entry.defect,
        "expected": list(entry.expected),
        **({"result": list(entry.result)} if entry.result else {}),
        "seed": entry.seed,
        "forms": list(entry.forms),
    }


def _write_manifest(directory: Path, rows: list[dict[str, Any]]) -> Path:
    """Replace the manifest in one step (a reader never sees half of it)."""
    target = directory / MANIFEST
    partial = directory / f"{MANIFEST}.partial"
    partial.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(partial, target)
    return target


def _owned(directory: Path) -> list[dict[str, Any]]:
    """The manifest rows of the corpus already in ``directory`` (none for a new or empty
    folder); a :class:`ConfigError` for a folder that holds something else."""
    if not directory.exists():
        return []
    hint = (
        "give a new or empty folder, or one an earlier `dossier corpus` wrote: the corpus "
        "is hundreds of files, and `dossier check` would read them with the ones there"
    )
    if not directory.is_dir():
        raise ConfigError(f"{directory} is a file, not a folder", hint=hint)
    try:
        rows = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        if any(not path.name.startswith(".") for path in directory.iterdir()):
            raise ConfigError(
                f"{directory} is not empty and holds no corpus (no {MANIFEST})", hint=hint
            ) from None
        return []
    except ValueError as exc:  # not UTF-8 or not JSON (unreadable: the OSError says why)
        raise ConfigError(f"{directory / MANIFEST} is not a corpus manifest", hint=hint) from exc
    if not isinstance(rows, list) or not all(
        isinstance(row, dict) and isinstance(row.get("file"), str) for row in rows
    ):
        raise ConfigError(f"{directory / MANIFEST} is not a corpus manifest", hint=hint)
    return [row for row in rows if _inside(directory, row["file"])]


def _inside(directory: Path, name: str) -> bool:
    """Whether ``name`` is a dossier file of the folder itself: relative, no ``..``, and
    no linked subfolder on the way (removing it must not reach anything else)."""
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or relative.suffix != ".xml":
        return False
    try:
        parent = (directory / relative).parent.resolve()
        return parent == directory.resolve().joinpath(*relative.parent.parts)
    except OSError:
        return False


def _remove(directory: Path, names: list[str]) -> None:
    """Delete these files of the corpus, then the subfolders they leave empty."""
    for name in names:
        path = directory / name
        if path.is_symlink() or path.is_file():  # a folder by that name is not ours
            path.unlink()
        for parent in PurePosixPath(name).parents[:-1]:  # up to, not including, the folder
            try:
                (directory / parent).rmdir()
            except OSError:  # not empty: something else lives there
                break


__all__ = ["MANIFEST", "CorpusEntry", "generated_corpus", "static_corpus", "write_corpus"]
