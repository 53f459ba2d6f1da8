"""What one load run is asked to do (:class:`LoadRequest`), and every check of it that needs
no process or network, so a mistake costs nothing and the message names the CLI option.

Kept apart from :mod:`harness.load.runner` so that the options, their checks and the
command line that reproduces a run are read in one place.
"""

from __future__ import annotations

import math
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from harness.errors import ConfigError
from harness.gateway_url import gateway_base_url
from harness.load.profile import MODELS, Plan
from harness.tls import Verify, verify_option

MAX_USERS_PER_PROCESS = 5000
"""More users than this per generator process is a typo in ``--scale``, not a load test:
one process relays a few hundred dossiers a second at best, so such a run never ends."""

MAX_LOCAL_PROCESSES = max(16, 4 * (os.cpu_count() or 1))
"""Processes a run may start on this machine: --workers 100000 began forking 100,000
locust processes, and the kernel's out-of-memory killer ended it machine-wide."""
OPTION_NAMES = {"catalog_version": "--catalog", "ivan_tokens": "--ivan-token"}


def option(name: str) -> str:
    """The CLI option of a :class:`LoadRequest` field (``scale`` -> ``--scale``)."""
    return OPTION_NAMES.get(name, "--" + name.replace("_", "-"))


@dataclass(frozen=True)
class LoadRequest:
    """What to run; every field has the CLI's default."""

    gateway: str = "local"
    shape: str = "month-end"
    scale: float = 1.0
    duration: float = 60.0
    workers: int = 0
    model: str = "open"
    mix: str | None = None
    users_max: int = 0
    service_levels: Path | None = None
    clock_speed: float | None = None
    ivan_tokens: Mapping[str, str] | None = None
    catalog_version: str | None = None
    pool_size: int = 8
    seed: int = 1
    fault_latency: float = 0.0
    gateway_workers: int = 1
    payload: str = "real"
    feed: bool = True
    out: Path | None = None
    locustfile: Path | None = None
    remote_workers: int = 0  # workers started by hand on other machines (README)
    master_bind: str = "127.0.0.1"
    master_port: int = 0
    insecure: bool = False  # do not verify the gateway's TLS certificate
    ca_bundle: Path | None = None  # CA bundle (PEM) that signed it

    @property
    def local(self) -> bool:
        return self.gateway == "local"

    @property
    def generators(self) -> int:
        """Generator processes: the single process, or every local and remote worker."""
        return max(1, self.workers + self.remote_workers)

    @property
    def verify_tls(self) -> Verify:
        """What ``requests`` takes as ``verify``, from the two TLS options."""
        return verify_option(self.insecure, str(self.ca_bundle) if self.ca_bundle else None)

    def validate(self) -> LoadRequest:
        """Every problem at once, named by its CLI option, before anything starts; returns
        the request with its gateway URL normalised (no trailing slash, lower-case scheme)."""
        problems = []
        gateway = self.gateway
        if not self.local:
            gateway, problem = gateway_base_url(self.gateway)
            problems += [problem] if problem else []
        https = gateway.startswith("https://")
        if not (math.isfinite(self.scale) and self.scale > 0):
            problems.append(f"--scale {self.scale:g} must be positive (1 = the national load)")
        if not (math.isfinite(self.duration) and self.duration > 0):
            problems.append(f"--duration {self.duration:g} must be a positive number of seconds")
        if self.workers < 0:
            problems.append(f"--workers {self.workers} must be 0 (one process) or more")
        elif self.workers > MAX_LOCAL_PROCESSES:
            problems.append(
                f"--workers {self.workers}: at most {MAX_LOCAL_PROCESSES} processes on this "
                "machine (each is one I-VAN); add --remote-workers for more"
            )
        if self.model not in MODELS:
            problems.append(f"--model {self.model} must be one of {', '.join(MODELS)}")
        if self.clock_speed is not None and not (
            math.isfinite(self.clock_speed) and self.clock_speed > 0
        ):
            problems.append(f"--clock-speed {self.clock_speed:g} must be positive")
        if not (math.isfinite(self.fault_latency) and self.fault_latency >= 0):
            problems.append(f"--fault-latency {self.fault_latency:g} must be 0 or more")
        elif self.fault_latency and not self.local:
            problems.append("--fault-latency needs a local gateway (--gateway local)")
        if self.gateway_workers < 1:
            problems.append(f"--gateway-workers {self.gateway_workers} must be at least 1")
        elif self.gateway_workers > MAX_LOCAL_PROCESSES:
            problems.append(
                f"--gateway-workers {self.gateway_workers}: at most {MAX_LOCAL_PROCESSES} on "
                "this machine"
            )
        elif self.gateway_workers != 1 and not self.local:
            problems.append(
                "--gateway-workers needs a local gateway: a gateway URL runs its own processes"
            )
        if (self.insecure or self.ca_bundle) and not https:
            problems.append("--insecure and --ca-bundle need an https:// gateway")
        if self.insecure and self.ca_bundle:
            problems.append("--insecure and --ca-bundle exclude each other: choose one")
        if self.remote_workers < 0:
            problems.append(f"--remote-workers {self.remote_workers} must be 0 or more")
        if self.remote_workers and not self.master_port:
            problems.append(
                "--remote-workers needs --master-port, so workers know where to connect"
            )
        if not 0 <= self.master_port <= 65535:
            problems.append(f"--master-port {self.master_port} must be 0 (any free port)..65535")
        hints = self._master_problems(problems) + self._file_problems(problems)
        if self.pool_size < 1:
            problems.append(f"--pool-size {self.pool_size} must be at least 1")
        if self.payload not in ("real", "trivial"):
            problems.append(f"payload={self.payload!r} must be real or trivial")
        if problems:
            raise ConfigError(
                "invalid load run: " + "; ".join(problems),
                hint="; ".join(
                    [*hints, "bhxh-harness load --help lists every option with its default"]
                ),
            )
        return replace(self, gateway=gateway)

    def _master_problems(self, problems: list[str]) -> list[str]:
        """Refuse master options in a one-process run, where no master listens: a port in
        use or a foreign address there was silently ignored, and the run exited 0."""
        if self.workers or self.remote_workers:
            return []
        given = [
            f"{option(name)} {getattr(self, name)}"
            for name in ("master_bind", "master_port")
            if getattr(self, name) != getattr(LoadRequest, name)
        ]
        if not given:
            return []
        problems.append(
            f"{' and '.join(given)} {'apply' if len(given) > 1 else 'applies'} to distributed "
            "mode only, and --workers is 0 (one process, no master)"
        )
        return [
            "add --workers N (local workers) or --remote-workers N, or leave the master options out"
        ]

    def _file_problems(self, problems: list[str]) -> list[str]:
        """A --service-levels file that is not there, said with the other problems."""
        path = self.service_levels
        if path is None or path.is_file():
            return []
        what = "is a folder" if path.is_dir() else "does not exist"
        problems.append(f"--service-levels {path} {what}")
        return [
            "name a service-level YAML file, or leave --service-levels out for "
            "fixtures/load/service-levels.yaml"
        ]

    def warnings(self) -> list[str]:
        """What is allowed but probably not meant."""
        notes = []
        if self.remote_workers and self.master_bind in ("127.0.0.1", "localhost", "::1"):
            notes.append(
                f"--remote-workers {self.remote_workers} with --master-bind {self.master_bind}: "
                "workers on other machines cannot reach this master; use --master-bind 0.0.0.0 "
                "or this machine's address"
            )
        return notes + self._ivan_notes()

    def _ivan_codes(self) -> list[str]:
        """The I-VANs the processes act as, by code (process i takes the i-th, round robin);
        empty for the local gateway, which gets a test I-VAN per process."""
        if self.ivan_tokens:
            return sorted(self.ivan_tokens)
        return [] if self.local else ["IVAN01", "IVAN02"]  # a URL run's fallback test tokens

    @property
    def shares_ivans(self) -> bool:
        """Whether some generator processes act as the same I-VAN (and so read one feed)."""
        codes = self._ivan_codes()
        return bool(codes) and self.generators > len(codes)

    def _ivan_notes(self) -> list[str]:
        """Processes and I-VANs that do not pair up: processes sharing an I-VAN share its
        feed (each reads and acknowledges the others' messages), and a token past the
        processes is never used. Process i acts as the i-th I-VAN by code, round robin."""
        codes = self._ivan_codes()
        if not codes:
            return []
        processes = self.generators
        if self.shares_ivans:
            return [
                f"{processes} generator processes share {len(codes)} I-VAN(s) "
                f"({', '.join(codes)}): processes acting as the same I-VAN read the same "
                "feed, so each also reads and acknowledges its siblings' messages (counted "
                "as messages not timed, with ack (not this run's) requests, every message "
                "acknowledged once per process); give one --ivan-token per worker process"
            ]
        if processes < len(codes) and self.ivan_tokens:
            unused = ", ".join(codes[processes:])
            return [
                f"--ivan-token {unused} unused: {processes} generator process(es) act as "
                f"{', '.join(codes[:processes])} (one I-VAN each, by code); add --workers "
                f"{len(codes)} to use every token, or leave the unused ones out"
            ]
        return []


def check_users(plan: Plan, request: LoadRequest) -> int:
    """The run's peak user count; refused when no generator could run that many."""
    if plan.model == "max":
        peak = plan.users_max
    else:
        peak = max(plan.users(plan.duration * i / 100) for i in range(101))
    limit = MAX_USERS_PER_PROCESS * request.generators
    if peak > limit:
        raise ConfigError(
            f"--scale {request.scale:g} needs {peak:,} users at the shape's peak "
            f"({plan.peak_rate:,.1f} dossiers/s); {request.generators} generator process(es) "
            f"can run at most {limit:,}",
            hint="lower --scale, or add --workers / --remote-workers "
            f"({MAX_USERS_PER_PROCESS:,} users each at most)",
        )
    return peak


def check_scheduled(plan: Plan, request: LoadRequest) -> float:
    """The dossiers the run's users schedule; refused below one, before anything starts: a
    run that schedules none can only report a ratio against a rounded 0."""
    if plan.model == "max":  # a fixed population that never waits: no schedule to judge
        return plan.scheduled_dossiers
    scheduled = plan.scheduled_dossiers
    if scheduled < 1:
        needed = math.ceil(request.duration / scheduled) if scheduled > 0 else 0
        raise ConfigError(
            f"--scale {request.scale:g} with --duration {request.duration:g} schedules "
            f"{scheduled:.2g} dossiers (whole users, each one every "
            f"{plan.profile.per_user_interval(plan.model):g} s): fewer than one, so no "
            "service level could be judged",
            hint=f"raise --duration to {needed} s or more at this scale, or raise --scale"
            if needed
            else "raise --scale or --duration",
        )
    return scheduled


_ALWAYS_SHOWN = ("gateway", "shape", "scale", "duration", "workers", "model")
_NOT_OPTIONS = ("out", "locustfile", "users_max", "payload", "feed")  # library-only or no effect


def reproduce(r: LoadRequest) -> str:
    """The command line of this run: every option that differs from its default (tokens
    as ``<token>``, to be filled in: a report is shared, a credential is not)."""
    defaults = LoadRequest()
    parts = ["bhxh-harness load"]
    for name in (f.name for f in fields(r)):
        value = getattr(r, name)
        if name in _NOT_OPTIONS or (name not in _ALWAYS_SHOWN and value == getattr(defaults, name)):
            continue
        flag = option(name)
        if value is True:
            parts.append(flag)
        elif name == "ivan_tokens":
            parts += [f"{flag} {shlex.quote(code + '=<token>')}" for code in value]
        else:
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            parts.append(f"{flag} {shlex.quote(shown)}")
    return " ".join(parts)


__all__ = [
    "MAX_USERS_PER_PROCESS",
    "LoadRequest",
    "check_scheduled",
    "check_users",
    "option",
    "reproduce",
]
