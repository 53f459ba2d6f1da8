"""What a bearer token and an I-VAN code may be: what an HTTP header and an envelope carry.

A token travels in ``Authorization: Bearer …``, which HTTP clients encode as Latin-1 or
refuse; ``mật-khẩu`` used to end every suite in a ``UnicodeEncodeError`` traceback and
made a served gateway that no client could reach. One check serves the CLI, the gateway
settings and the pytest plugin, so each says the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from harness.errors import ConfigError

_TOKEN = re.compile(r"[\x21-\x7e]+")
_IVAN_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot be sent as a bearer token, or None if it can."""
    if not token:
        return "it is empty"
    if _TOKEN.fullmatch(token) is None:
        return "a token is sent in an HTTP header, so it is visible ASCII: no spaces, no diacritics"
    return None


def ivan_code_problem(code: str) -> str | None:
    """Why ``code`` cannot name an I-VAN (its envelopes' MaIVAN), or None if it can."""
    if _IVAN_CODE.fullmatch(code) is None:
        return "an I-VAN code is 1-32 ASCII letters, digits, '-' and '_'"
    return None


def token_options(items: Sequence[str], option: str = "--ivan-token") -> dict[str, str]:
    """``--ivan-token NAME=TOKEN`` given once per I-VAN, checked: the token is everything
    after the first '=' (',' included); an I-VAN named twice is refused, not last-wins."""
    tokens: dict[str, str] = {}
    for item in items:
        name, sep, token = item.partition("=")
        name, token = name.strip(), token.strip()
        hint = f"give one {option} NAME=TOKEN per I-VAN, e.g. IVAN01=secret"
        if not sep or not name or not token:
            raise ConfigError(f"{option} {item.split('=')[0]}=...: not NAME=TOKEN", hint=hint)
        problem = ivan_code_problem(name) or token_problem(token)
        if problem is not None:
            raise ConfigError(f"{option} {name}=...: {problem}", hint=hint)
        if name in tokens:
            raise ConfigError(
                f"{option} {name} is given twice", hint="give each I-VAN's token once"
            )
        tokens[name] = token
    return tokens


__all__ = ["ivan_code_problem", "token_options", "token_problem"]
