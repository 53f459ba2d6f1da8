"""The smoke run of ``catalog check``: one valid dossier per procedure and form version,
checked as the gateway checks it.

A catalog can compile and still refuse every dossier: a ``choice:`` value in
``fields.yaml`` outside the XSD's pattern, a ``signature_node`` the XSD names otherwise,
a rule that fails when it runs. Each shows up only when a dossier is checked, so the
check builds the dossiers the factory calls valid (as the corpus replays them: every
procedure with its forms current, then once per older version a form still accepts)
and refuses the catalog on any finding or exception, naming what to fix. ``serve`` runs
it before its banner, once per state of the data (:func:`check_smoke_once`).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import harness
from harness.catalog import Catalog, FormVersion, validators_for
from harness.errors import CatalogError, Finding, UsageError
from harness.paths import cache_dir, fixtures_dir
from harness.signing import TestPKI, ensure_pki
from harness.xmlsafe import parse_xml

if TYPE_CHECKING:  # the factory (Faker, ~90 ms) is imported when dossiers are built, so
    from harness.dossiers.factory import Dossier  # a `serve` whose catalogs passed skips it

_STEP = re.compile(r"\[\d+\]$")
_FIX_DATA = "fix the catalog data it names, then run `bhxh-harness catalog check` again"
_ENVELOPE = "Hoso"
"""The envelope's key among the document types whose messages ran."""
_SHOWN = 12
"""Problems listed in full; the rest are counted."""


@dataclass(frozen=True)
class Built:
    """What one smoke dossier is built from: the procedure and the older form version
    it carries (None: every form in its current version)."""

    procedure: str
    older: tuple[str, str] | None = None

    def versions(self) -> dict[str, str]:
        """The factory's ``form_versions``: the older version to build instead of the current."""
        return dict([self.older]) if self.older else {}


@dataclass(frozen=True)
class Refusal:
    """Why the factory's valid dossier of a procedure (or, for a value of ``fields.yaml``,
    of none in particular: "") was refused, and what to fix."""

    procedure: str
    where: str
    problem: str
    hint: str


def smoke_builds(catalog: Catalog) -> Iterator[Built]:
    """Every procedure with its forms current, then once per older version of its forms."""
    for code, procedure in catalog.procedures.items():
        yield Built(code)
        for form in procedure.forms:
            for version in catalog.forms[form].versions[:-1]:  # the last one is current
                yield Built(code, (form, version.version))


def smoke_run(
    catalog: Catalog, pki: TestPKI | None = None, *, values: bool = True
) -> list[Refusal]:
    """The refusals of every smoke dossier of ``catalog`` (empty: the catalog passes);
    ``values``: also :func:`value_refusals` (reads every XSD with xmlschema, ~50 ms each)."""
    from harness.conformance import DossierChecker
    from harness.dossiers.factory import DossierFactory

    pki = pki or ensure_pki()
    factory = DossierFactory(catalog, pki)
    checker = DossierChecker(catalog, pki.trust_store())
    refusals = value_refusals(catalog) if values else []
    messages_run: set[str] = set()
    for built in smoke_builds(catalog):
        where = _form_named(built)
        try:
            dossier = factory.build(
                built.procedure, 0, optional_forms=True, form_versions=built.versions()
            )
            result = checker.check(dossier.envelope)
            if result.findings:
                refusals += [_refusal(catalog, built, f) for f in result.findings]
                continue
            _run_messages(catalog, dossier, messages_run)
        except UsageError as exc:  # a CatalogError names the rule file; a FactoryError, the form
            problem, _, hint = str(exc).partition("\nHint: ")
            refusals.append(Refusal(built.procedure, where, problem, hint or _FIX_DATA))
        except Exception as exc:  # any failure on a dossier called valid is the catalog's
            problem = f"checking the factory's valid dossier failed: {type(exc).__name__}: {exc}"
            refusals.append(Refusal(built.procedure, where, problem, _FIX_DATA))
    return refusals


def value_refusals(catalog: Catalog) -> list[Refusal]:
    """Every ``const:`` and ``choice:`` value of ``fields.yaml`` that a form's XSD refuses
    for an element of that name: a dossier gets it only when the seed draws it (and an
    optional element only sometimes), so the dossiers alone would miss most of them."""
    from xmlschema.validators import XsdElement

    from harness.catalog.schema_walk import load_schema
    from harness.dossiers.factory import field_rules

    sources = field_rules().sources
    refusals: list[Refusal] = []
    for form in catalog.forms.values():
        for version in form.versions:
            schema = load_schema(version.xsd)
            for element in schema.iter_components(XsdElement):
                if not isinstance(element, XsdElement) or not element.type.is_simple():
                    continue
                xsd_type, name = element.type, str(element.local_name)
                source = sources.get(name, "")
                for value in _fixed_values(source):
                    error = next(iter(xsd_type.iter_errors(value)), None)
                    if error is not None:
                        refusals.append(_value_refusal(version, name, value, error))
    return refusals


def _fixed_values(source: str) -> list[str]:
    """The values a ``const:`` or ``choice:`` source gives, split as the factory splits them."""
    kind, _, arg = source.partition(":")
    if kind == "const":
        return [arg]
    if kind == "choice":
        return [v.strip().strip('"') for v in arg.strip("[]").split(",")]
    return []


def _value_refusal(version: FormVersion, element: str, value: str, error: object) -> Refusal:
    """The refusal for a fixed value ``error`` (xmlschema's) says the form's XSD refuses."""
    reason = getattr(error, "reason", None) or str(error).splitlines()[0]
    return Refusal(
        "",
        f"form {version.form} version {version.version}",
        f"fields.yaml gives {element} the value {value!r}, which {version.xsd.name} refuses "
        f"({reason})",
        f"fix {element}'s source in fixtures/reference/fields.yaml or its type in the XSD",
    )


def _form_named(built: Built) -> str:
    """The older form version a dossier was built for ("form D05-TS version 626"), or ""
    (its error names the file at fault)."""
    return f"form {built.older[0]} version {built.older[1]}" if built.older else ""


def _run_messages(catalog: Catalog, dossier: Dossier, done: set[str]) -> None:
    """Run every rule message once per document type, on this valid dossier's documents."""
    validators = validators_for(catalog)
    if _ENVELOPE not in done:
        validators.envelope.run_every_message(parse_xml(dossier.envelope))
        done.add(_ENVELOPE)
    for built in dossier.forms:
        name = built.form.file_name
        validator = validators.form(built.form.form, built.form.version)
        if name not in done and validator is not None:
            validator.run_every_message(parse_xml(built.content))
            done.add(name)


def _refusal(catalog: Catalog, built: Built, found: Finding) -> Refusal:
    """A finding on a valid dossier, with the data most likely at fault."""
    file_name, _, xpath = found.xpath.rpartition(":")
    version = catalog.form_version(file_name) if file_name else None
    where = f"form {version.form} version {version.version}" if version else "envelope"
    element = _STEP.sub("", xpath.rstrip("/").rsplit("/", 1)[-1]).lstrip("@") or "/"
    problem = f"the factory's valid dossier is refused: {found.code} {found.message_en} at {xpath}"
    return Refusal(built.procedure, where, problem, _fix(catalog, found.code, element, version))


def _fix(catalog: Catalog, code: str, element: str, version: FormVersion | None) -> str:
    """What to change for a finding of ``code`` at ``element``."""
    schema = (version.xsd if version else catalog.envelope.xsd).name
    form = catalog.forms[version.form] if version else None
    node = form.signature_node if form else catalog.envelope.signature_node
    if code in ("XSD-001", "ENV-001") and element == node.rsplit("/", 1)[-1]:
        owner = f"form {version.form}" if version else "envelope"
        return (
            f"catalog.yaml gives the {owner} signature_node {node!r}, an element {schema} "
            "does not allow there: name the XSD's signature element (e.g. Cky)"
        )
    if code.startswith("SIG-") or element.endswith("Signature"):
        nodes = {f.code: f.signature_node for f in catalog.forms.values()}
        return (
            "check signature_node in catalog.yaml (envelope: "
            f"{catalog.envelope.signature_node!r}, forms: {nodes}) against the XSD's element "
            "names, and the test PKI (bhxh-harness pki init)"
        )
    if code in ("XSD-001", "ENV-001"):
        return f"fix fields.yaml's source for {element} or its type in {schema}"
    return (
        f"fix the rule raising {code} or fields.yaml's source for {element} "
        f"(a valid dossier must pass {schema}'s rules)"
    )


def check_smoke(catalog: Catalog, pki: TestPKI | None = None, *, values: bool = True) -> None:
    """Raise :class:`CatalogError` listing every smoke refusal of ``catalog``."""
    refusals = smoke_run(catalog, pki, values=values)
    if not refusals:
        return
    lines = _grouped(refusals)
    shown = "\n".join(f"  {line}" for line in lines[:_SHOWN])
    more = f"\n  ... and {len(lines) - _SHOWN} more" if len(lines) > _SHOWN else ""
    raise CatalogError(
        f"catalog {catalog.version}: the dossier factory's valid dossiers are refused "
        f"({len(lines)} problem(s)):\n{shown}{more}",
        hint="fix what each line names, then run `bhxh-harness catalog check` again",
    )


def check_smoke_once(catalog: Catalog, pki: TestPKI | None = None) -> None:
    """:func:`check_smoke` without the value check, skipped when the same catalog data,
    reference files and harness code passed before (``serve`` runs it at every start: the
    factory's first dossiers cost about a second, a digest a few milliseconds)."""
    mark = _pass_mark(catalog)
    if mark.is_file():
        return
    check_smoke(catalog, pki, values=False)
    remember_pass(catalog, mark)


def remember_pass(catalog: Catalog, mark: Path | None = None) -> None:
    """Note that ``catalog`` passed its smoke run (an unwritable cache only costs time)."""
    mark = mark or _pass_mark(catalog)
    with contextlib.suppress(OSError):
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.touch()


def _pass_mark(catalog: Catalog) -> Path:
    """``.cache/smoke/<version>-<digest>``: the digest of everything the smoke run reads
    (the version's files, the shared reference files) and of the harness's code (by
    size and time, as a checkout is edited)."""
    digest = hashlib.sha256()
    data = [catalog.root, fixtures_dir() / "reference", fixtures_dir() / "error_codes.yaml"]
    for path in _files(data):
        digest.update(f"{path}\0".encode() + path.read_bytes())
    for path in _files([Path(harness.__file__).parent]):
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return cache_dir() / "smoke" / f"{catalog.version}-{digest.hexdigest()[:32]}"


def _files(roots: list[Path]) -> list[Path]:
    """Every file below ``roots`` (a file stands for itself), in a stable order."""
    found = [p for root in roots for p in ([root] if root.is_file() else root.rglob("*"))]
    return sorted(p for p in found if p.is_file() and "__pycache__" not in p.parts)


def _grouped(refusals: list[Refusal]) -> list[str]:
    """One line per distinct problem, naming every procedure it was met in."""
    procedures: dict[tuple[str, str, str], list[str]] = {}
    for r in refusals:
        procedures.setdefault((r.where, r.problem, r.hint), []).append(r.procedure)
    lines = []
    for (where, problem, hint), codes in procedures.items():
        named = [code for code in dict.fromkeys(codes) if code]
        noun = "procedures" if len(named) > 1 else "procedure"
        listed = f"{noun} {', '.join(named)}" if named else ""
        said = f"{where} ({listed})" if where and listed else where or listed
        lines.append(f"{said}: {problem} — {hint}")
    return lines


__all__ = [
    "Built",
    "Refusal",
    "check_smoke",
    "check_smoke_once",
    "remember_pass",
    "smoke_builds",
    "smoke_run",
    "value_refusals",
]
