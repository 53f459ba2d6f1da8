"""``--gateway local``: the mock gateway as a real server process on 127.0.0.1 for one run.

A separate process (``python -m harness.load._serve``), not a thread: the generator must
not share a GIL with what it measures, and the load run's numbers should be those of
the server a vendor would run (``bhxh-harness serve``). Its SQLite file lives in the run's
scratch folder and its log goes to the report's ``logs/``. The process is ours: started
here, stopped here (SIGTERM, then SIGKILL after a grace period), never left behind: on
Linux it also gets SIGTERM from the kernel when the load run dies, however it dies.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import requests

from harness.errors import ConfigError
from harness.gateway_url import (
    check_token,
    dossier_probe,
    refuse_foreign_token,
    reported_clock_speed,
)
from harness.identities import token_of
from harness.load.feed import FIND_END_PATIENCE
from harness.load.lifetime import Watched, die_with_parent
from harness.regression.transport import LONG_RETRY_AFTER, maintenance
from harness.tls import Verify, gateway_session, reach

if TYPE_CHECKING:
    from harness.catalog import Catalog

SPEC_ENV = "BHXH_LOAD_GATEWAY"
PROBE_TIMEOUT = 5.0
"""Real seconds the readiness probe waits for ``/healthz``, on top of any latency fault."""


def well_known_tokens(count: int) -> dict[str, str]:
    """``IVAN01``.. ``IVANnn`` with their test tokens; at least the two the gateway knows."""
    codes = [f"IVAN{i:02d}" for i in range(1, max(count, 2) + 1)]
    return {code: token_of(code) for code in codes}


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> int | None:
    """Ask a process we started to stop, then insist; returns its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace)
    return process.returncode


def check_local_clock(clock_speed: float) -> None:
    """Refuse a clock the local gateway would refuse at start-up, before the pools are
    signed and the gateway started (it would end in the gateway's own error)."""
    from harness.load._serve import max_clock_speed

    limit = max_clock_speed()
    if clock_speed > limit:
        raise ConfigError(
            f"--clock-speed {clock_speed:g} is too fast for the local gateway: at most "
            f"{limit:.0f} simulated seconds per real second",
            hint=f"give at most {limit:.0f}, or leave --clock-speed out for the local "
            "gateway's default",
        )


def _probe_for(ivan: str, catalog_version: str | None) -> bytes | None:
    """A dossier naming ``ivan`` (a code already checked: ``runner._check_ivan_codes``)
    that the gateway refuses without storing it (ENV-010 if the token is another I-VAN's,
    else ENV-002), or None if it names no procedure."""
    from harness.dossiers.factory import DossierFactory

    return dossier_probe(DossierFactory.for_version(catalog_version).for_ivan(ivan))


def refuse_maintenance(
    url: str, response: requests.Response, longest: float = FIND_END_PATIENCE
) -> None:
    """Refuse a gateway in a maintenance window, as ``record`` and ``regress`` do: every
    dossier would be refused, and no feed's end could be found. A 503 asking for more
    than ``longest`` seconds is one here, though ``regress`` would wait it out: it is
    longer than a generator waits for its feed's end, so the run could only break."""
    why = (
        f"longer than a load run's generators wait for their feed ({longest:g} s): every "
        "dossier would be refused"
    )
    stop = maintenance(url, response, min(longest, LONG_RETRY_AFTER), why)
    if stop is not None:
        raise ConfigError(
            str(stop),
            hint="wait for the maintenance window to end, or clear the fault (the mock "
            "gateway: DELETE /admin/faults with its admin token), then run again",
        )


def check_remote(
    url: str,
    tokens: Mapping[str, str],
    verify: Verify = True,
    catalog_version: str | None = None,
    *,
    serves: tuple[Catalog, Sequence[str]] | None = None,
    say: Callable[[str], None] | None = None,
) -> float | None:
    """Fail before anything starts when a remote gateway does not answer at all, its TLS
    certificate is not trusted, it is in a maintenance window, it refuses an I-VAN
    credential, or it does not serve the catalog of ``serves`` for the periods its
    procedures' dossiers declare (:func:`harness.served_versions.check_serves`): a run
    would only measure a wall of errors, or another catalog's rules. ``say`` gets the note
    when that cannot be told.

    Returns the clock speed the gateway reports in ``/healthz`` (the mock gateway does;
    a real one runs in real time and need not), or None.
    """
    base = url.rstrip("/")
    with gateway_session(verify) as session:
        health = reach(session, url, hint="check the URL, or use --gateway local")
        refuse_maintenance(base, health)
        if serves is not None:
            from harness.served_versions import check_serves, dossier_periods, listed_catalogs

            built, procedures = serves
            periods = dossier_periods(built, procedures)
            note = check_serves(built, listed_catalogs(health), periods)
            if note and say is not None:
                say(f"note: {note}")
        for ivan, token in tokens.items():
            catalog = check_token(
                session,
                base,
                token,
                refused=f"gateway {url} refuses the credential of {ivan}",
                hint="pass --ivan-token NAME=TOKEN with a token this gateway knows",
            )
            refuse_maintenance(base, catalog)
            probe = _probe_for(ivan, catalog_version)
            if probe is not None:
                hint = "pair each I-VAN code with its own token: --ivan-token NAME=TOKEN"
                refuse_foreign_token(session, base, token, ivan, probe, hint)
    return reported_clock_speed(health)


@dataclass
class LocalGateway:
    """``with LocalGateway(folder, tokens, ...) as gw: gw.url`` — a gateway process."""

    folder: Path
    ivan_tokens: Mapping[str, str]
    clock_speed: float = 1.0
    fault_latency: float = 0.0
    workers: int = 1
    log_path: Path | None = None
    startup_timeout: float = 60.0
    on_start: Callable[[Watched], None] | None = None  # told the process once it answers
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        """Where the gateway process writes its log (the report's ``logs/`` in a run)."""
        return self.log_path or self.folder / "gateway.log"

    def spec(self) -> dict[str, object]:
        return {
            "port": self.port,
            "workers": self.workers,
            "database_url": f"sqlite:///{self.folder / 'gateway.sqlite3'}",
            "clock_speed": self.clock_speed,
            "ivan_tokens": dict(self.ivan_tokens),
            "fault_latency": self.fault_latency,
        }

    def __enter__(self) -> LocalGateway:
        self.folder.mkdir(parents=True, exist_ok=True)
        log_path = self.log
        log_path.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env[SPEC_ENV] = json.dumps(self.spec())
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "harness.load._serve"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                preexec_fn=die_with_parent(),  # never left listening if we are killed
            )
        try:
            self._wait_ready(log_path)
        except BaseException:
            stop_process(self.process)
            raise
        if self.on_start is not None:  # a run watches it: it must not die mid-run
            self.on_start(Watched("local gateway", self.process, log_path))
        return self

    def _wait_ready(self, log_path: Path) -> None:
        """Return once ``/healthz`` answers 200. The latency fault delays that answer too,
        so the probe and the start-up deadline allow for it."""
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout + self.fault_latency
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
                raise ConfigError(f"the local gateway exited at start-up:\n{tail}")
            try:
                answer = requests.get(
                    self.url + "/healthz", timeout=PROBE_TIMEOUT + self.fault_latency
                )
                if answer.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise ConfigError(
            f"the local gateway did not answer on {self.url} within "
            f"{self.startup_timeout + self.fault_latency:.0f} s; see {log_path}"
        )

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


__all__ = [
    "LocalGateway",
    "check_local_clock",
    "check_remote",
    "free_port",
    "refuse_maintenance",
    "stop_process",
    "well_known_tokens",
]
