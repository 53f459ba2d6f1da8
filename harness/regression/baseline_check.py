"""The shape of a baseline's three files, checked when it is read, before any replay.

A hand-edited, truncated or half-merged baseline must not reach the comparison: an
``outcomes.json`` of ``{}`` compared nothing and passed a faulty release, and a
``latency.json`` of ``{"600": "fast"}`` failed with a traceback after the whole replay.
Each check names the file and the place in it, so the user can restore or re-record it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, TypeGuard

from harness.errors import ConfigError

_MISMATCH = "does not match meta.json"
_SIGNATURE = "a mapping of verdict, trust and signer"
_SHOWN = 5
"""How many dossier names a message lists before ``and N more``."""


class Damaged(ValueError):
    """What is wrong with one baseline file and where (the caller names the file)."""

    def __init__(self, problem: str, state: str = "is unreadable") -> None:
        super().__init__(problem)
        self.state = state
        """How the file is wrong: unreadable, or readable but not meta.json's dossiers."""


def read_json(path: Path) -> Any:
    """The file's JSON; :class:`Damaged` when it is missing or is not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Damaged("the file is missing") from None
    except (OSError, ValueError) as exc:
        raise Damaged(str(exc)) from exc


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)[:60]


def _require(ok: bool, where: str, value: object, wanted: str) -> None:
    if not ok:
        raise Damaged(f"{where} is {_show(value)}, not {wanted}")


def _mapping(value: object, where: str, wanted: str) -> dict[str, Any]:
    """``value`` when it is a JSON object, else :class:`Damaged` saying where."""
    if not isinstance(value, dict):
        raise Damaged(f"{where} is {_show(value)}, not {wanted}")
    return value


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_texts(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_text_map(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def check_meta(data: object) -> dict[str, Any]:
    """``meta.json``: a mapping with a name, a corpus recipe and (when kept) the dossiers."""
    meta = _mapping(data, "the top level", "a mapping")
    _require(isinstance(meta.get("name"), str), "name", meta.get("name"), "a text")
    recipe = _mapping(meta.get("recipe"), "recipe", "a mapping")
    _require(
        isinstance(recipe.get("catalog"), str), "recipe.catalog", recipe.get("catalog"), "a text"
    )
    seeds = recipe.get("seeds", [0])
    _require(
        isinstance(seeds, list) and all(map(_is_int, seeds)),
        "recipe.seeds",
        seeds,
        "a list of whole numbers",
    )
    for where, value in (
        ("recipe.procedures", recipe.get("procedures", [])),
        ("catalogs", meta.get("catalogs", [])),
    ):
        _require(_is_texts(value), where, value, "a list of texts")
    if "dossiers" in meta:
        count = meta["dossiers"]
        _require(_is_int(count) and count >= 0, "dossiers", count, "a count")
    content = meta.get("content_sha256", {})
    _require(_is_text_map(content), "content_sha256", content, "a mapping of dossier to digest")
    return meta


def _check_outcome(name: str, data: object) -> None:
    """One dossier's normalised outcome, as :mod:`.replay` writes it."""
    where = json.dumps(name, ensure_ascii=False)
    outcome = _mapping(data, where, "an outcome mapping")
    for key, ok, wanted in (
        ("accepted", isinstance(outcome.get("accepted"), bool), "true or false"),
        ("status", _is_int(outcome.get("status")), "an HTTP status"),
        ("codes", _is_texts(outcome.get("codes")), "a list of codes"),
        ("findings", _findings(outcome.get("findings")), "a list of [code, rule, xpath, ...]"),
        ("answer", _is_text_map(outcome.get("answer")), "a mapping of field to text"),
        ("messages", _messages(outcome.get("messages", [])), "a list of {kind, fields, ...}"),
    ):
        _require(ok, f"{where}.{key}", outcome.get(key, "(absent)"), wanted)
    replay = outcome.get("replay", {"status": 0, "same_receipt": True})
    ok = isinstance(replay, dict) and _is_int(replay.get("status"))
    _require(ok and isinstance(replay.get("same_receipt"), bool), f"{where}.replay", replay,
             "a mapping of status and same_receipt")  # fmt: skip
    unavailable = outcome.get("unavailable", "")
    _require(isinstance(unavailable, str), f"{where}.unavailable", unavailable, "a text")
    signature = outcome.get("signature", {})  # absent: recorded before signatures were judged
    _require(_is_text_map(signature), f"{where}.signature", signature, _SIGNATURE)


def _findings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(f, list) and len(f) >= 3 for f in value)


def _messages(value: object) -> bool:
    """Each message's kind, fields and (when recorded) signature verdict."""
    return isinstance(value, list) and all(
        isinstance(m, dict)
        and isinstance(m.get("kind"), str)
        and _is_text_map(m.get("fields"))
        and _is_text_map(m.get("signature", {}))
        for m in value
    )


def check_outcomes(data: object, meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``outcomes.json``: an outcome for every dossier ``meta.json`` says was recorded
    (its digests name them; an older baseline gives only their count), and none else."""
    outcomes = _mapping(data, "the top level", "a mapping of dossier to outcome")
    listed = set(meta.get("content_sha256") or ())
    if listed:
        _refuse_names("lacks the outcome of", sorted(listed - set(outcomes)), len(listed))
        _refuse_names("has outcomes meta.json does not list:", sorted(set(outcomes) - listed), 0)
    elif "dossiers" in meta and len(outcomes) != meta["dossiers"]:
        raise Damaged(
            f"it holds {len(outcomes)} outcome(s), meta.json says {meta['dossiers']} dossiers "
            "were recorded",
            _MISMATCH,
        )
    for name, outcome in outcomes.items():
        _check_outcome(name, outcome)
    return outcomes


def _refuse_names(what: str, names: list[str], total: int) -> None:
    """``lacks the outcome of 30 of the 198 dossiers meta.json lists: 600/a, ... and 25 more``."""
    if not names:
        return
    shown = ", ".join(names[:_SHOWN]) + (
        f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    )
    of = f"{len(names)} of the {total} dossiers meta.json lists" if total else f"{len(names)}"
    raise Damaged(f"it {what} {of}: {shown}", _MISMATCH)


def check_latency(data: object) -> dict[str, dict[str, float]]:
    """``latency.json``: per procedure, a mapping of ``p50_ms``, ``p95_ms`` (and ``n``)."""
    wanted = "a mapping of n, p50_ms and p95_ms"
    latency = _mapping(data, "the top level", "a mapping of procedure to latency")
    for procedure, found in latency.items():
        where = json.dumps(procedure, ensure_ascii=False)
        summary = _mapping(found, where, wanted)
        for key in ("p50_ms", "p95_ms", "n"):
            value = summary.get(key, 0 if key == "n" else None)
            ok = _is_number(value) and value >= 0
            _require(ok, f"{where}.{key}", value, "a number of at least 0")
    return latency


def damaged(name: str, file: str, problem: Damaged, hint: str) -> ConfigError:
    """``baseline X: latency.json is unreadable: "600".p50_ms is null, not a number ...``."""
    return ConfigError(f"baseline {name}: {file} {problem.state}: {problem}", hint=hint)


__all__ = ["Damaged", "check_latency", "check_meta", "check_outcomes", "damaged", "read_json"]
