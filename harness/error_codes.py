"""The gateway's stable error codes, read from ``fixtures/error_codes.yaml``.

Every module that reports a broken rule builds its :class:`~harness.errors.Finding` here,
so the Vietnamese and English texts live in one reviewed file and a code can never be
reported with a text that belongs to another code. The file is read once per process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from harness.errors import CatalogError, Finding, UsageError
from harness.paths import fixtures_dir
from harness.yamlfile import load_yaml


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
    codes: dict[str, ErrorCode] = {}
    for code, entry in raw.items():
        if not isinstance(entry, dict) or not {"http", "vi", "en"} <= entry.keys():
            raise CatalogError(f"{code}: needs http, vi and en", path=str(path))
        codes[str(code)] = ErrorCode(
            code=str(code),
            http=int(entry["http"]),
            severity=str(entry.get("severity", "error")),
            vi=str(entry["vi"]),
            en=str(entry["en"]),
        )
    return codes


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
