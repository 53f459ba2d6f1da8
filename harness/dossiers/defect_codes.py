"""Where a named defect is written, and the rule codes a catalog version adds that no
named defect expects: a ``catalog check`` warning.

Record, regress and certify break dossiers only as ``defects.yaml`` says, so a rule whose
code no defect expects is never sent a dossier breaking it: its refusal is never
recorded, and a gateway that stopped raising it would pass every suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.catalog import Catalog
from harness.catalog.rule_roles import first_asserts, rule_codes
from harness.errors import UsageError
from harness.paths import fixtures_dir
from harness.yamlfile import line_of, load_yaml


def defects_file() -> Path:
    return fixtures_dir() / "dossiers" / "defects.yaml"


def defect_place(name: str) -> str:
    """``<defects.yaml>:<line>`` of defect ``name`` (the file alone if it is not found)."""
    path = defects_file()
    try:
        line = line_of(load_yaml(path), name)
    except UsageError:
        line = None
    return f"{path}:{line}" if line else str(path)


@dataclass(frozen=True)
class Untested:
    """Codes the rules of ``catalog`` raise, which the version before did not, that no
    defect expects; ``raised_by``: each code's first assert, as ``<file>:<line>``."""

    version: str
    before: str
    raised_by: dict[str, str]

    def __str__(self) -> str:
        codes = ", ".join(f"{c} ({at})" for c, at in self.raised_by.items())
        return (
            f"rules new since catalog {self.before} raise {codes}, and no defect in "
            f"{defects_file()} expects {'it' if len(self.raised_by) == 1 else 'them'}: "
            "record, regress and certify never send a dossier breaking "
            f"{'it' if len(self.raised_by) == 1 else 'them'}"
        )

    @property
    def hint(self) -> str:
        first = next(iter(self.raised_by))
        return (
            f"add one defect per code to {defects_file()}, e.g. `{first.lower()}-broken: "
            f"{{expect: [{first}], op: set, elements: [<the element the rule checks>], "
            "value: <a value it refuses>}` (ops and keys: the file's header)"
        )


def untested_codes(catalog: Catalog, previous: Catalog | None) -> Untested | None:
    """The rule codes ``catalog`` raises that ``previous`` (the version before it on disk;
    None: nothing to compare, so nothing is new) did not and no defect expects."""
    from harness.dossiers.defects import load_defects

    if previous is None:
        return None
    try:
        expected = {code for d in load_defects().values() for code in d.codes}
    except UsageError:
        return None  # defects.yaml itself is refused, with its line
    new = _raised(catalog) - _raised(previous) - expected
    if not new:
        return None
    paths = _rule_files(catalog)
    return Untested(
        catalog.version, previous.version, {c: _first_assert(paths, c) for c in sorted(new)}
    )


def _rule_files(catalog: Catalog) -> tuple[Path, ...]:
    files = [*catalog.envelope.rules]
    versions = [v for form in catalog.forms.values() for v in form.versions]
    files += [p for v in versions for p in (*v.rules, *v.result_rules)]
    return tuple(dict.fromkeys(files))


def _raised(catalog: Catalog) -> frozenset[str]:
    return rule_codes(_rule_files(catalog))


def _first_assert(paths: tuple[Path, ...], code: str) -> str:
    """``<file>:<line>`` of the first assert raising ``code`` (as :func:`_raised` read it)."""
    found = first_asserts(paths).get(code)
    return "?" if found is None else f"{found[0]}:{found[1]}"


__all__ = ["Untested", "defect_place", "defects_file", "untested_codes"]
