"""``fields.yaml`` mistakes are refused with file and line when it is read, not as a
ValueError, AttributeError or KeyError in the middle of ``dossier build``."""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from harness.dossiers import _data
from harness.dossiers.factory import UnitProfile
from harness.dossiers.provider import PERSON_ATTRIBUTES, faker_methods
from harness.errors import CatalogError
from harness.paths import fixtures_dir

NAMES = {
    "person": frozenset(PERSON_ATTRIBUTES) | {"ma_huyen", "dia_chi"},
    "unit": frozenset(f.name for f in fields(UnitProfile)),
    "dossier": frozenset({"period"}),
    "row": frozenset(
        ["index", "wage", "region_code", "contract_start", "claim_start", "claim_end", "claim_days"]
    ),
    "faker": faker_methods(),
}


@pytest.fixture
def fields_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of ``fixtures/reference/`` that ``_data`` reads instead of the shipped one."""
    shutil.copytree(fixtures_dir() / "reference", tmp_path / "reference")
    path = tmp_path / "reference" / "fields.yaml"
    # the shipped file's prefer: PA: [..., ON] reads ON as true (see the report)
    text = path.read_text(encoding="utf-8").replace("GH, ON]", 'GH, "ON"]')
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(_data, "fixtures_dir", lambda: tmp_path)
    _data.load_yaml.cache_clear()
    yield path
    _data.load_yaml.cache_clear()


def _edit(path: Path, old: str, new: str) -> int:
    """Replace ``old`` (once) by ``new``; the line it is on."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return next(n for n, line in enumerate(text.splitlines(), 1) if old.strip() in line)


def _refused(path: Path, old: str, new: str) -> tuple[CatalogError, int]:
    line = _edit(path, old, new)
    with pytest.raises(CatalogError) as info:
        _data.field_sources(NAMES)
    assert info.value.path == str(path)
    return info.value, line


def test_the_shipped_sources_pass(fields_yaml: Path) -> None:
    checked = _data.field_sources(NAMES)
    assert checked.sources["HoTen"] == "person.ho_ten" and checked.optional["PhuCapCV"] == 0.2
    assert checked.prefer["PA"][-1] == "ON"


@pytest.mark.parametrize("odds", ["hai mươi phần trăm", "20", "-0.1", "true", ".nan"])
def test_optional_odds_must_be_a_probability(fields_yaml: Path, odds: str) -> None:
    error, line = _refused(fields_yaml, "  PhuCapCV: 0.2", f"  PhuCapCV: {odds}")
    assert error.line == line and "probability from 0 to 1" in str(error)


@pytest.mark.parametrize(
    ("old", "new", "hint"),
    [
        ("  Email: unit.email", "  Email: person.email", "person.* names:"),
        ("  ChucVu: faker.job_title", "  ChucVu: faker.country_vi", "did you mean 'country'"),
        ("  Email: unit.email", "  Email: unit.quoc_gia", "unit.* names:"),
        ("  SoNgay: row.claim_days", "  SoNgay: row.xuat_canh", "row.* names:"),
        ("  KyKeKhai: dossier.period", "  KyKeKhai: dossier.ngay_lap", "dossier.* names: period"),
        ("  ChucVu: faker.job_title", "  ChucVu: faker.cccd", "faker.* names:"),
    ],
)
def test_a_source_naming_what_the_factory_lacks_is_refused(
    fields_yaml: Path, old: str, new: str, hint: str
) -> None:
    error, line = _refused(fields_yaml, old, new)
    assert error.line == line and "the factory offers no" in str(error) and hint in str(error)


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("  CCNS: const:0", "  CCNS: 0", "must be text"),
        ("  SoVanBan: digits:4", "  SoVanBan: digits:bốn", "needs a digit count"),
        ("  CCNS: const:0", "  CCNS: constant:0", "unknown value source"),
        ("optional:\n", "optinal:\n", "did you mean 'optional'"),
        ('GH, "ON"]', "GH, ON]", "quote it"),
    ],
)
def test_other_malformed_entries_name_their_line(
    fields_yaml: Path, old: str, new: str, says: str
) -> None:
    error, line = _refused(fields_yaml, old, new)
    assert error.line == line and says in str(error)


def test_choice_and_const_values_saved_decomposed_are_read_as_nfc(fields_yaml: Path) -> None:
    text = fields_yaml.read_text(encoding="utf-8")
    fields_yaml.write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    checked = _data.field_sources(NAMES)
    assert "Hợp đồng lao động" in checked.sources["TenVanBan"]
    assert all(unicodedata.is_normalized("NFC", s) for s in checked.sources.values())


def test_the_header_documents_every_person_and_unit_attribute() -> None:
    header = (fixtures_dir() / "reference" / "fields.yaml").read_text(encoding="utf-8")
    header = header.split("\nfields:", 1)[0]
    for name in NAMES["person"] | NAMES["unit"]:
        assert f" {name}" in header, name


def test_faker_sources_are_the_argumentless_methods_of_the_seeded_faker() -> None:
    methods = faker_methods()
    assert {"job_title", "company_name", "phone", "country"} <= methods
    assert not {"country_vi", "cccd", "seed_instance", "add_provider"} & methods
