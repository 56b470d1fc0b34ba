"""Publish-time lint: what an author should know before a playbook goes live.

Each finding has a severity (``error`` blocks publishing, ``warning`` does not), the JSON path it
is about (as 422 problems spell them: ``steps[1].params.tool_id``) and one sentence. The rules:

========================  =======  ==========================================================
rule                      sev.     finding
========================  =======  ==========================================================
``never_holds``           error    the conditions contradict themselves (no exception fits)
``dead_branch``           warning  an ``any_of`` branch can never hold (the others can)
``unknown_domain``        warning  no domain pack of the tenant knows the domain
``shadowed``              error    a higher-ranked compliant live playbook holds whenever this
                                   one does: it can never win
``shadows``               warning  this playbook would make a live one unable to win
``unseen_attribute``      warning  a template or condition names an attribute none of the
                                   tenant's recent exceptions carries
``needs_approval``        warning  a step will need a human under the current policy
``tool_not_approved``     error    a ``call_tool`` names a tool the policy does not approve
``tool_unknown``          error    ... or one the domain pack does not define
``blocked_action``        error    an action type the policy blocks (never assignable)
========================  =======  ==========================================================

Pure: the caller supplies the packs, the live catalogue and the attribute paths it has seen.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..execution.approval import is_high_risk
from ..execution.templates import placeholders
from ..matching.compiled import compiled_playbook
from ..matching.guardrails import Guardrails
from ..matching.ranking import rank_key
from ..models.enums import ActionType
from ..models.enums import Severity as ExceptionSeverity
from ..models.packs import DomainPack, PackSet, PolicyPack
from ..models.playbook import PlaybookVersion
from . import regions

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"
MATCH_PATH = "conditions.match"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    rule: str
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "rule": self.rule, "path": self.path, "message": self.message}


@dataclass(frozen=True)
class LintContext:
    """What the rules look at besides the playbook itself."""

    policy: PolicyPack
    domain_pack: DomainPack | None  # the pack of the playbook's own domain (None: none, or no domain)
    catalogue: Sequence[PlaybookVersion] = ()  # live active latest versions, the playbook's own excluded
    seen_attributes: frozenset[str] | None = None  # dotted paths on recent exceptions; None: no sample
    sample_size: int = 0
    known_domains: frozenset[str] = field(default_factory=frozenset)  # case-folded, for suggestions


def lint(playbook: PlaybookVersion, context: LintContext) -> list[Finding]:
    """Every finding for ``playbook`` (a validated version, e.g. a draft as it would be published)."""
    match = playbook.conditions.match
    findings: list[Finding] = []
    contradictions = regions.never_holds(match, MATCH_PATH)
    findings += [Finding(ERROR, "never_holds", c.path, c.sentence) for c in contradictions]
    findings += [Finding(WARNING, "dead_branch", c.path, c.sentence) for c in regions.dead_branches(match)]
    findings += _domain(playbook, context)
    findings += _policy(playbook, context)
    if not contradictions:
        findings += _shadowing(playbook, context)
    findings += _unseen_attributes(playbook, context)
    findings += _approvals(playbook, context)
    return findings


def has_errors(findings: Sequence[Finding]) -> bool:
    return any(finding.severity == ERROR for finding in findings)


# --- rules ----------------------------------------------------------------------------------------


def _domain(playbook: PlaybookVersion, context: LintContext) -> list[Finding]:
    domain = playbook.domain
    if domain is None or context.domain_pack is not None:
        return []
    known = sorted(context.known_domains)
    hint = f" (packs exist for: {', '.join(known)})" if known else ""
    return [
        Finding(
            WARNING,
            "unknown_domain",
            f"{MATCH_PATH}.domain",
            f"no domain pack knows the domain '{domain}'{hint}: check the spelling; exceptions of "
            "an unknown domain get no severity rules, tools or fields",
        )
    ]


def _policy(playbook: PlaybookVersion, context: LintContext) -> list[Finding]:
    findings: list[Finding] = []
    blocked = set(context.policy.blocked_action_types)
    approved = set(context.policy.approved_tools)
    tools = context.domain_pack.tools if context.domain_pack is not None else {}
    for index, step in enumerate(playbook.steps):
        if step.action_type in blocked:
            findings.append(
                Finding(
                    ERROR,
                    "blocked_action",
                    f"steps[{index}].action_type",
                    f"the tenant policy blocks '{step.action_type.value}' steps: matching would always "
                    "pass this playbook over",
                )
            )
        if step.action_type is not ActionType.CALL_TOOL:
            continue
        tool = step.params.get("tool_id")
        where = f"steps[{index}].params.tool_id"
        if tool not in approved:
            findings.append(
                Finding(
                    ERROR, "tool_not_approved", where, f"tool '{tool}' is not approved by the tenant policy"
                )
            )
        if tool not in tools:
            pack = f"the {playbook.domain} domain pack" if playbook.domain else "any domain pack"
            findings.append(Finding(ERROR, "tool_unknown", where, f"tool '{tool}' is not defined in {pack}"))
    return findings


def _shadowing(playbook: PlaybookVersion, context: LintContext) -> list[Finding]:
    """Shadowed: a compliant live playbook that ranks higher holds wherever this one holds."""
    findings: list[Finding] = []
    match = playbook.conditions.match
    mine = rank_key(playbook)
    guardrails = Guardrails(PackSet(policy=context.policy, domain=context.domain_pack))
    compliant = not guardrails.violations(playbook)
    for other in context.catalogue:
        if not other.active or other.playbook_id == playbook.playbook_id:
            continue
        if compiled_playbook(other).match is None:
            continue  # stored conditions that no longer validate never match: they shadow nothing
        theirs = rank_key(other)
        if theirs < mine and regions.implies(match, other.conditions.match):
            if not guardrails.violations(other):
                findings.append(
                    Finding(
                        ERROR,
                        "shadowed",
                        MATCH_PATH,
                        f"can never win: '{other.name}' ({other.playbook_id}) holds for every exception "
                        f"this playbook holds for and ranks higher ({_why(other, playbook)})",
                    )
                )
        elif (
            compliant
            and mine < theirs
            and not regions.never_holds(other.conditions.match)
            and regions.implies(other.conditions.match, match)
        ):
            findings.append(
                Finding(
                    WARNING,
                    "shadows",
                    MATCH_PATH,
                    f"once published, '{other.name}' ({other.playbook_id}) can never win: this playbook "
                    f"holds for every exception it holds for and ranks higher ({_why(playbook, other)})",
                )
            )
    return findings


def _why(better: PlaybookVersion, worse: PlaybookVersion) -> str:
    if better.conditions.priority != worse.conditions.priority:
        return f"priority {better.conditions.priority} against {worse.conditions.priority}"
    return "same priority, but more specific or newer"


def _unseen_attributes(playbook: PlaybookVersion, context: LintContext) -> list[Finding]:
    seen = context.seen_attributes
    if not seen:
        return []  # nothing to compare with: no recent exceptions
    findings: list[Finding] = []
    sample = f"the tenant's {context.sample_size} most recent exceptions"
    for path, attribute in _template_attributes(playbook):
        if attribute not in seen:
            findings.append(
                Finding(
                    WARNING,
                    "unseen_attribute",
                    path,
                    f"'{{exception.attributes.{attribute}}}' names an attribute none of {sample} carries: "
                    "it would render empty (or refuse a tool call / owner assignment)",
                )
            )
    for attribute in dict.fromkeys(regions.attribute_paths(playbook.conditions.match)):
        if attribute not in seen:
            findings.append(
                Finding(
                    WARNING,
                    "unseen_attribute",
                    f"{MATCH_PATH}.attributes.{attribute}",
                    f"the condition tests '{attribute}', an attribute none of {sample} carries",
                )
            )
    return findings


def _template_attributes(playbook: PlaybookVersion) -> Iterator[tuple[str, str]]:
    for index, step in enumerate(playbook.steps):
        for path, text in _strings(step.params, f"steps[{index}].params"):
            for context_name, name in placeholders(text):
                if context_name == "exception" and name.startswith("attributes."):
                    yield path, name.removeprefix("attributes.")


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _approvals(playbook: PlaybookVersion, context: LintContext) -> list[Finding]:
    packs = PackSet(policy=context.policy, domain=context.domain_pack)
    approval = context.policy.human_approval
    by_severity = sorted(
        (s for s in regions.severities(playbook.conditions.match) if s in approval.severities),
        key=lambda s: list(ExceptionSeverity).index(s),
    )
    findings: list[Finding] = []
    for index, step in enumerate(playbook.steps):
        reasons = []
        if step.requires_approval:
            reasons.append("its requires_approval flag")
        if is_high_risk(step, packs):
            reasons.append("its action is high-risk")
        if step.action_type in approval.action_types:
            reasons.append(f"the policy's human_approval covers '{step.action_type.value}'")
        if reasons:
            sentence = f"a person must complete or skip this step ({'; '.join(reasons)}); agents cannot"
        elif by_severity:
            names = ", ".join(s.value for s in by_severity)
            sentence = (
                f"on {names} exceptions a person must complete or skip this step (policy human_approval)"
            )
        else:
            continue
        findings.append(Finding(WARNING, "needs_approval", f"steps[{index}]", sentence))
    return findings


def seen_paths(attribute_maps: Sequence[Mapping[str, Any]], limit: int = 5000) -> frozenset[str]:
    """Dotted paths (each prefix too) present in some exceptions' attributes, bounded."""
    found: set[str] = set()

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        for key, value in node.items():
            if len(found) >= limit:
                return
            path = f"{prefix}{key}"
            found.add(path)
            if isinstance(value, Mapping):
                walk(value, f"{path}.")

    for attributes in attribute_maps:
        walk(attributes, "")
    return frozenset(found)
