"""A small cache keyed by an object's identity, for certificates on the verification path.

Hashing a certificate (its DER) for a dict or ``lru_cache`` costs about 2 us a call, as
much as the work cached; decoded certificates come from a decoding cache, so one signer's
certificate is one object, and its ``id`` is a free key.
"""

from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class IdentityCache(Generic[K, V]):
    """Values by the identity of their key object, at most ``size`` of them (emptied when
    full). Each entry holds its key, so an ``id`` cannot be reused while its entry lives;
    every operation is a single dict operation, safe to race from threads."""

    def __init__(self, size: int) -> None:
        self._entries: dict[int, tuple[K, V]] = {}
        self._size = size

    def get(self, key: K) -> V | None:
        entry = self._entries.get(id(key))
        return entry[1] if entry is not None and entry[0] is key else None

    def put(self, key: K, value: V) -> V:
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[id(key)] = (key, value)
        return value


__all__ = ["IdentityCache"]
