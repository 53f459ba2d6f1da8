"""Content mutations: schema facets, structure, reference codes, wages, dates, envelope counts.

Each one changes one value or one element of one document before it is signed, so the
gateway must answer exactly the code of that one fault. Probe values are proposed from
the type's facets and then *checked* with xmlschema (a value the type admits is never
offered as a violation), and rule faults use values the type admits, so they get past
the schema and reach the rule they target. Named defects from
``fixtures/dossiers/defects.yaml`` are offered as they are (family ``defect``) and
provide the element lists and expected codes of the wage and date families.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import strategies as st
from lxml import etree

from harness.catalog.rule_roles import can_raise
from harness.dossiers.defects import applies, build_defective, defect, load_defects
from harness.dossiers.wages import REGIONS, minimum_wage, salary_cap
from harness.fuzz._core import ENVELOPE, FILES, Draw, Mutation, MutationContext, Offer
from harness.fuzz._docs import DocFacts, ElementFact, code_lookups, find_all, schema_facts
from harness.fuzz._docs import table_codes as codes_of

WAGE_DEFECTS = {"wage-below-minimum": "below", "wage-above-cap": "above"}
DATE_DEFECT = "impossible-date"
_IMPOSSIBLE = ((30, 2), (31, 2), (31, 4), (31, 6), (31, 9), (31, 11), (29, 2))
_UNKNOWN_TAGS = ("TruongLa", "ThongTinThem")


T = TypeVar("T", bound=tuple[Any, ...])


def by_document(draw: Draw, targets: list[T]) -> T:
    """A target of a uniformly drawn document, so the envelope (which has the most
    elements) does not crowd out the forms."""
    docs = list(dict.fromkeys(t[0].doc for t in targets))
    doc = draw(st.sampled_from(docs))
    target: T = draw(st.sampled_from([t for t in targets if t[0].doc == doc]))
    return target


def set_text(path: str, index: int, value: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        find_all(root, path)[index].text = value

    return change


@cache
def probes(xsd: Path, path: str) -> tuple[tuple[str, str], ...]:
    """``(facet, value)`` pairs that the element's type rejects, one per facet broken."""
    fact = schema_facts(xsd)[path]
    info = fact.info
    if info is None:
        return ()
    found: list[tuple[str, str]] = []
    if info.enumeration is not None:
        members = sorted(str(m) for m in info.enumeration)
        found += [("enumeration", f"{members[0]}Z"), ("enumeration", members[-1].lower())]
        found.append(("enumeration", "ZZ"))
    if info.patterns:
        found += [("pattern", "#"), ("pattern", ""), ("pattern", "x" * 3)]
    facets = info.facets
    if "maxLength" in facets:
        found.append(("max-length", "A" * (int(facets["maxLength"]) + 1)))
    if int(facets.get("minLength", 0)) >= 1:
        found.append(("min-length", ""))
    for name, step in (("minInclusive", -1), ("minExclusive", 0)):
        if name in facets:
            found.append(("bound", str(Decimal(str(facets[name])) + step)))
    for name, step in (("maxInclusive", 1), ("maxExclusive", 0)):
        if name in facets:
            found.append(("bound", str(Decimal(str(facets[name])) + step)))
    if "totalDigits" in facets:
        found.append(("digits", "9" * (int(facets["totalDigits"]) + 1)))
    if "fractionDigits" in facets:
        found.append(("digits", "1." + "1" * (int(facets["fractionDigits"]) + 1)))
    if "xs:decimal" in info.builtins:
        found += [
            ("type", "abc"),
            ("type", "1,5"),
            ("type", "1.5"),
            ("bound", "0"),
            ("bound", "-1"),
        ]
    return tuple(p for p in dict.fromkeys(found) if not fact.accepts(p[1]))


def _simple_targets(ctx: MutationContext) -> list[tuple[DocFacts, ElementFact, int]]:
    return [(d, f, n) for d in ctx.docs.values() for f, n in d.targets() if f.info is not None]


def facets(ctx: MutationContext) -> Offer | None:
    """A value its XSD type rejects (enumeration, pattern, length, bounds, digits, type)."""
    targets = [(d, f, n, p) for d, f, n in _simple_targets(ctx) if (p := probes(d.xsd, f.path))]
    if not targets:
        return None

    def offer(draw: Draw) -> Mutation:
        doc, fact, count, found = by_document(draw, targets)
        kind, value = draw(st.sampled_from(found))
        index = draw(st.integers(0, count - 1))
        change = set_text(fact.path, index, value)
        return Mutation(
            f"facet:{kind}:{doc.doc}:{fact.path}[{index}]={value[:24]!r}",
            frozenset({doc.schema_code}),
            lambda c: c.edit(doc.doc, change),
        )

    return offer


def missing_element(ctx: MutationContext) -> Offer | None:
    """Every occurrence of a required element removed (the signature holder excepted)."""
    targets = [
        (d, f)
        for d in ctx.docs.values()
        for f, _ in d.targets()
        if f.min_occurs >= 1 and "/" in f.path and f.path.rsplit("/", 1)[0] in d.present
    ]

    def remove_all(path: str) -> Callable[[etree._Element], None]:
        def change(root: etree._Element) -> None:
            for element in find_all(root, path):
                parent = element.getparent()
                assert parent is not None
                parent.remove(element)

        return change

    def offer(draw: Draw) -> Mutation:
        doc, fact = by_document(draw, targets)
        change = remove_all(fact.path)
        return Mutation(
            f"missing-element:{doc.doc}:{fact.path}",
            frozenset({doc.schema_code}),
            lambda c: c.edit(doc.doc, change),
        )

    return offer if targets else None


def unknown_element(ctx: MutationContext) -> Offer | None:
    """An undeclared element or attribute, or a second copy of a non-repeating element."""
    targets = [(d, f, n) for d in ctx.docs.values() for f, n in d.targets() if "/" in f.path]

    def change_for(kind: str, path: str, index: int, tag: str) -> Callable[[etree._Element], None]:
        def change(root: etree._Element) -> None:
            element = find_all(root, path)[index]
            if kind == "attribute":
                element.set("la", "x")
            elif kind == "duplicate":
                element.addnext(etree.fromstring(etree.tostring(element)))
            else:
                extra = etree.Element(tag)
                extra.text = "x"
                element.addnext(extra)

        return change

    def offer(draw: Draw) -> Mutation:
        doc, fact, count = by_document(draw, targets)
        kinds = ["element", "attribute"] + (["duplicate"] if fact.max_occurs == 1 else [])
        kind = draw(st.sampled_from(kinds))
        tag = draw(st.sampled_from(_UNKNOWN_TAGS)) if kind == "element" else fact.name
        index = draw(st.integers(0, count - 1))
        change = change_for(kind, fact.path, index, tag)
        return Mutation(
            f"unknown-element:{kind}:{doc.doc}:{fact.path}[{index}]+{tag}",
            frozenset({doc.schema_code}),
            lambda c: c.edit(doc.doc, change),
        )

    return offer if targets else None


@cache
def _unknown_codes(xsd: Path, path: str, table: str, length: int) -> tuple[str, ...]:
    """Values the schema admits that the reference table does not list."""
    fact, known = schema_facts(xsd)[path], codes_of(table)
    digits = [d * length for d in "98701"] + ["9" * (length - 1) + "8"]
    return tuple(v for v in dict.fromkeys(digits) if v not in known and fact.accepts(v))


def table_codes(ctx: MutationContext) -> Offer | None:
    """A code the type admits but the rules' reference table does not know (RULE-1xx)."""
    targets = []
    for doc in ctx.forms:
        for lookup in code_lookups(doc.rules):
            for path, texts in doc.present.items():
                if path.rsplit("/", 1)[-1] == lookup.element and texts[0]:
                    values = _unknown_codes(doc.xsd, path, lookup.table, len(texts[0]))
                    if values:
                        targets.append((doc, path, len(texts), values, lookup.code))

    def offer(draw: Draw) -> Mutation:
        doc, path, count, values, code = by_document(draw, targets)
        value, index = draw(st.sampled_from(values)), draw(st.integers(0, count - 1))
        change = set_text(path, index, value)
        return Mutation(
            f"table-code:{doc.doc}:{path}[{index}]={value}",
            frozenset({code}),
            lambda c: c.edit(doc.doc, change),
        )

    return offer if targets else None


def _occurrences(ctx: MutationContext, name: str) -> list[tuple[DocFacts, str, int]]:
    """Where defect ``name``'s elements occur, in forms whose rules raise what it expects."""
    wanted = defect(name)
    return [
        (doc, path, len(texts))
        for doc in ctx.forms
        if can_raise(wanted.expect, doc.rules)
        for path, texts in doc.present.items()
        if path.rsplit("/", 1)[-1] in wanted.elements and path in doc.elements
    ]


def wages(ctx: MutationContext) -> Offer | None:
    """A wage below the regional minimum or above the cap for the declared period.

    Values shrink toward the boundary (one dong below the lowest region's minimum, one
    above the cap), where off-by-one comparisons live.
    """
    named = [n for n in WAGE_DEFECTS if n in load_defects()]
    targets = [(n, o) for n in named for o in _occurrences(ctx, n)]
    if not targets:
        return None
    # below every region's minimum: the row's region is a rule input we need not know
    floor = min(int(minimum_wage(ctx.spec.period, region)) for region in REGIONS)
    cap = int(salary_cap(ctx.spec.period))

    def offer(draw: Draw) -> Mutation:
        name, (doc, path, count) = draw(st.sampled_from(targets))
        if WAGE_DEFECTS[name] == "below":  # above 100, which would read as a coefficient
            value = floor - draw(st.integers(1, floor - 101))
        else:
            value = cap + draw(st.integers(1, 10**13))
        index = draw(st.integers(0, count - 1))
        change = set_text(path, index, str(value))
        return Mutation(
            f"wage:{WAGE_DEFECTS[name]}:{doc.doc}:{path}[{index}]={value}",
            frozenset(defect(name).expect),
            lambda c: c.edit(doc.doc, change),
        )

    return offer


def dates(ctx: MutationContext) -> Offer | None:
    """A calendar date that does not exist, in either accepted spelling, year kept."""
    if DATE_DEFECT not in load_defects():
        return None
    targets = _occurrences(ctx, DATE_DEFECT)

    def offer(draw: Draw) -> Mutation:
        doc, path, count = by_document(draw, targets)
        index = draw(st.integers(0, count - 1))
        years = re.findall(r"\d{4}", doc.present[path][index]) or ["1990"]
        year = int(years[0])
        fact = doc.elements[path]
        candidates = [
            spelling
            for day, month in _IMPOSSIBLE
            if not (day == 29 and calendar.isleap(year))
            for spelling in (f"{day:02d}/{month:02d}/{year}", f"{year}-{month:02d}-{day:02d}")
            if fact.accepts(spelling)
        ]
        value = draw(st.sampled_from(candidates))
        change = set_text(path, index, value)
        return Mutation(
            f"date:{doc.doc}:{path}[{index}]={value}",
            frozenset(defect(DATE_DEFECT).expect),
            lambda c: c.edit(doc.doc, change),
        )

    return offer if targets else None


def envelope(ctx: MutationContext) -> Offer | None:
    """Envelope inconsistencies: SoLuongFile, DoDaiFile, base64, form version, procedure."""
    files = ctx.docs[ENVELOPE].present.get(f"{FILES}/NoiDungFile", ())
    count = len(files)
    procedures = [
        p
        for p in ("999", "000", "600z", "9999")
        if p not in ctx.catalog.procedures
        and ctx.docs[ENVELOPE].elements["Hoso/NoiDung/ThongTinHoSo/MaThuTuc"].accepts(p)
    ]

    kinds = ["so-luong-file"] + ["procedure"] * bool(procedures) + ["file"] * bool(count)

    def offer(draw: Draw) -> Mutation:
        kind = draw(st.sampled_from(kinds))
        if kind == "so-luong-file":
            value = count + draw(st.integers(-count, 5).filter(bool))
            change = set_text("Hoso/NoiDung/ThongTinHoSo/SoLuongFile", 0, str(value))
            return _env(f"envelope:so-luong-file={value}", "ENV-006", change)
        if kind == "procedure":
            code = draw(st.sampled_from(procedures))
            change = set_text("Hoso/NoiDung/ThongTinHoSo/MaThuTuc", 0, code)
            return _env(f"envelope:unknown-procedure={code}", "ENV-002", change)
        index = draw(st.integers(0, count - 1))
        length = len("".join(files[index].split()))
        what = draw(st.sampled_from(["do-dai-file", "base64", "form-version"]))
        if what == "do-dai-file":
            value = length + draw(st.integers(-length, 64).filter(bool))
            change = set_text(f"{FILES}/DoDaiFile", index, str(value))
            return _env(f"envelope:do-dai-file[{index}]={value}", "ENV-007", change)
        if what == "base64":
            at = draw(st.integers(0, length - 1))
            char = draw(st.sampled_from("!#$%*,.:;?@^~"))
            text = "".join(files[index].split())
            change = set_text(f"{FILES}/NoiDungFile", index, text[:at] + char + text[at + 1 :])
            return _env(f"envelope:base64[{index}]@{at}={char}", "ENV-008", change)
        name = ctx.docs[ENVELOPE].present[f"{FILES}/TenFile"][index]
        stem = name.rsplit(".", 1)[0].rpartition("-")[0]
        unknown = next(
            f"{stem}-{v}.xml"
            for v in ("999", "000", "1", "9999")
            if ctx.catalog.form_version(f"{stem}-{v}.xml") is None
        )
        change = set_text(f"{FILES}/TenFile", index, unknown)
        return _env(f"envelope:form-version[{index}]={unknown}", "ENV-009", change)

    return offer


def _env(name: str, code: str, change: Callable[[etree._Element], None]) -> Mutation:
    return Mutation(name, frozenset({code}), lambda c: c.edit(ENVELOPE, change))


def defects(ctx: MutationContext) -> Offer | None:
    """Every named defect of ``fixtures/dossiers/defects.yaml`` that applies, as written."""
    names = [n for n in load_defects() if applies(ctx.pool.factory, ctx.spec.procedure, n)]

    def build(name: str) -> Callable[[MutationContext], bytes]:
        def apply(c: MutationContext) -> bytes:
            spec = c.spec
            dossier = build_defective(
                c.pool.factory, spec.procedure, name, spec.seed, **spec.options()
            )
            return dossier.envelope

        return apply

    def offer(draw: Draw) -> Mutation:
        name = draw(st.sampled_from(names))
        return Mutation(f"defect:{name}", frozenset(defect(name).expect), build(name))

    return offer if names else None


__all__ = [
    "dates",
    "defects",
    "envelope",
    "facets",
    "missing_element",
    "probes",
    "table_codes",
    "unknown_element",
    "wages",
]
