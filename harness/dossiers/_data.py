"""Locating, loading and typing the reference data under ``fixtures/reference/``.

Codes, names and wage figures are data, not code, so that a reviewer can correct a ward
name or add a wage decree without touching Python. This module is the only place that
knows where the files live and what shape they have; it checks that shape once and hands
out frozen, typed records, so a typo in the YAML fails loudly with the file and row instead
of producing odd dossiers later. Everything is cached: the files are read once per process.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from harness import yamlfile
from harness.errors import CatalogError, FactoryError
from harness.paths import fixtures_dir
from harness.suggestions import did_you_mean

__all__ = [
    "Agency",
    "CodedName",
    "District",
    "FieldSources",
    "HiCardObject",
    "Places",
    "Province",
    "Tables",
    "Ward",
    "field_sources",
    "load_yaml",
    "places",
    "tables",
]

PLACES_FILE = "reference/places.yaml"
TABLES_FILE = "reference/tables.yaml"
FIELDS_FILE = "reference/fields.yaml"

_T = TypeVar("_T")


@functools.cache
def load_yaml(relative: str) -> Any:
    """Parse ``fixtures/<relative>`` (cached; do not mutate the result).

    A missing or broken file is a :class:`~harness.errors.CatalogError` naming the file
    and line, as for every other data file (:mod:`harness.yamlfile`).
    """
    return yamlfile.load_yaml(fixtures_dir() / relative)


@dataclass(frozen=True)
class Province:
    """A pre-2025 province; ``code`` is the 3-digit CCCD birth-province code."""

    code: str
    name: str
    type: str

    @property
    def full_name(self) -> str:
        """The name as written in addresses, e.g. ``Thành phố Hà Nội``."""
        return f"{self.type} {self.name}"


@dataclass(frozen=True)
class District:
    """A pre-2025 district (Mahuyen); the 2025 reform abolished districts."""

    code: str
    name: str
    province: str


@dataclass(frozen=True)
class Ward:
    """A commune-level unit; ``district`` is None for post-reform (07/2025+) wards."""

    code: str
    name: str
    province: str
    district: str | None
    region: int

    @property
    def reformed(self) -> bool:
        """Whether this ward belongs to the post-2025 map (no district)."""
        return self.district is None


@dataclass(frozen=True)
class Agency:
    """A BHXH office, identified by its 5-digit agency code."""

    code: str
    name: str
    province: str


@dataclass(frozen=True)
class CodedName:
    """An entry of a code set (ethnic group, nationality) with a sampling weight."""

    code: str
    name: str
    weight: int = 1


@dataclass(frozen=True)
class HiCardObject:
    """An HI card object code (first two letters of the card) and its benefit level."""

    code: str
    level: int
    weight: int
    name: str


@dataclass(frozen=True)
class Places:
    """Everything in ``places.yaml``, typed and indexed."""

    provinces: tuple[Province, ...]
    districts: tuple[District, ...]
    wards: tuple[Ward, ...]
    agencies: tuple[Agency, ...]

    def province(self, code: str) -> Province:
        """The province with this 3-digit code, or FactoryError listing a few valid ones."""
        for p in self.provinces:
            if p.code == code:
                return p
        sample = ", ".join(p.code for p in self.provinces[:5])
        raise FactoryError(f"unknown province code {code!r}", hint=f"use e.g. {sample}, ...")

    def district(self, code: str) -> District:
        """The pre-2025 district with this 3-digit code."""
        for d in self.districts:
            if d.code == code:
                return d
        raise FactoryError(f"unknown district code {code!r} in {PLACES_FILE}")

    def ward(self, code: str, *, reformed: bool = False) -> Ward:
        """The ward with this code in the pre- (default) or post-2025 map."""
        for w in self.wards:
            if w.code == code and w.reformed == reformed:
                return w
        era = "post-2025" if reformed else "pre-2025"
        raise FactoryError(f"unknown {era} ward code {code!r} in {PLACES_FILE}")


@dataclass(frozen=True)
class Tables:
    """The non-wage code tables of ``tables.yaml`` (wages live in ``wages.py``)."""

    ethnic_groups: tuple[CodedName, ...]
    nationalities: tuple[CodedName, ...]
    hi_card_objects: tuple[HiCardObject, ...]
    jobs: tuple[str, ...]
    company_forms: tuple[str, ...]
    company_trades: tuple[str, ...]
    company_brands: tuple[str, ...]


def _code(value: Any, digits: int, what: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(rf"\d{{{digits}}}", value):
        raise ValueError(f"{what} must be a quoted {digits}-digit string, got {value!r}")
    return value


def _rows(doc: Mapping[str, Any], key: str, file: str, make: Callable[[Any], _T]) -> tuple[_T, ...]:
    """Build one record per YAML row, naming the file, section and row on any shape error."""
    rows = doc.get(key)
    if not isinstance(rows, list) or not rows:
        raise FactoryError(f"fixtures/{file}: section {key!r} is missing or empty")
    out: list[_T] = []
    for i, row in enumerate(rows):
        try:
            out.append(make(row))
        except (KeyError, TypeError, ValueError) as exc:
            raise FactoryError(
                f"fixtures/{file}: {key}[{i}] = {row!r} is malformed: {exc}"
            ) from exc
    return tuple(out)


def _doc(file: str) -> Mapping[str, Any]:
    doc = load_yaml(file)
    if not isinstance(doc, dict):
        raise FactoryError(f"fixtures/{file}: expected a mapping at top level")
    return doc


@functools.cache
def places() -> Places:
    """Load and check ``places.yaml`` (cached)."""
    doc = _doc(PLACES_FILE)
    result = Places(
        provinces=_rows(
            doc,
            "provinces",
            PLACES_FILE,
            lambda r: Province(_code(r["code"], 3, "code"), str(r["name"]), str(r["type"])),
        ),
        districts=_rows(
            doc,
            "districts",
            PLACES_FILE,
            lambda r: District(
                _code(r["code"], 3, "code"), str(r["name"]), _code(r["province"], 3, "province")
            ),
        ),
        wards=_rows(doc, "wards", PLACES_FILE, _ward),
        agencies=_rows(
            doc,
            "agencies",
            PLACES_FILE,
            lambda r: Agency(
                _code(r["code"], 5, "code"), str(r["name"]), _code(r["province"], 3, "province")
            ),
        ),
    )
    _check_places(result)
    return result


def _ward(r: Any) -> Ward:
    district = r["district"]
    region = int(r["region"])
    if not 1 <= region <= 4:
        raise ValueError(f"region must be 1..4, got {region}")
    return Ward(
        code=_code(r["code"], 5, "code"),
        name=str(r["name"]),
        province=_code(r["province"], 3, "province"),
        district=None if district is None else _code(district, 3, "district"),
        region=region,
    )


def _check_places(p: Places) -> None:
    """Cross-references must resolve and codes be unique, or generated data lies."""
    province_codes = {x.code for x in p.provinces}
    district_codes = {x.code for x in p.districts}
    seen: set[tuple[str, bool]] = set()
    for w in p.wards:
        if (w.code, w.reformed) in seen:
            raise FactoryError(f"fixtures/{PLACES_FILE}: ward {w.code} listed twice in one era")
        seen.add((w.code, w.reformed))
        if w.province not in province_codes or (w.district and w.district not in district_codes):
            raise FactoryError(f"fixtures/{PLACES_FILE}: ward {w.code} names an unknown place")
    owners = [(d.code, d.province) for d in p.districts] + [
        (a.code, a.province) for a in p.agencies
    ]
    for code, province in owners:
        if province not in province_codes:
            raise FactoryError(f"fixtures/{PLACES_FILE}: {code} names an unknown province")
    for group in (p.provinces, p.districts, p.agencies):
        codes = [x.code for x in group]
        if len(codes) != len(set(codes)):
            raise FactoryError(f"fixtures/{PLACES_FILE}: duplicate codes in {codes[:3]}...")


@functools.cache
def tables() -> Tables:
    """Load and check the code tables of ``tables.yaml`` (cached)."""
    doc = _doc(TABLES_FILE)

    def coded(r: Any) -> CodedName:
        return CodedName(str(r["code"]), str(r["name"]), int(r.get("weight", 1)))

    def strings(key: str) -> tuple[str, ...]:
        return _rows(doc, key, TABLES_FILE, str)

    company = doc.get("company_names")
    if not isinstance(company, dict):
        raise FactoryError(f"fixtures/{TABLES_FILE}: section 'company_names' is missing")
    return Tables(
        ethnic_groups=_rows(doc, "ethnic_groups", TABLES_FILE, coded),
        nationalities=_rows(doc, "nationalities", TABLES_FILE, coded),
        hi_card_objects=_rows(
            doc,
            "hi_card_objects",
            TABLES_FILE,
            lambda r: HiCardObject(
                str(r["code"]), int(r["level"]), int(r["weight"]), str(r["name"])
            ),
        ),
        jobs=strings("jobs"),
        company_forms=_rows(company, "forms", TABLES_FILE, str),
        company_trades=_rows(company, "trades", TABLES_FILE, str),
        company_brands=_rows(company, "brands", TABLES_FILE, str),
    )


# -- fields.yaml --------------------------------------------------------------------------

_FIELDS_KEYS = ("fields", "optional", "prefer")
_FIXED_KINDS = ("const", "digits", "choice")
"""Sources written ``kind:argument``; the others are ``kind.name``, checked against ``names``."""


def split_source(source: str) -> tuple[str, str]:
    """A value source as its kind and argument: ``choice:[A, B]`` and ``person.ho_ten``."""
    kind, _, arg = source.partition(":") if ":" in source else source.partition(".")
    return kind, arg


def choice_values(arg: str) -> list[str]:
    """The values of a ``choice:[A, "B"]`` argument, as the factory draws among them."""
    return [v.strip().strip('"') for v in arg.strip("[]").split(",")]


@dataclass(frozen=True)
class FieldSources:
    """``fields.yaml``, checked: element -> value source, optional-element odds, codes."""

    sources: dict[str, str]
    optional: dict[str, float]
    prefer: dict[str, tuple[str, ...]]


def field_sources(names: Mapping[str, Collection[str]]) -> FieldSources:
    """Read ``fields.yaml``, refusing with file and line what ``dossier build`` would crash
    on or silently misuse; ``names`` maps each ``kind.name`` source kind (person, unit,
    dossier, row, faker) to the names the factory resolves for it.

    Values are normalised to NFC, so an editor saving Vietnamese decomposed (NFD) does not
    put NFD text into dossiers the factory calls valid.
    """
    doc = load_yaml(FIELDS_FILE)
    if not isinstance(doc, dict):
        raise _fields_error("expected a mapping with fields:, optional: and prefer:", doc)
    _known_keys(doc, _FIELDS_KEYS, "fields.yaml")
    fields = _section(doc, "fields", required=True)
    optional = _section(doc, "optional")
    prefer = _section(doc, "prefer")
    return FieldSources(
        sources={name: _source(fields, name, names) for name in fields},
        optional={name: _odds(optional, name) for name in optional},
        prefer={name: _codes(prefer, name) for name in prefer},
    )


def _fields_error(
    message: str, node: object, key: str | None = None, hint: str | None = None
) -> CatalogError:
    """The error at ``key``'s line in ``node`` of ``fields.yaml``."""
    path = str(fixtures_dir() / FIELDS_FILE)
    return CatalogError(message, path=path, line=yamlfile.line_of(node, key), hint=hint)


def _known_keys(node: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    """A misspelt section (``optinal:``) would be ignored: refuse it."""
    for key in node:
        if key not in allowed:
            raise _fields_error(
                f"unknown key {key!r} in {where}: it would be ignored",
                node,
                key,
                f"{did_you_mean(key, allowed)}{where} takes only: {', '.join(allowed)}",
            )


def _section(doc: Mapping[str, Any], key: str, *, required: bool = False) -> Mapping[str, Any]:
    section = doc.get(key)
    if section is None and not required:
        return {}
    if not isinstance(section, dict) or (required and not section):
        raise _fields_error(f"{key}: must be a mapping of element name -> ...", doc, key)
    return section


def _source(fields: Mapping[str, Any], name: str, names: Mapping[str, Collection[str]]) -> str:
    """One element's value source, as the factory splits it (``kind:arg`` or ``kind.name``)."""
    value = fields[name]
    source = unicodedata.normalize("NFC", value) if isinstance(value, str) else None
    if source is None:
        raise _fields_error(
            f"{name}: value source must be text, got {value!r}",
            fields,
            name,
            f"write a fixed value as const:{value}" if value is not None else None,
        )
    kind, arg = split_source(source)
    if kind == "digits" and not (arg.isascii() and arg.isdigit() and int(arg) > 0):
        raise _fields_error(f"{name}: {source!r} needs a digit count, e.g. digits:10", fields, name)
    if kind == "choice":
        _check_choice(fields, name, source, arg)
    if kind in _FIXED_KINDS:
        return source
    if kind not in names:
        forms = (
            ", ".join(f"{k}:..." for k in _FIXED_KINDS)
            + ", "
            + ", ".join(f"{k}.<name>" for k in names)
        )
        raise _fields_error(
            f"{name}: unknown value source {source!r}", fields, name, f"sources are {forms}"
        )
    if arg not in names[kind]:
        raise _fields_error(
            f"{name}: {source!r}: the factory offers no {kind}.{arg}",
            fields,
            name,
            f"{did_you_mean(arg, names[kind])}{_closest(kind, arg, names[kind])}",
        )
    return source


def _check_choice(fields: Mapping[str, Any], name: str, source: str, arg: str) -> None:
    """A ``choice:`` list must be one bracketed list of values: an unclosed bracket or quote
    would make the factory draw a value with the bracket or quote in it."""
    example = 'write the values in one bracketed list, e.g. choice:[KT, NS] or choice:["12", "24"]'
    if not (arg.startswith("[") and arg.endswith("]")):
        said = "does not close its list with ']'" if arg.startswith("[") else "is not a [list]"
        raise _fields_error(f"{name}: {source!r} {said}", fields, name, example)
    values = [v.strip() for v in arg[1:-1].split(",")]
    if not any(values):
        raise _fields_error(f"{name}: {source!r} lists no value", fields, name, example)
    for value in values:
        inner = value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value
        if not inner or '"' in inner or "[" in inner or "]" in inner:
            raise _fields_error(
                f"{name}: {source!r}: {value!r} is not a value (an empty one, or an unclosed "
                "quote or bracket)",
                fields,
                name,
                f"{example}; a value cannot hold a comma, a quote or a bracket",
            )


_LISTED = 10
"""Names a hint lists: faker alone offers hundreds."""


def _closest(kind: str, name: str, known: Collection[str]) -> str:
    """The names of ``kind`` (of many, the ``_LISTED`` closest to ``name``, the rest
    counted: a hint of hundreds of names is read by nobody)."""
    if len(known) <= _LISTED:
        return f"{kind}.* names: {', '.join(sorted(known))}"
    close = difflib.get_close_matches(name, sorted(known), n=_LISTED, cutoff=0)
    return f"{kind}.* names: {', '.join(close)} … and {len(known) - len(close)} more"


def _odds(optional: Mapping[str, Any], name: str) -> float:
    """The chance an optional element is written: a number from 0 to 1."""
    value = optional[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise _fields_error(
            f"{name}: optional: takes a probability from 0 to 1, got {value!r}",
            optional,
            name,
            "write e.g. 0.2 for one dossier in five (not 20, not a percentage)",
        )
    return float(value)


def _codes(prefer: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """Preferred codes; YAML reads an unquoted ON, NO or YES as a boolean, never a code."""
    value = prefer[name]
    if not isinstance(value, list) or not value:
        raise _fields_error(f"{name}: prefer: takes a list of codes, e.g. [TM, TH]", prefer, name)
    for code in value:
        if not isinstance(code, str):
            hint = 'quote it, e.g. "ON": YAML reads ON/OFF/YES/NO unquoted as true/false'
            raise _fields_error(f"{name}: prefer: code {code!r} is not text", prefer, name, hint)
    return tuple(unicodedata.normalize("NFC", v) for v in value)
