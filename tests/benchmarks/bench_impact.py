"""Impact preview of a draft over 1,000 and 50,000 exceptions, on DynamoDB Local (real paging).

Exceptions are spread over 30 days (newest first in the list index), a third of them resolved or
closed, each with nested attributes, a summary and a ~1.5 KB raw payload as source systems send;
40 live playbooks over two domains; the draft is the next version of one of them. The
preview pages through the list index until it ends or its budget runs out, and reports what it
read; this measures that cost with the default budget (2,000 exceptions) and the largest one a
caller may ask for (10,000).
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

STATUSES = ["open", "in_progress", "escalated", "pending_review", "resolved", "closed"]
DOMAINS = {
    "TradeOperations": ["SettlementFail", "PositionBreak", "Affirmation"],
    "Payments": ["Rejected", "Duplicate"],
}
TENANT = "bench-impact"
NOW = datetime.now(UTC)


def _environment() -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "STATE_TABLE": "bench-impact-state",
            "EVENTS_TABLE": "bench-impact-events",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )


def _playbooks(repos: Any) -> None:
    from exception_playbooks.models.enums import ActionType
    from exception_playbooks.models.playbook import Conditions, PlaybookVersion, Step

    rng = random.Random(7)
    number = 0
    for domain, types in DOMAINS.items():
        for kind in types:
            for severity in (None, ["high", "critical"], ["low", "medium"]):
                for floor in (None, 100_000, 5_000_000):
                    if number >= 40:
                        break
                    match: dict[str, Any] = {"domain": domain, "exception_type": kind}
                    if severity:
                        match["severity_in"] = severity
                    if floor:
                        match["attributes"] = {"amount": {"gte": floor}}
                    number += 1
                    repos.playbooks.save_version(
                        TENANT,
                        PlaybookVersion(
                            playbook_id=f"pb-{number:03d}",
                            version=1,
                            name=f"{domain} {kind} {number}",
                            conditions=Conditions(match=match, priority=rng.choice([0, 10, 50])),
                            steps=(
                                Step(
                                    step_order=1,
                                    name="Note",
                                    action_type=ActionType.ADD_COMMENT,
                                    params={"text": "x"},
                                ),
                            ),
                            created_at=f"2026-01-01T00:00:{number % 60:02d}.000Z",
                        ),
                    )


def _exceptions(client: Any, table: str, start: int, count: int) -> float:
    from exception_playbooks import keys
    from exception_playbooks.ports import iso
    from exception_playbooks.repository.dynamo import Dynamo

    dynamo = Dynamo(client=client)
    rng = random.Random(start)
    began = time.perf_counter()
    batch: list[dict[str, Any]] = []
    for n in range(start, start + count):
        domain = rng.choice(list(DOMAINS))
        created = iso(NOW - timedelta(minutes=rng.uniform(1, 30 * 24 * 60)))
        exception_id = f"EX-{n:06d}"
        item = {
            "exception_id": exception_id,
            "domain": domain,
            "exception_type": rng.choice(DOMAINS[domain]),
            "severity": rng.choice(["low", "medium", "high", "critical"]),
            "status": rng.choice(STATUSES),
            "policy_tags": [],
            "attributes": {
                "amount": rng.choice([500, 50_000, 250_000, 9_000_000]),
                "currency": "USD",
                "trade_ref": f"T-{n}",
                "counterparty": {"lei": f"5493{n:016d}", "name": "Counterparty Bank plc", "tier": n % 3},
                "desk": rng.choice(["rates", "credit", "fx", "equities"]),
            },
            "summary": f"Trade T-{n} failed to settle at the custodian; instruction rejected",
            "source_system": "Murex",
            # What source systems send along: the record as it was, a kilobyte or two.
            "raw_payload": {"record": {f"field_{k}": f"value {k} of trade {n}" for k in range(40)}},
            "created_at": created,
            "updated_at": created,
            "version": 1,
            **keys.exception_key(TENANT, exception_id),
            "gsi1pk": keys.exceptions_list_pk(TENANT),
            "gsi1sk": keys.exceptions_list_sk(created, exception_id),
            "domain_key": domain.lower(),
            "tenant_id": TENANT,
        }
        item["given_severity"] = item["severity"]
        batch.append({"PutRequest": {"Item": dynamo.serialize(item)}})
        if len(batch) == 25:
            _write(client, table, batch)
            batch = []
    if batch:
        _write(client, table, batch)
    return time.perf_counter() - began


def _write(client: Any, table: str, batch: list[dict[str, Any]]) -> None:
    request = {table: batch}
    while request:
        request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def _measure(repos: Any, draft_id: str, limit: int) -> dict[str, Any]:
    from exception_playbooks.auth import Principal
    from exception_playbooks.models.enums import Role
    from exception_playbooks.usecases.authoring import ImpactBudget, preview_impact

    principal = Principal(TENANT, "bench", frozenset({Role.ADMIN}))
    budget = ImpactBudget(days=7, max_exceptions=limit, max_seconds=60.0)
    began = time.perf_counter()
    answer = preview_impact(repos, principal, draft_id, budget)
    wall = time.perf_counter() - began
    cost = answer["cost"]
    result = {
        "limit": limit,
        "examined": cost["examined"],
        "evaluated": answer["evaluated"],
        "pages": cost["pages"],
        "dynamodb_calls": cost["reads"],
        "calls": cost["calls"],
        "truncated": cost["truncated"],
        "stopped_by": cost["stopped_by"],
        "seconds": round(wall, 3),
        "ms_per_examined": round(1000 * wall / max(cost["examined"], 1), 3),
        "captured": answer["captured"]["count"],
        "released": answer["released"]["count"],
    }
    print(
        f"  limit {limit:>6}: examined {result['examined']:>6} ({result['evaluated']} evaluated) in "
        f"{result['pages']} pages, {result['dynamodb_calls']} DynamoDB calls, {result['seconds']} s "
        f"({result['ms_per_examined']} ms each), truncated={result['truncated']}",
        flush=True,
    )
    return result


def _reads_only(repos: Any, count: int) -> dict[str, float]:
    """Seconds to read ``count`` exceptions: the preview's slim projection against whole items."""
    from exception_playbooks.repository.exceptions import ExceptionFilters
    from exception_playbooks.repository.matching_reads import newest_exceptions

    began = time.perf_counter()
    start, read = None, 0
    while read < count:
        records, start = newest_exceptions(repos.dynamo, TENANT, 200, start)
        read += len(records)
        if start is None:
            break
    slim = time.perf_counter() - began
    began = time.perf_counter()
    cursor, read = None, 0
    while read < count:
        page = repos.exceptions.list(TENANT, ExceptionFilters(), 200, cursor)
        read += len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    whole = time.perf_counter() - began
    print(f"  reading {count}: projected {slim:.2f} s, whole items {whole:.2f} s", flush=True)
    return {"projected_seconds": round(slim, 3), "whole_items_seconds": round(whole, 3)}


def bench_impact_preview() -> dict[str, Any]:
    _environment()
    import boto3
    from exception_playbooks import config
    from exception_playbooks.auth import Principal
    from exception_playbooks.models.enums import Role
    from exception_playbooks.repository import packs, playbooks
    from exception_playbooks.repository.bundle import build_repositories
    from exception_playbooks.repository.dynamo import Dynamo
    from exception_playbooks.usecases.authoring import create_draft

    from local.dynamodb_local import DynamoDBLocal
    from local.tables import create_tables

    config.reset_settings()
    playbooks.clear_cache()
    packs.clear_cache()
    with tempfile.TemporaryDirectory() as folder:
        server = DynamoDBLocal(db_path=None, heap_mb=1024)
        endpoint = server.start()
        try:
            client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
            settings = config.settings()
            create_tables(client, settings)
            repos = build_repositories(Dynamo(settings, client))
            _playbooks(repos)
            admin = Principal(TENANT, "bench", frozenset({Role.ADMIN}))
            body = {
                "name": "Settlement fails, large",
                "conditions": {
                    "match": {
                        "domain": "TradeOperations",
                        "exception_type": "SettlementFail",
                        "attributes": {"amount": {"gte": 200_000}},
                    },
                    "priority": 60,
                },
                "steps": [
                    {"name": "Page the desk", "action_type": "add_comment", "params": {"text": "large"}}
                ],
            }
            draft = create_draft(repos, admin, {"playbook_id": "pb-001", "playbook": body})["draft_id"]
            results: dict[str, Any] = {"folder": folder}
            seeded = 0
            for size in (1_000, 50_000):
                seconds = _exceptions(client, settings.state_table, seeded, size - seeded)
                print(f"{size} exceptions (seeded {size - seeded} in {seconds:.1f} s)", flush=True)
                seeded = size
                _measure(repos, draft, 2_000)  # warm the JVM and the compiled conditions
                results[str(size)] = {
                    "default_budget": _measure(repos, draft, 2_000),
                    "max_budget": _measure(repos, draft, 10_000),
                    "reads_only_2000": _reads_only(repos, 2_000),
                }
            results.pop("folder")
            return results
        finally:
            server.stop()
