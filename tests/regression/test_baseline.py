"""Baselines on disk: deterministic, diff-friendly, masked by the declared rules only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import etree

from harness.envelope import read_envelope
from harness.errors import ConfigError, UsageError
from harness.regression import Baseline, load_baseline, load_masks, record, regress
from harness.regression.baseline import percentile
from harness.regression.corpus import CorpusRecipe, build_corpus
from harness.regression.normalise import flatten
from harness.signing import TestPKI


def test_the_baseline_folder_holds_three_json_files(reference: Baseline, baselines: Path) -> None:
    folder = baselines / reference.name
    assert sorted(p.name for p in folder.iterdir()) == [
        "latency.json",
        "meta.json",
        "outcomes.json",
    ]
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert meta["recipe"] == {
        "catalog": "2026.1", "seeds": [0], "static": True, "quirks": True, "procedures": []
    }  # fmt: skip
    assert meta["catalogs"] == ["2024.1", "2026.1"]
    assert load_baseline(reference.name, baselines).outcomes == reference.outcomes


def test_recording_twice_gives_identical_outcomes(
    reference: Baseline, baselines: Path, pki: TestPKI, tmp_path: Path
) -> None:
    _again, folder = record(
        gateway="inproc", catalog="2026.1", name="again", root=tmp_path, pki=pki
    )
    first = (baselines / reference.name / "outcomes.json").read_bytes()
    assert (folder / "outcomes.json").read_bytes() == first
    assert (folder / "meta.json").read_text().replace("again", reference.name) == (
        baselines / reference.name / "meta.json"
    ).read_text()


def test_the_corpus_covers_every_procedure_quirks_and_static_files(reference: Baseline) -> None:
    names = set(reference.outcomes)
    procedures = {"600", "601", "604", "607", "610", "612", "630a"}
    assert {n.split("/")[0] for n in names} == procedures | {"static"}
    for procedure in procedures:
        assert reference.outcomes[f"{procedure}/valid-0000"]["accepted"]
        nfd = reference.outcomes[f"{procedure}/nfd-names-0000"]
        guid = reference.outcomes[f"{procedure}/guid-signature-id-0000"]
        iso = reference.outcomes[f"{procedure}/iso-dates-0000"]
        assert nfd["accepted"] and sorted({f[0] for f in nfd["findings"]}) == ["RULE-101"]
        assert iso["accepted"] and iso["findings"] == []
        assert guid["accepted"] and "SIG-101" in {f[0] for f in guid["findings"]}
    assert reference.outcomes["static/xxe"]["codes"] == ["XML-002"]


def test_the_iso_dates_quirk_writes_every_full_date_as_iso(pki: TestPKI) -> None:
    """DOMAIN.md: real templates write dates both ways; the corpus had none in ISO, so a
    release refusing yyyy-MM-dd went unnoticed by regress."""
    recipe = CorpusRecipe("2026.1", procedures=("600",), static=False)
    entries = {e.name: e for e in build_corpus(recipe, pki)}
    dates = {"valid-0000": [], "iso-dates-0000": []}
    for name, found in dates.items():
        for form in read_envelope(etree.fromstring(entries[f"600/{name}"].body)).files:
            for node in etree.fromstring(form.decode()).iter("NgaySinh", "NgayBatDauHD"):
                found.append(node.text or "")
    assert dates["valid-0000"] and all(re.fullmatch(DMY, d) for d in dates["valid-0000"])
    assert [iso_of(d) for d in dates["valid-0000"]] == dates["iso-dates-0000"]


DMY = r"[0-9]{2}/[0-9]{2}/[0-9]{4}"


def iso_of(text: str) -> str:
    day, month, year = text.split("/")
    return f"{year}-{month}-{day}"


def test_accepted_dossiers_carry_their_lifecycle_with_volatile_values_masked(
    reference: Baseline,
) -> None:
    outcome = reference.outcomes["600/valid-0000"]
    assert [m["kind"] for m in outcome["messages"]] == ["02/TB-TS", "03/TB-TS"]
    assert outcome["replay"] == {"status": 202, "same_receipt": True}
    handover = outcome["messages"][0]["fields"]
    assert handover["TTGDICH/MA_GDICH"] == "<MA_GDICH>"
    assert handover["TTGDICH/SO_HSO"].startswith("NNNNN/YYYY/")
    assert handover["TTGDICH/NGAY_GDICH"] == "99/99/9999"
    assert not any(k.startswith("TTCKY_BHXH/Signature") for k in handover)
    assert handover["TTGDICH/MALOAI_HSO"] == "600"  # stable values stay


def test_masks_are_declared_and_checked(tmp_path: Path) -> None:
    masks = load_masks()
    assert {r.action for r in masks.rules} == {"drop", "token", "shape", "regex"}
    assert all(r.why for r in masks.rules)
    bad = tmp_path / "masks.yaml"
    bad.write_text("rules:\n  - {field: X, action: blur}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="rule 1"):
        load_masks(bad)


def test_flatten_indexes_repeated_elements_and_survives_garbage() -> None:
    body = (
        b"<BHXH><XACNHAN_GDICH><A><R><S>1</S></R><R><S>2</S></R></A><B>x</B></XACNHAN_GDICH></BHXH>"
    )
    assert flatten(body) == {"A/R[1]/S": "1", "A/R[2]/S": "2", "B": "x"}
    assert flatten(b"not xml") == {"<unreadable>": "7 bytes"}


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([float(i) for i in range(1, 21)], 95) == 19.0


def test_an_unknown_or_unsafe_baseline_name_is_a_usage_error(baselines: Path) -> None:
    with pytest.raises(UsageError, match="no baseline 'nope'"):
        load_baseline("nope", baselines)
    with pytest.raises(UsageError, match="simple folder name"):
        load_baseline("../etc", baselines)


def test_the_committed_reference_baseline_holds_with_another_pki(pki: TestPKI) -> None:
    """``fixtures/baselines/reference-2026.1`` was recorded with a different test PKI: the
    masks must neutralise everything that depends on it (serials, validity times)."""
    result = regress(baseline="reference-2026.1", gateway="inproc", pki=pki)
    # a busy machine makes regress time a slow-looking procedure again, and says so
    retimed = ("latency of ", "the whole gateway looked slower")
    assert [n for n in result.notes if not n.startswith(retimed)] == []
    outcomes = [d for d in result.unintended if not d.kind.startswith("latency-")]
    assert outcomes == [], [str(d) for d in outcomes[:5]]  # latency: recorded on another box
