"""Compare two schema walks node by node, each difference classified by whether a
document that was valid before may now be refused.

Results go through an ``emit(kind, subject, detail, breaking)`` callback so this module
stays independent of how :mod:`harness.catalog.diff` packages them; reading a schema is
:mod:`harness.catalog.schema_walk`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from harness.catalog.schema_walk import (
    BOUNDS,
    SCALAR_FACETS,
    SMALLER_IS_TIGHTER,
    Node,
    SimpleInfo,
)

Emit = Callable[[str, str, str, bool], None]


def _parent(path: str) -> str | None:
    return path.rsplit("/", 1)[0] if "/" in path else None


def _occurs(value: int | None) -> str:
    return "unbounded" if value is None else str(value)


def compare_nodes(old: Mapping[str, Node], new: Mapping[str, Node], emit: Emit) -> None:
    """Added and removed nodes (only the topmost of a subtree), then each common node."""
    for path, node in old.items():
        parent = _parent(path)
        if path not in new and (parent is None or parent in new):
            inside = sum(1 for p in old if p.startswith(f"{path}/"))
            extra = f" with {inside} nested node(s)" if inside else ""
            emit(
                f"{node.kind}-removed",
                path,
                f"{node.kind} removed{extra}; documents that carry it are refused",
                True,
            )
    for path, node in new.items():
        parent = _parent(path)
        if path not in old and (parent is None or parent in old):
            required = node.min_occurs > 0 and parent is not None
            inside = sum(1 for p in new if p.startswith(f"{path}/"))
            extra = f" with {inside} nested node(s)" if inside else ""
            what = "required" if required else "optional"
            emit(f"{node.kind}-added", path, f"{what} {node.kind} added{extra}", required)
    for path, node in old.items():
        if path in new:
            _compare_node(node, new[path], path, emit)


def _compare_node(old: Node, new: Node, subject: str, emit: Emit) -> None:
    _compare_occurs(old, new, subject, emit)
    if old.kind == "wildcard" or new.kind == "wildcard":
        if old.type_label != new.type_label:
            emit("wildcard-changed", subject, f"{old.type_label} -> {new.type_label}", True)
        return
    if old.groups != new.groups:
        detail = f"enclosing groups {list(old.groups) or '-'} -> {list(new.groups) or '-'}"
        emit("content-model-changed", subject, detail, True)
    if old.namespace != new.namespace:
        detail = f"namespace {old.namespace!r} -> {new.namespace!r}"
        emit("namespace-changed", subject, detail, True)
    if old.nillable != new.nillable:
        emit(
            "nillable-changed", subject, f"nillable {old.nillable} -> {new.nillable}", old.nillable
        )
    if old.fixed != new.fixed:
        emit(
            "fixed-changed",
            subject,
            f"fixed value {old.fixed!r} -> {new.fixed!r}",
            new.fixed is not None,
        )
    if old.content != new.content:
        widening = {("element-only", "mixed"), ("empty", "mixed"), ("empty", "element-only")}
        breaking = (old.content, new.content) not in widening
        emit("type-changed", subject, f"content {old.content} -> {new.content}", breaking)
    elif old.type_label != new.type_label:
        detail = f"declared type {old.type_label} -> {new.type_label}"
        emit("type-renamed", subject, detail, False)
    if old.compositor != new.compositor and old.compositor and new.compositor:
        breaking = (old.compositor, new.compositor) != ("sequence", "all")
        emit("content-model-changed", subject, f"{old.compositor} -> {new.compositor}", breaking)
    elif old.compositor == "sequence" and new.compositor == "sequence":
        common = set(old.children) & set(new.children)
        before = [c for c in old.children if c in common]
        after = [c for c in new.children if c in common]
        if before != after:
            detail = f"child order {', '.join(before)} -> {', '.join(after)}"
            emit("order-changed", subject, detail, True)
    _compare_identities(old.identities, new.identities, subject, emit)
    if old.simple is not None and new.simple is not None:
        compare_simple(old.simple, new.simple, subject, emit)


def _compare_identities(
    old: Mapping[str, str], new: Mapping[str, str], subject: str, emit: Emit
) -> None:
    """A new or changed key/unique constraint may reject documents; a dropped one cannot."""
    for name in sorted(old.keys() | new.keys()):
        was, now = old.get(name), new.get(name)
        if was == now:
            continue
        kind = "identity-changed"
        if was is None or now is None:
            kind = "identity-added" if was is None else "identity-removed"
        emit(kind, subject, f"{name}: {was or '-'} -> {now or '-'}", now is not None)


def _compare_occurs(old: Node, new: Node, subject: str, emit: Emit) -> None:
    if new.min_occurs != old.min_occurs:
        raised = new.min_occurs > old.min_occurs
        note = ""
        if 0 in (old.min_occurs, new.min_occurs):
            note = " (now required)" if raised else " (now optional)"
        kind = "min-occurs-raised" if raised else "min-occurs-lowered"
        emit(kind, subject, f"minOccurs {old.min_occurs} -> {new.min_occurs}{note}", raised)
    if new.max_occurs != old.max_occurs:
        lowered = new.max_occurs is not None and (
            old.max_occurs is None or new.max_occurs < old.max_occurs
        )
        kind = "max-occurs-lowered" if lowered else "max-occurs-raised"
        detail = f"maxOccurs {_occurs(old.max_occurs)} -> {_occurs(new.max_occurs)}"
        emit(kind, subject, detail, lowered)


def compare_simple(
    old: SimpleInfo, new: SimpleInfo, subject: str, emit: Emit, what: str = ""
) -> None:
    """Value-space differences: base type, code set, patterns, then the ordered facets."""
    if old.variety != new.variety:
        emit(
            "type-changed",
            subject,
            f"{what}{old.label} ({old.variety}) -> {new.label} ({new.variety})",
            True,
        )
        return
    if old.variety == "atomic" and old.builtins[:1] != new.builtins[:1]:
        widened = bool(new.builtins) and new.builtins[0] in old.builtins
        detail = f"{what}base type {old.builtins[0]} -> {new.builtins[0]}"
        emit("type-widened" if widened else "type-changed", subject, detail, not widened)
    if old.variety == "union" and old.members != new.members:
        widened = set(old.members) <= set(new.members)
        detail = f"{what}union members {', '.join(old.members)} -> {', '.join(new.members)}"
        emit("type-widened" if widened else "type-changed", subject, detail, not widened)
    if old.item is not None and new.item is not None:
        compare_simple(old.item, new.item, subject, emit, f"{what}list item ")
    _compare_enumeration(old.enumeration, new.enumeration, subject, emit, what)
    _compare_patterns(old.patterns, new.patterns, subject, emit, what)
    for name in sorted(set(old.facets) | set(new.facets)):
        if name in SCALAR_FACETS:
            _compare_facet(name, old.facets.get(name), new.facets.get(name), subject, emit, what)
    for side in ("min", "max"):
        _compare_bound(
            side, _bound(side, old.facets), _bound(side, new.facets), subject, emit, what
        )


def _compare_enumeration(
    old: frozenset[Any] | None, new: frozenset[Any] | None, subject: str, emit: Emit, what: str
) -> None:
    if old == new:
        return
    if old is None or new is None:
        values = ", ".join(sorted(repr(str(v)) for v in (new or old or ())))
        if old is None:
            emit("facet-tightened", subject, f"{what}enumeration introduced: {values}", True)
        else:
            emit("facet-loosened", subject, f"{what}enumeration dropped (was {values})", False)
        return
    for value in sorted(old - new, key=str):
        emit("code-removed", subject, f"{what}enumeration value {str(value)!r} removed", True)
    for value in sorted(new - old, key=str):
        emit("code-added", subject, f"{what}enumeration value {str(value)!r} added", False)


def _show_patterns(patterns: tuple[frozenset[str], ...]) -> str:
    steps = [" | ".join(repr(p) for p in sorted(step)) for step in patterns]
    return " & ".join(f"({s})" if len(patterns) > 1 else s for s in steps) or "none"


def _compare_patterns(
    old: tuple[frozenset[str], ...],
    new: tuple[frozenset[str], ...],
    subject: str,
    emit: Emit,
    what: str,
) -> None:
    """Compatible only when every new pattern step is implied by some old step.

    An old step whose alternatives are a subset of a new step's alternatives means every
    value it admitted is still admitted; regexes are not compared semantically, so any
    other change counts as breaking.
    """
    if set(old) == set(new):
        return
    widened = all(any(o <= n for o in old) for n in new)
    detail = f"{what}pattern {_show_patterns(old)} -> {_show_patterns(new)}"
    if not widened:  # a value refused now is proof; none found, a hint it may be looser
        from harness.catalog.pattern_evidence import describe

        detail += describe(old, new)
    emit("pattern-loosened" if widened else "pattern-changed", subject, detail, not widened)


def _compare_facet(name: str, old: Any, new: Any, subject: str, emit: Emit, what: str) -> None:
    if old == new:
        return
    detail = f"{what}{name} {'-' if old is None else old} -> {'-' if new is None else new}"
    if new is None:
        emit("facet-loosened", subject, detail, False)
    elif old is None or name in ("length", "whiteSpace"):
        emit("facet-tightened", subject, detail, True)
    else:
        tighter = new < old if name in SMALLER_IS_TIGHTER else new > old
        emit("facet-tightened" if tighter else "facet-loosened", subject, detail, tighter)


def _bound(side: str, facets: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The effective lower or upper bound as (facet name, value); the tighter one if both."""
    present = [(name, facets[name]) for name in BOUNDS[side] if name in facets]
    if len(present) < 2:
        return present[0] if present else None
    (inc_name, inc), (exc_name, exc) = present
    try:
        exclusive_wins = exc >= inc if side == "min" else exc <= inc
    except TypeError:
        return present[0]
    return (exc_name, exc) if exclusive_wins else (inc_name, inc)


def _compare_bound(
    side: str,
    old: tuple[str, Any] | None,
    new: tuple[str, Any] | None,
    subject: str,
    emit: Emit,
    what: str,
) -> None:
    if old == new:
        return
    detail = f"{what}{' '.join(map(str, old)) if old else side + ' bound -'} -> "
    detail += " ".join(map(str, new)) if new else "-"
    if new is None:
        emit("facet-loosened", subject, detail, False)
        return
    if old is None:
        emit("facet-tightened", subject, detail, True)
        return
    try:
        moved_in = new[1] > old[1] if side == "min" else new[1] < old[1]
        moved_out = new[1] < old[1] if side == "min" else new[1] > old[1]
    except TypeError:
        emit("facet-changed", subject, detail, True)
        return
    if not moved_in and not moved_out:  # same value: exclusive is the tighter form
        moved_in = new[0].endswith("Exclusive")
    emit("facet-tightened" if moved_in else "facet-loosened", subject, detail, moved_in)
