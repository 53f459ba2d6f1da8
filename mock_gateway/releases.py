"""Faulty gateway releases: realistic regressions, declared as data, applied at a few hooks.

The regression suite must prove it catches what a careless gateway release breaks. Each
profile under ``fixtures/releases/<name>.yaml`` describes one such release; the gateway
loads it when ``GatewayConfig.release`` names it and consults it at clearly named hook
points (``intake.Intake.check``, ``core.Gateway`` answering a replay and storing the
accepted dossiers, ``api``'s message feed and dossier status, ``processor.Processor`` and
``answer_signer.MessageSigner.sign_answer``).
With no release every hook is a no-op, so the default gateway is exactly the one the rest
of the project tests.

Hooks a profile may set (all optional):

- ``escalate_warnings: [CODE]``: tolerated warnings (RULE-101, SIG-101) become errors.
- ``renumber_codes: {OLD: NEW}``: findings are answered under another code.
- ``forbidden_values: [{element, values, code}]``: a code set lost some of its values.
- ``shadow_forms: {FORM: OTHER}``: FORM is validated against OTHER's current XSD.
- ``message_date_format: {KIND: strftime}``: answers of KIND write dates differently.
- ``idempotency: broken``: a retry with the same message id and body answers 409.
- ``slow_forms: {FORM: factor}``: validating a dossier with FORM takes ``factor`` times as long.
- ``lose_forms: [FORM]``: a dossier carrying FORM is acknowledged (202, its receipt) but
  never stored.
- ``feed: leaks``: the message feed lists every I-VAN's messages, not only the caller's.
- ``dossier_status: leaks``: a dossier's status answers any I-VAN, not only its owner.
- ``result_rules: skipped``: the catalog's result rules are not run, so every accepted
  dossier's 03/TB-TS says accepted and none lists its defective rows.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.catalog import validators_for
from harness.error_codes import describe, finding
from harness.errors import ConfigError, Finding
from harness.paths import fixtures_dir
from harness.xmlsafe import parse_xml
from harness.yamlfile import load_yaml

if TYPE_CHECKING:
    from harness.conformance import CheckResult
    from mock_gateway.intake import CatalogSet

DEFAULT_DATE_FORMAT = "%d/%m/%Y"


def releases_dir() -> Path:
    """Where release profiles live (``fixtures/releases``)."""
    return fixtures_dir() / "releases"


def list_releases(directory: Path | None = None) -> list[str]:
    """Names of every release profile on disk."""
    return sorted(p.stem for p in (directory or releases_dir()).glob("*.yaml"))


@dataclass(frozen=True)
class ForbiddenValues:
    """Values of ``element`` the release no longer accepts, answered with ``code``."""

    element: str
    values: frozenset[str]
    code: str


@dataclass(frozen=True)
class ReleaseProfile:
    """One release's deviations from the reference gateway (empty: the reference itself)."""

    name: str = ""
    summary: str = ""
    escalate_warnings: frozenset[str] = frozenset()
    renumber_codes: Mapping[str, str] = field(default_factory=dict)
    forbidden_values: tuple[ForbiddenValues, ...] = ()
    shadow_forms: Mapping[str, str] = field(default_factory=dict)
    message_date_format: Mapping[str, str] = field(default_factory=dict)
    idempotency_broken: bool = False
    slow_forms: Mapping[str, float] = field(default_factory=dict)
    lose_forms: frozenset[str] = frozenset()
    leaks_feed: bool = False  # hook: api's message feed
    leaks_dossiers: bool = False  # hook: api's dossier status
    skips_result_rules: bool = False  # hook: intake.Intake.check, an accepted dossier's defects

    # -- hook: intake.Intake.check, after the conformance check --------------------------

    def review(self, result: CheckResult, catalogs: CatalogSet) -> list[Finding]:
        """Errors this release adds to an otherwise accepted dossier (empty: accept)."""
        if not result.accepted:
            return []
        extra = [
            replace(f, severity="error")
            for f in result.warnings
            if f.code in self.escalate_warnings
        ]
        for version, content in result.forms:
            if version.form not in self.shadow_forms and not self.forbidden_values:
                continue
            root = parse_xml(content)
            shadow = self.shadow_forms.get(version.form)
            if shadow is not None:
                extra += _shadow_findings(root, shadow, version.file_name, catalogs)
            for rule in self.forbidden_values:
                for node in root.iter(rule.element, f"{{*}}{rule.element}"):
                    if (node.text or "").strip() in rule.values:
                        where = f"{version.file_name}:{root.getroottree().getpath(node)}"
                        extra.append(finding(rule.code, where, value=(node.text or "").strip()))
        return extra

    # -- hook: intake.Intake.check, every rejection ---------------------------------------

    def renumber(self, findings: Sequence[Finding]) -> list[Finding]:
        """The findings under this release's codes."""
        return [
            replace(f, code=self.renumber_codes[f.code]) if f.code in self.renumber_codes else f
            for f in findings
        ]

    def status_for(self, findings: Sequence[Finding]) -> int | None:
        """The HTTP status the original codes imply (a renumbered code may be unknown)."""
        errors = [f for f in findings if f.severity == "error"] or list(findings)
        if not errors:
            return None
        status = describe(errors[0].code).http
        return 400 if status < 400 else status

    # -- hook: intake.Intake.check, timing ------------------------------------------------

    def slow_down(self, forms: Sequence[str], elapsed: float) -> None:
        """Sleep so that checking a dossier with a slow form took ``factor`` times as long."""
        factor = max((self.slow_forms.get(form, 1.0) for form in forms), default=1.0)
        if factor > 1.0:
            time.sleep((factor - 1.0) * elapsed)

    # -- hook: core.Gateway, an accepted dossier before its commit ----------------------

    def loses(self, forms: Sequence[str]) -> bool:
        """Whether a dossier carrying ``forms`` is acknowledged and then never stored."""
        return not self.lose_forms.isdisjoint(forms)

    # -- hook: the answers' dates, via processor / core (MessageSigner.sign_answer) -------

    def date_format(self, kind: str) -> str:
        return self.message_date_format.get(kind, DEFAULT_DATE_FORMAT)


NO_RELEASE = ReleaseProfile()


def _shadow_findings(root: Any, shadow: str, file_name: str, catalogs: CatalogSet) -> list[Finding]:
    """Validate ``root`` against the newest served schema of form ``shadow``."""
    for catalog in reversed(catalogs.catalogs):
        form = catalog.forms.get(shadow)
        if form is None:
            continue
        validator = validators_for(catalog).form(shadow, form.current.version)
        if validator is None:
            continue
        found = [f for f in validator.validate(root) if f.severity != "warning"]
        return [replace(f, xpath=f"{file_name}:{f.xpath}") for f in found]
    return []


def load_release(name: str | None, directory: Path | None = None) -> ReleaseProfile:
    """The profile ``name`` from ``fixtures/releases`` (None or empty: the reference)."""
    if not name:
        return NO_RELEASE
    base = directory or releases_dir()
    path = base / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"unknown gateway release {name!r}",
            hint=f"known releases: {', '.join(list_releases(base)) or '(none)'}",
        )
    data = load_yaml(path) or {}
    hooks = data.get("hooks") or {}
    try:
        return ReleaseProfile(
            name=name,
            summary=str(data.get("summary", "")),
            escalate_warnings=frozenset(map(str, hooks.get("escalate_warnings", ()))),
            renumber_codes={str(k): str(v) for k, v in (hooks.get("renumber_codes") or {}).items()},
            forbidden_values=tuple(
                ForbiddenValues(str(r["element"]), frozenset(map(str, r["values"])), str(r["code"]))
                for r in hooks.get("forbidden_values", ())
            ),
            shadow_forms={str(k): str(v) for k, v in (hooks.get("shadow_forms") or {}).items()},
            message_date_format={
                str(k): str(v) for k, v in (hooks.get("message_date_format") or {}).items()
            },
            idempotency_broken=hooks.get("idempotency") == "broken",
            slow_forms={str(k): float(v) for k, v in (hooks.get("slow_forms") or {}).items()},
            lose_forms=frozenset(map(str, hooks.get("lose_forms") or ())),
            leaks_feed=hooks.get("feed") == "leaks",
            leaks_dossiers=hooks.get("dossier_status") == "leaks",
            skips_result_rules=hooks.get("result_rules") == "skipped",
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: invalid release profile: {exc}") from exc


__all__ = ["NO_RELEASE", "ForbiddenValues", "ReleaseProfile", "list_releases", "load_release"]
