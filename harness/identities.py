"""The test identities the gateway and every suite share: the default I-VAN, its name, the
well-known tokens. Anyone may read them, which is why the gateway is a test system only.

Defined once, here, because a suite and the gateway it talks to must agree on them: the
default I-VAN's code, name and token were written out in five modules.
"""

from __future__ import annotations

DEFAULT_IVAN_CODE = "IVAN01"
"""The I-VAN every suite acts as unless told otherwise (``--ivan``)."""
DEFAULT_IVAN_NAME = "I-VAN THỬ NGHIỆM SỐ 1"
ADMIN_TOKEN = "test-admin-token"
"""The gateway's admin credential unless ``serve --admin-token`` says otherwise."""


def token_of(code: str) -> str:
    """The well-known bearer token of I-VAN ``code`` on a gateway started with defaults."""
    return f"test-token-{code}"


def ivan_name(code: str) -> str:
    """The name envelopes give I-VAN ``code`` (TenIVAN)."""
    return DEFAULT_IVAN_NAME if code == DEFAULT_IVAN_CODE else f"I-VAN THỬ NGHIỆM {code}"


__all__ = ["ADMIN_TOKEN", "DEFAULT_IVAN_CODE", "DEFAULT_IVAN_NAME", "ivan_name", "token_of"]
