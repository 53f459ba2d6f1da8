"""Compare a candidate's outcomes with a baseline: every difference, named and located.

Each dossier yields at most one *verdict* difference (newly rejected, newly accepted,
changed status, changed error code, changed error XPath), plus, when its verdict held,
detail differences (answer fields, BHXH's signature, idempotent replay, each lifecycle
message: missing, delivered more or fewer times, out of order, changed, its signature).
Findings are a set, compared regardless of the order the gateway lists them in. Latency
is compared per procedure as ratios of p50 and p95 with an absolute floor, so CI noise on
a few-millisecond baseline never flags a good gateway.
"""

from __future__ import annotations

import math
import re
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
    "changed-signature",
    "changed-idempotency",
    "missing-message",
    "extra-message",
    "reordered-message",
    "changed-message",
    "missing-dossier",
    "leaked-dossier",
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
    if b["accepted"] and not c["accepted"]:
        return "newly-rejected", shown(b), shown(c) + _first_finding(c)
    if c["accepted"] and not b["accepted"]:
        return "newly-accepted", shown(b), shown(c)
    if b["codes"] != c["codes"]:  # with the status when that changed too
        status = b["status"] != c["status"]
        return (
            "changed-error-code",
            " ".join([str(b["status"])] * status + (b["codes"] or [_uncoded(b)])),
            " ".join([str(c["status"])] * status + (c["codes"] or [_uncoded(c)])),
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


def shown(o: dict[str, Any]) -> str:
    """``202 accepted``, ``400 RULE-110`` or ``500 (no error code; ...)``: "accepted" only
    for what the gateway accepted, never for an answer that merely lacks a code."""
    if o["accepted"]:
        return f"{o['status']} accepted"
    return f"{o['status']} {' '.join(o['codes']) or _uncoded(o)}"


def _uncoded(o: dict[str, Any]) -> str:
    """A refusal without an error code, with what kind of answer it was."""
    answer = o.get("answer") or {}
    if "<root>" in answer:
        return f"(no error code; the answer is <{answer['<root>']}>, not XACNHAN_GDICH)"
    if "<unreadable>" in answer:
        return f"(no error code; the answer is not XML: {answer['<unreadable>']})"
    kind = answer.get("LOAI_TBAO", "")
    return f"(no error code; {kind} answer)" if kind else "(no error code)"


def answered(o: dict[str, Any]) -> str:
    """``400 RULE-110 at XPATH: message``: a refused outcome as a reader wants it."""
    return shown(o) + _first_finding(o)


def _first_finding(o: dict[str, Any]) -> str:
    """`` at XPATH: message`` of the answer's first finding ("" when it has none)."""
    answer = o.get("answer") or {}
    for prefix in ("TTGDICH/DS_LOI/LOI/", "TTGDICH/DS_LOI/LOI[1]/"):
        if prefix + "MA_LOI" in answer:
            xpath, text = answer.get(prefix + "XPATH", ""), answer.get(prefix + "MOTA_EN", "")
            return f" at {xpath or '?'}: {text}" if xpath or text else ""
    return ""


UNORDERED = ("DS_LOI/LOI",)
"""Repeated elements that are a set, not a sequence: the findings (``findings`` is sorted
too). Their order is not compared: the same findings reversed are no difference."""
_FINDING_KEY = ("MA_LOI", "MUC_DO", "XPATH")
"""What sorts findings first (as ``findings`` is sorted), so a changed text pairs with
the finding it belongs to."""


def _unordered(fields: dict[str, str]) -> dict[str, str]:
    """``fields`` with each :data:`UNORDERED` group's members sorted and renumbered."""
    out = dict(fields)
    for name in UNORDERED:
        pattern = re.compile(rf"^(?P<at>(?:.*/)?{re.escape(name)})\[(?P<n>\d+)\](?P<rest>/.*)?$")
        groups: dict[str, dict[str, dict[str, str]]] = {}
        for key, value in fields.items():
            found = pattern.match(key)
            if found is not None:
                member = groups.setdefault(found["at"], {}).setdefault(found["n"], {})
                member[found["rest"] or ""] = value
                del out[key]
        for at, members in groups.items():
            for index, member in enumerate(sorted(members.values(), key=_member_key), 1):
                out.update({f"{at}[{index}]{rest}": value for rest, value in member.items()})
    return out


def _member_key(member: dict[str, str]) -> tuple[list[str], list[tuple[str, str]]]:
    return [member.get(f"/{k}", "") for k in _FINDING_KEY], sorted(member.items())


def _field_diffs(b: dict[str, str], c: dict[str, str]) -> list[tuple[str, str, str]]:
    """(field, expected, actual) of each field that differs; a text that differs only in
    its Unicode form (NFD for NFC) says so, since both sides would print alike."""
    diffs = []
    b, c = _unordered(b), _unordered(c)
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
        return [diff("unavailable", "availability", availability(b), availability(c))]
    verdict = _verdict(b, c)
    if verdict is not None:
        return [diff(verdict[0], "verdict", verdict[1], verdict[2])]
    out = [diff("changed-answer", k, e, a) for k, e, a in _field_diffs(b["answer"], c["answer"])]
    out += [diff(*found) for found in _signature_diffs("signature", b, c)]
    if b.get("replay") != c.get("replay"):
        out.append(diff("changed-idempotency", "replay", _replay(b), _replay(c)))
    return out + [diff(*found) for found in _message_diffs(b, c)]


Found = tuple[str, str, str, str]
"""(kind, field, expected, actual) of a difference, before it is placed in its dossier."""


def _signature_diffs(field: str, b: dict[str, Any], c: dict[str, Any]) -> list[Found]:
    """A changed signature verdict (valid, trusted, signer); none when the baseline was
    recorded before signatures were judged (it has no verdict to compare with)."""
    before, after = b.get("signature"), c.get("signature")
    if not before or not after or before == after:
        return []
    return [("changed-signature", field, _signature(before), _signature(after))]


def _signature(verdict: dict[str, str]) -> str:
    """``valid, trusted, signed by CN=...`` or ``missing`` (the serial is volatile)."""
    signer = verdict.get("signer", "")
    parts = [verdict.get("verdict", ""), verdict.get("trust", "")]
    return ", ".join(p for p in [*parts, f"signed by {signer}" * bool(signer)] if p)


_TIMES = {1: "once", 2: "twice"}


def _times(count: int) -> str:
    return "delivered " + _TIMES.get(count, f"{count} times")


def _message_diffs(b: dict[str, Any], c: dict[str, Any]) -> list[Found]:
    """Each lifecycle message kind missing, extra or delivered more or fewer times, the
    kinds delivered in another order, then each message's fields and signature (the n-th
    of a kind compared with the n-th)."""
    before, after = b.get("messages", []), c.get("messages", [])
    out: list[Found] = []
    base_kinds, cand_kinds = _kinds(before), _kinds(after)
    for kind in sorted(set(base_kinds) | set(cand_kinds)):
        was, now = base_kinds.count(kind), cand_kinds.count(kind)
        if not now:
            out.append(("missing-message", kind, "present", "absent"))
        elif not was:
            out.append(("extra-message", kind, "absent", "present"))
        elif now != was:
            change = "extra-message" if now > was else "missing-message"
            out.append((change, f"{kind} {_times(now)}", _times(was), _times(now)))
    out += _order_diffs(base_kinds, cand_kinds)
    for label, (was_sent, sent) in _paired(before, after).items():
        out += [
            ("changed-message", f"{label} {k}", e, a)
            for k, e, a in _field_diffs(was_sent["fields"], sent["fields"])
        ]
        out += _signature_diffs(f"{label} signature", was_sent, sent)
    return out


def _kinds(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m["kind"]) for m in messages]


def _order_diffs(base_kinds: list[str], cand_kinds: list[str]) -> list[Found]:
    """``03/TB-TS delivered before 02/TB-TS``: the kinds both sides delivered, in the order
    each first came (a duplicate is said once, as delivered twice, not as out of order)."""
    common = set(base_kinds) & set(cand_kinds)
    was = [k for k in dict.fromkeys(base_kinds) if k in common]
    now = [k for k in dict.fromkeys(cand_kinds) if k in common]
    if was == now:
        return []
    first = next(i for i, (x, y) in enumerate(zip(was, now, strict=True)) if x != y)
    field = f"{now[first]} delivered before {was[first]}"
    return [("reordered-message", field, ", ".join(was), ", ".join(now))]


def _paired(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """``02/TB-TS`` (``02/TB-TS #2`` for a second one) -> (baseline's, candidate's) message,
    for each message both sides delivered."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for m in after:
        by_kind.setdefault(str(m["kind"]), []).append(m)
    seen: dict[str, int] = {}
    out = {}
    for m in before:
        kind = str(m["kind"])
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= len(by_kind.get(kind, [])):
            label = kind if seen[kind] == 1 else f"{kind} #{seen[kind]}"
            out[label] = (m, by_kind[kind][seen[kind] - 1])
    return out


def availability(o: dict[str, Any]) -> str:
    """``unavailable: 503 after 2 attempts`` or how the gateway answered (``202 accepted``)."""
    if o.get("unavailable"):
        return f"unavailable: {o['unavailable']}"
    return shown(o)


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
    "availability",
    "compare",
    "compare_dossier",
    "compare_latency",
    "shown",
    "unjudged_latency",
]
