"""The harness's exception tree.

Three families under one root, so callers can tell "you used the harness wrong"
(raised early, says how to fix it) from "the system under test does not conform"
(carries the requirement and the evidence) from "it could not be judged at all"::

    HarnessError
    ├── UsageError                 misuse of the harness; the message says how to fix it
    │   ├── CatalogError           a catalog version is missing, malformed or inconsistent
    │   ├── PKIError               test PKI material is missing or unusable
    │   ├── FactoryError           a dossier cannot be built as asked
    │   └── ConfigError            a command-line option or settings file is wrong
    ├── ConformanceFinding         the system under test broke a rule
    │   ├── SignatureInvalid       an XMLDSig signature does not verify
    │   └── ValidationFailed       a document breaks its XSD or Schematron rules
    └── GatewayUnavailable         the gateway stopped answering or went into maintenance
                                   during a run: no verdict

The CLI turns every ``UsageError`` into a one-paragraph message and exit code 2,
never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class HarnessError(Exception):
    """Root of every error the harness raises on purpose."""


class UsageError(HarnessError):
    """The harness was used wrongly; the message says what to do instead."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.problem = message  # without the hint: for an error that wraps this one
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\nHint: {hint}")


class CatalogError(UsageError):
    """A catalog version is missing, malformed or inconsistent (names file and line)."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}", hint=hint)


class PKIError(UsageError):
    """Test PKI material is missing, unreadable or does not fit together."""


class FactoryError(UsageError):
    """A dossier cannot be built as asked (unknown procedure, defect, version)."""


class ConfigError(UsageError):
    """A command-line option, URL or settings file is wrong."""


@dataclass(frozen=True)
class Finding:
    """One broken rule: a stable code, where it is, and what it means in two languages."""

    code: str
    xpath: str
    message_vi: str
    message_en: str
    severity: str = "error"
    context: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code} at {self.xpath}: {self.message_en}"

    @property
    def detail(self) -> str:
        """The context as ``key=value; ...`` (the file aside: it has its own field)."""
        return "; ".join(f"{k}={v}" for k, v in sorted(self.context.items()) if k != "file")


class ConformanceFinding(HarnessError, AssertionError):
    """The system under test broke a rule; carries every finding as evidence."""

    def __init__(self, title: str, findings: list[Finding] | None = None) -> None:
        self.title = title
        self.findings = list(findings or [])
        detail = "; ".join(str(f) for f in self.findings[:5])
        more = f" (+{len(self.findings) - 5} more)" if len(self.findings) > 5 else ""
        super().__init__(f"{title}: {detail}{more}" if detail else title)


class SignatureInvalid(ConformanceFinding):
    """An XMLDSig signature is missing, malformed, or does not verify."""


class ValidationFailed(ConformanceFinding):
    """A document breaks its XSD or its Schematron business rules."""


class GatewayUnavailable(HarnessError):
    """The gateway stopped answering, or went into maintenance, during a run (no verdict)."""
