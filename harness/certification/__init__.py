"""Certification of I-VANs against the mock gateway (issue 4).

The suite plays the employer and watches the gateway: it hands an I-VAN the employer's
unsigned forms (a :class:`Job`), lets the I-VAN sign, build, forward, retry, poll and
acknowledge through an adapter, judges what reached the gateway case by case
(``scenarios/certification/cases.yaml``), and writes a report bundle::

    from harness.certification import certification_verdict, run_certification
    bundle = run_certification("reference")  # every procedure of the latest catalog
    assert certification_verdict(bundle) == "passed", bundle.directory / "index.html"

(``bundle.verdict`` ignores skipped cases; ``certification_verdict`` says ``incomplete``.)

Adapters: the bundled reference and faulty I-VANs, a command template, an HTTP hook, a
Python class from the ``bhxh_harness.adapters`` entry-point group, or a manual operator
(see :mod:`harness.certification.adapters`). Checks are registered with :func:`check`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness import lazy_exports

if TYPE_CHECKING:  # mypy sees the real names; at run time each is imported on first use
    from harness.certification.adapters import (
        ENTRY_POINT_GROUP,
        CommandAdapter,
        HttpHookAdapter,
        ManualAdapter,
        resolve_adapter,
    )
    from harness.certification.faulty import FAULTY, faulty
    from harness.certification.gateway import CertGateway, local_gateway
    from harness.certification.model import (
        ALERT,
        HANDOVER,
        RECEIPT,
        REJECTED,
        RESULT,
        AdapterContext,
        AdapterFailed,
        CaseBlocked,
        CaseFailed,
        CaseUnsupported,
        IvanAdapter,
        Job,
        JobForm,
        NotSupported,
        Relay,
        RunAborted,
    )
    from harness.certification.observe import JobRecord, Observation
    from harness.certification.progress import (
        CaseFinished,
        RunFinished,
        RunStarted,
        ScenarioStarted,
    )
    from harness.certification.records import DossierStatus, FeedEntry, TrafficRow
    from harness.certification.reference import ReferenceIvan
    from harness.certification.runner import run_certification
    from harness.certification.suite import CaseSpec, Suite, check, load_suite, load_variants
    from harness.certification.verdict import certification_verdict
else:  # `certify --help` (certification.cli, a submodule) must not load signxml, lxml...
    __getattr__ = lazy_exports(
        __name__,
        {
            "harness.certification.adapters": (
                "ENTRY_POINT_GROUP",
                "CommandAdapter",
                "HttpHookAdapter",
                "ManualAdapter",
                "resolve_adapter",
            ),
            "harness.certification.faulty": ("FAULTY", "faulty"),
            "harness.certification.gateway": ("CertGateway", "local_gateway"),
            "harness.certification.model": (
                "ALERT",
                "HANDOVER",
                "RECEIPT",
                "REJECTED",
                "RESULT",
                "AdapterContext",
                "AdapterFailed",
                "CaseBlocked",
                "CaseFailed",
                "CaseUnsupported",
                "IvanAdapter",
                "Job",
                "JobForm",
                "NotSupported",
                "Relay",
                "RunAborted",
            ),
            "harness.certification.observe": ("JobRecord", "Observation"),
            "harness.certification.records": ("DossierStatus", "FeedEntry", "TrafficRow"),
            "harness.certification.reference": ("ReferenceIvan",),
            "harness.certification.progress": (
                "CaseFinished",
                "RunFinished",
                "RunStarted",
                "ScenarioStarted",
            ),
            "harness.certification.runner": ("run_certification",),
            "harness.certification.suite": (
                "CaseSpec",
                "Suite",
                "check",
                "load_suite",
                "load_variants",
            ),
            "harness.certification.verdict": ("certification_verdict",),
        },
    )


__all__ = [
    "ALERT",
    "ENTRY_POINT_GROUP",
    "FAULTY",
    "HANDOVER",
    "RECEIPT",
    "REJECTED",
    "RESULT",
    "AdapterContext",
    "AdapterFailed",
    "CaseBlocked",
    "CaseFailed",
    "CaseFinished",
    "CaseSpec",
    "CaseUnsupported",
    "CertGateway",
    "CommandAdapter",
    "DossierStatus",
    "FeedEntry",
    "HttpHookAdapter",
    "IvanAdapter",
    "Job",
    "JobForm",
    "JobRecord",
    "ManualAdapter",
    "NotSupported",
    "Observation",
    "ReferenceIvan",
    "Relay",
    "RunAborted",
    "RunFinished",
    "RunStarted",
    "ScenarioStarted",
    "Suite",
    "TrafficRow",
    "certification_verdict",
    "check",
    "faulty",
    "load_suite",
    "load_variants",
    "local_gateway",
    "resolve_adapter",
    "run_certification",
]
