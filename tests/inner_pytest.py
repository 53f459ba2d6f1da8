"""The environment for a pytest run a test starts itself (a vendor's suite, a scenario folder)."""

from __future__ import annotations

import os


def inner_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without pytest-xdist's worker variables: under
    ``-n``, an inner run would otherwise believe it is itself an xdist worker (the plugin
    refuses a shared ``--bhxh-gateway`` there)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    return {**env, **(extra or {})}
