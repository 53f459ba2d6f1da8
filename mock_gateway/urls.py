"""Database URLs as they may be shown: the password masked, the rest as typed.

Kept apart from :mod:`mock_gateway.store` so the CLI can say which database it serves
without importing SQLAlchemy (about 160 ms of every command's start-up).
"""

from __future__ import annotations

import re

_PASSWORD = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@]*:).*@")
"""``scheme://user:`` then everything up to the last ``@``: the password, even one with an
unescaped ``@`` or ``/`` (SQLAlchemy would read part of it as the host, and show it)."""
_BARE_PASSWORD = re.compile(r"^(?P<head>[^:/@]*:)(?!//).*@")
"""``user:`` then everything up to the last ``@``, in a URL typed without its scheme."""


def redact_url(url: str) -> str:
    """``url`` as typed, its password as ``***`` (a Vietnamese file name stays readable:
    SQLAlchemy's rendering would percent-encode it), whether or not it can be parsed."""
    pattern = _PASSWORD if "://" in url else _BARE_PASSWORD
    return pattern.sub(r"\g<head>***@", url)
