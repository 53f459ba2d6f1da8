"""A damaged baseline is refused before any replay, naming its file and what is wrong;
a dossier of the corpus the baseline never recorded is named in a note, never skipped silently."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.errors import ConfigError
from harness.regression.baseline import load_baseline
from harness.regression.cli import regress
from harness.regression.corpus import baselines_dir, build_corpus
from harness.signing import ensure_pki

REFERENCE = "reference-2026.1"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(baselines_dir() / REFERENCE, tmp_path / REFERENCE)
    return tmp_path / REFERENCE


def _edit(folder: Path, file: str, change: Any) -> None:
    path = folder / file
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(change(data)), encoding="utf-8")


def _names() -> list[str]:
    """The dossiers the shipped baseline holds (its meta.json's digests)."""
    meta = json.loads((baselines_dir() / REFERENCE / "meta.json").read_text(encoding="utf-8"))
    return list(meta["content_sha256"])


def _count() -> int:
    return len(_names())


def _refusal(folder: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_baseline(REFERENCE, folder.parent)
    return str(caught.value)


def test_empty_outcomes_are_refused_at_the_command_with_exit_2(copy: Path) -> None:
    (copy / "outcomes.json").write_text("{}\n", encoding="utf-8")
    args = ["--baseline", REFERENCE, "--root", str(copy.parent)]
    run = CliRunner().invoke(regress, [*args, "--release", "error-code-renumbered"])
    assert run.exit_code == 2, run.output
    assert "PASSED" not in run.stdout and "replayed" not in run.stderr  # refused first
    assert (
        "outcomes.json" in run.stderr
        and f"lacks the outcome of {_count()} of the {_count()}" in run.stderr
    )
    assert "version control" in run.stderr and "--force" in run.stderr


def test_outcomes_without_one_procedure_are_refused_naming_them(copy: Path) -> None:
    _edit(copy, "outcomes.json", lambda o: {k: v for k, v in o.items() if k[:4] != "600/"})
    message = _refusal(copy)
    assert f"baseline {REFERENCE}: outcomes.json does not match meta.json" in message
    of_600 = sum(1 for name in _names() if name.startswith("600/"))
    assert f"lacks the outcome of {of_600} of the {_count()}" in message
    assert "600/valid-0000" not in message
    assert "600/altered-after-signing" in message and f"and {of_600 - 5} more" in message


def test_an_older_baseline_without_digests_is_checked_against_its_count(copy: Path) -> None:
    _edit(copy, "meta.json", lambda m: {k: v for k, v in m.items() if k != "content_sha256"})
    _edit(copy, "outcomes.json", lambda o: dict(list(o.items())[:-1]))
    assert f"holds {_count() - 1} outcome(s), meta.json says {_count()}" in _refusal(copy)


def test_an_outcome_meta_json_does_not_list_is_refused(copy: Path) -> None:
    _edit(copy, "outcomes.json", lambda o: {**o, "600/invented": o["600/valid-0000"]})
    assert "has outcomes meta.json does not list: 1: 600/invented" in _refusal(copy)


@pytest.mark.parametrize(
    ("latency", "said"),
    [
        ({"600": {"n": 27, "p50_ms": None, "p95_ms": 3.0}}, '"600".p50_ms is null, not a number'),
        ({"600": "fast"}, '"600" is "fast", not a mapping of n, p50_ms and p95_ms'),
        ([1, 2], "the top level is [1, 2], not a mapping"),
    ],
)
def test_a_wrongly_shaped_latency_file_is_refused_up_front(
    copy: Path, latency: object, said: str
) -> None:
    (copy / "latency.json").write_text(json.dumps(latency), encoding="utf-8")
    message = _refusal(copy)
    assert message.startswith(f"baseline {REFERENCE}: latency.json is unreadable: {said}")


def test_a_wrong_latency_file_stops_the_command_before_any_replay(copy: Path) -> None:
    (copy / "latency.json").write_text('{"600": "fast"}', encoding="utf-8")
    run = CliRunner().invoke(regress, ["--baseline", REFERENCE, "--root", str(copy.parent)])
    assert run.exit_code == 2, run.output
    assert "latency.json is unreadable" in run.stderr and "replayed" not in run.stderr
    assert "Traceback" not in run.output


def test_a_file_that_is_not_json_is_named(copy: Path) -> None:
    (copy / "latency.json").write_text("", encoding="utf-8")
    message = _refusal(copy)
    assert message.startswith(f"baseline {REFERENCE}: latency.json is unreadable: Expecting value")


def test_a_wrongly_shaped_outcome_is_named_with_its_dossier(copy: Path) -> None:
    _edit(
        copy,
        "outcomes.json",
        lambda o: {**o, "600/valid-0000": {**o["600/valid-0000"], "codes": "x"}},
    )
    assert 'outcomes.json is unreadable: "600/valid-0000".codes is "x"' in _refusal(copy)


def test_a_folder_without_meta_json_says_so(copy: Path) -> None:
    (copy / "meta.json").unlink()
    message = _refusal(copy)
    assert f"{copy} has no meta.json" in message and "no baseline" not in message


def test_a_corpus_dossier_the_baseline_never_recorded_is_named_in_a_note() -> None:
    """Nothing to compare it with: not a difference (a new defect in the fixtures would
    fail every older baseline), but not silent either."""
    from harness.regression.regress_inputs import unrecorded_note

    base = load_baseline(REFERENCE)
    corpus = build_corpus(base.recipe, ensure_pki())
    assert unrecorded_note(base, corpus) == []
    kept = dataclasses.replace(base, outcomes=dict(list(base.outcomes.items())[1:]))
    (note,) = unrecorded_note(kept, corpus)
    first = next(iter(base.outcomes))
    said = f"1 dossier(s) of today's corpus are not in baseline {REFERENCE} ({first})"
    assert note.startswith(said)
    assert "replayed but not judged; re-record the baseline" in note
