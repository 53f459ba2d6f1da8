"""Database URLs as they may be shown: the password masked, the rest as typed.

Kept apart from :mod:`mock_gateway.store` so the CLI can say which database it serves
without importing SQLAlchemy (about 160 ms of every command's start-up).
"""

from __future__ import annotations

import re

_PASSWORD = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/]*:).*@")
"""``scheme://user:`` then everything up to the last ``@``: the password, even one with an
unescaped ``@`` or ``/`` (SQLAlchemy would read part of it as the host, and show it). The
user name may hold an unescaped ``@`` (Azure's ``user@server``), as SQLAlchemy reads it."""
_BARE_PASSWORD = re.compile(r"^(?P<head>(?://)?[^:/]*:)(?!//).*@")
"""``user:`` (or ``//user:``) then everything up to the last ``@``, in a URL typed without
its scheme."""
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)[^&]*", re.IGNORECASE)
"""A password given as a query parameter (libpq's ``?password=``)."""
_BAD_PORT = re.compile(r"invalid literal for int\(\) with base 10: .*", re.DOTALL)
"""SQLAlchemy's words for a port that is not a number; the text it quotes is, when a
password holds an unescaped ``:``, a piece of that password."""
BAD_PORT = (
    "the URL could not be parsed: the text after the host's ':' is not a port number "
    "(a password holding @, : or / must be percent-encoded)"
)


def redact_url(url: str) -> str:
    """``url`` as typed, its password as ``***`` (a Vietnamese file name stays readable:
    SQLAlchemy's rendering would percent-encode it), whether or not it can be parsed."""
    pattern = _PASSWORD if "://" in url else _BARE_PASSWORD
    return _QUERY_PASSWORD.sub(r"\g<head>***", pattern.sub(r"\g<head>***@", url))


def redact_in(text: object, url: str) -> str:
    """``text`` (a driver's error about ``url``) without the URL's password, nor the
    pieces of it a driver may quote: ``user:p@ss@host`` is read as host ``ss@host``, and
    ``user:p@ss:w/rd@host`` as port ``w``, which is said in words instead."""
    said = str(text).replace(url, redact_url(url))
    found = (_PASSWORD if "://" in url else _BARE_PASSWORD).match(url)
    if found is not None:
        secret = url[found.end("head") : found.end() - 1]
        for piece in sorted({secret, *re.split(r"[@:/]", secret)}, key=len, reverse=True):
            if len(piece) >= 2:
                said = said.replace(piece, "***")
    return _BAD_PORT.sub(BAD_PORT, said)


PERCENT_HINT = (
    "write @, : and / inside a user name or password as %40, %3A and %2F "
    "(an Azure user name user@server too: user%40server)"
)
"""Said with a refused database URL: an unescaped ``@`` splits the password into a host."""
