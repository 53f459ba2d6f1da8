"""Certification of I-VANs against the mock gateway (issue 4).

The suite plays the employer and watches the gateway: it hands an I-VAN the employer's
unsigned forms (a :class:`Job`), lets the I-VAN sign, build, forward, retry, poll and
acknowledge through an adapter, judges what reached the gateway case by case
(``scenarios/certification/cases.yaml``), and writes a report bundle::

    from harness.certification import run_certification
    bundle = run_certification("reference")  # every procedure of the latest catalog
    assert bundle.verdict.value == "passed", bundle.directory / "index.html"

Adapters: the bundled reference and faulty I-VANs, a command template, an HTTP hook, a
Python class from the ``bhxh_harness.adapters`` entry-point group, or a manual operator
(see :mod:`harness.certification.adapters`). Checks are registered with :func:`check`.
"""

from harness.certification.adapters import (
    ENTRY_POINT_GROUP,
    CommandAdapter,
    HttpHookAdapter,
    ManualAdapter,
    resolve_adapter,
)
from harness.certification.faulty import FAULTY, faulty
from harness.certification.gateway import (
    CertGateway,
    DossierStatus,
    FeedEntry,
    TrafficRow,
    local_gateway,
)
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
    IvanAdapter,
    Job,
    JobForm,
    NotSupported,
    Relay,
)
from harness.certification.observe import JobRecord, Observation
from harness.certification.reference import ReferenceIvan
from harness.certification.runner import (
    CaseFinished,
    RunFinished,
    RunStarted,
    ScenarioStarted,
    run_certification,
)
from harness.certification.suite import CaseSpec, Suite, check, load_suite, load_variants

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
    "RunFinished",
    "RunStarted",
    "ScenarioStarted",
    "Suite",
    "TrafficRow",
    "check",
    "faulty",
    "load_suite",
    "load_variants",
    "local_gateway",
    "resolve_adapter",
    "run_certification",
]
