"""The regression suite: record a baseline from a known-good gateway, replay it against a
candidate, and report every difference per procedure and form version.

>>> baseline, folder = record(gateway="inproc", catalog="2026.1", name="inproc-2026.1")
>>> result = regress(baseline="inproc-2026.1", gateway="inproc", release="pa-code-removed")
>>> sorted(result.kinds())
['newly-rejected']

``gateway`` is ``"inproc"`` or a URL (with ``token=``, ``admin_token=``, ``verify_tls=``).
Modules: ``corpus`` (what is replayed), ``normalise`` (declared masks), ``replay`` (the
wire protocol), ``baseline`` (files on disk), ``compare`` (differences), ``expectations``
(intended changes, catalog impact), ``run`` (the two entry points), ``report`` (bundle),
``cli`` (click commands).
"""

from harness.regression.baseline import Baseline, load_baseline, save_baseline
from harness.regression.compare import KINDS, Difference, LatencyThresholds
from harness.regression.corpus import CorpusRecipe, build_corpus
from harness.regression.expectations import CatalogImpact, Expectation, load_expectations
from harness.regression.normalise import Masks, load_masks
from harness.regression.replay import GatewayTarget, Replay, replay
from harness.regression.report import report_bundle
from harness.regression.run import RegressionResult, open_target, record, regress

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
