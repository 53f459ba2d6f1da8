"""What the certification suite exchanges with the I-VAN under test, and how cases end.

The suite plays the employer: it hands the I-VAN a :class:`Job` (the employer's declared,
*unsigned* forms plus who signs them) and reads back :class:`Relay` notices (what the
I-VAN tells the employer: receipts, rejections with ``MA_LOI``, BHXH's 02/TB-TS and
03/TB-TS). Everything the I-VAN sends to BHXH is observed at the gateway, never asked of
the I-VAN, so a vendor cannot certify by describing what it would have done.

Every adapter (reference I-VAN, command template, HTTP hook, Python class, manual
operator) implements :class:`IvanAdapter`; times are the gateway's *simulated* time, so
the 2-hour forwarding rule runs in milliseconds.

Exceptions::

    HarnessError
    ├── UsageError → ConfigError
    │   └── AdapterFailed           the adapter could not do what was asked (exit code, HTTP)
    │       ├── NotSupported        the adapter lacks that operation (tick, recover, restart)
    │       └── RunAborted          the run cannot go on (the operator's input ended)
    ├── ConformanceFinding
    │   └── CaseFailed              a check found the I-VAN breaking its requirement
    └── CaseBlocked                 a case could not be exercised (its precondition failed)
        └── CaseUnsupported         ... because the adapter lacks an operation it needs
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from harness.envelope import Unit
from harness.errors import ConfigError, ConformanceFinding, HarnessError
from harness.message_kinds import HANDOVER, RESULT

RECEIPT = "receipt"
REJECTED = "rejected"
ALERT = "alert"
TERMINAL = frozenset({RESULT, REJECTED})
"""Relay kinds after which the employer expects nothing more for a job."""


DEFAULT_SIGNER = "unit"
"""The test PKI credential that signs a job's forms and envelope: the employer's."""


@dataclass(frozen=True)
class JobForm:
    """One form as the employer declared it: exact bytes, not yet signed."""

    code: str
    description: str
    file_name: str
    signature_node: str
    content: bytes


@dataclass(frozen=True)
class Job:
    """One dossier the employer asks the I-VAN to send to BHXH."""

    job_id: str
    catalog_version: str
    procedure: str
    procedure_name: str
    period: str
    ngay_lap: str
    unit: Unit
    forms: tuple[JobForm, ...]
    envelope_signature_node: str
    signer: str = DEFAULT_SIGNER
    defect: str | None = None
    """The business rule a defective job breaks: the suite's own note for its rejection
    case, never shown to the I-VAN (which could invent the rejection from it)."""
    envelope_fields: dict[str, str] = field(default_factory=dict)
    """Envelope element name -> text, for each element the catalog's ``Hoso.xsd``
    requires beyond those the wire format names (empty for the shipped catalogs): the
    I-VAN writes each where the XSD orders it."""

    def to_json(self, pki_dir: Path | None = None) -> dict[str, Any]:
        """What the I-VAN reads (job.json, a hook's ``job``); with ``pki_dir``, where the
        signer's key and certificate are. Leaves out ``defect``, the suite's own note."""
        data = asdict(self)
        del data["defect"]
        data["forms"] = [
            {**asdict(f), "content": None, "content_b64": base64.b64encode(f.content).decode()}
            for f in self.forms
        ]
        for form in data["forms"]:
            del form["content"]
        if pki_dir is not None:
            data["signer_files"] = {
                "key_pem": str(pki_dir / f"{self.signer}.key.pem"),
                "cert_pem": str(pki_dir / f"{self.signer}.crt.pem"),
            }
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        forms = tuple(
            JobForm(
                f["code"],
                f["description"],
                f["file_name"],
                f["signature_node"],
                base64.b64decode(f["content_b64"]),
            )
            for f in data["forms"]
        )
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**{**fields, "unit": Unit(**data["unit"]), "forms": forms})


@dataclass(frozen=True)
class Relay:
    """What the I-VAN told the employer about a job (``at``: simulated time, set by the suite)."""

    job_id: str
    kind: str
    ma_gdich: str = ""
    ma_loi: str = ""
    message_id: str = ""
    detail: str = ""
    at: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Relay:
        known = {k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__}
        if not known.get("kind"):
            raise AdapterFailed(
                f"relay {data!r} has no kind", hint="see Relay in the adapter guide"
            )
        return cls(**{"job_id": "", **known})


@dataclass(frozen=True)
class AdapterContext:
    """Everything an I-VAN under test needs to reach the gateway and sign as the employer."""

    gateway_url: str
    ivan: str
    ivan_name: str
    token: str
    workdir: Path
    pki_dir: Path
    catalog_version: str
    client_timeout: float = 1.0
    seed: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    verify_tls: bool | str = True  # how to check an https:// gateway (harness.tls.Verify)

    def placeholders(self) -> dict[str, str]:
        """The values command templates and HTTP hooks may use."""
        return {
            "gateway": self.gateway_url,
            "ivan": self.ivan,
            "ivan_name": self.ivan_name,
            "token": self.token,
            "workdir": str(self.workdir),
            "pki": str(self.pki_dir),
            "catalog": self.catalog_version,
            "timeout": f"{self.client_timeout:g}",
            "seed": str(self.seed),
            # an https:// gateway: the CA bundle to trust ("" for the system's), or no check
            "ca_bundle": self.verify_tls if isinstance(self.verify_tls, str) else "",
            "insecure": "1" if self.verify_tls is False else "",
        }


class ContextHolder:
    """What every adapter does first: keep the context ``start()`` hands it, make its workdir."""

    name = "adapter"
    _context: AdapterContext | None = None

    @property
    def context(self) -> AdapterContext:
        if self._context is None:
            raise ConfigError(f"{self.name}: start() the adapter first")
        return self._context

    def start(self, context: AdapterContext) -> None:
        self._context = context
        context.workdir.mkdir(parents=True, exist_ok=True)


@runtime_checkable
class IvanAdapter(Protocol):
    """How the suite drives an I-VAN. ``capabilities`` lists the optional operations
    (``tick``, ``recover``, ``restart``); the others raise :class:`NotSupported`.

    ``spec`` is the ``--adapter`` value that recreates this adapter (for reproduce lines).
    """

    name: str
    spec: str
    capabilities: frozenset[str]

    def start(self, context: AdapterContext) -> None: ...

    def submit(self, job: Job, now: datetime) -> list[Relay]: ...

    def tick(self, now: datetime) -> list[Relay]: ...

    def recover(self, ma_gdich: str) -> list[bytes]: ...

    def restart(self) -> None: ...

    def stop(self) -> None: ...


class AdapterFailed(ConfigError):
    """The adapter could not do what the suite asked (a command failed, a hook answered 500)."""


class NotSupported(AdapterFailed):
    """The adapter has no such operation; cases needing it are skipped, not failed (unless it
    announced the operation in its capabilities: that broken claim fails the case)."""


class RunAborted(AdapterFailed):
    """The run cannot go on at all (e.g. the operator's input ended): it stops, not a case."""


class CaseFailed(ConformanceFinding):
    """A check found the I-VAN breaking the case's requirement; ``evidence`` shows how."""

    def __init__(
        self, message: str, evidence: dict[str, str] | None = None, *, severity: str = "error"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = dict(evidence or {})
        self.severity = severity


class CaseBlocked(HarnessError):
    """The case could not be exercised (e.g. no dossier of this I-VAN was accepted)."""


class CaseUnsupported(CaseBlocked):
    """The case could not be exercised because the adapter lacks an operation it needs:
    labelled apart from a precondition that never happened, which is the I-VAN's doing."""


UNSUPPORTED = "not supported by the adapter:"
"""How a case skipped for a missing adapter operation is labelled ("blocked:" is for a
precondition that never happened)."""


__all__ = [
    "ALERT",
    "HANDOVER",
    "RECEIPT",
    "REJECTED",
    "RESULT",
    "TERMINAL",
    "UNSUPPORTED",
    "AdapterContext",
    "AdapterFailed",
    "CaseBlocked",
    "CaseFailed",
    "CaseUnsupported",
    "ContextHolder",
    "IvanAdapter",
    "Job",
    "JobForm",
    "NotSupported",
    "Relay",
    "RunAborted",
]
