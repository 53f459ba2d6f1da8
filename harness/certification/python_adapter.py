"""Loading a vendor's adapter written in Python: ``--adapter python:<entry point>`` or
``python:module:Class``, with every way that can fail said as a ConfigError."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from harness.certification.model import IvanAdapter
from harness.errors import ConfigError

ENTRY_POINT_GROUP = "bhxh_harness.adapters"
MEMBERS = ("name", "spec", "capabilities", "start", "submit", "tick", "recover", "restart", "stop")
"""What :class:`IvanAdapter` asks of an adapter, to name what a vendor's class lacks."""


def _loaded(target: str, module: str, load: Callable[[], Any]) -> Any:
    """What ``load()`` returns when it imports the vendor's ``module``; each way that import
    can fail is a ConfigError, for ``module:attribute`` and entry points alike."""
    check = f"run `python -c 'import {module}'` where bhxh-harness runs to see why"
    try:
        return load()
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module == exc.name or module.startswith(exc.name + ".")):
            raise ConfigError(
                f"no Python module {module!r} for adapter python:{target}",
                hint="install your adapter's package, or run from the folder that holds "
                "the module (or add that folder to PYTHONPATH)",
            ) from None
        raise ConfigError(f"importing {module} failed: {exc}", hint=check) from None
    except Exception as exc:  # the vendor's module raised while importing
        raise ConfigError(
            f"importing {module} failed: {type(exc).__name__}: {exc}", hint=check
        ) from None


def _import_factory(target: str) -> Any:
    """``module:attribute`` imported, each way it can fail said as a ConfigError.

    The current folder is searched first, as uvicorn does for its app: a console script
    does not put it on ``sys.path``, and a vendor's adapter module usually lives there.
    """
    module, _, attribute = target.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    imported = _loaded(target, module, lambda: importlib.import_module(module))
    try:
        return getattr(imported, attribute)
    except AttributeError:
        raise ConfigError(
            f"module {module} has no {attribute!r} for adapter python:{target}",
            hint="python:MODULE:CLASS names a class (or factory) that builds the adapter",
        ) from None


def python_adapter(target: str) -> IvanAdapter:
    """The adapter ``python:<target>`` names: an entry point, or ``module:attribute``."""
    if ":" in target:
        factory: Any = _import_factory(target)
    else:
        found = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == target]
        if not found:
            known = sorted(e.name for e in entry_points(group=ENTRY_POINT_GROUP))
            raise ConfigError(
                f"no adapter {target!r} in entry-point group {ENTRY_POINT_GROUP}",
                hint=f"installed: {', '.join(known) or '(none)'}",
            )
        factory = _loaded(target, found[0].module, found[0].load)
    try:
        adapter = factory()
    except Exception as exc:  # the vendor's constructor: say what, not a traceback of ours
        raise ConfigError(
            f"creating adapter python:{target} failed: {type(exc).__name__}: {exc}",
            hint="it is called with no arguments; check its constructor",
        ) from None
    if not isinstance(adapter, IvanAdapter):
        missing = [m for m in MEMBERS if not hasattr(adapter, m)]
        raise ConfigError(
            f"{target} does not implement IvanAdapter: it has no {', '.join(missing)}",
            hint="give it every one of " + ", ".join(MEMBERS) + " (an operation it lacks: "
            "leave it out of capabilities, and raise harness.certification.NotSupported)",
        )
    adapter.spec = f"python:{target}"
    return adapter


__all__ = ["ENTRY_POINT_GROUP", "python_adapter"]
