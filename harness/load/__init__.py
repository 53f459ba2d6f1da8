"""Deadline load testing with locust: I-VAN-like users, shapes, service levels, a verdict.

The public surface: :func:`run_load` (what ``bhxh-harness load`` calls), the pieces the
locustfile wires together (users' behaviour, pools, settings, shapes), and the verdict
types. ``scenarios/load/locustfile.py`` is the only locust-specific code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness import lazy_exports

if TYPE_CHECKING:  # mypy sees the real names; at run time each is imported on first use
    from harness.load.feed import FeedReader, parse_feed
    from harness.load.levels import Level, LevelResult, Measurements, evaluate, load_levels
    from harness.load.lifecycle_log import LifecycleLog
    from harness.load.pacing import Pacer
    from harness.load.pool import DossierPool, Ivan, Picker, build_pool, load_or_build
    from harness.load.profile import Plan, Profile, Shape, load_profile, mix_for_catalog
    from harness.load.runner import LoadRequest, LoadResult, execute, run_load
    from harness.load.settings import LocustSettings, add_arguments, identities, parse_tokens
    from harness.load.submitter import Submitter
else:  # `load --help` (load.cli, a submodule) must not load lxml, jinja2, requests...
    __getattr__ = lazy_exports(
        __name__,
        {
            "harness.load.feed": ("FeedReader", "parse_feed"),
            "harness.load.levels": (
                "Level",
                "LevelResult",
                "Measurements",
                "evaluate",
                "load_levels",
            ),
            "harness.load.lifecycle_log": ("LifecycleLog",),
            "harness.load.pacing": ("Pacer",),
            "harness.load.pool": ("DossierPool", "Ivan", "Picker", "build_pool", "load_or_build"),
            "harness.load.profile": (
                "Plan",
                "Profile",
                "Shape",
                "load_profile",
                "mix_for_catalog",
            ),
            "harness.load.runner": ("LoadRequest", "LoadResult", "execute", "run_load"),
            "harness.load.settings": (
                "LocustSettings",
                "add_arguments",
                "identities",
                "parse_tokens",
            ),
            "harness.load.submitter": ("Submitter",),
        },
    )

__all__ = [
    "DossierPool",
    "FeedReader",
    "Ivan",
    "Level",
    "LevelResult",
    "LifecycleLog",
    "LoadRequest",
    "LoadResult",
    "LocustSettings",
    "Measurements",
    "Pacer",
    "Picker",
    "Plan",
    "Profile",
    "Shape",
    "Submitter",
    "add_arguments",
    "build_pool",
    "evaluate",
    "execute",
    "identities",
    "load_levels",
    "load_or_build",
    "load_profile",
    "mix_for_catalog",
    "parse_feed",
    "parse_tokens",
    "run_load",
]
