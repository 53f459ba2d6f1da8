"""Compare a candidate's outcomes with a baseline: every difference, named and located.

Each dossier yields at most one *verdict* difference (newly rejected, newly accepted,
changed status, changed error code, changed error XPath), plus, when its verdict held,
detail differences (answer fields, idempotent replay, each lifecycle message: missing,
extra or changed). Latency is compared per procedure as ratios of p50 and p95 with an
absolute floor, so CI noise on a few-millisecond baseline never flags a good gateway.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import ConfigError

KINDS = (
    "newly-rejected",
    "newly-accepted",
    "changed-status",
    "changed-error-code",
    "changed-error-xpath",
    "changed-answer",
    "changed-idempotency",
    "missing-message",
    "extra-message",
    "changed-message",
    "missing-dossier",
    "unavailable",
    "catalog-removed",
    "latency-p50",
    "latency-p95",
)
"""The kinds of the per-procedure matrix: the baseline's corpus replayed again."""
NEW_CATALOG_REJECTED = "new-catalog-rejected"
"""A valid dossier of a catalog the candidate serves newer than the baseline's, refused
(:mod:`harness.regression.new_catalogs`): reported per catalog version, not per cell."""
NEW_CATALOG_UNEXPECTED = "new-catalog-unexpected"
"""A defective dossier of such a catalog not refused with the code its defect names: a
candidate accepting everything of a new procedure passed unseen on valid dossiers alone."""
NEW_CATALOG_KINDS = (NEW_CATALOG_REJECTED, NEW_CATALOG_UNEXPECTED)
"""The kinds found by replaying a newer catalog's own dossiers (its case, not the matrix)."""
EXPECTABLE_KINDS = (*KINDS, *NEW_CATALOG_KINDS)
"""Every kind an expectations file may declare intended."""


@dataclass(frozen=True)
class Difference:
    """One difference between baseline (``expected``) and candidate (``actual``)."""

    kind: str
    procedure: str
    dossier: str = ""
    forms: tuple[str, ...] = ()
    field: str = ""
    expected: str = ""
    actual: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "procedure": self.procedure,
            "dossier": self.dossier,
            "forms": list(self.forms),
            "field": self.field,
            "expected": self.expected,
            "actual": self.actual,
        }


@dataclass(frozen=True)
class LatencyThresholds:
    """Flag when candidate/baseline exceeds a ratio *and* grew by an absolute floor.

    Ratios because absolute times differ between machines; floors because a ratio of tiny
    numbers is noise. A shared CI box slows *every* procedure alike (measured: up to 1.9x
    on the 2-core box while another suite ran), so each procedure is judged relative to the
    run's median slowdown (``machine factor``), and the whole gateway only when that
    median itself exceeds ``overall_ratio``. p95 is judged only on enough samples (below
    ~40 it rests on one or two submissions a busy box can stall) and with a higher floor.
    3x slower validation of one form lifts its procedures' p50 about 2x above the rest.
    """

    p50_ratio: float = 1.6
    p95_ratio: float = 2.5
    min_delta_ms: float = 2.0
    p95_min_delta_ms: float = 10.0
    min_samples: int = 5
    p95_min_samples: int = 40
    overall_ratio: float = 3.0

    def __post_init__(self) -> None:
        """A zero, negative or NaN threshold would flag everything or, NaN, nothing."""
        for name, value in vars(self).items():
            positive = name.endswith("ratio") or name.endswith("samples")
            if not math.isfinite(value) or value < 0 or (positive and value <= 0):
                option = "--" + name.replace("_", "-")
                raise ConfigError(
                    f"{option} {value}: give a finite number "
                    + ("above 0" if positive else "of at least 0")
                )


def _verdict(b: dict[str, Any], c: dict[str, Any]) -> tuple[str, str, str] | None:
    def show(o: dict[str, Any]) -> str:
        return f"{o['status']} {' '.join(o['codes']) or 'accepted'}"

    if b["accepted"] and not c["accepted"]:
        return "newly-rejected", show(b), show(c) + _first_finding(c)
    if c["accepted"] and not b["accepted"]:
        return "newly-accepted", show(b), show(c)
    if b["codes"] != c["codes"]:  # with the status when that changed too
        status = b["status"] != c["status"]
        return (
            "changed-error-code",
            " ".join([str(b["status"])] * status + b["codes"]),
            " ".join([str(c["status"])] * status + c["codes"]),
        )
    if b["status"] != c["status"]:
        return "changed-status", str(b["status"]), str(c["status"])
    if b["findings"] != c["findings"]:
        fmt = "; ".join
        return (
            "changed-error-xpath",
            fmt(f"{x[0]} {x[2]}" for x in b["findings"]),
            fmt(f"{x[0]} {x[2]}" for x in c["findings"]),
        )
    return None


def answered(o: dict[str, Any]) -> str:
    """``400 RULE-110 at XPATH: message``: a refused outcome as a reader wants it."""
    return f"{o['status']} {' '.join(o['codes']) or 'accepted'}" + _first_finding(o)


def _first_finding(o: dict[str, Any]) -> str:
    """`` at XPATH: message`` of the answer's first finding ("" when it has none)."""
    answer = o.get("answer") or {}
    for prefix in ("TTGDICH/DS_LOI/LOI/", "TTGDICH/DS_LOI/LOI[1]/"):
        if prefix + "MA_LOI" in answer:
            xpath, text = answer.get(prefix + "XPATH", ""), answer.get(prefix + "MOTA_EN", "")
            return f" at {xpath or '?'}: {text}" if xpath or text else ""
    return ""


def _field_diffs(b: dict[str, str], c: dict[str, str]) -> list[tuple[str, str, str]]:
    """(field, expected, actual) of each field that differs; a text that differs only in
    its Unicode form (NFD for NFC) says so, since both sides would print alike."""
    diffs = []
    for k in sorted(set(b) | set(c)):
        expected, actual = b.get(k, "<absent>"), c.get(k, "<absent>")
        if expected == actual:
            continue
        if unicodedata.normalize("NFC", str(expected)) == unicodedata.normalize("NFC", str(actual)):
            form = "NFC" if unicodedata.is_normalized("NFC", str(actual)) else "not NFC"
            actual = f"{actual} [same text in another Unicode form: {form}]"
        diffs.append((k, expected, actual))
    return diffs


def compare_dossier(
    name: str, procedure: str, forms: tuple[str, ...], b: dict[str, Any], c: dict[str, Any]
) -> list[Difference]:
    """Differences of one dossier (verdict first; details only when the verdict held)."""

    def diff(kind: str, field: str, expected: str, actual: str) -> Difference:
        return Difference(kind, procedure, name, forms, field, expected, actual)

    if b.get("unavailable") or c.get("unavailable"):  # transient: not a functional change
        if b.get("unavailable") == c.get("unavailable"):
            return []
        return [diff("unavailable", "availability", _availability(b), _availability(c))]
    verdict = _verdict(b, c)
    if verdict is not None:
        return [diff(verdict[0], "verdict", verdict[1], verdict[2])]
    out = [diff("changed-answer", k, e, a) for k, e, a in _field_diffs(b["answer"], c["answer"])]
    if b.get("replay") != c.get("replay"):
        out.append(diff("changed-idempotency", "replay", _replay(b), _replay(c)))
    base_msgs = {m["kind"]: m["fields"] for m in b.get("messages", [])}
    cand_msgs = {m["kind"]: m["fields"] for m in c.get("messages", [])}
    for kind in sorted(set(base_msgs) | set(cand_msgs)):
        if kind not in cand_msgs:
            out.append(diff("missing-message", kind, "present", "absent"))
        elif kind not in base_msgs:
            out.append(diff("extra-message", kind, "absent", "present"))
        else:
            for k, e, a in _field_diffs(base_msgs[kind], cand_msgs[kind]):
                out.append(diff("changed-message", f"{kind} {k}", e, a))
    return out


def _availability(o: dict[str, Any]) -> str:
    if o.get("unavailable"):
        return f"unavailable: {o['unavailable']}"
    return f"{o['status']} {' '.join(o['codes']) or 'accepted'}"


def _replay(o: dict[str, Any]) -> str:
    """``202 same receipt`` or ``409 DUP-001 different receipt`` (the code says why)."""
    r = o.get("replay")
    if r is None:
        return "(no replay)"
    if r["same_receipt"]:
        return f"{r['status']} same receipt"
    return " ".join([str(r["status"]), *r.get("codes", ()), "different receipt"])


def machine_factor(base: dict[str, dict[str, float]], cand: dict[str, dict[str, float]]) -> float:
    """Median over procedures of candidate p50 / baseline p50 (at least 1: never flatter)."""
    ratios = sorted(
        float(cand[p]["p50_ms"]) / max(float(base[p]["p50_ms"]), 0.01)
        for p in set(base) & set(cand)
    )
    return max(1.0, ratios[(len(ratios) - 1) // 2]) if ratios else 1.0  # lower median


def compare_latency(
    base: dict[str, dict[str, float]],
    cand: dict[str, dict[str, float]],
    thresholds: LatencyThresholds,
) -> list[Difference]:
    """Per procedure, p50 and p95 beyond their ratio (after the machine factor) and floor."""
    factor = machine_factor(base, cand)
    unjudged = unjudged_latency(base, cand, thresholds)
    out = []
    if factor > thresholds.overall_ratio:
        out.append(
            Difference(
                "latency-p50", "all", field="median p50 ratio",
                expected=f"x{thresholds.overall_ratio:g} allowed", actual=f"x{factor:.1f}",
            )
        )  # fmt: skip
    for procedure in sorted(set(base) & set(cand)):
        b, c = base[procedure], cand[procedure]
        for key, ratio, floor, kind in (
            ("p50_ms", thresholds.p50_ratio, thresholds.min_delta_ms, "latency-p50"),
            ("p95_ms", thresholds.p95_ratio, thresholds.p95_min_delta_ms, "latency-p95"),
        ):
            if (kind, procedure) in unjudged:
                continue
            before, after = float(b[key]), float(c[key])
            relative = after / factor / max(before, 0.01)
            if after / factor - before > floor and relative > ratio:
                out.append(
                    Difference(
                        kind,
                        procedure,
                        field=key,
                        expected=f"{before:.1f} ms (x{ratio:g} allowed)",
                        actual=f"{after:.1f} ms (x{relative:.1f} after machine factor "
                        f"x{factor:.2f})",
                    )
                )
    return out


def compare_catalogs(baseline: Sequence[str], candidate: Sequence[str]) -> list[Difference]:
    """A catalog version the baseline's gateway served and the candidate no longer does."""
    gone = [v for v in baseline if candidate and v not in candidate]
    if not gone:
        return []
    return [
        Difference(
            "catalog-removed", "all", field=f"served catalogs ({' '.join(gone)} gone)",
            expected=" ".join(baseline), actual=" ".join(candidate),
        )
    ]  # fmt: skip


def unjudged_latency(
    base: dict[str, dict[str, float]],
    cand: dict[str, dict[str, float]],
    thresholds: LatencyThresholds,
) -> dict[tuple[str, str], str]:
    """(kind, procedure) -> why its latency is not judged: too few samples on one side."""
    out = {}
    for procedure in sorted(set(base) & set(cand)):
        samples = int(min(base[procedure].get("n", 0), cand[procedure].get("n", 0)))
        for kind, needed in (
            ("latency-p50", thresholds.min_samples),
            ("latency-p95", thresholds.p95_min_samples),
        ):
            if samples < needed:
                out[(kind, procedure)] = (
                    f"not judged: {samples} samples, {kind.removeprefix('latency-')} needs "
                    f"{needed} (add seeds to the baseline's corpus)"
                )
    return out


def compare(
    baseline: dict[str, dict[str, Any]],
    candidate: dict[str, dict[str, Any]],
    meta: dict[str, tuple[str, tuple[str, ...]]],
) -> list[Difference]:
    """Every outcome difference of the dossiers the baseline recorded; ``meta`` maps
    dossier name -> (procedure, form files). One of today's corpus the baseline never
    recorded has nothing to compare with: the run names those in a note."""
    out: list[Difference] = []
    for name in sorted(baseline):
        procedure, forms = meta.get(name, (name.split("/")[0], ()))
        if name not in candidate:
            out.append(
                Difference(
                    "missing-dossier", procedure, name, forms, "dossier", "replayed", "absent"
                )
            )
            continue
        out += compare_dossier(name, procedure, forms, baseline[name], candidate[name])
    return out


__all__ = [
    "EXPECTABLE_KINDS",
    "KINDS",
    "NEW_CATALOG_KINDS",
    "NEW_CATALOG_REJECTED",
    "NEW_CATALOG_UNEXPECTED",
    "Difference",
    "LatencyThresholds",
    "answered",
    "compare",
    "compare_dossier",
    "compare_latency",
    "unjudged_latency",
]
