"""What changed between two catalog versions, and whether it can hurt a sender.

An I-VAN or employer whose dossiers were valid under the old catalog wants one answer
before the new one goes live: may any of them now be refused? So every change is
classified from the sender's side: *breaking* when some dossier that was valid before may
now be rejected, *compatible* when everything valid before stays valid. Nothing here
knows a procedure or form code; the catalogs, their XSDs (walked with ``xmlschema`` in
:mod:`harness.catalog.schema_walk`) and their Schematron files say everything.

Forms are compared at their current versions (what a sender migrates to), and again at
every other version both catalogs still accept (old files of that version keep arriving).
When the new catalog adds a current version but still accepts the old one, the old one's
senders are refused only if that version itself changed: the differences between the two
versions are listed as compatible, "in the new version only".
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness import error_codes
from harness.catalog.model import Catalog, Form, FormVersion, Procedure, period_key
from harness.catalog.rule_asserts import Rule, reach, read_rules, unreached
from harness.catalog.schema_compare import compare_nodes
from harness.catalog.schema_walk import Node, snapshot

_NEW_ONLY = "in the new version only"
XSDs = tuple[Path, Path]
"""A form's old and new XSD, which decide whether a rule change reaches it."""
EFFECTIVE_FROM_CHANGED = "effective-from-changed"
"""The kind of change that says when the new version starts to govern: it changes no
procedure's forms or rules by itself."""


@dataclass(frozen=True)
class Change:
    """One difference: ``kind`` (e.g. ``code-removed``), what it is about, and why it matters."""

    kind: str
    subject: str
    detail: str
    breaking: bool

    @property
    def tag(self) -> str:
        return "BREAKING" if self.breaking else "compatible"


@dataclass(frozen=True)
class CatalogDiff:
    """Every change from ``old_version`` to ``new_version``, breaking ones first."""

    old_version: str
    new_version: str
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]

    @property
    def compatible(self) -> list[Change]:
        return [c for c in self.changes if not c.breaking]

    @property
    def has_breaking(self) -> bool:
        """True when a dossier valid under the old version may be refused under the new."""
        return any(c.breaking for c in self.changes)

    def summary(self) -> dict[str, Any]:
        return {
            "total": len(self.changes),
            "breaking": len(self.breaking),
            "compatible": len(self.compatible),
            "by_kind": dict(sorted(Counter(c.kind for c in self.changes).items())),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_version": self.old_version,
            "new_version": self.new_version,
            "has_breaking": self.has_breaking,
            "summary": self.summary(),
            "changes": [asdict(c) for c in self.changes],
        }

    def to_json(self) -> str:
        """Stable JSON (sorted keys, changes in report order) for CI to store and compare."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)

    def to_text(self) -> str:
        """A plain report for people and logs: no colour, same text for the same catalogs."""
        counts = self.summary()
        lines = [
            f"Catalog diff {self.old_version} -> {self.new_version}: {counts['total']} change(s), "
            f"{counts['breaking']} breaking, {counts['compatible']} compatible"
        ]
        width = max((len(c.kind) for c in self.changes), default=0)
        for title, group in (("Breaking", self.breaking), ("Compatible", self.compatible)):
            if group:
                lines += ["", f"{title} for senders ({len(group)}):"]
                lines += [
                    f"  {c.tag:<10}  {c.kind:<{width}}  {c.subject}: {c.detail}" for c in group
                ]
        return "\n".join(lines)


def diff_catalogs(old: Catalog, new: Catalog) -> CatalogDiff:
    """Compare two loaded catalog versions; see the module docstring for the classification."""
    differ = _Differ()
    differ.procedures(old.procedures, new.procedures)
    differ.forms(old.forms, new.forms)
    differ.schema(old.envelope.xsd, new.envelope.xsd, None)
    envelope_xsds = (old.envelope.xsd, new.envelope.xsd)
    differ.rules(old.envelope.rules, new.envelope.rules, "envelope", envelope_xsds)
    if old.envelope.signature_node != new.envelope.signature_node:
        detail = f"signature node {old.envelope.signature_node} -> {new.envelope.signature_node}"
        differ.emit("signature-node-changed", "envelope", detail, True)
    differ.agreements(old.envelope.agrees_with_forms, new.envelope.agrees_with_forms)
    if old.effective_from != new.effective_from:  # when the new rules start to govern
        detail = f"takes effect {new.effective_from} ({old.effective_from} before)"
        differ.emit(EFFECTIVE_FROM_CHANGED, "catalog", detail, False)
    ordered = sorted(
        set(differ.changes), key=lambda c: (not c.breaking, c.subject, c.kind, c.detail)
    )
    return CatalogDiff(old.version, new.version, tuple(ordered))


def _takes_unqualified(node: Node) -> bool:
    """Whether ``node`` is an element wildcard that takes elements in no namespace (those
    a rule names unprefixed); the signature's XMLDSig wildcard does not."""
    if node.kind != "wildcard" or "/@" in node.path:
        return False
    return not {"##any", "##local", ""}.isdisjoint(node.takes)


def _role(form: str, procedure: Procedure) -> str | None:
    if form in procedure.required_forms:
        return "required"
    return "optional" if form in procedure.optional_forms else None


def _period(procedure: Procedure) -> str:
    until = procedure.in_force_until
    return f"from {procedure.in_force_from}" + (f" until {until}" if until else "")


def _names(codes: Iterable[str]) -> str:
    return ", ".join(codes) or "-"


# (was, now) of a form in a procedure -> kind, breaking, why. A form that leaves a procedure
# breaks its senders whatever its role: the gateway refuses forms the procedure does not list.
_FORM_ROLE_CHANGES: Mapping[tuple[str | None, str | None], tuple[str, bool, str]] = {
    (None, "required"): ("required-form-added", True, "dossiers without it are refused"),
    (None, "optional"): ("optional-form-added", False, "may be attached"),
    ("required", None): ("required-form-removed", True, "dossiers carrying it are refused"),
    ("optional", None): ("optional-form-removed", True, "dossiers carrying it are refused"),
    ("required", "optional"): ("form-made-optional", False, "may now be left out"),
    ("optional", "required"): ("form-made-required", True, "dossiers without it are refused"),
}


class _Differ:
    """Collects changes; keeps each XSD snapshot and rule file so it is read once per diff."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self._snapshots: dict[Path, dict[str, Node]] = {}
        self._rule_files: dict[Path, dict[str, Rule]] = {}
        self._severity = {code: entry.severity for code, entry in error_codes.load().items()}
        self._in_migration = False

    def agreements(
        self, old: tuple[tuple[str, str], ...], new: tuple[tuple[str, str], ...]
    ) -> None:
        """A form field the envelope must now agree with refuses dossiers that passed."""
        for envelope_path, form_path in sorted(set(new) - set(old)):
            detail = f"forms' {form_path} must equal the envelope's {envelope_path} (ENV-011)"
            self.emit("agreement-added", "envelope", detail, True)
        for envelope_path, form_path in sorted(set(old) - set(new)):
            detail = f"forms' {form_path} need no longer equal the envelope's {envelope_path}"
            self.emit("agreement-removed", "envelope", detail, False)

    def emit(self, kind: str, subject: str, detail: str, breaking: bool) -> None:
        if self._in_migration:
            detail, breaking = f"{detail} ({_NEW_ONLY})", False
        self.changes.append(Change(kind, subject, detail, breaking))

    @contextmanager
    def _migration(self) -> Iterator[None]:
        """Changes between successive versions both accepted: moving on refuses nobody."""
        self._in_migration = True
        try:
            yield
        finally:
            self._in_migration = False

    @contextmanager
    def _held(self) -> Iterator[list[Change]]:
        """The changes emitted inside, held back from :attr:`changes` for the caller."""
        before = len(self.changes)
        held: list[Change] = []
        try:
            yield held
        finally:
            held.extend(self.changes[before:])
            del self.changes[before:]

    def procedures(self, old: Mapping[str, Procedure], new: Mapping[str, Procedure]) -> None:
        for code in sorted(old.keys() - new.keys()):
            self.emit(
                "procedure-removed", code, f"{old[code].name}; its dossiers are refused", True
            )
        for code in sorted(new.keys() - old.keys()):
            p = new[code]
            forms = f"required {_names(p.required_forms)}; optional {_names(p.optional_forms)}"
            self.emit("procedure-added", code, f"{p.name} ({forms}; in force {_period(p)})", False)
        for code in sorted(old.keys() & new.keys()):
            self._procedure(code, old[code], new[code])

    def _procedure(self, code: str, old: Procedure, new: Procedure) -> None:
        if old.name != new.name:
            self.emit("procedure-renamed", code, f"{old.name!r} -> {new.name!r}", False)
        for form in sorted(set(old.forms) | set(new.forms)):
            change = _FORM_ROLE_CHANGES.get((_role(form, old), _role(form, new)))
            if change is not None:
                kind, breaking, why = change
                self.emit(kind, code, f"form {form}: {why}", breaking)
        start_old, start_new = period_key(old.in_force_from), period_key(new.in_force_from)
        if start_old != start_new:
            narrowed = start_new > start_old
            detail = f"in force from {old.in_force_from} -> {new.in_force_from}"
            self.emit(
                "in-force-narrowed" if narrowed else "in-force-widened", code, detail, narrowed
            )
        if old.days_to_result != new.days_to_result:  # what its 02/TB-TS promises
            detail = f"processing time (NGAY_TRA) {old.days_to_result} -> {new.days_to_result} days"
            self.emit("days-to-result-changed", code, detail, False)
        if old.in_force_until != new.in_force_until:
            end_old = period_key(old.in_force_until) if old.in_force_until else None
            end_new = period_key(new.in_force_until) if new.in_force_until else None
            narrowed = end_new is not None and (end_old is None or end_new < end_old)
            detail = f"in force until {old.in_force_until or '-'} -> {new.in_force_until or '-'}"
            self.emit(
                "in-force-narrowed" if narrowed else "in-force-widened", code, detail, narrowed
            )

    def forms(self, old: Mapping[str, Form], new: Mapping[str, Form]) -> None:
        for code in sorted(old.keys() - new.keys()):
            detail = f"{old[code].name}; files of every version are refused"
            self.emit("form-removed", code, detail, True)
        for code in sorted(new.keys() - old.keys()):
            versions = ", ".join(v.version for v in new[code].versions)
            self.emit("form-added", code, f"{new[code].name} (versions {versions})", False)
        for code in sorted(old.keys() & new.keys()):
            self._form(old[code], new[code])

    def _form(self, old: Form, new: Form) -> None:
        code = old.code
        if old.name != new.name:
            self.emit("form-renamed", code, f"{old.name!r} -> {new.name!r}", False)
        if old.signature_node != new.signature_node:
            detail = f"signature node {old.signature_node} -> {new.signature_node}"
            self.emit("signature-node-changed", code, detail, True)
        old_versions = {v.version: v for v in old.versions}
        new_versions = {v.version: v for v in new.versions}
        for version in sorted(old_versions.keys() - new_versions.keys()):
            detail = (
                f"version {version} removed; {old_versions[version].file_name} files are refused"
            )
            self.emit("form-version-removed", f"{code}-{version}", detail, True)
        for version in sorted(new_versions.keys() - old_versions.keys()):
            self.emit(
                "form-version-added", f"{code}-{version}", f"version {version} accepted", False
            )
        compared: set[str] = set()
        if old.current.version != new.current.version:
            detail = f"current version {old.current.version} -> {new.current.version}"
            self.emit("form-current-changed", code, detail, False)
        others = [v for v in new.versions if v.version != new.current.version]
        if old.current.version != new.current.version and old.current.version not in new_versions:
            # one senders must leave, for the new current version or another still accepted
            self._leaving(old.current, new.current, others, code)
        elif old.current.version == new.current.version:
            # the same version: its differences are what changes for its senders
            self._versions(old.current, new.current, code)
            compared = {old.current.version}
        else:
            # the old current version stays accepted, so its senders are refused only if it
            # changed itself (compared below); the new version's differences are what moving
            # to it takes, which refuses nobody
            scope = f"{code}-{old.current.version}->{new.current.version}"
            with self._migration(), self._held() as moving:
                self._versions(old.current, new.current, scope, qualify=True)
            staying = f"{code}-{old.current.version}"
            with self._held() as kept:
                self._versions(old.current, new_versions[old.current.version], staying, True)
            self.changes += kept + _only_moving(moving, scope, kept, staying)
            compared = {old.current.version}
        for version in sorted((old_versions.keys() & new_versions.keys()) - compared):
            scope = f"{code}-{version}"
            self._versions(old_versions[version], new_versions[version], scope, qualify=True)

    def _leaving(
        self, old: FormVersion, new: FormVersion, others: list[FormVersion], code: str
    ) -> None:
        """The differences from a version the new catalog drops (``old``) to its successor
        ``new``: one ``others`` (versions also accepted) lack is "in the new version only",
        as when the old version stays accepted, since its senders may move to another."""
        with self._held() as moving:
            self._versions(old, new, code)
        elsewhere: set[tuple[str, str, str]] = set()
        for other in others:
            with self._held() as changes:
                self._versions(old, other, code)
            elsewhere.update((c.kind, c.subject, c.detail) for c in changes)
        for c in moving:
            if not others or (c.kind, c.subject, c.detail) in elsewhere:
                self.changes.append(c)
            else:
                self.changes.append(Change(c.kind, c.subject, f"{c.detail} ({_NEW_ONLY})", False))

    def _versions(
        self, old: FormVersion, new: FormVersion, scope: str, qualify: bool = False
    ) -> None:
        """Compare two form versions' XSDs and rules (see :meth:`schema`, :meth:`rules`)."""
        self.schema(old.xsd, new.xsd, scope, qualify)
        self.rules(old.rules, new.rules, scope, (old.xsd, new.xsd))
        self.result_rules(old.result_rules, new.result_rules, scope, (old.xsd, new.xsd))

    def result_rules(
        self, old_files: Iterable[Path], new_files: Iterable[Path], scope: str, xsds: XSDs
    ) -> None:
        """Result rules by ``@id``: they refuse nothing (compatible for every sender) but
        change which 03/TB-TS list defective rows, so each change is listed, but for a
        form none of whose elements the rule's context can select (a file forms share)."""
        old, new = self._rules_of(old_files), self._rules_of(new_files)
        declared = self._declared(xsds)

        def here(rule: Rule) -> bool:
            return declared is None or bool(reach(rule.context, declared))

        for key in sorted(old.keys() - new.keys()):
            rule = old[key]
            if here(rule):
                detail = f"[{rule.role}] on {rule.context}: {rule.test}; no longer listed"
                self.emit("result-rule-removed", f"{scope}#{key}", detail, False)
        for key in sorted(new.keys() - old.keys()):
            rule = new[key]
            if here(rule):
                detail = f"[{rule.role}] on {rule.context}: {rule.test}; may list defective rows"
                self.emit("result-rule-added", f"{scope}#{key}", detail, False)
        for key in sorted(old.keys() & new.keys()):
            was, now = old[key], new[key]
            parts = (("context", was.context, now.context), ("test", was.test, now.test))
            what = [f"{name} {a!r} -> {b!r}" for name, a, b in parts if a != b]
            if was.role != now.role:
                what.append(f"code {was.role} -> {now.role}")
            if what and (here(was) or here(now)):
                self.emit("result-rule-changed", f"{scope}#{key}", "; ".join(what), False)

    def _snapshot(self, path: Path) -> dict[str, Node]:
        if path not in self._snapshots:
            self._snapshots[path] = snapshot(path)
        return self._snapshots[path]

    def schema(self, old: Path, new: Path, scope: str | None, qualify: bool = False) -> None:
        """Compare two XSDs; paths are qualified by ``scope`` unless they start with it."""

        def scoped(kind: str, subject: str, detail: str, breaking: bool) -> None:
            root = subject.split("/", 1)[0]
            if scope is not None and (qualify or root != scope):
                subject = f"{scope}:{subject}"
            self.emit(kind, subject, detail, breaking)

        compare_nodes(self._snapshot(old), self._snapshot(new), scoped)

    def _rules_of(self, paths: Iterable[Path]) -> dict[str, Rule]:
        merged: dict[str, Rule] = {}
        for path in paths:
            if path not in self._rule_files:
                self._rule_files[path] = read_rules(path)
            merged.update(self._rule_files[path])
        return merged

    def _rejects(self, role: str) -> bool:
        return self._severity.get(role, "error") != "warning"

    def _declared(self, xsds: tuple[Path, Path]) -> frozenset[str] | None:
        """The element names a document of either XSD may hold (None: a wildcard allows
        any), which decide whether a rule change reaches the form."""
        nodes = [n for path in xsds for n in self._snapshot(path).values()]
        if any(_takes_unqualified(n) for n in nodes):
            return None
        return frozenset(n.path.rsplit("/", 1)[-1] for n in nodes if n.kind == "element")

    def rules(
        self,
        old_files: Iterable[Path],
        new_files: Iterable[Path],
        scope: str,
        xsds: tuple[Path, Path],
    ) -> None:
        """Schematron asserts by ``@id``: any new or stricter error-level rule may reject,
        unless what changed names only elements neither XSD (``xsds``) declares."""
        old, new = self._rules_of(old_files), self._rules_of(new_files)
        for key in sorted(old.keys() - new.keys()):
            rule = old[key]
            detail = f"rule removed [{rule.role}] on {rule.context}: {rule.test}"
            self.emit("rule-removed", f"{scope}#{key}", detail, False)
        for key in sorted(new.keys() - old.keys()):
            rule = new[key]
            rejects = self._rejects(rule.role)
            note = "" if rejects else " (warning only, does not reject)"
            detail = f"rule added [{rule.role}] on {rule.context}: {rule.test}{note}"
            self.emit("rule-added", f"{scope}#{key}", detail, rejects)
        declared = self._declared(xsds) if old.keys() & new.keys() else None
        for key in sorted(old.keys() & new.keys()):
            self._rule(f"{scope}#{key}", old[key], new[key], declared)

    def _rule(self, subject: str, old: Rule, new: Rule, declared: frozenset[str] | None) -> None:
        what: list[str] = []
        outside: set[str] = set()  # the elements the changed alternatives name
        reaches = False  # whether a change may select or test something in the form
        for name, was, now in (("context", old.context, new.context), ("test", old.test, new.test)):
            if was != now:
                what.append(f"{name} {was!r} -> {now!r}")
                names = unreached(was, now, declared)
                outside.update(names)
                reaches = reaches or not names
        changed = sorted(
            k
            for k in old.variables.keys() | new.variables.keys()
            if old.variables.get(k) != new.variables.get(k)
        )
        if changed:
            what.append(f"variable(s) {', '.join('$' + k for k in changed)} changed")
            reaches = True
        if what:
            rejects = self._rejects(new.role) and reaches
            note = "; may reject documents that passed" if rejects else "; warning only"
            if self._rejects(new.role) and not reaches:
                named = ", ".join(sorted(outside))
                note = f"; refuses nothing more: what changed names only {named}, not in this form"
            self.emit("rule-changed", subject, "; ".join(what) + note, rejects)
        if old.role != new.role:
            stricter = self._rejects(new.role) and not self._rejects(old.role)
            note = " (now rejects)" if stricter else ""
            self.emit(
                "rule-code-changed", subject, f"error code {old.role} -> {new.role}{note}", stricter
            )
        if old.message != new.message:
            self.emit(
                "rule-message-changed",
                subject,
                f"message {old.message!r} -> {new.message!r}",
                False,
            )


def _only_moving(
    moving: list[Change], scope: str, kept: list[Change], staying: str
) -> list[Change]:
    """The changes of moving to the new version (``scope``) that the still-accepted old
    one (``staying``) did not get too: a rule added to a file both use is in both, and
    already reported (breaking) for the old one, not "in the new version only"."""
    suffix = f" ({_NEW_ONLY})"
    also = {(c.kind, c.subject.removeprefix(staying), c.detail) for c in kept}
    return [
        c
        for c in moving
        if (c.kind, c.subject.removeprefix(scope), c.detail.removesuffix(suffix)) not in also
    ]
