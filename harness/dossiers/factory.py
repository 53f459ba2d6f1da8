"""Build complete, valid, signed dossiers for any procedure of any catalog version.

The form's XSD gives the structure, ``fixtures/reference/fields.yaml`` says where each
value comes from, and a seeded Faker supplies people, units and wages, so the same
``(catalog, procedure, seed)`` always gives the same dossier and a new procedure needs
only data. Defects (``harness.dossiers.defects``) hook in before and after signing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from functools import cache
from typing import Any

from faker import Faker
from lxml import etree

from harness.catalog import Catalog, FormVersion, Procedure, load_catalog
from harness.dossiers._data import choice_values, field_sources, places, split_source
from harness.dossiers.envelope_fill import fill_declared
from harness.dossiers.form_model import ElementSpec, form_model
from harness.dossiers.provider import PERSON_ATTRIBUTES, Person, faker_methods, seeded_faker
from harness.dossiers.text import format_vn_date, parse_period
from harness.envelope import EmbeddedFile, EnvelopeInfo, Unit, build_envelope
from harness.errors import FactoryError
from harness.identities import DEFAULT_IVAN_CODE, DEFAULT_IVAN_NAME, ivan_name
from harness.signing import TestPKI, ensure_pki, sign
from harness.suggestions import did_you_mean

REFORM_PERIOD = (2025, 7)
"""From 07/2025 wards have no district (DOMAIN.md: the 2025 administrative reform)."""

DEFAULT_IVAN = (DEFAULT_IVAN_CODE, DEFAULT_IVAN_NAME)
"""The factory's I-VAN: (code, name), as envelopes carry them (MaIVAN, TenIVAN)."""


@dataclass(frozen=True)
class UnitProfile:
    """The employer behind a dossier, with every value its forms may need."""

    ten: str
    ma_don_vi: str
    ma_so_thue: str
    nguoi_ky: str
    dien_thoai: str
    co_quan: str
    dia_chi: str
    ma_tinh: str
    ma_huyen: str
    ma_xa: str
    ngay_cap: str
    email: str
    region: int

    def as_envelope_unit(self) -> Unit:
        return Unit(
            self.ten, self.ma_don_vi, self.ma_so_thue, self.nguoi_ky, self.dien_thoai, self.co_quan
        )


@dataclass(frozen=True)
class BuiltForm:
    """One form as embedded: its catalog version and the exact signed bytes."""

    form: FormVersion
    description: str
    content: bytes


@dataclass(frozen=True)
class Dossier:
    """A dossier ready to send: signed envelope bytes plus what it was built from."""

    catalog_version: str
    procedure: str
    period: str
    seed: int
    ivan: str
    unit: UnitProfile
    forms: tuple[BuiltForm, ...]
    envelope: bytes
    defect: str | None = None
    expected_codes: tuple[str, ...] = ()
    result_codes: tuple[str, ...] = ()
    """Of a dossier accepted with a defect only BHXH's processing finds: the codes of the
    defective rows its 03/TB-TS must list (``RES-*``)."""

    @property
    def valid(self) -> bool:
        return self.defect is None


@dataclass(frozen=True)
class FieldRules:
    """``fields.yaml``: where values come from, optional-element odds, preferred codes."""

    sources: dict[str, str]
    optional: dict[str, float]
    prefer: dict[str, tuple[str, ...]]


PERSON_DERIVED = ("ma_huyen", "dia_chi")
"""``person.*`` names the filler derives (:meth:`_FormFiller._person_value`), besides
:class:`Person`'s own attributes."""
ROW_VALUES = (
    "index",
    "wage",
    "region_code",
    "contract_start",
    "claim_start",
    "claim_end",
    "claim_days",
)
"""``row.*`` names: the index and the keys of :meth:`_FormFiller._row_values`."""
DOSSIER_VALUES = ("period",)
"""``dossier.*`` names (:meth:`_FormFiller._resolve`)."""


def source_names() -> dict[str, frozenset[str]]:
    """What each ``kind.name`` source of ``fields.yaml`` may name, read from the classes
    and tables the filler resolves it from (a wrong name fails ``catalog check``, not a
    ``dossier build``)."""
    return {
        "person": frozenset(PERSON_ATTRIBUTES + PERSON_DERIVED),
        "unit": frozenset(f.name for f in fields(UnitProfile)),
        "dossier": frozenset(DOSSIER_VALUES),
        "row": frozenset(ROW_VALUES),
        "faker": faker_methods(),
    }


@cache
def field_rules() -> FieldRules:
    """``fields.yaml``, refused with file and line where a build would fail on it."""
    checked = field_sources(source_names())
    return FieldRules(checked.sources, checked.optional, checked.prefer)


@dataclass
class _Row:
    """Per-row context: index, person and the derived row values."""

    index: int
    person: Person | None = None
    values: dict[str, str] = field(default_factory=dict)


class _FormFiller:
    """Fills one form from its :class:`ElementSpec` tree, row by row."""

    def __init__(
        self,
        fake: Faker,
        unit: UnitProfile,
        period: str,
        rows: int,
        reformed: bool,
        cccd_holder: str | None = None,
    ) -> None:
        self.fake = fake
        self.cccd_holder = cccd_holder  # the CCCD of the form's first person, then None
        self.bhxh: Any = fake  # the BHXH provider's methods, which Faker's stubs do not know
        self.rng: random.Random = fake.random
        self.unit = unit
        self.period = period
        self.rows = rows
        self.reformed = reformed
        self.rules = field_rules()

    def build(self, spec: ElementSpec) -> etree._Element:
        root = etree.Element(spec.name)
        self._fill(root, spec, _Row(index=1))
        return root

    def _uses_person(self, spec: ElementSpec) -> bool:
        return any(
            self.rules.sources.get(child.name, "").startswith("person.")
            for child in spec.children or ()
        )

    def _fill(self, element: etree._Element, spec: ElementSpec, row: _Row) -> None:
        for child in spec.children or ():
            if child.min_occurs == 0 and self.rng.random() >= self.rules.optional.get(
                child.name, 0.0
            ):
                continue
            count = self.rows if child.repeats else 1
            for index in range(1, count + 1):
                node = etree.SubElement(element, child.name)
                if child.is_complex:
                    inner = _Row(index=index) if self._uses_person(child) else row
                    if inner is not row:
                        inner.person = self._person()
                    self._fill(node, child, inner)
                else:
                    node.text = self._value(child, row)

    def _person(self) -> Person:
        person: Person
        if self.cccd_holder is not None:
            person, self.cccd_holder = self.bhxh.cccd_holder(self.cccd_holder), None
        else:
            person = self.fake.person()
        if self.reformed:
            person = replace(
                person, ward_code=self.fake.ward_code(person.province_code, reformed=True)
            )
        return person

    def envelope_value(self, spec: ElementSpec) -> str:
        """A value for an envelope element the builder does not write (see envelope_fill)."""
        try:
            return self._value(spec, _Row(index=1))
        except FactoryError as exc:
            raise FactoryError(
                f"envelope: its XSD requires {spec.name}, which the envelope builder does "
                "not write and fields.yaml gives no source",
                hint=f"add {spec.name} to fixtures/reference/fields.yaml (fields:)",
            ) from exc

    def _value(self, spec: ElementSpec, row: _Row) -> str:
        source = self.rules.sources.get(spec.name)
        if source is None:
            choices = self.rules.prefer.get(spec.name, ()) or spec.enumeration
            allowed = [c for c in choices if not spec.enumeration or c in spec.enumeration]
            if allowed:
                return str(self.rng.choice(allowed))
            raise FactoryError(
                f"no value source for element {spec.name!r}",
                hint="add it to fixtures/reference/fields.yaml (fields:)",
            )
        return self._resolve(source, spec, row)

    def _resolve(self, source: str, spec: ElementSpec, row: _Row) -> str:
        kind, arg = split_source(source)
        if kind == "const":
            return arg
        if kind == "digits":
            return "".join(self.rng.choices("0123456789", k=int(arg)))
        if kind == "choice":
            return str(self.rng.choice(choice_values(arg)))
        if kind == "person":
            return self._person_value(row, arg)
        if kind == "unit":
            return str(getattr(self.unit, arg))
        if kind == "dossier":
            return {"period": self.period}[arg]
        if kind == "row":
            return self._row_value(row, arg)
        if kind == "faker":
            return str(getattr(self.fake, arg)())
        raise FactoryError(f"unknown value source {source!r} for {spec.name!r} in fields.yaml")

    def _person_value(self, row: _Row, attr: str) -> str:
        if row.person is None:
            row.person = self._person()
        p = row.person
        derived: dict[str, Callable[[], str]] = {
            "ngay_sinh": lambda: format_vn_date(p.ngay_sinh),
            "ma_huyen": lambda: places().ward(p.ward_code, reformed=self.reformed).district or "",
            "dia_chi": lambda: str(self.bhxh.address(p.ward_code, reformed=self.reformed)),
        }
        if attr in derived:
            return derived[attr]()
        return str(getattr(p, attr))

    def _row_value(self, row: _Row, attr: str) -> str:
        if attr == "index":
            return str(row.index)
        if attr not in row.values:
            row.values.update(self._row_values())
        return row.values[attr]

    def _row_values(self) -> dict[str, str]:
        start = parse_period(self.period).first_day
        claim_start = start + timedelta(days=self.rng.randrange(0, 20))
        days = self.rng.randint(1, 8)
        contract = start - timedelta(days=self.rng.randrange(0, 900))
        return {
            "wage": str(self.fake.wage(self.period, self.unit.region)),
            "region_code": f"{self.unit.region:02d}",
            "contract_start": format_vn_date(contract),
            "claim_start": format_vn_date(claim_start),
            "claim_end": format_vn_date(claim_start + timedelta(days=days - 1)),
            "claim_days": str(days),
        }


def make_unit(fake: Faker, period: str) -> UnitProfile:
    """A synthetic employer unit whose ward, region and agency fit together."""
    reformed = _reformed(period)
    bhxh: Any = fake  # the BHXH provider's methods, which Faker's stubs do not know
    province = fake.province_code()
    ward_code = fake.ward_code(province, reformed=reformed)
    ward = places().ward(ward_code, reformed=reformed)
    founded = parse_period(period).first_day - timedelta(days=fake.random.randrange(400, 4000))
    return UnitProfile(
        ten=fake.company_name(),
        ma_don_vi=fake.unit_code(),
        ma_so_thue=fake.ma_so_thue(),
        nguoi_ky=fake.ho_ten(),
        dien_thoai=fake.phone(),
        co_quan=fake.agency_code(ward.province),
        dia_chi=bhxh.address(ward_code, reformed=reformed),
        ma_tinh=ward.province,
        ma_huyen=ward.district or "",
        ma_xa=ward_code,
        ngay_cap=format_vn_date(founded),
        email=f"lienhe{fake.random.randrange(100, 999)}@example.vn",
        region=ward.region,
    )


def _reformed(period: str) -> bool:
    p = parse_period(period)
    return (p.year, p.month) >= REFORM_PERIOD


FormHook = Callable[[str, etree._Element], etree._Element]
"""Called with (form code, root) before signing; defects use it to break content."""


@dataclass(frozen=True)
class Tweaks:
    """Where a defect may step in; the default builds a valid dossier."""

    form_hook: FormHook | None = None
    signed_form_hook: Callable[[str, bytes], bytes] | None = None
    envelope_hook: Callable[[etree._Element], etree._Element] | None = None
    form_signer: str | None = None
    envelope_signer: str | None = None
    algorithm: str = "rsa-sha256"
    extra_forms: tuple[str, ...] = ()
    skip_forms: tuple[str, ...] = ()
    unsigned_envelope: bool = False
    cccd_holder: tuple[str, str] | None = None
    """(form code, CCCD): that form's first person holds this CCCD (sex, birth year and
    province as the number encodes them), so only a rule about the number itself fires."""


NO_TWEAKS = Tweaks()


@dataclass
class DossierFactory:
    """Builds dossiers for one catalog version; reusable, cheap per call once warm."""

    catalog: Catalog
    pki: TestPKI
    ivan: tuple[str, str] = DEFAULT_IVAN
    signer: str = "unit"

    @classmethod
    def for_version(cls, version: str | None = None, pki: TestPKI | None = None) -> DossierFactory:
        return cls(load_catalog(version), pki or ensure_pki())

    def for_ivan(self, code: str) -> DossierFactory:
        """This factory with envelopes naming I-VAN ``code`` (unchecked: see
        :func:`harness.conformance.factory_for_ivan` for a code the user typed)."""
        return replace(self, ivan=(code, ivan_name(code)))

    def procedure(self, code: str) -> Procedure:
        procedure = self.catalog.procedure(code)
        if procedure is None:
            known = ", ".join(self.catalog.procedures)
            raise FactoryError(
                f"procedure {code!r} is not in catalog {self.catalog.version}",
                hint=f"{did_you_mean(code, self.catalog.procedures)}known procedures: {known}",
            )
        return procedure

    def _form_version(self, code: str, version: str) -> FormVersion:
        form = self.catalog.forms.get(code)
        found = form.version(version) if form else None
        if form is None or found is None:
            accepted = ", ".join(v.version for v in form.versions) if form else "none"
            raise FactoryError(
                f"form {code} version {version} is not in catalog {self.catalog.version}",
                hint=f"versions it accepts: {accepted}",
            )
        return found

    def default_period(self, procedure: Procedure) -> str:
        """The catalog's first period, or the procedure's first if later."""
        return self.catalog.first_period(procedure)

    def build(
        self,
        procedure: str,
        seed: int = 0,
        *,
        period: str | None = None,
        rows: int | None = None,
        optional_forms: bool | None = None,
        tweaks: Tweaks = NO_TWEAKS,
        form_versions: Mapping[str, str] | None = None,
    ) -> Dossier:
        """A signed dossier; the hooks let defects break exactly one thing.

        Each form is built in its current version unless ``form_versions`` names another
        one the catalog still accepts (``{"TK1-TS": "595"}``): senders keep filing those.
        """
        proc = self.procedure(procedure)
        chosen = {code: self._form_version(code, v) for code, v in (form_versions or {}).items()}
        # forms carry MM/yyyy: an ISO yyyy-MM period is written as the forms write it
        period = str(parse_period(period)) if period else self.default_period(proc)
        fake = seeded_faker(seed)
        rng: random.Random = fake.random
        unit = make_unit(fake, period)
        row_count = rows if rows is not None else rng.randint(1, 3)
        with_optional = rng.random() < 0.5 if optional_forms is None else optional_forms
        codes = [c for c in proc.required_forms if c not in tweaks.skip_forms]
        codes += [c for c in proc.optional_forms if with_optional] + list(tweaks.extra_forms)
        built = []
        for code in codes:
            form = self.catalog.forms[code]
            version = chosen.get(code, form.current)
            holder = (
                tweaks.cccd_holder[1]
                if tweaks.cccd_holder and tweaks.cccd_holder[0] == code
                else None
            )
            filler = _FormFiller(fake, unit, period, row_count, _reformed(period), holder)
            try:
                root = filler.build(form_model(version.xsd))
            except FactoryError as exc:  # say which form: the element name alone is ambiguous
                raise FactoryError(
                    f"form {code} version {version.version}: {exc.problem}", hint=exc.hint
                ) from exc
            if tweaks.form_hook is not None:
                root = tweaks.form_hook(code, root)
            credential = self.pki.credential(tweaks.form_signer or self.signer)
            signed = sign(
                root, credential, signature_parent=form.signature_node, algorithm=tweaks.algorithm
            )
            content = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
            if tweaks.signed_form_hook is not None:
                content = tweaks.signed_form_hook(code, content)
            built.append(BuiltForm(version, form.name, content))
        info = EnvelopeInfo(
            ma_ivan=self.ivan[0],
            ten_ivan=self.ivan[1],
            unit=unit.as_envelope_unit(),
            ma_thu_tuc=proc.code,
            ten_thu_tuc=proc.name,
            ky_ke_khai=period,
            ngay_lap=format_vn_date(
                parse_period(period).first_day + timedelta(days=rng.randrange(0, 27))
            ),
            so_luong_file=str(len(built)),
            files=tuple(
                EmbeddedFile.from_bytes(b.form.form, b.description, b.form.file_name, b.content)
                for b in built
            ),
        )
        envelope = build_envelope(info, signature_node=self.catalog.envelope.signature_node)
        filler = _FormFiller(fake, unit, period, 1, _reformed(period))
        fill_declared(envelope, form_model(self.catalog.envelope.xsd), filler.envelope_value)
        if tweaks.envelope_hook is not None:
            envelope = tweaks.envelope_hook(envelope)
        if not tweaks.unsigned_envelope:
            envelope = sign(
                envelope,
                self.pki.credential(tweaks.envelope_signer or self.signer),
                signature_parent=self.catalog.envelope.signature_node,
            )
        return Dossier(
            catalog_version=self.catalog.version,
            procedure=proc.code,
            period=period,
            seed=seed,
            ivan=self.ivan[0],
            unit=unit,
            forms=tuple(built),
            envelope=etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"),
        )


__all__ = [
    "NO_TWEAKS",
    "BuiltForm",
    "Dossier",
    "DossierFactory",
    "FormHook",
    "Tweaks",
    "UnitProfile",
    "make_unit",
]
