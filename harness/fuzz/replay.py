"""Reproduce lines that send a found dossier to a gateway again, and show the failure.

A failure is shown by a sequence, not always by one POST: ``idempotent`` needs the body
twice under one fixed ``X-Message-Id``, ``acknowledged-retrievable`` the POST and then
the GET of the dossier the 202 acknowledged (by its MA_GDICH). The token is read from
``$BHXH_TOKEN``: a credential has no place in a report or a fixture. A run against an
in-process faulty release replays against ``bhxh-harness serve --release`` of that release
(``dossier check`` judges with the correct gateway, and shows no failure).
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from pathlib import Path

from harness.identities import token_of
from harness.paths import cache_dir

TOKEN_ENV = "BHXH_TOKEN"
"""The environment variable a reproduce line reads the I-VAN's bearer token from."""

PORT_ENV = "BHXH_REPLAY_PORT"
"""The port a served release listens on in a reproduce line (default :data:`SERVE_PORT`)."""

SERVE_PORT = 8080
"""``bhxh-harness serve``'s own default port."""

MARGIN = 5.0
"""Seconds a reproduce line waits beyond the run's per-request timeout (``--max-time``)."""

_FRESH = "fuzz-replay-$(date +%s%N)"
_RECEIPT = r"sed -n 's:.*<MA_GDICH>\([^<]*\)</MA_GDICH>.*:\1:p'"


@dataclass(frozen=True)
class GatewayReplay:
    """The gateway a run fuzzed, for reproduce lines that send a found dossier there
    (``dossier check`` only says what the answer should be, and judges no gateway).
    ``ivan``, the I-VAN the dossiers name, is said in the note: only its token gets them
    past ENV-010. ``release``: the run simulated this faulty release in process, so the
    line serves it (``url`` is then ignored). ``timeout``: the run's per-request seconds."""

    url: str
    verify_tls: bool | str = True
    ivan: str | None = None
    release: str | None = None
    timeout: float | None = None

    @property
    def needs_token(self) -> bool:
        """Whether the line reads ``$BHXH_TOKEN`` (a served release sets its own)."""
        return self.release is None

    def command(self, path: Path, *, check: str = "", pki_dir: Path | None = None) -> str:
        """The shell line that shows ``check``'s failure of ``path`` again: ``idempotent``
        the same body twice under one fixed id, ``acknowledged-retrievable`` the POST then
        the GET of what it acknowledged, else one POST."""
        if check == "idempotent":
            steps = f"id={_FRESH}; {self._post(path)}; echo; {self._post(path)}"
        elif check == "acknowledged-retrievable":
            steps = (
                f'id={_FRESH}; r=$({self._post(path)}); echo "$r"; '
                f"g=$(printf '%s' \"$r\" | {_RECEIPT}); {self._get()}"
            )
        else:
            steps = f"id={_FRESH}; {self._post(path)}"
        return steps if self.release is None else self._served(steps, pki_dir)

    def _curl(self) -> str:
        """``curl`` with the TLS trust, the time limit and the token of the run."""
        tls = ""
        if self.verify_tls is False:
            tls = " --insecure"
        elif isinstance(self.verify_tls, str):
            tls = f" --cacert {shlex.quote(str(Path(self.verify_tls).resolve()))}"
        limit = "" if self.timeout is None else f" --max-time {math.ceil(self.timeout + MARGIN)}"
        return f'curl -sS{tls}{limit} -H "Authorization: Bearer ${TOKEN_ENV}"'

    def _post(self, path: Path) -> str:
        return (
            f"{self._curl()} -X POST -H 'Content-Type: application/xml' "
            f'-H "X-Message-Id: $id" --data-binary @{shlex.quote(str(path.resolve()))} '
            f"{self._url('/api/v1/dossiers')}"
        )

    def _get(self) -> str:
        return f'{self._curl()} {self._url("/api/v1/dossiers/")}"$g"'

    def _url(self, suffix: str) -> str:
        if self.release is not None:  # the port is the line's own ($port), left to the shell
            return f'"http://127.0.0.1:$port{suffix}"'
        return shlex.quote(self.url.rstrip("/") + suffix)

    def _served(self, steps: str, pki_dir: Path | None) -> str:
        """``steps`` against ``bhxh-harness serve --release`` in a subshell: started on a
        fresh database, waited for (/healthz), stopped after."""
        ivan = self.ivan or "IVAN01"
        pki = ""
        if pki_dir is not None and pki_dir.resolve() != (cache_dir() / "pki").resolve():
            pki = f"export BHXH_HARNESS_PKI={shlex.quote(str(pki_dir))}; "
        serve = (
            f"bhxh-harness serve --release {shlex.quote(str(self.release))} --port $port "
            f'--database-url "sqlite:///$db/gw.sqlite3" --ivan-token {ivan}=${TOKEN_ENV} '
            '--log-level warning >"$db/serve.log" 2>&1 & gw=$!'
        )
        wait = (
            'for _ in $(seq 150); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null '
            "&& break; kill -0 $gw 2>/dev/null || break; sleep 0.2; done"
        )
        return (
            f"({pki}export {TOKEN_ENV}={token_of(ivan)}; port=${{{PORT_ENV}:-{SERVE_PORT}}}; "
            f"db=$(mktemp -d); {serve}; {wait}; {steps}; echo; kill $gw; wait $gw 2>/dev/null)"
        )

    def token_line(self) -> str:
        """What the line needs before it runs: the token in ``$BHXH_TOKEN``, or the port."""
        if self.release is not None:
            return (
                f"# serves release {self.release} on port ${PORT_ENV} (default {SERVE_PORT}): "
                "set it to a free port if that one is taken"
            )
        whose = f"of {self.ivan}, the I-VAN the dossier names" if self.ivan else "of the I-VAN"
        return f"# export {TOKEN_ENV}=<a bearer token {whose}> first"


__all__ = ["MARGIN", "PORT_ENV", "SERVE_PORT", "TOKEN_ENV", "GatewayReplay"]
