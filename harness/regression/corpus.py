"""The regression corpus: what ``record`` and ``regress`` both replay, rebuilt from a recipe.

A baseline stores only the recipe (catalog version, seeds, whether static files and
quirks are in), never the signed files: generation is deterministic per seed, so the
candidate gets dossiers with the same names and the same content (only signing times
differ, and those are masked). Besides the valid and defective dossiers of
:func:`harness.dossiers.corpus.generated_corpus` and the static hostile files, every valid
dossier is also replayed in each *quirk* of ``fixtures/baselines/quirks.yaml``: variants
real software produces that a gateway must keep tolerating (NFD names, ISO dates, GUID
signature Ids).
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from harness.catalog import load_catalog
from harness.conformance import factory_for_ivan
from harness.dossiers.corpus import CorpusEntry, generated_corpus, static_corpus
from harness.dossiers.factory import DossierFactory, Tweaks
from harness.dossiers.text import parse_vn_date, to_nfd
from harness.errors import ConfigError
from harness.identities import DEFAULT_IVAN_CODE
from harness.paths import fixtures_dir
from harness.signing import TestPKI
from harness.yamlfile import load_yaml


def baselines_dir() -> Path:
    """``fixtures/baselines``: the stored baselines, the masks and the quirks."""
    return fixtures_dir() / "baselines"


@dataclass(frozen=True)
class CorpusRecipe:
    """Everything needed to rebuild a corpus exactly; stored in every baseline."""

    catalog: str
    seeds: tuple[int, ...] = (0,)
    static: bool = True
    quirks: bool = True
    procedures: tuple[str, ...] = ()  # empty: every procedure of the catalog
    ivan: str = ""  # the I-VAN code the dossiers name (MaIVAN); empty: the factory's default

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "catalog": self.catalog,
            "seeds": list(self.seeds),
            "static": self.static,
            "quirks": self.quirks,
            "procedures": list(self.procedures),
        }
        if self.ivan:  # absent for the default, so older baselines keep their bytes
            out["ivan"] = self.ivan
        return out

    @property
    def ivan_code(self) -> str:
        return self.ivan or DEFAULT_IVAN_CODE

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CorpusRecipe:
        return cls(
            catalog=str(data["catalog"]),
            seeds=tuple(int(s) for s in data.get("seeds", (0,))),
            static=bool(data.get("static", True)),
            quirks=bool(data.get("quirks", True)),
            procedures=tuple(str(p) for p in data.get("procedures", ())),
            ivan=str(data.get("ivan", "")),
        )


_SIG_ID = re.compile(rb'(<(?:ds:)?Signature\b[^>]*\bId=")sigid(")')


def _nfd_hook(elements: frozenset[str]) -> Callable[[str, etree._Element], etree._Element]:
    def hook(_code: str, root: etree._Element) -> etree._Element:
        for node in root.iter():
            if isinstance(node.tag, str) and etree.QName(node).localname in elements and node.text:
                node.text = to_nfd(node.text)
        return root

    return hook


def _iso_dates_hook(elements: frozenset[str]) -> Callable[[str, etree._Element], etree._Element]:
    """Write each full date of ``elements`` as ``yyyy-MM-dd``, as the templates of some
    payroll software do (DOMAIN.md: real files use both); a partial one stays as it is."""

    def hook(_code: str, root: etree._Element) -> etree._Element:
        for node in root.iter():
            if isinstance(node.tag, str) and etree.QName(node).localname in elements:
                with contextlib.suppress(ValueError):  # a month or a year of birth (CCNS)
                    node.text = parse_vn_date(node.text or "").isoformat()
        return root

    return hook


def _guid_hook(seed: int) -> Callable[[str, bytes], bytes]:
    guid = str(uuid.UUID(int=seed + 1, version=4))

    def hook(_code: str, content: bytes) -> bytes:
        return _SIG_ID.sub(rb"\g<1>" + guid.encode() + rb"\g<2>", content, count=1)

    return hook


def quirk_tweaks(spec: dict[str, Any], seed: int) -> Tweaks:
    """The factory hooks that write a dossier in the quirk ``spec`` of ``quirks.yaml``
    (``regress``'s corpus and ``fuzz``'s valid cases share them)."""
    op = spec.get("op")
    if op == "nfd":
        return Tweaks(form_hook=_nfd_hook(frozenset(map(str, spec.get("elements", ())))))
    if op == "iso-dates":
        return Tweaks(form_hook=_iso_dates_hook(frozenset(map(str, spec.get("elements", ())))))
    if op == "guid-signature-id":
        return Tweaks(signed_form_hook=_guid_hook(seed))
    raise ConfigError(
        f"quirks.yaml: unknown op {op!r}", hint="use nfd, iso-dates or guid-signature-id"
    )


def load_quirks(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """The quirks declared in ``fixtures/baselines/quirks.yaml``, by name."""
    data = load_yaml(path or baselines_dir() / "quirks.yaml") or {}
    return {str(name): dict(spec) for name, spec in data.items()}


def quirk_corpus(
    factory: DossierFactory, seeds: Iterable[int], procedures: Iterable[str]
) -> list[CorpusEntry]:
    """Each valid dossier once per quirk (accepted with the quirk's warning)."""
    entries = []
    seed_list = list(seeds)
    for procedure in procedures:
        for name, spec in load_quirks().items():
            for seed in seed_list:
                dossier = factory.build(
                    procedure, seed, optional_forms=seed % 2 == 1, tweaks=quirk_tweaks(spec, seed)
                )
                entries.append(
                    CorpusEntry(
                        name=f"{procedure}/{name}-{seed:04d}",
                        procedure=procedure,
                        defect=None,
                        expected=(),
                        body=dossier.envelope,
                        seed=seed,
                        forms=tuple(f.form.file_name for f in dossier.forms),
                    )
                )
    return entries


def build_corpus(recipe: CorpusRecipe, pki: TestPKI, *, defects: bool = True) -> list[CorpusEntry]:
    """The corpus of ``recipe``, in a stable order (names are unique); without
    ``defects``, only its valid dossiers (a newly served catalog's, say)."""
    factory = DossierFactory(load_catalog(recipe.catalog), pki)
    if recipe.ivan:
        factory = factory_for_ivan(factory, recipe.ivan, pki.trust_store())
    procedures = list(recipe.procedures or factory.catalog.procedures)
    entries = list(generated_corpus(factory, recipe.seeds, defects=defects, procedures=procedures))
    if recipe.quirks:
        entries += quirk_corpus(factory, recipe.seeds, procedures)
    if recipe.static:
        entries += list(static_corpus())
    names = Counter(e.name for e in entries)
    if twice := sorted(name for name, count in names.items() if count > 1):
        raise ConfigError(
            f"the regression corpus names these dossiers more than once: {', '.join(twice[:5])}",
            hint="a static dossier (fixtures/dossiers) and a generated one share a name: "
            "rename the static file; anything else is a bug of the harness, please report it",
        )
    return sorted(entries, key=lambda e: e.name)


__all__ = [
    "CorpusRecipe",
    "baselines_dir",
    "build_corpus",
    "load_quirks",
    "quirk_corpus",
    "quirk_tweaks",
]
