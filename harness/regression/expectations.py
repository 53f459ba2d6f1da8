"""Intended changes of a release, and what a newer catalog did to unchanged procedures.

A release that *means* to change behaviour ("D02-TS 505 now requires MaPhongBan")
declares it in an expectations file, so ``regress`` fails only on the unintended rest:

```yaml
expected:
  - kind: changed-error-code      # required: a difference kind (compare.EXPECTABLE_KINDS)
    procedure: "600"              # optional globs, matched against the difference
    dossier: "600/impossible-*"
    form: "D02-TS-*"              # any of the dossier's form versions (e.g. D02-TS-595)
    field: "*"
    actual: "RULE-150"
    reason: "RULE-105 split into RULE-150 (decision 123)"   # required: why it is intended
```

Expectations that match nothing are reported too: a declared change that did not happen
is worth knowing about.
"""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.catalog import list_versions, load_catalog
from harness.catalog.diff import EFFECTIVE_FROM_CHANGED, CatalogDiff, diff_catalogs
from harness.errors import ConfigError, UsageError
from harness.regression.compare import EXPECTABLE_KINDS, NEW_CATALOG_REJECTED, Difference
from harness.suggestions import did_you_mean
from harness.yamlfile import line_of, load_yaml

_MATCH_KEYS = ("procedure", "dossier", "form", "field", "expected", "actual")


def form_versions(forms: tuple[str, ...]) -> list[str]:
    """``D02-TS-595.xml`` -> ``D02-TS-595``: how reports group dossiers by form version."""
    return [f.removesuffix(".xml") for f in forms]


@dataclass(frozen=True)
class Expectation:
    """One declared, intended difference (globs; absent keys match anything)."""

    kind: str
    reason: str
    patterns: tuple[tuple[str, str], ...] = ()

    def matches(self, d: Difference) -> bool:
        """Whether ``d`` is this intended change; text compares in NFC, so a glob typed
        with precomposed letters matches a decomposed answer that looks the same."""
        if not fnmatch.fnmatchcase(d.kind, self.kind):
            return False
        for key, pattern in self.patterns:
            if key == "form":
                if not any(fnmatch.fnmatchcase(f, pattern) for f in form_versions(d.forms)):
                    return False
            elif not fnmatch.fnmatchcase(_nfc(str(getattr(d, key))), _nfc(pattern)):
                return False
        return True

    def describe(self) -> str:
        where = ", ".join(f"{k}={v}" for k, v in self.patterns)
        return f"{self.kind}{' (' + where + ')' if where else ''}: {self.reason}"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


_KEYS = frozenset({"kind", "reason", *_MATCH_KEYS})
_NOT_PROCEDURES = ("static", "all")
"""What a difference's procedure is besides a catalog's: the static hostile files, or
the whole gateway (a latency median, a catalog gone)."""


def _refuse(path: Path, line: int | None, message: str, hint: str) -> ConfigError:
    """``file:line: message``: where in the expectations file the mistake is."""
    where = f"{path}:{line}" if line is not None else str(path)
    return ConfigError(f"{where}: {message}", hint=hint)


def _glob(path: Path, line: int | None, key: str, pattern: str) -> str:
    """A pattern ``fnmatch`` reads as the user meant: an unclosed ``[`` is a typo, not text."""
    depth = 0
    for char in pattern:
        depth = 1 if char == "[" else 0 if char == "]" else depth
    if depth:
        raise _refuse(
            path,
            line,
            f"{key}: {pattern!r} opens a '[' it never closes",
            hint="close it (e.g. [0-9]) or write a literal bracket as [[]",
        )
    return pattern


def _text(value: object) -> str:
    """A YAML value as stripped text; an absent or empty (``reason:``) one is ""."""
    return "" if value is None else str(value).strip()


def _kind_and_reason(
    path: Path, line: int | None, index: int, raw: dict[str, object]
) -> tuple[str, str]:
    """The entry's kind glob and reason, each refused on its own: told only "needs a known
    kind and a reason", a user with a good kind hunted for what was wrong with it."""
    kinds = f"kinds: {', '.join(EXPECTABLE_KINDS)}"
    kind = _glob(path, line, "kind", _text(raw.get("kind")))
    if not kind:
        raise _refuse(path, line, f"expectation {index} has no kind", hint=kinds)
    if not any(fnmatch.fnmatchcase(k, kind) for k in EXPECTABLE_KINDS):
        raise _refuse(
            path,
            line_of(raw, "kind"),
            f"expectation {index} needs a known kind: {kind!r} is none, and as a glob matches none",
            hint=did_you_mean(kind, EXPECTABLE_KINDS) + kinds,
        )
    reason = _text(raw.get("reason"))
    if not reason:
        raise _refuse(
            path,
            line,
            f"expectation {index} ({kind}) has no reason",
            hint="add `reason:` saying why this difference is intended (e.g. the decision "
            "or ticket); the report shows it beside each difference it excuses",
        )
    return kind, reason


def load_expectations(path: Path | None) -> list[Expectation]:
    """Read an expectations file (None: nothing is intended); a misspelt key, kind or
    glob is refused with file:line, since it would silently match everything or nothing."""
    if path is None:
        return []
    if path.is_dir():
        raise UsageError(f"expectations file {path} is a folder", hint="name its YAML file")
    if not path.is_file():
        raise UsageError(f"expectations file {path} does not exist")
    data = load_yaml(path)
    shape = "expected: [{kind: ..., reason: ..., procedure: ..., field: ...}, ...]"
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) != {"expected"}:
        found = ", ".join(sorted(data)) if isinstance(data, dict) else type(data).__name__
        close = (
            "".join(did_you_mean(str(k), ["expected"]) for k in data)
            if isinstance(data, dict)
            else ""
        )
        raise _refuse(
            path,
            line_of(data),
            f"an expectations file holds a list `expected` and nothing else (found: {found})",
            hint=close + shape,
        )
    if not isinstance(data["expected"] or [], list):
        raise _refuse(
            path, line_of(data), "an expectations file holds a list `expected`", hint=shape
        )
    out = []
    for index, raw in enumerate(data["expected"] or (), 1):
        if not isinstance(raw, dict):
            raise _refuse(path, line_of(data), f"expectation {index} is not a mapping", hint=shape)
        line = line_of(raw)
        _refuse_unknown_keys(path, index, raw)
        kind, reason = _kind_and_reason(path, line, index, raw)
        patterns = tuple((k, _pattern(path, index, raw, k)) for k in _MATCH_KEYS if k in raw)
        out.append(Expectation(kind, reason, patterns))
    return out


def _refuse_unknown_keys(path: Path, index: int, raw: dict[str, object]) -> None:
    """A misspelt key (``procdure``) would be ignored, widening the entry to match all."""
    unknown = sorted(map(str, set(raw) - _KEYS))
    if not unknown:
        return
    close = "".join(did_you_mean(key, sorted(_KEYS)) for key in unknown)
    raise _refuse(
        path,
        line_of(raw, unknown[0]),
        f"expectation {index}: unknown key {', '.join(unknown)}",
        hint=f"{close}keys: {', '.join(sorted(_KEYS))}",
    )


def _pattern(path: Path, index: int, raw: dict[str, object], key: str) -> str:
    """The glob of ``key``: a blank (``actual:``) or null value is refused, not read as the
    text "None" that matches nothing; a procedure no catalog has is refused too."""
    value, line = raw[key], line_of(raw, key)
    if value is None or isinstance(value, dict | list):
        shown = "no value" if value is None else f"a {type(value).__name__}, not a text"
        raise _refuse(
            path,
            line,
            f"expectation {index}: {key} has {shown}",
            hint=f"give {key} a glob (e.g. {key}: '*'), or leave {key} out to match anything",
        )
    pattern = _glob(path, line, key, str(value))
    if key == "procedure":
        _refuse_unknown_procedure(path, line, index, pattern)
    return pattern


def _refuse_unknown_procedure(path: Path, line: int | None, index: int, pattern: str) -> None:
    """A procedure no catalog of this harness has (nor ``static``, ``all``) matches nothing."""
    known = sorted(
        {code for version in list_versions() for code in load_catalog(version).procedures}
    )
    if any(fnmatch.fnmatchcase(code, pattern) for code in [*known, *_NOT_PROCEDURES]):
        return
    raise _refuse(
        path,
        line,
        f"expectation {index}: procedure {pattern!r} is in no catalog of this harness",
        hint=f"{did_you_mean(pattern, known)}procedures: {', '.join(known)} (and "
        f"{' and '.join(_NOT_PROCEDURES)}: the static files, the whole gateway)",
    )


def apply_expectations(
    differences: list[Difference], expectations: list[Expectation]
) -> tuple[list[tuple[Difference, str]], list[Difference], list[Expectation]]:
    """Split into (intended with reason, unintended) and the expectations left unused."""
    intended: list[tuple[Difference, str]] = []
    unintended: list[Difference] = []
    used: set[int] = set()
    for d in differences:
        hit = next((i for i, e in enumerate(expectations) if e.matches(d)), None)
        if hit is None:
            unintended.append(d)
        else:
            used.add(hit)
            intended.append((d, expectations[hit].reason))
    unused = [e for i, e in enumerate(expectations) if i not in used]
    return intended, unintended, unused


@dataclass(frozen=True)
class CatalogImpact:
    """The candidate serves a newer catalog: which procedures it left alone, and what broke."""

    diff: CatalogDiff
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    broken: tuple[Difference, ...]
    """Previously accepted dossiers of unchanged procedures now refused whose period the
    new version governs, and valid dossiers of those procedures built for the new version
    that the candidate refused."""


def touched_procedures(diff: CatalogDiff) -> set[str]:
    """Procedures a catalog change concerns: named directly or through one of their forms.

    A change's subject starts with what it is about (``600``, ``D02-TS``, ``D02-TS-595:…``,
    ``D02-TS#rule``, ``D02-TS/path``); one about anything else (the envelope's schema or
    rules) concerns every procedure, since every dossier carries the envelope.
    """
    old, new = load_catalog(diff.old_version), load_catalog(diff.new_version)
    owners: dict[str, set[str]] = {}  # subject head -> procedures it concerns
    for catalog in (old, new):
        for code, procedure in catalog.procedures.items():
            owners.setdefault(code, set()).add(code)
            for form_code in procedure.forms:
                heads = {form_code}
                for form in (old.forms.get(form_code), new.forms.get(form_code)):
                    heads |= {f"{form_code}-{v.version}" for v in form.versions} if form else set()
                for head in heads:
                    owners.setdefault(head, set()).add(code)
    everything = set(old.procedures)
    touched: set[str] = set()
    for change in diff.changes:
        if change.kind == EFFECTIVE_FROM_CHANGED:  # a date, not a change of any procedure
            continue
        head = re.split(r"[:#/]|->", change.subject, maxsplit=1)[0]  # TK1-TS-595->600:…
        touched |= owners.get(head, everything)
    return touched & everything


def _breaks(d: Difference, new: str, governed: Collection[str]) -> bool:
    """A valid dossier of catalog ``new`` refused, or a previously valid one refused whose
    period ``new`` governs at the candidate: one dated in an older version's period is
    judged by that version, so its refusal is the release's, not the new catalog's."""
    if d.kind == NEW_CATALOG_REJECTED:
        return d.field == f"catalog {new}"
    return d.kind == "newly-rejected" and d.dossier in governed


def catalog_impact(
    baseline_catalogs: tuple[str, ...] | list[str],
    candidate_catalogs: tuple[str, ...] | list[str],
    differences: list[Difference],
    governed: Mapping[str, str],
) -> CatalogImpact | None:
    """When the candidate's newest catalog (of those this harness has) differs from the
    baseline's, what that broke: the corpus's dossiers newly refused whose period it
    governs at the candidate (``governed``: dossier -> the version now governing it, see
    :func:`~harness.regression.deployment.governed_elsewhere`), and the newest catalog's
    own valid dossiers refused (``new-catalog-rejected``), which alone reach the rules of
    a version that governs none of the corpus's periods."""
    if not baseline_catalogs or not candidate_catalogs:
        return None
    old = baseline_catalogs[-1]
    on_disk = set(list_versions())  # read once, not per candidate version
    known = [v for v in candidate_catalogs if v in on_disk]
    new = known[-1] if known else candidate_catalogs[-1]
    if old == new or old not in candidate_catalogs:
        return None  # the same, or an older one: a catalog-removed difference says so
    try:
        diff = diff_catalogs(load_catalog(old), load_catalog(new))
    except UsageError:
        return None  # the candidate serves a catalog this harness does not have
    touched = touched_procedures(diff)
    procedures = sorted(load_catalog(old).procedures)
    unchanged = tuple(p for p in procedures if p not in touched)
    by_new = {name for name, version in governed.items() if version == new}
    broken = tuple(d for d in differences if d.procedure in unchanged and _breaks(d, new, by_new))
    return CatalogImpact(diff, tuple(sorted(touched)), unchanged, broken)


__all__ = [
    "CatalogImpact",
    "Expectation",
    "apply_expectations",
    "catalog_impact",
    "form_versions",
    "load_expectations",
    "touched_procedures",
]
