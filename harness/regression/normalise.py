"""From gateway answers to comparable outcomes: flatten, then mask what is volatile.

A regression diff is only useful if the unmodified gateway shows *no* difference, so
every value that changes from run to run (transaction ids, times, signatures, sequence
numbers) must be neutralised, and only those: masking too much hides regressions (a
date written ``yyyy-MM-dd`` instead of ``dd/MM/yyyy`` must still show). The rules are
data (``fixtures/baselines/masks.yaml``) so a reviewer sees exactly what is ignored.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from harness.client import Answer
from harness.errors import ConfigError
from harness.regression.corpus import baselines_dir
from harness.xmlsafe import XMLRejected, parse_xml
from harness.yamlfile import load_yaml

ACTIONS = ("drop", "token", "shape", "regex")


@dataclass(frozen=True)
class MaskRule:
    """One declared rule: which fields (glob) and what to do with their values."""

    field: str
    action: str
    pattern: re.Pattern[str] | None = None
    replace: str = ""
    why: str = ""

    def apply(self, name: str, value: str) -> str | None:
        """The masked value (None: drop the field)."""
        if self.action == "drop":
            return None
        if self.action == "token":
            return f"<{name.rsplit('/', 1)[-1].split('[')[0]}>" if value else ""
        if self.action == "shape":
            return re.sub(r"\d", "9", value)
        assert self.pattern is not None
        return self.pattern.sub(self.replace, value)


@dataclass(frozen=True)
class Masks:
    """The ordered rules; every rule whose glob matches a field applies, in order."""

    rules: tuple[MaskRule, ...]

    def apply(self, fields: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in fields.items():
            masked: str | None = value
            for rule in self.rules:
                if masked is not None and fnmatch.fnmatchcase(name, rule.field):
                    masked = rule.apply(name, masked)
            if masked is not None:
                out[name] = masked
        return out


def load_masks(path: Path | None = None) -> Masks:
    """Read ``masks.yaml`` (default ``fixtures/baselines/masks.yaml``), checking each rule."""
    source = path or baselines_dir() / "masks.yaml"
    data = load_yaml(source) or {}
    rules = []
    for index, raw in enumerate(data.get("rules", ()), 1):
        action = str(raw.get("action", ""))
        if action not in ACTIONS or "field" not in raw:
            raise ConfigError(
                f"{source}: rule {index} needs a field and an action", hint=f"actions: {ACTIONS}"
            )
        pattern = raw.get("pattern")
        if action == "regex" and not pattern:
            raise ConfigError(f"{source}: rule {index} (regex) needs a pattern")
        rules.append(
            MaskRule(
                field=str(raw["field"]),
                action=action,
                pattern=re.compile(str(pattern)) if pattern else None,
                replace=str(raw.get("replace", "")),
                why=str(raw.get("why", "")),
            )
        )
    return Masks(tuple(rules))


def flatten(body: bytes) -> dict[str, str]:
    """Every leaf below ``XACNHAN_GDICH`` as ``path -> text`` (repeated siblings get [n])."""
    try:
        root = parse_xml(body)
    except (XMLRejected, ValueError):
        return {"<unreadable>": f"{len(body)} bytes"}
    top = root.find("XACNHAN_GDICH")
    if top is None:
        return {"<root>": str(root.tag)}
    fields: dict[str, str] = {}
    _walk(top, "", fields)
    return fields


def _walk(node: etree._Element, prefix: str, fields: dict[str, str]) -> None:
    children = [c for c in node if isinstance(c.tag, str)]
    counts: dict[str, int] = {}
    for child in children:
        name = etree.QName(child).localname
        counts[name] = counts.get(name, 0) + 1
    seen: dict[str, int] = {}
    for child in children:
        name = etree.QName(child).localname
        seen[name] = seen.get(name, 0) + 1
        label = f"{name}[{seen[name]}]" if counts[name] > 1 else name
        path = f"{prefix}{label}"
        if len(child):
            _walk(child, path + "/", fields)
        else:
            fields[path] = (child.text or "").strip()


def outcome(answer: Answer, masks: Masks) -> dict[str, Any]:
    """The normalised outcome of one submission: status, verdict, findings, masked fields."""
    return {
        "status": answer.status,
        "accepted": answer.accepted,
        "codes": answer.codes,
        "findings": sorted([f.code, f.severity, f.xpath] for f in answer.findings),
        "answer": masks.apply(flatten(answer.raw)),
    }


def message(kind: str, content: bytes, masks: Masks) -> dict[str, Any]:
    """A feed message, normalised: its kind and its masked fields."""
    return {"kind": kind, "fields": masks.apply(flatten(content))}


__all__ = ["MaskRule", "Masks", "flatten", "load_masks", "message", "outcome"]
