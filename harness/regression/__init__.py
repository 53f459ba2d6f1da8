"""The regression suite: record a baseline from a known-good gateway, replay it against a
candidate, and report every difference per procedure and form version.

>>> baseline, folder = record(gateway="inproc", catalog="2026.1", name="inproc-2026.1")
>>> result = regress(baseline="inproc-2026.1", gateway="inproc", release="pa-code-removed")
>>> sorted(result.kinds())
['newly-rejected']

``gateway`` is ``"inproc"`` or a URL (with ``token=``, ``admin_token=``, ``verify_tls=``).
Modules: ``corpus`` (what is replayed), ``normalise`` (declared masks), ``replay`` (the
wire protocol), ``baseline`` (files on disk), ``compare`` (differences), ``expectations``
(intended changes, catalog impact), ``new_catalogs`` (a newer served catalog's own
dossiers), ``deployment`` (a baseline reached or served differently from the candidate),
``run`` (the two entry points; ``target`` the gateway they open, ``recording`` and
``regress_inputs`` what each checks, ``candidate_faults`` and ``latency_retiming`` what
regress judges besides the outcomes, ``result`` what it found), ``report`` (bundle),
``cli`` (click commands).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness import lazy_exports

if TYPE_CHECKING:  # mypy sees the real names; at run time each is imported on first use
    from harness.regression.baseline import Baseline, load_baseline, save_baseline
    from harness.regression.compare import KINDS, Difference, LatencyThresholds
    from harness.regression.corpus import CorpusRecipe, build_corpus
    from harness.regression.expectations import CatalogImpact, Expectation, load_expectations
    from harness.regression.normalise import Masks, load_masks
    from harness.regression.replay import GatewayTarget, Replay, replay
    from harness.regression.report import report_bundle
    from harness.regression.result import RegressionResult
    from harness.regression.run import record, regress
    from harness.regression.target import open_target
else:  # `regress --help` (regression.cli, a submodule) must not load signxml, faker...
    __getattr__ = lazy_exports(
        __name__,
        {
            "harness.regression.baseline": ("Baseline", "load_baseline", "save_baseline"),
            "harness.regression.compare": ("KINDS", "Difference", "LatencyThresholds"),
            "harness.regression.corpus": ("CorpusRecipe", "build_corpus"),
            "harness.regression.expectations": (
                "CatalogImpact",
                "Expectation",
                "load_expectations",
            ),
            "harness.regression.normalise": ("Masks", "load_masks"),
            "harness.regression.replay": ("GatewayTarget", "Replay", "replay"),
            "harness.regression.report": ("report_bundle",),
            "harness.regression.result": ("RegressionResult",),
            "harness.regression.run": ("record", "regress"),
            "harness.regression.target": ("open_target",),
        },
    )


__all__ = [
    "KINDS",
    "Baseline",
    "CatalogImpact",
    "CorpusRecipe",
    "Difference",
    "Expectation",
    "GatewayTarget",
    "LatencyThresholds",
    "Masks",
    "RegressionResult",
    "Replay",
    "build_corpus",
    "load_baseline",
    "load_expectations",
    "load_masks",
    "open_target",
    "record",
    "regress",
    "replay",
    "report_bundle",
    "save_baseline",
]
