"""``serve``'s memory of smoke runs that passed: a file under ``.cache/smoke/`` named by
the digest of everything the run reads, so the same data and code are not run again at
every start (the factory's first dossiers cost about a second, a digest milliseconds)."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import harness
from harness.catalog import Catalog
from harness.paths import cache_dir, fixtures_dir


def remember_pass(catalog: Catalog, mark: Path | None = None, warning: str = "") -> None:
    """Note that ``catalog`` passed its smoke run, or only with ``warning`` (an unwritable
    cache only costs time)."""
    mark = mark or pass_mark(catalog)
    with contextlib.suppress(OSError):
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.write_text(warning, encoding="utf-8")


def pass_mark(catalog: Catalog) -> Path:
    """``.cache/smoke/<version>-<digest>``: the digest of everything the smoke run reads
    (the version's files, the shared reference files) and of the harness's code (by
    size and time, as a checkout is edited)."""
    digest = hashlib.sha256()
    data = [catalog.root, fixtures_dir() / "reference", fixtures_dir() / "error_codes.yaml"]
    for path in _files(data):
        digest.update(f"{path}\0".encode() + path.read_bytes())
    for path in _files([Path(harness.__file__).parent]):
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return cache_dir() / "smoke" / f"{catalog.version}-{digest.hexdigest()[:32]}"


def _files(roots: list[Path]) -> list[Path]:
    """Every file below ``roots`` (a file stands for itself), in a stable order."""
    found = [p for root in roots for p in ([root] if root.is_file() else root.rglob("*"))]
    return sorted(p for p in found if p.is_file() and "__pycache__" not in p.parts)


__all__ = ["pass_mark", "remember_pass"]
