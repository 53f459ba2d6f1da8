"""A pool of pre-signed dossiers per I-VAN, built once, so signing never limits the generator.

Building and signing a dossier costs milliseconds (``benchmarks/bench_factory.py``), far
more than sending one, so a generator that signed per request would measure itself, not
the gateway. The gateway accepts the same envelope bytes again under a new
``X-Message-Id``, so a few signed dossiers per procedure are enough for any run. The
envelope names its I-VAN (``MaIVAN``, checked against the credential), hence one pool per
I-VAN. Every dossier is checked exactly as the gateway checks it before it enters the
pool, so a run never sends a dossier the gateway would rightly refuse.

Pools are JSON (base64 envelopes) so that worker processes, or worker machines that get
a copy of the file, load them without importing the factory; a worker that finds no
file builds the same pool from the same seed.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import itertools
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError, FactoryError
from harness.identities import ivan_name

POOL_FORMAT = 1


@dataclass(frozen=True)
class Ivan:
    """One I-VAN identity the generator speaks as: its code and bearer token."""

    code: str
    token: str

    @property
    def name(self) -> str:
        return ivan_name(self.code)


@dataclass(frozen=True)
class DossierPool:
    """Signed envelopes by procedure for one I-VAN and catalog version."""

    ivan: str
    catalog_version: str
    dossiers: Mapping[str, tuple[bytes, ...]]

    @property
    def procedures(self) -> list[str]:
        return sorted(self.dossiers)

    def __len__(self) -> int:
        return sum(len(v) for v in self.dossiers.values())

    def picker(self, weights: Mapping[str, float]) -> Picker:
        """A weighted chooser over the procedures that are both in ``weights`` and here."""
        kept = [(code, w) for code, w in weights.items() if w > 0 and self.dossiers.get(code)]
        if not kept:
            raise ConfigError(
                f"the pool of {self.ivan} has no dossier of any procedure in the mix",
                hint=f"pool procedures: {', '.join(self.procedures)}",
            )
        codes = [code for code, _ in kept]
        cumulative = list(itertools.accumulate(w for _, w in kept))
        return Picker(codes, cumulative, [self.dossiers[c] for c in codes])

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "format": POOL_FORMAT,
            "ivan": self.ivan,
            "catalog": self.catalog_version,
            "dossiers": {
                code: [base64.b64encode(e).decode("ascii") for e in envelopes]
                for code, envelopes in self.dossiers.items()
            },
        }
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> DossierPool:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != POOL_FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {POOL_FORMAT}")
            dossiers = {
                str(code): tuple(base64.b64decode(e) for e in envelopes)
                for code, envelopes in data["dossiers"].items()
            }
            return cls(str(data["ivan"]), str(data["catalog"]), dossiers)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"cannot read dossier pool {path}: {exc}") from exc


@dataclass(frozen=True)
class Picker:
    """Chooses a procedure by weight, then one of its envelopes; cheap per call."""

    codes: Sequence[str]
    cumulative: Sequence[float]
    envelopes: Sequence[Sequence[bytes]]

    def pick(self, rng: random.Random) -> tuple[str, bytes]:
        index = bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])
        index = min(index, len(self.codes) - 1)
        choices = self.envelopes[index]
        return self.codes[index], choices[rng.randrange(len(choices))]


def pool_path(directory: Path, ivan: str) -> Path:
    return directory / f"pool-{ivan}.json"


def build_pool(
    ivan: Ivan,
    procedures: Sequence[str],
    per_procedure: int,
    seed: int = 1,
    catalog_version: str | None = None,
) -> DossierPool:
    """Sign ``per_procedure`` dossiers of each procedure that pass the gateway's own check.

    Seeds the factory rejects are skipped (the factory is seeded, so the pool is the same
    on every machine); a procedure with no valid dossier in many seeds is an error.
    """
    from harness.catalog import latest_version, load_catalog
    from harness.conformance import DossierChecker
    from harness.dossiers.factory import DossierFactory
    from harness.signing import ensure_pki

    if per_procedure < 1:
        raise ConfigError(f"pool_size={per_procedure} must be at least 1")
    catalog = load_catalog(catalog_version or latest_version())
    pki = ensure_pki()
    factory = DossierFactory(catalog, pki, ivan=(ivan.code, ivan.name))
    checker = DossierChecker(catalog, pki.trust_store())
    dossiers: dict[str, tuple[bytes, ...]] = {}
    for offset, code in enumerate(procedures):
        kept: list[bytes] = []
        start = seed * 100_000 + offset * 10_000
        for attempt in range(per_procedure * 10):
            envelope = factory.build(code, start + attempt).envelope
            if checker.check(envelope, ivan=ivan.code).accepted:
                kept.append(envelope)
                if len(kept) == per_procedure:
                    break
        if not kept:
            raise FactoryError(f"no dossier of procedure {code} passed the gateway's check")
        dossiers[code] = tuple(kept)
    return DossierPool(ivan.code, catalog.version, dossiers)


def load_or_build(
    directory: Path | None,
    ivan: Ivan,
    weights: Mapping[str, float],
    per_procedure: int,
    seed: int = 1,
    catalog_version: str | None = None,
) -> DossierPool:
    """The pool file of ``ivan`` under ``directory``, built (and saved) when it is missing.

    A built pool holds the procedures of ``weights`` that the catalog version has. With
    no ``directory`` the pool is built in memory, once per process.
    """
    path = pool_path(directory, ivan.code) if directory is not None else None
    if path is not None and path.is_file():
        return DossierPool.load(path)
    from harness.catalog import latest_version, load_catalog
    from harness.load.profile import mix_for_catalog

    catalog = load_catalog(catalog_version or latest_version())
    kept, _dropped = mix_for_catalog(weights, list(catalog.procedures))
    pool = build_pool(ivan, sorted(kept), per_procedure, seed, catalog.version)
    if path is not None and path.parent.is_dir():  # not on a worker of another machine
        with contextlib.suppress(OSError):
            pool.save(path)
    return pool


__all__ = [
    "DossierPool",
    "Ivan",
    "Picker",
    "build_pool",
    "load_or_build",
    "pool_path",
]
