"""From gateway answers to comparable outcomes: flatten, then mask what is volatile.

A regression diff is only useful if the unmodified gateway shows *no* difference, so
every value that changes from run to run (transaction ids, times, signatures, sequence
numbers) must be neutralised, and only those: masking too much hides regressions (a
date written ``yyyy-MM-dd`` instead of ``dd/MM/yyyy`` must still show). The rules are
data (``fixtures/baselines/masks.yaml``) so a reviewer sees exactly what is ignored.
The signature's bytes are masked, but whether it holds is not volatile: each answer and
message carries its ``signature`` verdict (:func:`signature_verdict`), compared as a value.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from harness.client import Answer
from harness.errors import ConfigError, SignatureInvalid
from harness.regression.corpus import baselines_dir
from harness.signing import TrustStore, default_directory, ensure_pki, signer_certificate, verify
from harness.xmlsafe import XMLRejected, parse_xml
from harness.yamlfile import load_yaml

ACTIONS = ("drop", "token", "shape", "regex")
BHXH_SIGNATURE = "XACNHAN_GDICH/TTCKY_BHXH"
"""Where BHXH signs every receipt, refusal and feed message (DOMAIN.md)."""
_TRUST_CODES = frozenset({"SIG-004", "SIG-005", "SIG-006"})
"""Findings about the signer's certificate (chain, validity, revocation), not the bytes: a
staging gateway's certificate need not chain to the harness's test CA."""
VALID, MISSING, TRUSTED = "valid", "missing", "trusted"


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
    """The ordered rules; every rule whose glob matches a field applies, in order.

    ``trust`` is whose signatures count as BHXH's (None: the default test PKI's); it rides
    here because the masks are what the replay hands every answer's normalisation."""

    rules: tuple[MaskRule, ...]
    trust: TrustStore | None = field(default=None, compare=False)

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


def load_masks(path: Path | None = None, *, trust: TrustStore | None = None) -> Masks:
    """Read ``masks.yaml`` (default ``fixtures/baselines/masks.yaml``), checking each rule;
    ``trust`` judges the gateway's signatures (default: the default test PKI's)."""
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
    return Masks(tuple(rules), trust)


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
    """The normalised outcome of one submission: status, verdict, findings, masked fields,
    and the verdict on BHXH's signature of the answer."""
    return {
        "status": answer.status,
        "accepted": answer.accepted,
        "codes": answer.codes,
        "findings": sorted([f.code, f.severity, f.xpath] for f in answer.findings),
        "answer": masks.apply(flatten(answer.raw)),
        "signature": signature_verdict(answer.raw, _trust(masks)),
    }


def message(kind: str, content: bytes, masks: Masks) -> dict[str, Any]:
    """A feed message, normalised: its kind, its masked fields and its signature verdict."""
    return {
        "kind": kind,
        "fields": masks.apply(flatten(content)),
        "signature": signature_verdict(content, _trust(masks)),
    }


def signature_verdict(body: bytes, trust: TrustStore) -> dict[str, str]:
    """``verdict`` (valid, missing, invalid SIG-00x), ``trust`` (trusted, untrusted SIG-004)
    and ``signer`` (the certificate's subject: a key rollover keeps it, a new signer not);
    the serial and the bytes are volatile, whether the signature holds is not."""
    try:
        root = parse_xml(body)
    except (XMLRejected, ValueError):
        return {"verdict": MISSING, "trust": "", "signer": ""}
    signer = signer_certificate(root, signature_parent=BHXH_SIGNATURE)
    subject = signer.subject.rfc4514_string() if signer is not None else ""
    try:
        verify(root, signature_parent=BHXH_SIGNATURE, trust=trust)
    except SignatureInvalid as exc:
        return _refused(sorted({f.code for f in exc.findings}), subject)
    except ValueError as exc:  # a certificate or value the signature library cannot read
        return {"verdict": f"invalid ({type(exc).__name__})", "trust": "", "signer": subject}
    return {"verdict": VALID, "trust": TRUSTED, "signer": subject}


def _refused(codes: list[str], subject: str) -> dict[str, str]:
    """The verdict of a signature :func:`verify` refused: missing (SIG-001), invalid (its
    other codes), and separately whether its certificate is trusted (SIG-004/5/6)."""
    if "SIG-001" in codes:
        return {"verdict": MISSING, "trust": "", "signer": ""}
    broken = [c for c in codes if c not in _TRUST_CODES]
    distrusted = [c for c in codes if c in _TRUST_CODES]
    return {
        "verdict": f"invalid ({' '.join(broken)})" if broken else VALID,
        "trust": f"untrusted ({' '.join(distrusted)})" if distrusted else TRUSTED,
        "signer": subject,
    }


def signature_notes(outcomes: dict[str, dict[str, Any]]) -> list[str]:
    """One line per kind of signature that is not valid and trusted among ``outcomes``
    (answers and feed messages), with how many and an example: a baseline recorded from a
    gateway that does not sign, or signs badly, would pass a candidate doing the same."""
    found: dict[str, list[str]] = {}
    for name, recorded in sorted(outcomes.items()):
        signed = [("answer", recorded.get("signature"))]
        signed += [(str(m.get("kind")), m.get("signature")) for m in recorded.get("messages", [])]
        for what, verdict in signed:
            if verdict and (verdict.get("verdict"), verdict.get("trust")) != (VALID, TRUSTED):
                text = ", ".join(v for v in (verdict.get("verdict"), verdict.get("trust")) if v)
                found.setdefault(text, []).append(f"{name} {what}")
    return [
        f"{len(where)} answer(s) or message(s) whose BHXH signature is {text}, e.g. "
        f"{where[0]}: recorded as what this gateway does, a candidate doing the same passes"
        for text, where in found.items()
    ]


def _trust(masks: Masks) -> TrustStore:
    return masks.trust if masks.trust is not None else _default_trust(default_directory())


@lru_cache(maxsize=4)
def _default_trust(directory: Path) -> TrustStore:
    """The default test PKI's trust (what ``record`` and ``regress`` sign and serve with
    unless told otherwise), read once per PKI folder."""
    return ensure_pki(directory).trust_store()


__all__ = [
    "BHXH_SIGNATURE",
    "MaskRule",
    "Masks",
    "flatten",
    "load_masks",
    "message",
    "outcome",
    "signature_notes",
    "signature_verdict",
]
