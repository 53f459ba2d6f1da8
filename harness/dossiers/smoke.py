"""The smoke run of ``catalog check``: one valid dossier per procedure and form version,
checked as the gateway checks it.

A catalog can compile and still refuse every dossier: a ``choice:`` value in
``fields.yaml`` outside the XSD's pattern, a ``signature_node`` the XSD names otherwise,
a rule that fails when it runs. Each shows up only when a dossier is checked, so the
check builds the dossiers the factory calls valid (as the corpus replays them: every
procedure with its forms current, then once per older version a form still accepts)
and refuses the catalog on any finding or exception, naming what to fix. ``catalog check``
also builds every named defect that applies to a procedure and checks that it gets the
codes it expects (a rule branch only a defective dossier reaches runs there). It warns,
and passes, of what a version adds that nothing exercises (:mod:`.unexercised`), and of
shared data only a version that does not load could need (:mod:`.on_disk`): judging it
by the others would blame them.

``serve`` runs the valid dossiers before its banner, once per state of the data
(:func:`check_smoke_once`), and refuses only what is the gateway's own fault (a rule that
fails when run, a signature node its XSD does not allow): the factory's data
(``fields.yaml``) is not what real I-VANs send, so its faults only warn.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import harness
from harness.catalog import Catalog, FormVersion, validators_for
from harness.catalog.rule_check import assert_at
from harness.errors import CatalogError, Finding, UsageError
from harness.paths import cache_dir, fixtures_dir
from harness.signing import TestPKI, ensure_pki
from harness.xmlsafe import parse_xml
from harness.yamlfile import line_of, load_yaml

if TYPE_CHECKING:  # the factory (Faker, ~90 ms) is imported when dossiers are built, so
    from harness.conformance import DossierChecker  # a `serve` whose catalogs passed skips it
    from harness.dossiers.choice_rules import FormKey
    from harness.dossiers.factory import Dossier, DossierFactory
    from harness.dossiers.on_disk import Broken, OnDisk

_STEP = re.compile(r"\[\d+\]$")
_ROW = re.compile(r"\[\d+\]")
_QUOTED = re.compile(r"'[^']*'")
_FIX_DATA = "fix the catalog data it names, then run `bhxh-harness catalog check` again"
_ENVELOPE = "Hoso"
"""The envelope's key among the document types whose messages ran."""
_NODE_HINT = "catalog.yaml gives"
"""How the hint of a signature node the XSD does not allow starts (a gateway fault)."""
_SHOWN = 12
"""Problems listed in full; the rest are counted."""
_WARNED = 200
"""Characters of the first problem a ``serve`` warning quotes."""
CHECK_SEEDS = 8
"""Seeds each valid dossier of ``catalog check`` is built with (``serve``: seed 0 only).
Measured: 8 seeds add 0.2 to 0.6 s to a version's check (7 to 10 valid dossiers)."""


@dataclass(frozen=True)
class Built:
    """What one smoke dossier is built from: the procedure and the older form version
    it carries (None: every form in its current version)."""

    procedure: str
    older: tuple[str, str] | None = None

    def versions(self) -> dict[str, str]:
        """The factory's ``form_versions``: the older version to build instead of the current."""
        return dict([self.older]) if self.older else {}


BUILD, REFUSED, FAILS, VALUE, DEFECT = "build", "refused", "fails", "value", "defect"
AGREE, DEFECTS_FILE, UNUSED = "agree", "defects-file", "unused"
CHOICE, ORPHAN = "choice", "orphan"
UNJUDGED, UNEXERCISED, UNDATED, UNTESTED = "unjudged", "unexercised", "undated", "untested"
WARNINGS = frozenset({UNJUDGED, UNEXERCISED, UNDATED, UNTESTED})
"""The kinds that only warn: ``catalog check`` prints them and passes."""
_HEADERS = {
    BUILD: "the dossier factory cannot build its valid dossiers",
    REFUSED: "the dossier factory's valid dossiers are refused",
    FAILS: "checking the factory's dossiers fails",
    VALUE: "fields.yaml gives values the XSDs refuse",
    CHOICE: "fields.yaml gives values the rules refuse",
    DEFECT: "defective dossiers do not get the codes defects.yaml expects",
    DEFECTS_FILE: "fixtures/dossiers/defects.yaml cannot be read",
    UNUSED: "defects.yaml names defects no catalog version can build",
    AGREE: "catalog.yaml's agrees_with_forms names paths no valid dossier has",
    ORPHAN: "catalog.yaml lists forms no procedure takes",
    UNJUDGED: "shared data is not judged",
    UNEXERCISED: "the dossier factory never writes an element a form version adds",
    UNDATED: "no rule checks that a date is a real one",
    UNTESTED: "no named defect breaks a rule code the version adds",
}
"""What each kind of refusal says of the catalog, in the order they are named."""


@dataclass(frozen=True)
class Refusal:
    """Why the factory's valid dossier of a procedure (or, for a value of ``fields.yaml``,
    of none in particular: "") was refused, and what to fix. ``kind``: one of
    :data:`_HEADERS`; ``gateway``: the gateway itself is at fault (it would answer 500,
    or refuse every dossier), not possibly the factory's data."""

    procedure: str
    where: str
    problem: str
    hint: str
    kind: str = REFUSED
    gateway: bool = False
    same: str = ""
    """Refusals with the same ``same`` (and place and hint) are one problem met in several
    rows, whatever values their texts quote; "" compares the texts, rows left out."""


def smoke_builds(catalog: Catalog) -> Iterator[Built]:
    """Every procedure with its forms current, then once per older version of its forms."""
    for code, procedure in catalog.procedures.items():
        yield Built(code)
        for form in procedure.forms:
            for version in catalog.forms[form].versions[:-1]:  # the last one is current
                yield Built(code, (form, version.version))


def smoke_run(
    catalog: Catalog,
    pki: TestPKI | None = None,
    *,
    values: bool = True,
    defects: bool = False,
    seeds: int = 1,
) -> list[Refusal]:
    """The refusals of every smoke dossier of ``catalog`` (empty: the catalog passes),
    each built with seeds 0 to ``seeds`` - 1 (a rule relating two drawn values refuses
    some seeds only);
    ``values``: also what only ``catalog check`` judges of the data: :func:`value_refusals`
    (reads every XSD with xmlschema, ~50 ms each), :func:`choice_refusals` and
    :func:`orphan_refusals`; ``defects``: also :func:`defect_refusals`."""
    from harness.conformance import DossierChecker
    from harness.dossiers.factory import DossierFactory

    pki = pki or ensure_pki()
    refusals = [*value_refusals(catalog), *orphan_refusals(catalog)] if values else []
    try:
        factory = DossierFactory(catalog, pki)
    except Exception as exc:  # whatever stops the factory is the factory's
        return [*refusals, _unbuilt("", "", exc)]
    checker = DossierChecker(catalog, pki.trust_store())
    messages_run: set[str] = set()
    passed: dict[FormKey, bytes] = {}
    for built in smoke_builds(catalog):
        first = _smoke_one(catalog, factory, checker, built, messages_run, passed)
        refusals += first
        for seed in range(1, seeds) if not first else ():
            refused = _smoke_seed(catalog, factory, checker, built, seed)
            refusals += refused
            if refused:  # one seed says it; `dossier build --seed` shows the others
                break
    if not refusals:  # judged on dossiers that all passed: a refused one holds no path
        refusals += _agreement_refusals(catalog, messages_run)
    if values:
        refusals += choice_refusals(catalog, passed)
        refusals += _unexercised_warnings(catalog, passed)
    if defects:  # not where the valid dossier fails already: its defects would too
        unbuilt = (VALUE, CHOICE, ORPHAN, *WARNINGS)
        failed = {r.procedure for r in refusals if r.kind not in unbuilt}
        if "" not in failed:
            refusals += defect_refusals(factory, checker, skip=failed)
    return refusals


def _smoke_one(
    catalog: Catalog,
    factory: DossierFactory,
    checker: DossierChecker,
    built: Built,
    done: set[str],
    passed: dict[FormKey, bytes] | None = None,
) -> list[Refusal]:
    """The refusals of one valid dossier: the factory cannot build it (its fault), the
    check finds something (maybe the factory's data), or checking it fails (the gateway's).
    ``passed`` keeps the first accepted document of each form version."""
    where = _form_named(built)
    try:
        dossier = factory.build(
            built.procedure, 0, optional_forms=True, form_versions=built.versions()
        )
    except Exception as exc:  # any failure to build is the factory's
        return [_unbuilt(built.procedure, where, exc)]
    try:
        result = checker.check(dossier.envelope)
        if result.findings:
            return [_refusal(catalog, built, f) for f in result.findings]
        _run_messages(catalog, dossier, done)
    except Exception as exc:  # the gateway would answer such a dossier 500
        return [_failed(built.procedure, where, exc)]
    if passed is not None:
        for form in dossier.forms:
            passed.setdefault((form.form.form, form.form.version), form.content)
    return []


def _smoke_seed(
    catalog: Catalog, factory: DossierFactory, checker: DossierChecker, built: Built, seed: int
) -> list[Refusal]:
    """The refusals of the valid dossier of ``built`` at ``seed``, seed 0's having passed:
    a value drawn for some seeds only breaks a rule (see :func:`seed_hint`)."""
    where = _form_named(built)
    try:
        dossier = factory.build(
            built.procedure, seed, optional_forms=True, form_versions=built.versions()
        )
    except Exception as exc:  # any failure to build is the factory's
        return [_seeded(_unbuilt(built.procedure, where, exc), seed)]
    try:
        found = checker.check(dossier.envelope).findings
    except Exception as exc:  # the gateway would answer such a dossier 500
        return [_seeded(_failed(built.procedure, where, exc), seed)]
    return [_seeded(_refusal(catalog, built, f), seed) for f in found[:1]]


def _seeded(refusal: Refusal, seed: int) -> Refusal:
    """``refusal`` of a dossier seed 0 built valid, naming the seed and how to see it."""
    said = refusal.problem.replace("valid dossier", f"valid dossier of seed {seed}", 1)
    if said == refusal.problem:
        said = f"seed {seed}: {said}"
    hint = f"{refusal.hint}; {seed_hint(refusal.procedure, seed)}"
    return replace(refusal, problem=said, hint=hint)


def seed_hint(procedure: str, seed: int) -> str:
    """Why only some seeds fail, and what the factory guarantees of drawn values."""
    return (
        f"seed 0 passes and seed {seed} does not, so a rule refuses values the factory "
        f"draws for some seeds (`bhxh-harness dossier build {procedure} --seed {seed}` "
        "shows one): the factory keeps only the relations between row.* dates that "
        "fixtures/catalog/README.md lists, so make the rule accept those or give the "
        "element another source"
    )


def defect_refusals(
    factory: DossierFactory, checker: DossierChecker, *, skip: Collection[str] = ()
) -> list[Refusal]:
    """Every named defect that applies to a procedure, built once (seed 0) and checked: a
    rule failing when run, or the defect's codes missing from the findings, refuses. A
    rule branch only a defective dossier reaches (an under-18 ``or`` side) runs only here."""
    from harness.dossiers.defects import load_defects

    try:
        names = list(load_defects())
    except UsageError as exc:  # defects.yaml itself: malformed, or an undeclared code
        return [Refusal("", "", *_said(exc), DEFECTS_FILE)]
    refusals = unused_refusals(factory.catalog)
    for code in factory.catalog.procedures:
        for name in names if code not in skip else ():
            refusals += _defect_one(factory, checker, code, name)
    return refusals


def _defect_one(
    factory: DossierFactory, checker: DossierChecker, procedure: str, name: str
) -> list[Refusal]:
    """The refusal of defect ``name`` of ``procedure``, if its check fails or misses its codes."""
    from harness.dossiers.defect_codes import defect_place
    from harness.dossiers.defects import applies, build_defective

    where = f"defect {name}"
    try:
        if not applies(factory, procedure, name):
            return []
        dossier = build_defective(factory, procedure, name, 0)
    except Exception as exc:  # any failure to build is the factory's
        return [_unbuilt(procedure, where, exc, kind=DEFECT)]
    try:
        result = checker.check(dossier.envelope)
    except Exception as exc:  # the gateway would answer such a dossier 500
        return [_failed(procedure, where, exc)]
    missing = [c for c in dossier.expected_codes if c not in result.codes]
    if not missing:
        return []
    got = ", ".join(result.codes) or "nothing (accepted)"
    return [
        Refusal(
            procedure,
            where,
            f"expects {', '.join(dossier.expected_codes)}, got {got}",
            f"fix defect {name}'s expect: at {defect_place(name)}, or the rule that "
            f"should raise {', '.join(missing)}",
            DEFECT,
        )
    ]


def unused_refusals(catalog: Catalog) -> list[Refusal]:
    """A defect that applies to no procedure of any catalog version on disk (this one's
    folder and the project's): it would never be built, so never checked. One a version
    that does not load could build is not judged (a warning says to fix that version)."""
    from harness.dossiers.defects import unused_defects
    from harness.dossiers.on_disk import on_disk

    versions = on_disk(catalog)
    unjudged = _unjudged_defects(versions)
    refusals = [
        Refusal("", "", *_said(e), UNUSED) for e in unused_defects(versions.loaded, unjudged)
    ]
    if unjudged:
        problem = (
            f"{fixtures_dir() / 'dossiers' / 'defects.yaml'}: {', '.join(unjudged)} apply to "
            "no procedure of a catalog version that loads, so they are neither built nor judged"
        )
        refusals.append(Refusal("", "", problem, versions.fix_first(), UNJUDGED))
    return refusals


def _unjudged_defects(versions: OnDisk) -> list[str]:
    """The defects no version that loads builds but a broken one might: one of their
    elements among its XSDs' names (all of them if an XSD of it cannot be read)."""
    from harness.dossiers.defects import applies_anywhere, load_defects

    def could(broken: Broken, elements: tuple[str, ...], needs: tuple[str, ...]) -> bool:
        named = broken.names
        if not broken.complete or not elements:
            return True
        return any(e in named for e in elements) and all(n in named for n in needs)

    return [
        name
        for name, d in load_defects().items()
        if versions.broken
        and not applies_anywhere(versions.loaded, d)
        and any(could(b, d.elements, d.needs) for b in versions.broken)
    ]


def orphan_refusals(catalog: Catalog) -> list[Refusal]:
    """A form no procedure requires or allows: no dossier may carry it (the gateway
    refuses it as foreign to the procedure), and no smoke dossier runs its XSD or rules,
    so it is dead data, most often a form a procedure's list forgot."""
    used = {code for procedure in catalog.procedures.values() for code in procedure.forms}
    path = catalog.root / "catalog.yaml"
    doc = load_yaml(path)
    forms = doc.get("forms") if isinstance(doc, dict) else None
    procedures = ", ".join(catalog.procedures)
    return [
        Refusal(
            "",
            "",
            f"{path}:{line_of(forms, code) or line_of(doc, 'forms')}: form {code} is neither "
            f"required nor allowed by any procedure ({procedures}), so no dossier may carry "
            "it and nothing checks its XSD or rules",
            f"add {code} to the required_forms or optional_forms of the procedure(s) that "
            "take it, or remove it from forms: (an older catalog version keeps it for its "
            "own periods)",
            ORPHAN,
        )
        for code in catalog.forms
        if code not in used
    ]


def choice_refusals(catalog: Catalog, passed: Mapping[FormKey, bytes]) -> list[Refusal]:
    """Every fixed value of ``fields.yaml`` (``choice:``, ``const:``, ``prefer:``) the rules
    refuse in a form version's accepted smoke document (``passed``): a seed that draws it
    gives a "valid" dossier the gateway refuses."""
    from harness.dossiers.choice_rules import refused_values

    refusals = []
    for refused in refused_values(catalog, passed):
        version, listed = refused.version, refused.listed
        where = f"form {version.form} version {version.version}"
        said = f"{listed.where}: {listed.element}: {listed.kind} value {listed.value!r}"
        if refused.error is not None:
            problem, hint = _said(refused.error)
            problem = f"{said} makes a rule fail when run: {problem}"
            refusals.append(Refusal("", where, problem, hint, CHOICE, gateway=True))
            continue
        found = refused.finding
        assert found is not None
        rule = _rule_named(catalog, version, found.context.get("rule", ""))
        refusals.append(
            Refusal(
                "",
                where,
                f"{said} is refused by the rules: {found.code}{rule} {found.message_en}",
                _choice_fix(version, listed.element, listed.value, found),
                CHOICE,
            )
        )
    return refusals


def _unexercised_warnings(catalog: Catalog, passed: Mapping[FormKey, bytes]) -> list[Refusal]:
    """Warnings of what the version adds that no check exercises: an element the factory
    never writes, a date element no rule checks is a real date (:mod:`.unexercised`), a
    rule code no defect expects (:mod:`.defect_codes`)."""
    from harness.dossiers.defect_codes import untested_codes
    from harness.dossiers.unexercised import (
        previous_catalog,
        undated_elements,
        unwritten_elements,
    )

    warnings = [Refusal("", "", str(u), u.hint, UNEXERCISED) for u in unwritten_elements(catalog)]
    warnings += [
        Refusal("", "", str(u), u.hint, UNDATED) for u in undated_elements(catalog, passed)
    ]
    untested = untested_codes(catalog, previous_catalog(catalog))
    if untested is not None:
        warnings.append(Refusal("", "", str(untested), untested.hint, UNTESTED))
    return warnings


def _choice_fix(version: FormVersion, element: str, value: str, found: Finding) -> str:
    """What to change for a listed value a rule refuses: the table it looks codes up in,
    or the list of values."""
    from harness.catalog.tables import table_file
    from harness.dossiers.choice_rules import tables_read

    tables = tables_read(version.rules, found.context.get("rule", ""))
    files = [(t, table_file(t)) for t in tables]
    add = "".join(
        f'add a row {{code: "{value}", ...}} to table {t!r} in fixtures/reference/{f.name}, or '
        for t, f in files
        if f is not None
    )
    return (
        f"{add}remove {value!r} from {element}'s values in fixtures/reference/fields.yaml, or "
        "fix the rule: the factory draws every listed value, so some seeds' valid dossiers "
        "would be refused"
    )


def _unbuilt(procedure: str, where: str, exc: Exception, *, kind: str = BUILD) -> Refusal:
    """The factory could not build a dossier: its data (``fields.yaml``) or its code."""
    problem, hint = _said(exc)
    return Refusal(procedure, where, f"cannot build it: {problem}", hint, kind)


def _failed(procedure: str, where: str, exc: Exception) -> Refusal:
    """Checking a built dossier raised: a rule failing when run (named by its file), or a
    gateway bug; either way the gateway would answer 500."""
    problem, hint = _said(exc)
    return Refusal(procedure, where, problem, hint, FAILS, gateway=True)


def _said(exc: Exception) -> tuple[str, str]:
    """An exception as (problem, hint): a :class:`UsageError` says both (a CatalogError names
    the file at fault); anything else is named by its type."""
    if isinstance(exc, UsageError):
        problem, _, hint = str(exc).partition("\nHint: ")
        return problem, hint or _FIX_DATA
    return f"{type(exc).__name__}: {exc}", _FIX_DATA


def value_refusals(catalog: Catalog) -> list[Refusal]:
    """Every ``const:`` and ``choice:`` value of ``fields.yaml`` that breaks a facet of an
    element of that name (a value not of its type at all is refused at load): a dossier
    gets it only when the seed draws it, so the dossiers alone would miss most of them."""
    from harness.dossiers.fillable import facet_breaks

    return [
        Refusal(
            "",
            f"form {found.version.form} version {found.version.version}",
            f"{found.listed.where}: {found.listed.element}: {found.listed.kind} value "
            f"{found.listed.value!r}, which {found.version.xsd.name} refuses: {found.reason}",
            f"fix {found.listed.element}'s source in fixtures/reference/fields.yaml or its "
            "type in the XSD",
            VALUE,
        )
        for found in facet_breaks(catalog)
    ]


def _form_named(built: Built) -> str:
    """The older form version a dossier was built for ("form D05-TS version 626"), or ""
    (its error names the file at fault)."""
    return f"form {built.older[0]} version {built.older[1]}" if built.older else ""


def _run_messages(catalog: Catalog, dossier: Dossier, done: set[str]) -> None:
    """Run every rule message once per document type, on this valid dossier's documents;
    note in ``done`` which ``agrees_with_forms`` paths they hold."""
    validators = validators_for(catalog)
    pairs = catalog.envelope.agrees_with_forms
    envelope = parse_xml(dossier.envelope)
    if _ENVELOPE not in done:
        validators.envelope.run_every_message(envelope)
        done.add(_ENVELOPE)
    done.update(f"{_ENVELOPE}:{e}" for e, _f in pairs if envelope.find(e) is not None)
    for built in dossier.forms:
        name = built.form.file_name
        form = parse_xml(built.content)
        validator = validators.form(built.form.form, built.form.version)
        if name not in done and validator is not None:
            validator.run_every_message(form)
            done.add(name)
        done.update(f"form:{f}" for _e, f in pairs if form.find(f) is not None)


def _agreement_refusals(catalog: Catalog, seen: Collection[str]) -> list[Refusal]:
    """An ``agrees_with_forms`` path no valid dossier holds: a typo that would switch the
    check off silently (ENV-011 never raised)."""
    refusals = []
    for envelope_path, form_path in catalog.envelope.agrees_with_forms:
        for side, path in ((_ENVELOPE, envelope_path), ("form", form_path)):
            if f"{side}:{path}" not in seen:
                where = "envelopes" if side == _ENVELOPE else "forms"
                refusals.append(
                    Refusal(
                        "",
                        "catalog.yaml",
                        f"agrees_with_forms: {path!r} is in none of the valid dossiers' {where}",
                        "write the path of element names below the root, as the XSD has it",
                        kind=AGREE,
                    )
                )
    return refusals


def _refusal(catalog: Catalog, built: Built, found: Finding) -> Refusal:
    """A finding on a valid dossier, with the data most likely at fault."""
    file_name, _, xpath = found.xpath.rpartition(":")
    version = catalog.form_version(file_name) if file_name else None
    where = f"form {version.form} version {version.version}" if version else "envelope"
    element = _STEP.sub("", xpath.rstrip("/").rsplit("/", 1)[-1]).lstrip("@") or "/"
    rule = _rule_named(catalog, version, found.context.get("rule", ""))
    said = f"{found.code}{rule} {found.message_en}"
    problem = f"the factory's valid dossier is refused: {said} at {xpath}"
    hint = _fix(catalog, found.code, element, version)
    same = f"{found.code}{rule} at {_ROW.sub('[*]', xpath)}"
    if not rule:  # a schema's message quotes the value, which differs from row to row
        same += " " + _QUOTED.sub("'…'", found.message_en)
    # a signature_node the XSD does not allow refuses every signed dossier, a real I-VAN's too
    gateway = hint.startswith(_NODE_HINT)
    return Refusal(built.procedure, where, problem, hint, gateway=gateway, same=same)


def _rule_named(catalog: Catalog, version: FormVersion | None, assert_id: str) -> str:
    """`` [rule=<id> at <file>:<line>]`` for a finding of a rule's assert, "" for the XSD's."""
    if not assert_id:
        return ""
    paths = version.rules if version else catalog.envelope.rules
    at = assert_at(paths, assert_id)
    return f" [rule={assert_id} at {at}]" if at else f" [rule={assert_id}]"


def _fix(catalog: Catalog, code: str, element: str, version: FormVersion | None) -> str:
    """What to change for a finding of ``code`` at ``element``."""
    schema = (version.xsd if version else catalog.envelope.xsd).name
    form = catalog.forms[version.form] if version else None
    node = form.signature_node if form else catalog.envelope.signature_node
    if code in ("XSD-001", "ENV-001") and element == node.rsplit("/", 1)[-1]:
        owner = f"form {version.form}" if version else "envelope"
        return (
            f"{_NODE_HINT} the {owner} signature_node {node!r}, an element {schema} "
            "does not allow there: name the XSD's signature element (e.g. Cky)"
        )
    if code.startswith("SIG-") or element.endswith("Signature"):
        nodes = {f.code: f.signature_node for f in catalog.forms.values()}
        return (
            "check signature_node in catalog.yaml (envelope: "
            f"{catalog.envelope.signature_node!r}, forms: {nodes}) against the XSD's element "
            "names, and the test PKI (bhxh-harness pki init)"
        )
    if version is None and code == "ENV-001":  # the envelope's values are not fields.yaml's
        return (
            f"the envelope builder (build_envelope in harness/envelope.py) writes a fixed "
            f"list of elements: one of them {schema} renames, moves or retypes (here at "
            f"{element}) needs a change there, not data; only an element {schema} adds "
            "takes a source in fields.yaml (fixtures/catalog/README.md, 'Changing the "
            "envelope')"
        )
    if code in ("XSD-001", "ENV-001"):
        return f"fix fields.yaml's source for {element} or its type in {schema}"
    return (
        f"fix the rule raising {code} or fields.yaml's source for {element} "
        f"(a valid dossier must pass {schema}'s rules)"
    )


def check_smoke(
    catalog: Catalog,
    pki: TestPKI | None = None,
    *,
    values: bool = True,
    defects: bool = False,
    seeds: int = CHECK_SEEDS,
) -> list[str]:
    """Raise :class:`CatalogError` listing every smoke refusal of ``catalog`` (its message
    does not name the catalog: the caller does); return the warnings, which do not fail it."""
    refusals = smoke_run(catalog, pki, values=values, defects=defects, seeds=seeds)
    errors = [r for r in refusals if r.kind not in WARNINGS]
    if errors:
        raise _refused(errors)
    return _grouped([r for r in refusals if r.kind in WARNINGS])


def _refused(refusals: list[Refusal]) -> CatalogError:
    """The error listing ``refusals``, saying first what kinds of fault they are."""
    lines = _grouped(refusals)
    shown = "\n".join(f"  {line}" for line in lines[:_SHOWN])
    more = f"\n  ... and {len(lines) - _SHOWN} more" if len(lines) > _SHOWN else ""
    kinds = [header for kind, header in _HEADERS.items() if any(r.kind == kind for r in refusals)]
    return CatalogError(
        f"{'; '.join(kinds)} ({len(lines)} problem(s)):\n{shown}{more}",
        hint="fix what each line names, then run `bhxh-harness catalog check` again",
    )


def check_smoke_once(catalog: Catalog, pki: TestPKI | None = None) -> str | None:
    """``serve``'s smoke run (valid dossiers only, no value check): raise
    :class:`CatalogError` on the gateway's own faults, return one warning line (None: none)
    on what may be the factory's data. Skipped when the same catalog data, reference files
    and harness code were run before (the factory's first dossiers cost about a second, a
    digest a few milliseconds); the warning is remembered with it."""
    mark = _pass_mark(catalog)
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if mark.is_file():
            return mark.read_text(encoding="utf-8") or None
    refusals = [r for r in smoke_run(catalog, pki, values=False) if r.kind not in WARNINGS]
    gateway = [r for r in refusals if r.gateway]
    if gateway:
        raise _refused(gateway)
    warning = _factory_warning(catalog, refusals) if refusals else ""
    remember_pass(catalog, mark, warning)
    return warning or None


def _factory_warning(catalog: Catalog, refusals: list[Refusal]) -> str:
    """One line saying the factory's data fails the smoke run, with its first problem."""
    first = refusals[0]
    problem = first.problem.replace(f"{fixtures_dir()}{os.sep}reference{os.sep}", "")
    for said in ("cannot build it: ", "the factory's valid dossier is refused: "):
        problem = problem.removeprefix(said)
    if len(problem) > _WARNED:
        problem = problem[: _WARNED - 3] + "..."
    others = len(_grouped(refusals)) - 1
    more = f"; {others} more problem(s)" if others else ""
    maybe = ", maybe over the factory's data (fields.yaml)" if first.kind == REFUSED else ""
    return (
        f"warning: catalog {catalog.version}: {_HEADERS[first.kind]}{maybe} "
        f"({problem}{more}): serving anyway; `bhxh-harness catalog check` says more"
    )


def remember_pass(catalog: Catalog, mark: Path | None = None, warning: str = "") -> None:
    """Note that ``catalog`` passed its smoke run, or only with ``warning`` (an unwritable
    cache only costs time)."""
    mark = mark or _pass_mark(catalog)
    with contextlib.suppress(OSError):
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.write_text(warning, encoding="utf-8")


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
    """One line per distinct problem, naming every procedure it was met in; problems that
    differ only in a row index (``NguoiDiLam[1]``, ``NguoiDiLam[2]``) make one line."""
    procedures: dict[tuple[str, str, str], list[str]] = {}
    rows: dict[tuple[str, str, str], dict[str, None]] = {}
    for r in refusals:
        key = (r.where, r.same or _ROW.sub("[*]", r.problem), r.hint)
        procedures.setdefault(key, []).append(r.procedure)
        rows.setdefault(key, {})[r.problem] = None
    lines = []
    for (where, _same, hint), codes in procedures.items():
        seen = list(rows[(where, _same, hint)])
        said_problem = _rows_said(seen)
        named = [code for code in dict.fromkeys(codes) if code]
        noun = "procedures" if len(named) > 1 else "procedure"
        listed = f"{noun} {', '.join(named)}" if named else ""
        said = f"{where} ({listed})" if where and listed else where or listed
        lines.append(f"{said}: {said_problem} — {hint}" if said else f"{said_problem} — {hint}")
    return lines


def _rows_said(problems: list[str]) -> str:
    """One problem met in ``problems``' rows: the first row's text, the rows counted."""
    if len(problems) == 1:
        return problems[0]
    first = _ROW.sub("[*]", problems[0])
    same = all(_ROW.sub("[*]", p) == first for p in problems)
    return f"{first} ({len(problems)} rows{'' if same else ', the first one quoted'})"


__all__ = [
    "Built",
    "Refusal",
    "check_smoke",
    "check_smoke_once",
    "choice_refusals",
    "defect_refusals",
    "orphan_refusals",
    "remember_pass",
    "smoke_builds",
    "smoke_run",
    "unused_refusals",
    "value_refusals",
]
