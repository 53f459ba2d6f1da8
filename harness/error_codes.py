"""The gateway's stable error codes, read from ``fixtures/error_codes.yaml``.

Every module that reports a broken rule builds its :class:`~harness.errors.Finding` here,
so the Vietnamese and English texts live in one reviewed file and a code can never be
reported with a text that belongs to another code. The file is read once per process.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from harness.errors import CatalogError, Finding, UsageError
from harness.paths import fixtures_dir
from harness.suggestions import did_you_mean
from harness.yamlfile import line_of, load_yaml

_KEYS = ("http", "severity", "vi", "en")


@dataclass(frozen=True)
class ErrorCode:
    """One entry of ``error_codes.yaml``: HTTP status, severity and the two texts."""

    code: str
    http: int
    severity: str
    vi: str
    en: str


def _parse(path: Path) -> dict[str, ErrorCode]:
    try:
        raw: Any = load_yaml(path)  # refuses a code given twice, which YAML would let pass
    except OSError as exc:
        raise CatalogError(f"cannot read error codes: {exc}", path=str(path)) from exc
    if not isinstance(raw, dict):
        raise CatalogError("expected a mapping of code -> {http, vi, en}", path=str(path))
    return {str(code): _entry(path, raw, str(code)) for code in raw}


def _entry(path: Path, raw: Any, code: str) -> ErrorCode:
    """One code's entry, its texts in NFC: the gateway answers them to senders as they are."""
    entry = raw[code]

    def refuse(message: str, hint: str, key: str | None = None) -> CatalogError:
        line = line_of(entry, key) if key else line_of(raw, code)
        return CatalogError(f"{code}: {message}", path=str(path), line=line, hint=hint)

    example = f'{code}: {{http: 400, vi: "...", en: "..."}}'
    if not isinstance(entry, dict) or not {"http", "vi", "en"} <= entry.keys():
        missing = [k for k in ("http", "vi", "en") if not isinstance(entry, dict) or k not in entry]
        raise refuse(f"needs http, vi and en (missing: {', '.join(missing)})", f"e.g. {example}")
    for key in entry:
        if key not in _KEYS:
            guess = did_you_mean(key, _KEYS)
            raise refuse(f"unknown key {key!r}", f"{guess}an entry takes {', '.join(_KEYS)}", key)
    http = entry["http"]
    if isinstance(http, bool) or not isinstance(http, int) or not 100 <= http <= 599:
        raise refuse(f"http must be an HTTP status such as 400, got {http!r}", example, "http")
    return ErrorCode(
        code=code,
        http=http,
        severity=str(entry.get("severity", "error")),
        vi=unicodedata.normalize("NFC", str(entry["vi"])),
        en=unicodedata.normalize("NFC", str(entry["en"])),
    )


@cache
def load(path: Path | None = None) -> Mapping[str, ErrorCode]:
    """All codes, keyed by code; ``path`` defaults to ``fixtures/error_codes.yaml``."""
    return _parse(path if path is not None else fixtures_dir() / "error_codes.yaml")


def describe(code: str) -> ErrorCode:
    """The entry for ``code``; an unknown code is a programming error, so it fails loudly."""
    try:
        return load()[code]
    except KeyError:
        raise UsageError(
            f"unknown error code {code!r}",
            hint="add it to fixtures/error_codes.yaml before reporting it",
        ) from None


def finding(code: str, xpath: str, **context: str) -> Finding:
    """A :class:`Finding` for ``code`` at ``xpath``; ``context`` carries the evidence."""
    entry = describe(code)
    return Finding(
        code=code,
        xpath=xpath,
        message_vi=entry.vi,
        message_en=entry.en,
        severity=entry.severity,
        context=dict(context),
    )
