"""The demo data, put in through the API handlers exactly as users would (``SEED_DEMO=1``).

For each tenant file in ``local/seed/``: an admin PUTs the packs and POSTs the playbooks,
users and source systems POST exceptions (SLA deadlines relative to now), the dispatcher
lets the agents triage and assign, then operators work the scripted steps (complete, skip,
patch, comment) so the exceptions end in varied states. Each call goes through
``Gateway.call`` with the user's authorizer claims: the same invoke path as HTTP.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from .auth import claims_for
from .gateway import ApiResult, Gateway

log = logging.getLogger("local.seed")

SEED_DIR = Path(__file__).parent / "seed"
DRAIN_TIMEOUT = 30.0


class SeedAborted(RuntimeError):
    """A call the rest of the seed depends on failed (e.g. a handler is not there yet)."""


@dataclass(frozen=True)
class DemoUser:
    username: str
    name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class TenantSeed:
    tenant_id: str
    name: str
    about: str
    users: tuple[DemoUser, ...]
    data: dict[str, Any] = field(repr=False)

    @property
    def domains(self) -> list[str]:
        return list(self.data.get("domain_packs", {}))

    def user(self, username: str) -> DemoUser:
        for user in self.users:
            if user.username == username:
                return user
        raise KeyError(f"{self.tenant_id} has no demo user {username!r}")

    def first_with(self, role: str) -> DemoUser:
        return next(u for u in self.users if role in u.roles)


@dataclass
class TenantReport:
    tenant_id: str
    playbooks: int = 0
    exceptions: int = 0
    steps_acted: int = 0
    problems: list[str] = field(default_factory=list)


def load_tenants(seed_dir: Path = SEED_DIR) -> list[TenantSeed]:
    tenants = []
    for path in sorted(seed_dir.glob("*.json")):
        data = json.loads(path.read_text())
        users = tuple(
            DemoUser(u["username"], u.get("name", u["username"]), tuple(u["roles"])) for u in data["users"]
        )
        tenants.append(TenantSeed(data["tenant_id"], data["name"], data.get("about", ""), users, data))
    return tenants


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TenantSeeder:
    def __init__(self, gateway: Gateway, drain: Any, tenant: TenantSeed, now: datetime):
        self.gateway = gateway
        self.drain = drain
        self.tenant = tenant
        self.now = now
        self.report = TenantReport(tenant.tenant_id)
        self.playbook_ids: dict[str, str] = {}
        self.current_step: dict[str, int | None] = {}

    # -------------------------------------------------------------------- helpers

    def _call(self, username: str, method: str, path: str, body: Any = None) -> ApiResult:
        user = self.tenant.user(username)
        claims = claims_for(self.tenant.tenant_id, user.username, user.roles)
        path, _, query = path.partition("?")
        return self.gateway.call(method, path, claims, body=body, query=dict(parse_qsl(query)))

    def _must(self, result: ApiResult, what: str) -> Any:
        if not result.ok:
            raise SeedAborted(
                f"{self.tenant.tenant_id}: {what} answered {result.status}: {_short(result.body)}"
            )
        return result.body

    def _problem(self, text: str) -> None:
        self.report.problems.append(text)
        log.warning("seed %s: %s", self.tenant.tenant_id, text)

    # -------------------------------------------------------------------- phases

    def packs_and_playbooks(self) -> None:
        admin = self.tenant.first_with("admin").username
        data = self.tenant.data
        self._must(self._call(admin, "PUT", "/api/packs/policy", data["policy_pack"]), "PUT policy pack")
        for domain, pack in data.get("domain_packs", {}).items():
            self._must(
                self._call(admin, "PUT", f"/api/packs/domains/{quote(domain)}", pack),
                f"PUT domain pack {domain}",
            )
        for playbook in data["playbooks"]:
            created = self._must(
                self._call(admin, "POST", "/api/playbooks", playbook["definition"]),
                f"POST playbook {playbook['key']}",
            )
            self.playbook_ids[playbook["key"]] = created["playbook_id"]
            self.report.playbooks += 1

    def exceptions(self) -> None:
        for spec in self._specs:
            body = dict(spec["body"])
            if "sla_minutes_from_now" in spec:
                body["sla_deadline"] = _iso(self.now + timedelta(minutes=spec["sla_minutes_from_now"]))
            result = self._call(spec["by"], "POST", "/api/exceptions", body)
            if result.status not in (200, 201):
                exception_id = body.get("exception_id")
                self._problem(
                    f"POST exception {exception_id} answered {result.status}: {_short(result.body)}"
                )
                continue
            self.report.exceptions += 1
        self.drain(DRAIN_TIMEOUT)  # triage and policy agents assign the playbooks
        self._check_assignments({s["body"]["exception_id"]: s.get("expect_playbook") for s in self._specs})

    def scripts(self) -> None:
        """Round-robin: every exception's n-th operation, then the agents react, then the next round.

        Each exception's timeline reads as if someone worked it (the agents' suggestion after every
        step), while the dispatcher drains once per round instead of once per operation.
        """
        rounds = max((len(s.get("script", [])) for s in self._specs), default=0)
        for index in range(rounds):
            for spec in self._specs:
                script = spec.get("script", [])
                if index < len(script):
                    self._run_op(spec["body"]["exception_id"], script[index])
            self.drain(DRAIN_TIMEOUT)
        final = {}
        for spec in self._specs:
            expected = spec.get("expect_playbook")
            for op in spec.get("script", []):
                expected = op.get("expect_playbook", expected)
            final[spec["body"]["exception_id"]] = expected
        self._check_assignments(final)

    def revisions(self) -> None:
        admin = self.tenant.first_with("admin").username
        for playbook in self.tenant.data["playbooks"]:
            revision = playbook.get("revision_after_exceptions")
            if revision and playbook["key"] in self.playbook_ids:
                path = f"/api/playbooks/{quote(self.playbook_ids[playbook['key']])}"
                result = self._call(admin, "PUT", path, revision)
                if not result.ok:
                    self._problem(f"PUT {path} answered {result.status}: {_short(result.body)}")

    # -------------------------------------------------------------------- operations

    @property
    def _specs(self) -> list[dict[str, Any]]:
        return list(self.tenant.data.get("exceptions", []))

    def _run_op(self, exception_id: str, op: dict[str, Any]) -> None:
        base = f"/api/exceptions/{quote(exception_id)}"
        kind, user = op["op"], op["by"]
        if kind in ("complete", "skip"):
            step = self.current_step.get(exception_id)
            if not step:
                self._problem(f"{exception_id}: no current step to {kind}")
                return
            body: dict[str, Any] = {"actor_type": op.get("actor_type", "human")}
            if op.get("actor_type", "human") != "human":
                body["actor_id"] = user
            if op.get("notes"):
                body["notes"] = op["notes"]
            result = self._call(user, "POST", f"{base}/playbook/steps/{step}/{kind}", body)
            if result.ok:
                self.report.steps_acted += 1
                self.current_step[exception_id] = result.body.get("current_step")
            else:
                self._problem(
                    f"{exception_id}: {kind} step {step} answered {result.status}: {_short(result.body)}"
                )
        elif kind == "patch":
            patch = dict(op.get("body", {}))
            if "sla_minutes_from_now" in op:
                patch["sla_deadline"] = _iso(self.now + timedelta(minutes=op["sla_minutes_from_now"]))
            result = self._call(user, "PATCH", base, patch)
            if result.ok:
                self.current_step[exception_id] = result.body.get("current_step")
            else:
                self._problem(f"{exception_id}: PATCH answered {result.status}: {_short(result.body)}")
        elif kind == "comment":
            result = self._call(user, "POST", f"{base}/comments", {"text": op["text"]})
            if not result.ok:
                self._problem(f"{exception_id}: comment answered {result.status}: {_short(result.body)}")
        else:
            raise ValueError(f"unknown seed op {kind!r}")

    def _check_assignments(self, expected: dict[str, str | None]) -> None:
        """One list call: remember each exception's current step and check the agents chose what
        the seed file says they would (a guard on the demo story, reported as problems)."""
        viewer = self.tenant.first_with("viewer").username
        listing = self._call(viewer, "GET", "/api/exceptions?limit=200")
        if not listing.ok or not isinstance(listing.body, dict):
            self._problem(f"GET /api/exceptions answered {listing.status}: {_short(listing.body)}")
            return
        records = {r["exception_id"]: r for r in listing.body.get("items", [])}
        names = {pid: key for key, pid in self.playbook_ids.items()}
        for exception_id, key in expected.items():
            record = records.get(exception_id)
            if record is None:
                self._problem(f"{exception_id} is not in the exception list")
                continue
            self.current_step[exception_id] = record.get("current_step")
            actual = record.get("current_playbook_id")
            if actual != (self.playbook_ids.get(key) if key else None):
                got = names.get(actual, actual) or "none"
                self._problem(f"{exception_id}: expected playbook {key or 'none'}, the agents chose {got}")


def seed(gateway: Gateway, drain: Any, tenants: list[TenantSeed] | None = None) -> list[TenantReport]:
    """Seed every tenant; ``drain(timeout)`` delivers committed events to the agents."""
    now = datetime.now(UTC)
    reports = []
    for tenant in tenants if tenants is not None else load_tenants():
        seeder = TenantSeeder(gateway, drain, tenant, now)
        seeder.packs_and_playbooks()
        seeder.exceptions()
        seeder.scripts()
        seeder.revisions()
        reports.append(seeder.report)
        log.info(
            "seeded %s: %d playbooks, %d exceptions, %d steps acted on, %d problems",
            tenant.tenant_id,
            seeder.report.playbooks,
            seeder.report.exceptions,
            seeder.report.steps_acted,
            len(seeder.report.problems),
        )
    return reports


def _short(body: Any, limit: int = 300) -> str:
    text = body if isinstance(body, str) else json.dumps(body)
    return text if len(text) <= limit else text[:limit] + "..."
