"""A Faker provider for Vietnamese social-insurance identities.

Conformance suites need many people, units and wages that look real enough for the
gateway's rules (a CCCD that agrees with the birth date and sex, a wage between the
regional minimum and the SI cap, NFC names with diacritics) and that are reproducible from
a seed, so that a failing dossier can be rebuilt exactly. Every method draws only from the
Faker generator's own ``random.Random``, hence ``Faker.seed_instance`` fixes the output.

Usage::

    fake = make_faker(seed=1)            # Faker("vi_VN") with this provider added
    p = fake.person()
    fake.wage("07/2024", region=1)

Formats marked [modelled] in DOMAIN.md (unit code, HI card, SI-number prefix, agency code)
follow our model, not a published specification.
"""

from __future__ import annotations

import functools
import inspect
import random
import string
import threading
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from faker import Faker, Generator
from faker.providers import BaseProvider

from harness.dossiers._data import Province, Ward, places, tables
from harness.dossiers.text import to_nfc
from harness.dossiers.wages import PeriodLike, minimum_wage, salary_cap
from harness.errors import FactoryError

__all__ = [
    "PERSON_ATTRIBUTES",
    "CccdInfo",
    "Person",
    "VietnamSocialInsuranceProvider",
    "cccd_century_digit",
    "faker_methods",
    "make_faker",
    "parse_cccd",
    "seeded_faker",
]

MALE, FEMALE = 1, 0
"""GioiTinh codes on BHXH forms."""

_FIRST_CENTURY, _LAST_CENTURY = 1900, 2300
"""CCCD century digits cover 1900-2399 (Circular 59/2021/TT-BCA)."""

# Middle names that mark the other sex in Vietnamese usage; faker's list mixes them.
_FEMALE_MIDDLE = frozenset({"Thị", "Mai", "Mai Bảo"})
_MALE_MIDDLE = frozenset({"Văn", "Đức", "Hữu", "Tấn", "Thế", "Trí", "Quang"})

_WAGE_SKEW = 4
"""Exponent on a uniform draw: most wages sit near the floor, as in real D02-TS lists."""


@dataclass(frozen=True)
class Person:
    """A synthetic insured person, with field names as on TK1-TS/D02-TS.

    ``gioi_tinh`` is 1 male / 0 female; ``province_code`` is the 3-digit birth province
    (the CCCD prefix); ``ward_code`` is a pre-2025 residence ward, in the birth province
    when the ward sample has one there, else anywhere (people move); ``dan_toc`` is the
    2-digit ethnic-group code and ``quoc_tich`` the ISO nationality code.
    """

    ho_ten: str
    gioi_tinh: int
    ngay_sinh: date
    cccd: str
    ma_so_bhxh: str
    province_code: str
    ward_code: str
    dien_thoai: str
    dan_toc: str
    quoc_tich: str


PERSON_ATTRIBUTES = tuple(f.name for f in fields(Person))
"""What ``person.<attr>`` in ``fields.yaml`` may name as it is (the factory derives others)."""


class CccdInfo(NamedTuple):
    """What a CCCD number says about its holder."""

    province_code: str
    sex: int
    birth_year: int


def cccd_century_digit(birth_year: int, sex: int) -> int:
    """The CCCD's 4th digit: ``2 * (century - 19) + (0 male | 1 female)``."""
    _check_sex(sex)
    if not _FIRST_CENTURY <= birth_year <= _LAST_CENTURY + 99:
        raise FactoryError(f"a CCCD cannot encode birth year {birth_year} (1900..2399 only)")
    return 2 * (birth_year // 100 - 19) + (0 if sex == MALE else 1)


def parse_cccd(cccd: str) -> CccdInfo:
    """Decode birth province, sex and birth year from a 12-digit CCCD; ValueError if malformed."""
    if len(cccd) != 12 or not cccd.isascii() or not cccd.isdigit():
        raise ValueError(f"a CCCD is 12 ASCII digits, got {cccd!r}")
    digit = int(cccd[3])
    year = 1900 + 100 * (digit // 2) + int(cccd[4:6])
    return CccdInfo(cccd[:3], MALE if digit % 2 == 0 else FEMALE, year)


def _check_sex(sex: int) -> None:
    if isinstance(sex, bool) or sex not in (MALE, FEMALE):
        raise FactoryError(f"sex must be 1 (male) or 0 (female), got {sex!r}")


class VietnamSocialInsuranceProvider(BaseProvider):
    """Faker provider: people, units, codes and wages for BHXH dossiers (add to a vi_VN Faker)."""

    __provider__ = "vietnam_social_insurance"
    __lang__ = "vi_VN"

    @property
    def _rng(self) -> random.Random:
        # Looked up on every call: seed_instance may replace the generator's Random.
        rng: random.Random = self.generator.random
        return rng

    def _digits(self, n: int) -> str:
        return f"{self._rng.randrange(10**n):0{n}d}"

    def _province(self, code: str | None) -> Province:
        data = places()
        return data.province(code) if code is not None else self._rng.choice(data.provinces)

    def _ward(self, province_code: str | None, reformed: bool) -> Ward:
        era = [w for w in places().wards if w.reformed == reformed]
        local = [w for w in era if w.province == province_code]
        return self._rng.choice(local or era)

    # -- codes -------------------------------------------------------------------------

    def province_code(self) -> str:
        """A 3-digit birth-province code (CCCD prefix), uniform over the 63 provinces."""
        return self._province(None).code

    def ward_code(self, province_code: str | None = None, *, reformed: bool = False) -> str:
        """A 5-digit ward code, in ``province_code`` when the sample has one there.

        ``reformed=True`` draws from the post-2025 map (no district), for periods from 07/2025.
        """
        return self._ward(province_code, reformed).code

    def cccd(self, birth_date: date, sex: int, province_code: str | None = None) -> str:
        """A 12-digit CCCD: province(3) + century/sex(1) + birth year(2) + random(6)."""
        digit = cccd_century_digit(birth_date.year, sex)
        province = self._province(province_code).code
        return f"{province}{digit}{birth_date.year % 100:02d}{self._digits(6)}"

    def ma_so_bhxh(self, province_code: str | None = None) -> str:
        """A 10-digit SI number: 2-digit province prefix + 8 random digits [modelled]."""
        return self._province(province_code).code[1:] + self._digits(8)

    def unit_code(self) -> str:
        """A unit's BHXH code, ``[A-Z]{3}\\d{3}[A-Z]`` like ``TZH490L`` [modelled]."""
        rng = self._rng
        letters = "".join(rng.choices(string.ascii_uppercase, k=3))
        return f"{letters}{self._digits(3)}{rng.choice(string.ascii_uppercase)}"

    def agency_code(self, province_code: str | None = None) -> str:
        """A 5-digit BHXH agency code from the table, in ``province_code`` if it has one."""
        agencies = places().agencies
        local = [a for a in agencies if a.province == province_code]
        return self._rng.choice(local or agencies).code

    def ma_so_thue(self) -> str:
        """A 10-digit enterprise tax code (no check digit modelled); never starts with 00."""
        return f"{self._rng.randrange(10**8, 10**10):010d}"

    def phone(self) -> str:
        """A Vietnamese mobile number, ``0[35789]`` + 8 digits, as written on forms."""
        return f"0{self._rng.choice('35789')}{self._digits(8)}"

    def hi_card(self, ma_so_bhxh: str | None = None, province_code: str | None = None) -> str:
        """An HI card number ``[A-Z]{2}\\d{13}``: object, level, province, SI number [modelled].

        Pass the person's SI number and province so card and SI book agree.
        """
        objects = tables().hi_card_objects
        obj = self._rng.choices(objects, weights=[o.weight for o in objects])[0]
        province = self._province(province_code)
        si = ma_so_bhxh if ma_so_bhxh is not None else self.ma_so_bhxh(province.code)
        if len(si) != 10 or not si.isdigit():
            raise FactoryError(f"SI number must be 10 digits, got {si!r}")
        return f"{obj.code}{obj.level}{province.code[1:]}{si}"

    def dan_toc(self) -> str:
        """A 2-digit ethnic-group code, weighted like the population (mostly 01 Kinh)."""
        groups = tables().ethnic_groups
        return self._rng.choices(groups, weights=[g.weight for g in groups])[0].code

    # -- money -------------------------------------------------------------------------

    def wage(self, period: PeriodLike, region: int) -> Decimal:
        """A contribution salary for ``period`` in ``region`` (1..4), rounded to 1,000 VND.

        Lies in [regional minimum, 20 x base salary], skewed toward the minimum.
        """
        low, high = minimum_wage(period, region), salary_cap(period)
        raw = low + (high - low) * Decimal(self._rng.random() ** _WAGE_SKEW)
        rounded = (raw / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 1000
        return min(max(rounded, low), high)

    # -- text ------------------------------------------------------------------------

    def ho_ten(self, sex: int | None = None) -> str:
        """A family-first full name with diacritics (NFC) fitting ``sex``."""
        if sex is None:
            sex = self._rng.choice((MALE, FEMALE))
        _check_sex(sex)
        gen = self.generator
        parts = [str(gen.last_name())]
        if self._rng.random() < 0.9:
            parts.append(self._middle_name(sex))
        parts.append(str(gen.first_name_male() if sex == MALE else gen.first_name_female()))
        return to_nfc(" ".join(" ".join(parts).split()))

    def _middle_name(self, sex: int) -> str:
        avoid = _FEMALE_MIDDLE if sex == MALE else _MALE_MIDDLE
        for _ in range(20):
            name = str(self.generator.middle_name())
            if name not in avoid:
                return name
        return "Văn" if sex == MALE else "Thị"

    def company_name(self) -> str:
        """A company name as registered, e.g. ``CÔNG TY TNHH XÂY DỰNG AN PHÁT``."""
        t, rng = tables(), self._rng
        form, trade = rng.choice(t.company_forms), rng.choice(t.company_trades)
        return to_nfc(f"CÔNG TY {form} {trade} {rng.choice(t.company_brands)}")

    def address(self, ward_code: str | None = None, *, reformed: bool = False) -> str:
        """A street address ending in a real sample ward and province (NFC).

        Pre-2025 addresses name the district; ``reformed=True`` ones do not, as after the
        2025 reform. Overrides faker's ``address`` so every address matches a ward code.
        """
        data = places()
        ward = data.ward(ward_code, reformed=reformed) if ward_code else self._ward(None, reformed)
        parts = [str(self.generator.street_address()), ward.name]
        if ward.district is not None:
            parts.append(data.district(ward.district).name)
        parts.append(data.province(ward.province).full_name)
        return to_nfc(", ".join(parts))

    def job_title(self) -> str:
        """A Vietnamese job title for D02-TS ChucVu."""
        return to_nfc(self._rng.choice(tables().jobs))

    # -- people ----------------------------------------------------------------------

    def birth_date(self, birth_year_range: tuple[int, int] = (1960, 2006)) -> date:
        """A uniformly drawn birth date within the inclusive year range."""
        lo, hi = birth_year_range
        if not _FIRST_CENTURY <= lo <= hi <= _LAST_CENTURY + 99:
            raise FactoryError(
                f"birth_year_range {birth_year_range!r} must be ordered, in 1900..2399"
            )
        first, last = date(lo, 1, 1), date(hi, 12, 31)
        return first + timedelta(days=self._rng.randrange((last - first).days + 1))

    def person(
        self, sex: int | None = None, birth_year_range: tuple[int, int] = (1960, 2006)
    ) -> Person:
        """A consistent synthetic person: CCCD agrees with birth date, sex and province."""
        if sex is None:
            sex = self._rng.choice((MALE, FEMALE))
        _check_sex(sex)
        born = self.birth_date(birth_year_range)
        return self._person_born(sex, born, self.province_code())

    def cccd_holder(self, cccd: str) -> Person:
        """A person holding ``cccd``: of the sex, birth year and birth province it encodes,
        so every rule comparing them agrees (a named defect's chosen number)."""
        try:
            info = parse_cccd(cccd)
            province = self._province(info.province_code).code
        except (ValueError, FactoryError) as exc:
            reason = exc.problem if isinstance(exc, FactoryError) else str(exc)
            raise FactoryError(
                f"{cccd!r} is not a CCCD of a known birth province: {reason}",
                hint="a CCCD is 12 digits: birth province (3, e.g. 001 Hà Nội), century and "
                "sex (1), birth year (2), serial (6)",
            ) from None
        born = self.birth_date((info.birth_year, info.birth_year))
        return replace(self._person_born(info.sex, born, province), cccd=cccd)

    def _person_born(self, sex: int, born: date, province: str) -> Person:
        return Person(
            ho_ten=self.ho_ten(sex),
            gioi_tinh=sex,
            ngay_sinh=born,
            cccd=self.cccd(born, sex, province),
            ma_so_bhxh=self.ma_so_bhxh(province),
            province_code=province,
            ward_code=self.ward_code(province),
            dien_thoai=self.phone(),
            dan_toc=self.dan_toc(),
            quoc_tich="VN",
        )


def make_faker(seed: int | None = None) -> Faker:
    """A ``Faker("vi_VN")`` with this provider added, seeded with ``seed`` if given."""
    fake = Faker("vi_VN")
    fake.add_provider(VietnamSocialInsuranceProvider)
    if seed is not None:
        fake.seed_instance(seed)
    return fake


@functools.cache
def faker_methods() -> frozenset[str]:
    """What ``faker.<method>`` in ``fields.yaml`` may name: the methods of :func:`make_faker`'s
    Faker (vi_VN and this provider) that need no argument, since the factory passes none."""
    generator = make_faker().factories[0]
    own = set(dir(Generator))  # seed_instance, add_provider: the generator's, not values
    return frozenset(
        name
        for name in dir(generator)
        if not name.startswith("_") and name not in own and _argumentless(generator, name)
    )


def _argumentless(generator: Generator, name: str) -> bool:
    method = getattr(generator, name, None)
    if not callable(method) or inspect.isclass(method):
        return False
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters
    )


_per_thread = threading.local()


def seeded_faker(seed: int) -> Faker:
    """This thread's Faker, reseeded: same output as ``make_faker(seed)`` at a quarter the cost.

    Building a Faker loads every vi_VN provider (about 1 ms); the factory builds thousands
    of dossiers, so it reuses one per thread. Do not keep it across another call.
    """
    fake: Faker | None = getattr(_per_thread, "fake", None)
    if fake is None:
        fake = make_faker()
        _per_thread.fake = fake
    fake.seed_instance(seed)
    return fake
