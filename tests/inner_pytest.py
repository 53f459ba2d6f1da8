"""The environment for a pytest run a test starts itself (a vendor's suite, a scenario folder)."""

from __future__ import annotations

import os

UNUSED_PLUGINS = ("locust", "schemathesis", "anyio", "faker")
"""pytest plugins installed beside the harness that no inner run uses: loading them cost
4.5 of an inner run's 4.8 s of startup CPU (locust's imports gevent). The harness's own
plugin still loads from its entry point, as at a vendor's, and hypothesis's stays."""


def inner_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without pytest-xdist's worker variables: under
    ``-n``, an inner run would otherwise believe it is itself an xdist worker (the plugin
    refuses a shared ``--bhxh-gateway`` there); and without :data:`UNUSED_PLUGINS`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    skipped = " ".join(f"-p no:{name}" for name in UNUSED_PLUGINS)
    env["PYTEST_ADDOPTS"] = f"{env.get('PYTEST_ADDOPTS', '')} {skipped}".strip()
    return {**env, **(extra or {})}
