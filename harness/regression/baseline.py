"""A baseline on disk: ``fixtures/baselines/<name>/`` as three diff-friendly JSON files.

- ``meta.json``: the corpus recipe, the gateway and catalogs it was recorded against,
  the digest of the masks in force and of each dossier's unsigned content (no
  timestamps: recording twice gives the same bytes).
- ``outcomes.json``: per dossier, the normalised outcome (sorted keys, one field a line),
  so a reviewer reads a re-recorded baseline's ``git diff`` as the behaviour change it is.
- ``latency.json``: p50/p95 per procedure, kept apart because it changes on every run.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness.errors import ConfigError, UsageError
from harness.percentiles import nearest_rank
from harness.regression.baseline_check import (
    Damaged,
    check_latency,
    check_meta,
    check_outcomes,
    damaged,
    read_json,
)
from harness.regression.corpus import CorpusRecipe, baselines_dir
from harness.regression.replay import Replay

FORMAT = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (robust for the small samples of a CI-sized corpus); 0 for none."""
    found = nearest_rank(values, q)
    return 0.0 if found is None else found


def latency_summary(latencies_ms: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """p50/p95 (ms, 0.01 precision) and sample count per procedure."""
    return {
        procedure: {
            "n": len(values),
            "p50_ms": round(percentile(values, 50), 2),
            "p95_ms": round(percentile(values, 95), 2),
        }
        for procedure, values in sorted(latencies_ms.items())
    }


@dataclass(frozen=True)
class Baseline:
    """A recorded baseline: what was replayed, against what, and what it answered."""

    name: str
    recipe: CorpusRecipe
    gateway: str
    catalogs: tuple[str, ...]
    masks_sha256: str
    outcomes: dict[str, dict[str, Any]]
    latency: dict[str, dict[str, float]]
    content: dict[str, str] = field(default_factory=dict)
    """Dossier name -> digest of its unsigned content (:mod:`.fingerprint`); empty in
    baselines recorded before it was kept."""

    @classmethod
    def from_replay(
        cls,
        name: str,
        recipe: CorpusRecipe,
        gateway: str,
        masks_sha256: str,
        run: Replay,
        content: dict[str, str],
    ) -> Baseline:
        return cls(
            name=name,
            recipe=recipe,
            gateway=gateway,
            catalogs=tuple(run.catalogs),
            masks_sha256=masks_sha256,
            outcomes=run.outcomes,
            latency=latency_summary(run.latencies_ms),
            content=content,
        )

    def meta(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "recipe": self.recipe.to_dict(),
            "gateway": self.gateway,
            "catalogs": list(self.catalogs),
            "masks_sha256": self.masks_sha256,
            "dossiers": len(self.outcomes),
            **({"content_sha256": self.content} if self.content else {}),
        }


def _dump(path: Path, data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(
            f"baseline name {name!r} is not a simple folder name",
            hint="ASCII letters and digits, '.', '_' and '-' only (no diacritics), "
            "e.g. inproc-2026.1",
        )
    return name


def baseline_path(name: str, root: Path | None = None) -> Path:
    return (root or baselines_dir()) / check_name(name)


def save_baseline(baseline: Baseline, root: Path | None = None) -> Path:
    """Write the three files under ``<root>/<name>/``; returns the folder."""
    folder = baseline_path(baseline.name, root)
    folder.mkdir(parents=True, exist_ok=True)
    _dump(folder / "meta.json", baseline.meta())
    _dump(folder / "outcomes.json", baseline.outcomes)
    _dump(folder / "latency.json", baseline.latency)
    return folder


def load_baseline(name: str, root: Path | None = None, *, masks: Path | None = None) -> Baseline:
    """Read a baseline back, each file checked for its shape and the outcomes against the
    dossiers meta.json lists, and its masks against ``masks`` (default the shipped
    ``masks.yaml``), before anything is replayed: a damaged baseline compares nothing (and
    passes) or fails only after the whole replay."""
    folder = baseline_path(name, root)
    _refuse_absent(name, folder)
    hint = _rerecord(name, folder)
    meta = _read(name, folder, "meta.json", lambda d: check_meta(_format(d, folder, hint)), hint)
    _refuse_other_masks(name, folder, str(meta.get("masks_sha256", "")), masks)
    outcomes = _read(name, folder, "outcomes.json", lambda d: check_outcomes(d, meta), hint)
    latency = _read(name, folder, "latency.json", check_latency, hint)
    return Baseline(
        name=str(meta["name"]),
        recipe=CorpusRecipe.from_dict(meta["recipe"]),
        gateway=str(meta.get("gateway", "")),
        catalogs=tuple(meta.get("catalogs", ())),
        masks_sha256=str(meta.get("masks_sha256", "")),
        outcomes=outcomes,
        latency=latency,
        content={str(k): str(v) for k, v in (meta.get("content_sha256") or {}).items()},
    )


def _refuse_absent(name: str, folder: Path) -> None:
    """No such folder, or a folder without its meta.json: each said as what it is."""
    if (folder / "meta.json").is_file():
        return
    if folder.is_dir():
        raise ConfigError(
            f"baseline {name}: {folder} has no meta.json (a baseline folder holds meta.json, "
            "outcomes.json and latency.json)",
            hint=_rerecord(name, folder),
        )
    known = sorted(p.parent.name for p in folder.parent.glob("*/meta.json"))
    raise UsageError(
        f"no baseline {name!r} under {folder.parent}",
        hint=f"record one with `bhxh-harness record --name {name}`; "
        f"known: {', '.join(known) or '(none)'}",
    )


def _format(meta: object, folder: Path, hint: str) -> object:
    """``meta``, unless it says another format (whose files this version cannot judge)."""
    found = meta.get("format") if isinstance(meta, dict) else None
    if isinstance(meta, dict) and found != FORMAT:
        raise ConfigError(
            f"baseline {folder} has format {found}, this version reads {FORMAT}", hint=hint
        )
    return meta


_T = TypeVar("_T")


def _read(name: str, folder: Path, file: str, check: Callable[[Any], _T], hint: str) -> _T:
    """``file`` of the baseline, read and checked; damaged, a ConfigError naming it."""
    try:
        return check(read_json(folder / file))
    except Damaged as problem:
        raise damaged(name, file, problem, hint) from None


def _refuse_other_masks(name: str, folder: Path, recorded: str, masks: Path | None) -> None:
    """A baseline keeps values masked by the masks of its recording, not the raw ones, so
    today's masks cannot be applied to it: compared anyway, every field they now treat
    otherwise would be blamed on the gateway. Refused before anything is sent."""
    path = masks or baselines_dir() / "masks.yaml"
    if not recorded or not path.is_file() or file_sha256(path) == recorded:
        return  # recorded before the digest was kept; a missing file: load_masks says so
    raise ConfigError(
        f"baseline {name} was recorded with other masks than {path} declares today: it "
        "keeps the values masked the old way, so every field the masks now treat otherwise "
        "would read as a difference of the gateway",
        hint=f"record the baseline again against the known-good gateway: bhxh-harness "
        f"record --name {name} --root {folder.parent} --force (and the options it was "
        f"recorded with), or restore the masks it was recorded with (git diff -- {path})",
    )


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rerecord(name: str, folder: Path) -> str:
    """What to do about a baseline that cannot be read: restore it, or record it again."""
    return (
        f"restore {folder} from version control (git checkout -- {folder}), or record it "
        f"again against the known-good gateway: bhxh-harness record --name {name} "
        f"--root {folder.parent} --force (and the options it was recorded with)"
    )


__all__ = [
    "Baseline",
    "baseline_path",
    "latency_summary",
    "load_baseline",
    "percentile",
    "save_baseline",
]
