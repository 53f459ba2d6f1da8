"""The gateway's settings, in one frozen value that survives a trip through the environment.

``uvicorn --workers N`` starts fresh processes that import the app by name, so the
settings cannot be passed as Python objects: :meth:`GatewayConfig.to_env` writes them as
one JSON variable and :meth:`GatewayConfig.from_env` reads them back in each worker.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.credentials import IVAN_CODE_HINT, ivan_code_problem, token_problem
from harness.errors import CatalogError, ConfigError
from harness.identities import ADMIN_TOKEN, token_of
from harness.paths import reports_dir

ENV_CONFIG = "BHXH_GATEWAY_CONFIG"

DEFAULT_IVAN_TOKENS: Mapping[str, str] = {code: token_of(code) for code in ("IVAN01", "IVAN02")}
"""Well-known test credentials: anyone may read them, so the gateway is a test system only."""

DEFAULT_ADMIN_TOKEN = ADMIN_TOKEN
DEFAULT_DATABASE_URL = "sqlite:///bhxh-gateway.sqlite3"
MAX_CLOCK_SPEED = 100_000.0
"""Fastest simulated clock: a simulated year in about 5 real minutes (the suites use at
most 20,000). Even so it reaches :data:`mock_gateway.clock.LATEST` within a day, and stops."""
MAX_DELAY = 10 * 366 * 86400.0
"""Longest lifecycle delay, as long as the longest clock advance: a larger one overflowed."""


@dataclass(frozen=True)
class GatewayConfig:
    """Everything a gateway needs to start; every field has a test-friendly default.

    Delays are in *simulated* seconds (see :class:`mock_gateway.clock.SimulatedClock`);
    ``clock_speed`` is simulated seconds per real second (0 freezes time, for tests).
    """

    database_url: str = DEFAULT_DATABASE_URL
    catalog_versions: tuple[str, ...] = ()  # empty: every version on disk
    ivan_tokens: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_IVAN_TOKENS))
    admin_token: str = DEFAULT_ADMIN_TOKEN
    max_body_bytes: int = 20 * 1024 * 1024
    clock_speed: float = 1.0
    handover_delay: float = 15 * 60.0
    result_delay: float = 60 * 60.0
    pki_directory: str | None = None  # None: harness.signing.default_directory()
    signer: str = "bhxh"
    processor_interval: float = 0.25  # real seconds between background processor runs
    traffic_flush_interval: float = 0.1  # real seconds a traffic row may wait in memory
    feed_limit_max: int = 1000
    sqlite_synchronous: str = "FULL"  # FULL: survives power loss; NORMAL: survives SIGKILL
    release: str | None = None  # a faulty release profile (fixtures/releases/<name>.yaml)
    core_threads: int = 0  # threads running the core per worker; 0: on the event loop
    metrics_dir: str | None = None  # workers of one server share /metrics through it
    reports_directory: str | None = None  # suite runs shown at /dashboard/runs; None: reports/
    workers: int = 1  # processes serving (reported by /healthz)
    client_timeout: float = 30.0  # real seconds to send a request head, or to pause mid-body

    def __post_init__(self) -> None:
        problems = []
        if not self.ivan_tokens:
            problems.append("at least one I-VAN token is needed")
        tokens = [*self.ivan_tokens.values(), self.admin_token]
        problems.extend(self._ivan_code_problems())
        for code, token in self.ivan_tokens.items():
            if (problem := token_problem(token)) is not None:
                problems.append(f"the token of {code}: {problem}")
        if (problem := token_problem(self.admin_token)) is not None:
            problems.append(f"the admin token: {problem}")
        if len(set(tokens)) != len(tokens):
            problems.append("every I-VAN and the admin need distinct tokens")
        if self.max_body_bytes <= 0:
            problems.append("max_body_bytes must be positive")
        if not (math.isfinite(self.clock_speed) and self.clock_speed >= 0):
            problems.append("clock_speed must be a finite number, 0 (frozen) or more")
        elif self.clock_speed > MAX_CLOCK_SPEED:
            problems.append(
                f"clock_speed {self.clock_speed:g} is over {MAX_CLOCK_SPEED:.0f} simulated "
                "seconds per real second (a simulated year in 5 real minutes)"
            )
        if not all(0 <= d <= MAX_DELAY for d in (self.handover_delay, self.result_delay)):
            problems.append(f"delays must be from 0 to {MAX_DELAY:.0f} s (10 years)")
        if self.workers < 1:
            problems.append("workers must be at least 1")
        if not 0 <= self.core_threads <= 64:
            problems.append("core_threads must be between 0 and 64")
        if not (math.isfinite(self.client_timeout) and 0 < self.client_timeout <= MAX_DELAY):
            problems.append("client_timeout must be a positive number of seconds")
        if self.sqlite_synchronous not in ("FULL", "NORMAL"):
            problems.append("sqlite_synchronous must be FULL or NORMAL")
        if problems:
            raise ConfigError(
                "invalid gateway settings: " + "; ".join(problems),
                hint="see `bhxh-harness serve --help` (tokens: --ivan-token CODE=TOKEN, "
                "--admin-token; each token names one party)",
            )

    def _ivan_code_problems(self) -> list[str]:
        """I-VAN codes no envelope of the served catalogs can name (MaIVAN): their tokens
        would be accepted and every dossier refused (ENV-001, or ENV-010 for another code)."""
        try:
            return [
                f"I-VAN code {code!r}: {problem}; {IVAN_CODE_HINT}"
                for code in self.ivan_tokens
                if (problem := ivan_code_problem(code, self.catalog_versions)) is not None
            ]
        except CatalogError:  # the core refuses a missing or broken catalog, naming the known
            return []

    def with_changes(self, **changes: Any) -> GatewayConfig:
        """A copy with some fields replaced (validated again)."""
        return replace(self, **changes)

    @property
    def pki_path(self) -> Path | None:
        return Path(self.pki_directory) if self.pki_directory else None

    @property
    def reports_path(self) -> Path:
        """Where suite runs write their ``<run-id>/`` folders (the dashboard lists them)."""
        return Path(self.reports_directory) if self.reports_directory else reports_dir()

    def to_json(self) -> str:
        data = asdict(self)
        data["ivan_tokens"] = dict(self.ivan_tokens)
        data["catalog_versions"] = list(self.catalog_versions)
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> GatewayConfig:
        try:
            data = json.loads(text)
            data["catalog_versions"] = tuple(data.get("catalog_versions", ()))
            return cls(**data)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"cannot read gateway settings: {exc}") from exc

    def to_env(self, environ: dict[str, str] | None = None) -> None:
        """Write the settings to ``environ`` (default ``os.environ``) for worker processes."""
        (os.environ if environ is None else environ)[ENV_CONFIG] = self.to_json()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewayConfig:
        """The settings from ``$BHXH_GATEWAY_CONFIG``, or the defaults when it is unset."""
        text = (os.environ if environ is None else environ).get(ENV_CONFIG)
        return cls() if not text else cls.from_json(text)
