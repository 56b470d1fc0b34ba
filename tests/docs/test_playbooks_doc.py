"""Every JSON example in docs/playbooks.md is what the code accepts (or refuses, where the guide
says so), and the exceptions of its worked examples get the playbook the guide says they get.

Each ```json block is preceded by a marker naming what it is:

    <!-- check: match -->                      a match object: validates
    <!-- check: conditions -->                 a conditions object (normal or legacy form): validates
    <!-- check: domain-pack TENANT DOMAIN -->  a domain pack: validates; the tenant's pack for DOMAIN
    <!-- check: policy-pack TENANT -->         a policy pack: validates; the tenant's policy
    <!-- check: playbook TENANT -->            a playbook: validates against the tenant's packs; a candidate
    <!-- check: rejected-playbook TENANT -->   a playbook the guide says is refused: ValidationFailed
    <!-- check: step TENANT -->                one step: validates inside a playbook of the tenant's domain
    <!-- check: exception TENANT [sla_minutes=N] expect="NAME" -->
                                               an exception: matching over the tenant's playbooks picks NAME
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from exception_playbooks.errors import ValidationFailed
from exception_playbooks.execution.actions import EXECUTORS
from exception_playbooks.matching.conditions import (
    ATTRIBUTE_OPERATORS,
    MATCH_KEYS,
    validate_conditions,
    validate_match,
)
from exception_playbooks.matching.engine import select_playbook
from exception_playbooks.models.enums import STATUS_TRANSITIONS, ActionType
from exception_playbooks.models.packs import DomainPack, PackSet, PolicyPack
from exception_playbooks.models.playbook import Conditions, PlaybookVersion, Step
from exception_playbooks.ports import iso
from exception_playbooks.usecases.simulate import SimulatedException, ad_hoc_record
from exception_playbooks.usecases.validation import (
    validate_domain_pack,
    validate_playbook,
    validate_policy_pack,
)

from tests.docs.markdown import fenced_blocks
from tests.ui.support import REPO_ROOT

DOC = REPO_ROOT / "docs" / "playbooks.md"
MARKER = re.compile(r"^<!-- check: (.+) -->$")
KINDS = {
    "match",
    "conditions",
    "domain-pack",
    "policy-pack",
    "playbook",
    "rejected-playbook",
    "step",
    "exception",
}


@dataclass
class Checked:
    line: int
    kind: str
    args: list[str]
    options: dict[str, str]
    body: Any


@dataclass
class Tenant:
    policy: PolicyPack | None = None
    domains: dict[str, DomainPack] = field(default_factory=dict)
    playbooks: list[PlaybookVersion] = field(default_factory=list)

    def policy_pack(self) -> PolicyPack:
        assert self.policy is not None, "the guide shows no policy pack for this tenant"
        return self.policy

    def domain_pack(self, domain: str) -> DomainPack | None:
        return next((p for name, p in self.domains.items() if name.lower() == domain.lower()), None)


class Lookup:
    """``PackLookup`` over the packs the guide has shown so far for one tenant."""

    def __init__(self, tenant: Tenant):
        self._tenant = tenant

    def policy(self) -> PolicyPack:
        return self._tenant.policy_pack()

    def domain(self, domain: str) -> DomainPack | None:
        return self._tenant.domain_pack(domain)


def checked_blocks() -> list[Checked]:
    markdown = DOC.read_text(encoding="utf-8")
    lines = markdown.splitlines()
    found: list[Checked] = []
    for block in fenced_blocks(markdown, "docs/playbooks.md"):
        if block.info != "json":
            continue
        previous = lines[block.line - 2] if block.line >= 2 else ""
        marker = MARKER.match(previous.strip())
        assert marker, f"docs/playbooks.md:{block.line}: a ```json block needs a <!-- check: ... --> marker"
        words = shlex.split(marker.group(1))
        kind, rest = words[0], words[1:]
        assert kind in KINDS, f"docs/playbooks.md:{block.line - 1}: unknown check {kind!r}"
        args = [w for w in rest if "=" not in w]
        options = dict(w.split("=", 1) for w in rest if "=" in w)
        try:
            body = json.loads(block.content)
        except ValueError as error:
            raise AssertionError(f"docs/playbooks.md:{block.line}: not JSON: {error}") from None
        found.append(Checked(block.line, kind, args, options, body))
    return found


def _problems(error: ValidationFailed) -> str:
    return "; ".join(f"{p.path}: {p.message}" for p in error.problems)


def test_every_example_is_what_the_code_says() -> None:
    now = datetime.now(UTC)
    tenants: dict[str, Tenant] = {}
    checks = checked_blocks()
    assert len(checks) >= 30
    exceptions_checked = 0
    # Packs first: the guide shows some playbooks and steps before the packs they rely on.
    ordered = sorted(enumerate(checks), key=lambda pair: pair[1].kind not in ("domain-pack", "policy-pack"))
    for number, check in ordered:
        where = f"docs/playbooks.md:{check.line}"
        tenant = tenants.setdefault(check.args[0], Tenant()) if check.args else Tenant()
        try:
            if check.kind == "match":
                assert validate_match(check.body) == [], where
            elif check.kind == "conditions":
                assert validate_conditions(check.body) == [], where
            elif check.kind == "domain-pack":
                domain = check.args[1]
                written = validate_domain_pack(check.body, domain)
                tenant.domains[domain] = DomainPack(**written.body.model_dump(), domain=domain, version=1)
            elif check.kind == "policy-pack":
                written_policy = validate_policy_pack(check.body)
                tenant.policy = PolicyPack(**written_policy.body.model_dump(), version=1)
            elif check.kind == "playbook":
                playbook = validate_playbook(check.body, Lookup(tenant))
                tenant.playbooks.append(
                    PlaybookVersion(
                        playbook_id=f"pb-doc-{number:03d}",
                        version=1,
                        name=playbook.name,
                        description=playbook.description,
                        conditions=Conditions(
                            match=playbook.conditions.match, priority=playbook.conditions.priority
                        ),
                        steps=tuple(
                            Step(step_order=order, **step.model_dump())
                            for order, step in enumerate(playbook.steps, 1)
                        ),
                        created_at=iso(now - timedelta(seconds=len(checks) - number)),
                    )
                )
            elif check.kind == "rejected-playbook":
                with pytest.raises(ValidationFailed):
                    validate_playbook(check.body, Lookup(tenant))
            elif check.kind == "step":
                (domain,) = tenant.domains
                wrapper = {
                    "name": "check",
                    "conditions": {"match": {"domain": domain}},
                    "steps": [check.body],
                }
                validate_playbook(wrapper, Lookup(tenant))
            elif check.kind == "exception":
                exceptions_checked += 1
                fields = dict(check.body)
                if "sla_minutes" in check.options:
                    fields["sla_deadline"] = now + timedelta(minutes=float(check.options["sla_minutes"]))
                record = ad_hoc_record(SimulatedException(**fields), iso(now))
                packs = PackSet(policy=tenant.policy_pack(), domain=tenant.domain_pack(record.domain))
                result = select_playbook(record, tenant.playbooks, packs, now)
                winner = result.winner.name if result.winner else "none"
                assert winner == check.options["expect"], f"{where}: {result.summary}"
        except ValidationFailed as error:
            raise AssertionError(f"{where}: refused: {_problems(error)}") from None
    assert exceptions_checked >= 8


def test_every_key_operator_and_action_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in (*MATCH_KEYS, *ATTRIBUTE_OPERATORS, *(a.value for a in ActionType)):
        assert f"`{name}`" in text, name
        if name in MATCH_KEYS or name in EXECUTORS:
            assert re.search(rf"^### `{name}`", text, re.MULTILINE) or name in ("severity", "severity_in"), (
                name
            )


def test_the_transition_table_is_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("| from | may move to |") :].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines()[2:]:
        source, targets = (cell.strip() for cell in line.strip("|").split("|"))
        rows[source.strip("`")] = set(re.findall(r"`([a-z_]+)`", targets))
    assert rows == {
        status.value: {t.value for t in targets} for status, targets in STATUS_TRANSITIONS.items()
    }
