"""The locustfile's own options (``--bhxh-*``), defined once for both sides of the pipe.

:func:`run_load` writes them on locust's command line with :meth:`LocustSettings.to_args`;
the locustfile registers them with :func:`add_arguments` and reads them back with
:meth:`LocustSettings.from_options`. Locust forwards custom options from the master to
its workers, so workers (on this machine or others) need only ``--worker --master-host``.
The I-VAN tokens travel in ``$BHXH_LOAD_TOKENS`` rather than on a command line that
``ps`` would show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from harness.credentials import token_options
from harness.errors import ConfigError
from harness.load.profile import Plan, load_dir, load_profile

TOKENS_ENV = "BHXH_LOAD_TOKENS"


@dataclass(frozen=True)
class LocustSettings:
    """Everything the users and the shape need; each field is one ``--bhxh-<name>`` option."""

    shape: str = "month-end"
    scale: float = 1.0
    duration: float = 60.0
    model: str = "open"
    mix: str = ""  # empty: the shape's own mix
    users_max: int = 0  # the max model's user count
    clock_speed: float = 1.0  # the gateway's simulated seconds per real second
    pool_dir: str = ""  # pool-<IVAN>.json files (built there when missing; empty: in memory)
    pool_size: int = 8  # dossiers per procedure per I-VAN
    seed: int = 1
    catalog: str = ""  # empty: the latest catalog version
    payload: str = "real"  # real | trivial (benchmark: what the envelope costs the generator)
    feed: bool = True  # read and acknowledge the feed
    lifecycle_out: str = ""  # where the master (or single process) writes lifecycle.json
    profile_dir: str = ""  # empty: fixtures/load
    insecure: bool = False  # do not verify the gateway's TLS certificate
    ca_bundle: str = ""  # CA bundle (PEM) for the gateway's TLS certificate; empty: system CAs
    grace: float = 5.0  # seconds dossiers in flight at the end get to be answered
    tokens: str = ""  # NAME=TOKEN,...; normally from $BHXH_LOAD_TOKENS

    def to_args(self) -> list[str]:
        """Command-line options for locust (tokens excluded: they go in the environment)."""
        args: list[str] = []
        for f in fields(self):
            if f.name == "tokens":
                continue
            value = getattr(self, f.name)
            if value == "":
                continue  # the default (locust would read "" as a missing value)
            text = ("on" if value else "off") if isinstance(value, bool) else str(value)
            args += [f"--bhxh-{f.name.replace('_', '-')}", text]
        return args

    @classmethod
    def from_options(cls, options: Any) -> LocustSettings:
        """From locust's parsed options (an argparse namespace)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = getattr(options, f"bhxh_{f.name}", None)
            if raw is None:
                continue
            if f.type == "bool":
                values[f.name] = str(raw).lower() in ("on", "true", "1", "yes")
            elif f.type == "float":
                values[f.name] = float(raw)
            elif f.type == "int":
                values[f.name] = int(raw)
            else:
                values[f.name] = str(raw)
        return cls(**values)

    @property
    def profile_path(self) -> Path:
        return Path(self.profile_dir) if self.profile_dir else load_dir()

    def plan(self) -> Plan:
        profile = load_profile(self.profile_path)
        return Plan(
            profile,
            profile.shape(self.shape),
            self.scale,
            self.duration,
            self.model,
            self.users_max,
        )


def identities(tokens: Mapping[str, str]) -> list[tuple[str, str]]:
    """``(code, token)`` sorted by code, so every process numbers I-VANs alike."""
    return sorted(tokens.items())


_ESCAPES = (("%", "%25"), (",", "%2C"))
"""A token may hold ',' (the list separator): it travels as %2C, and '%' as %25."""


def _escape(token: str) -> str:
    for raw, escaped in _ESCAPES:
        token = token.replace(raw, escaped)
    return token


def _unescape(token: str) -> str:
    for raw, escaped in reversed(_ESCAPES):
        token = token.replace(escaped, raw).replace(escaped.lower(), raw)
    return token


def parse_tokens(text: str) -> dict[str, str]:
    """``NAME=TOKEN,NAME=TOKEN`` (how tokens travel to worker processes; see
    :func:`format_tokens` for a token holding ',')."""
    tokens = {}
    for item in (part.strip() for part in text.split(",")):
        name, sep, token = item.partition("=")
        if item and (not sep or not name or not token):
            raise ConfigError(f"I-VAN token {item!r} is not NAME=TOKEN")
        if item:
            tokens[name.strip()] = _unescape(token.strip())
    return tokens


def format_tokens(tokens: Mapping[str, str]) -> str:
    return ",".join(f"{name}={_escape(token)}" for name, token in identities(tokens))


def add_arguments(parser: Any) -> None:
    """Register every ``--bhxh-*`` option on locust's argument parser."""
    defaults = LocustSettings()
    for f in fields(LocustSettings):
        option = f"--bhxh-{f.name.replace('_', '-')}"
        default = getattr(defaults, f.name)
        if f.name == "tokens":
            parser.add_argument(
                option,
                default="",
                env_var=TOKENS_ENV,
                include_in_web_ui=False,
                help="I-VAN credentials NAME=TOKEN,...",
            )
        else:
            text = ("on" if default else "off") if isinstance(default, bool) else str(default)
            parser.add_argument(option, default=text, include_in_web_ui=False)


__all__ = [
    "TOKENS_ENV",
    "LocustSettings",
    "add_arguments",
    "format_tokens",
    "identities",
    "parse_tokens",
    "token_options",
]
