"""Every catalog version on disk, split into those that load and those that do not, for
the checks of the data all versions share (``defects.yaml``, ``fields.yaml``).

A defect or a ``fields.yaml`` name may be there for one version only: when that version
does not load, the others cannot say whether the entry is dead, so ``catalog check``
leaves it unjudged and says which version to fix first, instead of blaming the versions
that load (and advising to delete data the broken version needs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.catalog import Catalog, load_catalog
from harness.catalog.loader import catalogs_dir, version_names
from harness.catalog.xsd_names import read_elements
from harness.errors import UsageError

_SAID = 160
"""Characters of a load error quoted in a warning (the version's own check says all)."""


@dataclass(frozen=True)
class Broken:
    """A catalog version on disk that does not load: why, and the element names its XSDs
    declare (``complete``: every XSD of it could be read, so no other name is its)."""

    version: str
    reason: str
    names: frozenset[str]
    complete: bool

    def said(self) -> str:
        """``catalog 2027.1 does not load (<why>)``, for a warning's text."""
        return f"catalog {self.version} does not load ({self.reason})"


@dataclass(frozen=True)
class OnDisk:
    """The catalog versions beside the checked one and in the project: ``loaded`` (the
    checked one among them) and ``broken``."""

    loaded: tuple[Catalog, ...]
    broken: tuple[Broken, ...]

    def fix_first(self) -> str:
        """What the warnings of unjudged data end with: the versions to fix first."""
        said = "; ".join(b.said() for b in self.broken)
        names = " ".join(b.version for b in self.broken)
        return f"{said}: fix it first (`bhxh-harness catalog check {names}` says what)"


def folders(catalog: Catalog) -> list[Path]:
    """The version folders beside ``catalog`` (a copy's) and in the project, once each."""
    bases = dict.fromkeys([catalog.root.parent, catalogs_dir()])
    return [base / name for base in bases if base.is_dir() for name in version_names(base)]


def on_disk(catalog: Catalog) -> OnDisk:
    """Every version of :func:`folders` loaded with its form XSDs (the shared data's
    checks read them), or said to be broken; ``catalog`` itself is taken as loaded."""
    loaded: dict[Path, Catalog] = {catalog.root.resolve(): catalog}
    broken: list[Broken] = []
    for folder in folders(catalog):
        if folder.resolve() in loaded:
            continue
        try:
            loaded[folder.resolve()] = _loaded(folder)
        except UsageError as exc:
            broken.append(_broken(folder, exc))
    return OnDisk(tuple(loaded.values()), tuple(broken))


def _loaded(folder: Path) -> Catalog:
    """The catalog of ``folder`` with every form version's XSD read (a schema xmlschema
    refuses, an unknown type say, fails here as it fails the version's own check)."""
    from harness.dossiers.form_model import form_model

    catalog = load_catalog(folder.name, root=folder.parent)
    for form in catalog.forms.values():
        for version in form.versions:
            form_model(version.xsd)
    return catalog


def _broken(folder: Path, exc: UsageError) -> Broken:
    """``folder``'s version as broken: the first line of its error, paths made relative."""
    first = exc.problem.splitlines()[0]
    reason = first.replace(f"{folder}/", "")
    if len(reason) > _SAID:
        reason = reason[: _SAID - 3] + "..."
    names, complete = read_elements(sorted(folder.rglob("*.xsd")))
    return Broken(folder.name, reason, names, complete)


__all__ = ["Broken", "OnDisk", "folders", "on_disk"]
