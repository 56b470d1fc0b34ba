"""Cost per operation against DynamoDB Local: calls, read/write capacity units, handler latency.

Catalogues of 100, 1,000 and 10,000 playbooks (8 steps each) over 20 domains (2% domain-less),
and tenants of 1,000 and 50,000 exceptions. Every operation runs through its real handler
(API Gateway proxy event in, response out) on the code of this checkout; capacity is what
DynamoDB Local reports (``local.capacity``), calls are counted with ``local.aws_calls``.

"cold" = the process caches of playbook versions and candidates are empty (a fresh Lambda);
"first" = cold, and the first match of the tenant (the domain pack is read too); "warm" = the
same Lambda again (median of the runs).
Packs stay cached in both (they are not what this measures).

Seeding: playbooks go through ``PlaybookRepository.save_version`` with the transaction captured
and written with BatchWriteItem (the very items, minus the conditions); exceptions are clones of
one exception created and assigned through the API (its projection carries the 8-step run),
written with BatchWriteItem under new ids and times, so 50,000 take about a minute here.

Run alone: ``python -m tests.benchmarks.run -k bench_costs`` (BENCH_COST_SIZES=100,1000 and
BENCH_TENANT_SIZES=1000 shrink it).
"""

from __future__ import annotations

import copy
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

CATALOGUE_SIZES = (100, 1_000, 10_000)
TENANT_SIZES = (1_000, 50_000)
DOMAINS = [f"Domain{n:02d}" for n in range(20)]
STEPS_PER_PLAYBOOK = 8
RUNS = 5
STATE, EVENTS = "bench-state", "bench-events"

EXCEPTIONS = "/api/exceptions"
STATUS = "/api/exceptions/{exception_id}/playbook"
RECALCULATE = "/api/exceptions/{exception_id}/playbook/recalculate"
COMPLETE = "/api/exceptions/{exception_id}/playbook/steps/{step_order}/complete"


def _sizes(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = os.environ.get(name)
    return tuple(int(v) for v in raw.split(",")) if raw else default


@contextmanager
def _dynamodb_local() -> Iterator[str]:
    from local.dynamodb_local import DynamoDBLocal

    server = DynamoDBLocal(heap_mb=1536)
    endpoint = server.start()
    try:
        yield endpoint
    finally:
        server.stop()


def _environment(endpoint: str) -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "STATE_TABLE": STATE,
            "EVENTS_TABLE": EVENTS,
            "PACK_CACHE_SECONDS": "86400",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_METRICS_NAMESPACE": "bench",
            "POWERTOOLS_SERVICE_NAME": "bench",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )


# -- seeding ------------------------------------------------------------------------------------
def _step(n: int, rng_key: int) -> dict[str, Any]:
    kinds = [
        (
            "notify",
            {
                "channel": "email",
                "recipient": "desk@example.com",
                "subject": "{exception.exception_id}",
                "message": "Exception {exception.exception_id} needs attention: " + "details " * 20,
            },
        ),
        ("assign_owner", {"queue": f"queue-{rng_key % 7}"}),
        ("add_comment", {"text": "Checked the confirmation for {exception.exception_type}. " + "note " * 30}),
        ("set_status", {"status": "in_progress"}),
    ]
    action, params = kinds[n % len(kinds)]
    return {"name": f"Step {n + 1} of playbook {rng_key}", "action_type": action, "params": params}


def _playbook(tenant: str, n: int) -> Any:
    from exception_playbooks.models.playbook import Conditions, PlaybookVersion, Step

    domain = None if n % 50 == 0 else DOMAINS[n % len(DOMAINS)]
    match: dict[str, Any] = {"exception_type": f"Type{n % 13}*"}
    if domain:
        match["domain"] = domain
    if n % 3 == 0:
        match["attributes"] = {"amount": {"gte": (n % 10) * 100_000}}
    steps = tuple(
        Step(step_order=i + 1, **_step(i, n))
        for i in range(STEPS_PER_PLAYBOOK)  # type: ignore[arg-type]
    )
    return PlaybookVersion(
        playbook_id=f"pb-{n:05d}",
        version=1,
        name=f"Playbook {n}",
        description="Benchmark playbook " + "text " * 20,
        conditions=Conditions(match=match, priority=n % 17),
        steps=steps,
        created_at=f"2026-01-01T00:{(n // 60) % 60:02d}:{n % 60:02d}.000Z",
        created_by="bench",
    )


class _Capture:
    """Stands in for Dynamo.commit while seeding: keeps the transaction items instead."""

    def __init__(self) -> None:
        self.puts: list[dict[str, Any]] = []
        self.updates: dict[str, Any] = {}

    def commit(self, transaction: Any) -> None:
        for item in transaction.items:
            if item.kind == "Put":
                self.puts.append(item)
            else:  # Update / Delete: each distinct one replayed once, after the puts
                names = sorted((item.names or {}).items())
                self.updates[repr((sorted((item.key or {}).items()), item.update, names))] = item


def _batch_write(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        while pending:
            response = client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}


def _seed_catalogue(client: Any, repos: Any, tenant: str, size: int) -> None:
    from exception_playbooks.repository.candidates import STAMP_PREFIX
    from exception_playbooks.repository.dynamo import Dynamo

    capture = _Capture()
    original = Dynamo.commit
    Dynamo.commit = lambda self, transaction: capture.commit(transaction)  # type: ignore[method-assign]
    try:
        for n in range(size):
            repos.playbooks.save_version(tenant, _playbook(tenant, n))
    finally:
        Dynamo.commit = original  # type: ignore[method-assign]
    by_table: dict[str, list[dict[str, Any]]] = {}
    for put in capture.puts:
        if str(put.item.get("sk", "")).startswith("BUNDLE#"):
            continue
        by_table.setdefault(put.table, []).append(repos.dynamo.serialize(put.item))
    for table, items in by_table.items():
        _batch_write(client, table, items)
    for update in capture.updates.values():
        request = update.to_request(repos.dynamo)
        body = next(iter(request.values()))
        body.pop("ConditionExpression", None)
        if update.kind == "Update":
            body = {k: v for k, v in body.items() if not k.startswith("ExpressionAttributeValues")} | {
                "ExpressionAttributeValues": {
                    name: value
                    for name, value in body.get("ExpressionAttributeValues", {}).items()
                    if name in body["UpdateExpression"]
                }
            }
            client.update_item(**body)
    # The captured bundles each hold one playbook (nothing was committed while seeding): build
    # each partition's bundle from its summaries instead, as a migration would.
    catalogue = repos.playbooks.catalogue.read(tenant) or {}
    for name in catalogue:
        if name.startswith(STAMP_PREFIX):
            repos.playbooks.catalogue.rebuild(tenant, name.removeprefix(STAMP_PREFIX))


def _seed_packs(repos: Any, tenant: str) -> None:
    from exception_playbooks.models.packs import PolicyPackInput

    repos.packs.put_policy(tenant, PolicyPackInput.model_validate({}))


# -- measuring ----------------------------------------------------------------------------------
class Api:
    def __init__(self, tenant: str):
        from tests.api.conftest import claims

        self.claims = claims(tenant, "bench", ("operator", "admin"))

    def call(self, method: str, resource: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        from tests.api.conftest import find_route, invoke, proxy_event

        route = find_route(method, resource)
        event = proxy_event(
            method,
            resource,
            path_parameters={k: str(v) for k, v in (params or {}).items()},
            claims=self.claims,
            **kw,
        )
        response = invoke(route.function, event)
        assert response.status < 400, (resource, response.status, response.body)
        return response


def _measure(request: Callable[[], Any]) -> dict[str, Any]:
    from local import capacity
    from local.aws_calls import count_aws_calls

    with count_aws_calls() as calls, capacity.measure() as meter:
        started = time.perf_counter()
        request()
        elapsed = time.perf_counter() - started
    return {
        "calls": calls.count("dynamodb"),
        "operations": calls.names,
        "read_units": round(meter.read, 2),
        "write_units": round(meter.write, 2),
        "ms": round(elapsed * 1000, 2),
    }


def _summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """The last sample's counts (they do not vary warm) and the median latency."""
    last = samples[-1]
    return {**last, "ms": round(statistics.median(s["ms"] for s in samples), 2), "runs": len(samples)}


def _clear_caches() -> None:
    from exception_playbooks.repository import playbooks

    playbooks.clear_cache()  # playbook versions (and candidates, where the code caches them)


def _exception_body(exception_id: str, domain: str) -> dict[str, Any]:
    return {
        "exception_id": exception_id,
        "domain": domain,
        "exception_type": "Type3Settlement",
        "source_system": "bench",
        "summary": "Benchmark exception",
        "attributes": {"amount": 1_250_000, "trade_id": exception_id, "counterparty": {"name": "ACME"}},
    }


def _catalogue_operations(api: Api, size: int) -> dict[str, Any]:
    counter = iter(range(10**9))

    def fresh(assigned: bool = False) -> str:
        exception_id = f"EX-{size}-{next(counter)}"
        api.call("POST", EXCEPTIONS, body=_exception_body(exception_id, DOMAINS[3]))
        if assigned:
            answer = api.call("POST", RECALCULATE, {"exception_id": exception_id})
            assert answer.body["changed"] is True, answer.body  # the catalogue has a winner for it
        return exception_id

    results: dict[str, Any] = {}
    # create: one transaction whatever the catalogue
    results["create"] = _summary(
        [
            _measure(
                lambda i=i: api.call("POST", EXCEPTIONS, body=_exception_body(f"EX-{size}-c{i}", DOMAINS[3]))
            )
            for i in range(RUNS)
        ]
    )
    # recalculate: the tenant's first match (packs read too), a cold process, then warm
    target = fresh()
    _clear_caches()
    results["recalculate_first"] = _measure(lambda: api.call("POST", RECALCULATE, {"exception_id": target}))
    target = fresh()
    _clear_caches()
    results["recalculate_cold"] = _measure(lambda: api.call("POST", RECALCULATE, {"exception_id": target}))
    samples = []
    for _ in range(RUNS):
        target = fresh()
        samples.append(_measure(lambda t=target: api.call("POST", RECALCULATE, {"exception_id": t})))
    results["recalculate_warm"] = _summary(samples)
    # status of an assigned exception
    assigned_id = fresh(assigned=True)
    _clear_caches()
    results["status_cold"] = _measure(lambda: api.call("GET", STATUS, {"exception_id": assigned_id}))
    results["status_warm"] = _summary(
        [_measure(lambda: api.call("GET", STATUS, {"exception_id": assigned_id})) for _ in range(RUNS)]
    )
    # complete step 1 of freshly assigned exceptions (warm)
    samples = []
    for _ in range(RUNS):
        target = fresh(assigned=True)
        samples.append(
            _measure(
                lambda t=target: api.call(
                    "POST", COMPLETE, {"exception_id": t, "step_order": 1}, body={"notes": "done"}
                )
            )
        )
    results["complete_warm"] = _summary(samples)
    return results


def _seed_exceptions(client: Any, api: Api, tenant: str, count: int) -> None:
    """Clone one assigned exception ``count`` times with BatchWriteItem (new ids and times)."""
    from exception_playbooks import keys

    api.call("POST", EXCEPTIONS, body=_exception_body("EX-template", DOMAINS[3]))
    api.call("POST", RECALCULATE, {"exception_id": "EX-template"})
    template = client.get_item(
        TableName=STATE,
        Key={"pk": {"S": keys.exception_pk(tenant, "EX-template")}, "sk": {"S": keys.EXCEPTION_SK}},
    )["Item"]
    items = []
    for n in range(count):
        exception_id = f"EX-{n:06d}"
        created = (
            f"2026-02-{1 + n // 86400 % 28:02d}T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z"
        )
        item = copy.deepcopy(template)
        item["pk"] = {"S": keys.exception_pk(tenant, exception_id)}
        item["exception_id"] = {"S": exception_id}
        item["created_at"] = {"S": created}
        item["gsi1sk"] = {"S": keys.exceptions_list_sk(created, exception_id)}
        items.append(item)
    _batch_write(client, STATE, items)


def _tenant_operations(api: Api) -> dict[str, Any]:
    def page(query: dict[str, str]) -> dict[str, Any]:
        return _summary([_measure(lambda: api.call("GET", EXCEPTIONS, query=query)) for _ in range(3)])

    return {
        "list_page": page({"limit": "50"}),
        "filtered_list_page_some": page({"limit": "50", "severity": "low"}),
        "filtered_list_page_none": page({"limit": "50", "status": "closed"}),
    }


def _report(label: str, results: dict[str, Any]) -> None:
    """One line per scenario: (calls, read units, ms) of each operation."""
    brief = {k: (v["calls"], v["read_units"], v["ms"]) for k, v in results.items() if isinstance(v, dict)}
    print(label, brief, flush=True)


def bench_costs() -> dict[str, Any]:
    import boto3

    from local import aws_calls, capacity
    from local.tables import create_tables

    aws_calls.install()
    capacity.install()
    catalogue_sizes = _sizes("BENCH_COST_SIZES", CATALOGUE_SIZES)
    tenant_sizes = _sizes("BENCH_TENANT_SIZES", TENANT_SIZES)
    with _dynamodb_local() as endpoint:
        _environment(endpoint)
        from exception_playbooks import config
        from exception_playbooks.repository import bundle
        from exception_playbooks.tenancy import tenant_scope

        config.reset_settings()
        bundle.reset_default_repositories()
        client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint)
        create_tables(client, config.settings())
        repos = bundle.default_repositories()

        catalogues: dict[str, Any] = {}
        for size in catalogue_sizes:
            tenant = f"bench-c{size}"
            started = time.perf_counter()
            with tenant_scope(tenant):
                _seed_packs(repos, tenant)
                _seed_catalogue(client, repos, tenant, size)
            seeded = round(time.perf_counter() - started, 1)
            _clear_caches()
            catalogues[str(size)] = {"seed_seconds": seeded, **_catalogue_operations(Api(tenant), size)}
            _report(f"catalogue {size}", catalogues[str(size)])

        tenants: dict[str, Any] = {}
        for count in tenant_sizes:
            tenant = f"bench-e{count}"
            started = time.perf_counter()
            with tenant_scope(tenant):
                _seed_packs(repos, tenant)
                _seed_catalogue(client, repos, tenant, 100)
            api = Api(tenant)
            _seed_exceptions(client, api, tenant, count)
            seeded = round(time.perf_counter() - started, 1)
            tenants[str(count)] = {"seed_seconds": seeded, **_tenant_operations(api)}
            _report(f"tenant {count}", tenants[str(count)])
    return {
        "catalogues": catalogues,
        "tenants": tenants,
        "runs": RUNS,
        "steps_per_playbook": STEPS_PER_PLAYBOOK,
    }
