"""Whether the dossier factory can fill every form version of a catalog.

``fixtures/reference/fields.yaml`` says where each element's value comes from; an element
the factory would write without a source fails every ``dossier build``, so ``catalog check``
names the form, version and element instead. This is about generating dossiers, not
accepting them: the gateway never needs it, so catalog loading does not run it.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.catalog.model import Catalog, FormVersion
from harness.dossiers._data import split_source
from harness.dossiers.factory import FieldRules, field_rules
from harness.dossiers.form_model import ElementSpec, form_model
from harness.errors import CatalogError
from harness.paths import fixtures_dir

_SOURCE_KINDS = ("const", "digits", "choice", "person", "unit", "dossier", "row", "faker")


@dataclass(frozen=True)
class Unfilled:
    """An element the factory would write but has no value for."""

    form: str
    version: str
    path: str
    problem: str

    def __str__(self) -> str:
        return f"form {self.form} version {self.version}: element {self.path}: {self.problem}"


def _walk(
    spec: ElementSpec, path: str, rules: FieldRules, version: FormVersion, out: list[Unfilled]
) -> None:
    """Follow the factory's choices: required children, and optional ones it may fill."""
    for child in spec.children or ():
        if child.min_occurs == 0 and rules.optional.get(child.name, 0.0) <= 0:
            continue  # the factory never writes it
        where = f"{path}/{child.name}"
        if child.is_complex:
            _walk(child, where, rules, version, out)
            continue
        source = rules.sources.get(child.name)
        if source is None:
            choices = rules.prefer.get(child.name, ()) or child.enumeration
            if not any(not child.enumeration or c in child.enumeration for c in choices):
                out.append(Unfilled(version.form, version.version, where, "no value source"))
        elif split_source(source)[0] not in _SOURCE_KINDS:
            problem = f"unknown value source {source!r}"
            out.append(Unfilled(version.form, version.version, where, problem))


def unfilled_elements(catalog: Catalog) -> list[Unfilled]:
    """Every element of every form version the factory would fill without a value source."""
    rules = field_rules()
    found: list[Unfilled] = []
    for form in catalog.forms.values():
        for version in form.versions:
            root = form_model(version.xsd)
            _walk(root, root.name, rules, version, found)
    return found


def check_fillable(catalog: Catalog) -> None:
    """Raise :class:`CatalogError` naming every element ``dossier build`` could not fill."""
    missing = unfilled_elements(catalog)
    if not missing:
        return
    listed = "\n".join(f"  {m}" for m in missing)
    kinds = ", ".join(_SOURCE_KINDS)
    raise CatalogError(
        f"catalog {catalog.version}: the dossier factory cannot fill "
        f"{len(missing)} element(s):\n{listed}",
        path=str(fixtures_dir() / "reference" / "fields.yaml"),
        hint=f"give each a source under fields: ({kinds}; see the file's header), "
        "list its codes under prefer:, or give it an enumeration in the XSD",
    )
