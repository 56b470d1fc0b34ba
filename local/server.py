"""``python -m local.server``: the whole system on 127.0.0.1, no AWS account, no Docker.

AWS's DynamoDB Local (a child JVM, SQLite files under the state directory: every acknowledged
write is on disk before the answer), moto for the EventBridge bus, the HTTP front door (UI, API
with the Cognito authorizer emulation, tokens), the handlers in Lambda-like execution
environments (worker processes, one request each at a time), the stream dispatcher feeding
the agents from a durable checkpoint, and the demo seed on an empty database.
Ctrl-C / SIGTERM stop it cleanly; kill -9 loses nothing that was acknowledged.

Environment: PORT (3000), SEED_DEMO (1; 0 starts empty), LOCAL_STATE_DIR (.local, relative
to the repository), LOCAL_LOG_LEVEL (INFO), LOCAL_WORKERS (API execution environments, 1),
LOCAL_AGENT_WORKERS (agent execution environments, 3), LOCAL_FUNCTIONS_DIR (functions/; the
stack's own tests).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
REGION = "us-east-1"
DATABASE_DIR = "dynamodb"  # DynamoDB Local's -dbPath inside the state directory
CHECKPOINT_FILE = "stream-checkpoint.json"
META_FILE = "meta.json"
BARRIER_TABLE = "exception-playbooks-local-barrier"  # local only: environments.durability_barrier
DISPATCH_LANES = 4

log = logging.getLogger("local.server")


class StopRequested(BaseException):
    """Raised in the main thread by the signal handler to interrupt startup or the wait."""


def _positive(env: dict[str, str], name: str, default: int) -> int:
    value = int(env.get(name) or default)
    if value < 1:
        raise ValueError(f"{name} must be at least 1")
    return value


@dataclass(frozen=True)
class LocalConfig:
    port: int
    seed_demo: bool
    state_dir: Path
    repo_root: Path = REPO_ROOT
    log_level: str = "INFO"
    functions_dir: Path = REPO_ROOT / "functions"
    workers: int = 1
    # Three: an agent call mostly waits for DynamoDB Local (its CPU is ~1/3 of its time), so
    # more environments overlap the waits. 30 created exceptions/s on 2 shared cores, lag p99:
    # 5.8 s with 1, 1.9 s with 2, 0.24 s with 3 (bench_local_load; see local/README.md).
    agent_workers: int = 3

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> LocalConfig:
        env = dict(os.environ if environ is None else environ)
        port = int(env.get("PORT") or 3000)
        if not 0 <= port <= 65535:
            raise ValueError(f"PORT {port} is not a TCP port")
        seed = (env.get("SEED_DEMO") or "1").strip().lower() not in ("0", "false", "no", "off", "")
        state_dir = Path(env.get("LOCAL_STATE_DIR") or ".local")
        if not state_dir.is_absolute():
            state_dir = REPO_ROOT / state_dir
        # LOCAL_FUNCTIONS_DIR lets the local stack's own tests run it against stand-in handlers.
        functions_dir = Path(env.get("LOCAL_FUNCTIONS_DIR") or REPO_ROOT / "functions")
        return cls(
            port=port,
            seed_demo=seed,
            state_dir=state_dir,
            log_level=env.get("LOCAL_LOG_LEVEL", "INFO"),
            functions_dir=functions_dir,
            # One API environment by default: warm, it sees its own writes in its caches (packs
            # are cached 30 s per environment), so the docs' examples and the cost budgets of a
            # warm function hold as written. Agents get three (see ``agent_workers``): their
            # answers reach no client, and each environment pays its cold reads once. More
            # environments run in parallel, each with its own caches, as separate Lambda ones.
            workers=_positive(env, "LOCAL_WORKERS", 1),
            agent_workers=_positive(env, "LOCAL_AGENT_WORKERS", 3),
        )

    @property
    def database_dir(self) -> Path:
        return self.state_dir / DATABASE_DIR


def configure_aws_environment(dynamodb: str | None, events: str | None = None) -> None:
    """Point every boto3 client of this process and its workers at the local services, nothing else.

    Profiles and config files are switched off so a developer's real AWS setup can never be used;
    no endpoint may be inherited either: DynamoDB (and its streams) go to DynamoDB Local, the
    event bus to moto.
    """
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
        "AWS_ENDPOINT_URL_EVENTBRIDGE",
    ):
        os.environ.pop(name, None)
    if dynamodb:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb
        os.environ["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] = dynamodb
    if events:
        os.environ["AWS_ENDPOINT_URL_EVENTBRIDGE"] = events
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "LOCAL_STACK": "1",
        }
    )
    # The handlers' settings; an explicit value in the environment wins.
    for name, value in {
        "STATE_TABLE": "exception-playbooks-state",
        "EVENTS_TABLE": "exception-playbooks-events",
        "EVENT_BUS_NAME": "exception-playbooks",
        "POWERTOOLS_SERVICE_NAME": "exception-playbooks",
        "POWERTOOLS_METRICS_NAMESPACE": "ExceptionPlaybooks",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        os.environ.setdefault(name, value)


def load_meta(state_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((state_dir / META_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_meta(state_dir: Path, meta: dict[str, Any]) -> None:
    path = state_dir / META_FILE
    temporary = path.with_name(f".{META_FILE}.tmp")
    with open(temporary, "w") as handle:
        json.dump(meta, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class LocalStack:
    """Owns every part of the running stack; ``start`` brings it up, ``stop`` takes it down."""

    def __init__(self, config: LocalConfig):
        self.config = config
        self.ready = threading.Event()
        self.started_in: float | None = None
        self.existing_items = 0  # items found in the state table at start (0: a new database)
        self.seed_reports: list[Any] = []
        self._lock: Any = None
        self._database: Any = None
        self._events_server: Any = None
        self._api_runner: Any = None
        self._agent_runner: Any = None
        self._http: Any = None
        self._dispatcher: Any = None
        self._sla_timer: Any = None
        self._dynamodb: Any = None
        self._settings: Any = None
        self._meta: dict[str, Any] = {}
        self._stopped = False

    # ------------------------------------------------------------------ start

    def start(self) -> None:
        from .statedir import StateDirLock

        started = time.monotonic()
        lock = StateDirLock(self.config.state_dir)
        lock.acquire()  # raises StateDirInUse: nothing else is started
        self._lock = lock
        self._meta = load_meta(self.config.state_dir)
        self._start_aws()
        log.info("DynamoDB Local, tables and workers up in %.1f s", time.monotonic() - started)
        gateway = self._serve()
        if self._needs_seed():
            seeding = time.monotonic()
            self._seed(gateway)
            log.info("demo seed done in %.1f s", time.monotonic() - seeding)
        self._dispatcher.start()
        self._sla_timer.start()
        self.started_in = time.monotonic() - started
        self.ready.set()

    def _start_aws(self) -> None:
        from . import aws_calls, capacity
        from .dynamodb_local import DynamoDBLocal
        from .environments import ProcessPoolRunner
        from .moto_backend import MotoServer

        # Before any client exists: every client created from here on is counted.
        aws_calls.install()
        capacity.install()
        aws_calls.add_listener(self._on_aws_call)
        # Fake credentials first: nothing may ever see a developer's real profile.
        configure_aws_environment(None)
        self._database = DynamoDBLocal(
            db_path=self.config.database_dir,
            shared_db=True,
            log_path=self.config.state_dir / "dynamodb-local.log",
            keep_fds=(self._lock.fd,),
        )
        endpoint = self._database.launch()  # the JVM boots while the workers load the handlers
        self._events_server = MotoServer()
        configure_aws_environment(endpoint, self._events_server.start())
        os.environ["LOCAL_FUNCTIONS_DIR"] = str(self.config.functions_dir)
        os.environ["LOCAL_BARRIER_TABLE"] = BARRIER_TABLE  # see environments.durability_barrier
        self._api_runner = ProcessPoolRunner(self.config.workers, name="API")
        # No barrier per agent invocation: the dispatcher runs one per batch before its checkpoint.
        self._agent_runner = ProcessPoolRunner(self.config.agent_workers, name="agent", barrier=False)
        self._api_runner.start()
        self._agent_runner.start()
        self._database.wait_until_ready()

        import boto3
        from exception_playbooks.config import reset_settings, settings

        from .tables import create_barrier_table, create_event_bus, create_tables

        reset_settings()
        self._settings = settings()
        self._dynamodb = boto3.client("dynamodb", region_name=REGION)
        if self._meta.get("seed") == "running":
            # The last start crashed half-way through the demo seed: start that database over.
            log.warning("the previous demo seed did not finish; starting from an empty database")
            self._drop_tables()
            self._meta = {}
        create_tables(self._dynamodb, self._settings)
        create_barrier_table(self._dynamodb, BARRIER_TABLE)
        create_event_bus(boto3.client("events", region_name=REGION), self._settings)
        scan = self._dynamodb.scan(TableName=self._settings.state_table, Limit=1, Select="COUNT")
        self.existing_items = int(scan.get("Count", 0))

    def _drop_tables(self) -> None:
        for table in (self._settings.state_table, self._settings.events_table):
            try:
                self._dynamodb.delete_table(TableName=table)
            except self._dynamodb.exceptions.ResourceNotFoundException:
                continue
        (self.config.state_dir / CHECKPOINT_FILE).unlink(missing_ok=True)

    def _needs_seed(self) -> bool:
        return self.config.seed_demo and self.existing_items == 0

    def _serve(self) -> Any:
        """Gateway, dispatcher (not started yet) and the HTTP server (answering 503 until ready)."""
        from .auth import LocalIssuer, load_or_create_secret
        from .dispatcher import Checkpoint, Dispatcher, registry_invoker, streams_client
        from .environments import durability_barrier
        from .gateway import Gateway
        from .http_server import LocalApp, serve
        from .lambda_runtime import FunctionRegistry
        from .static import StaticFiles

        self._sla_timer = _sla_timer(self.config.state_dir)  # local/sla_timer.py
        # Here only for function names: the handlers run in the execution environments.
        registry = FunctionRegistry(self.config.functions_dir)
        gateway = Gateway(registry, region=REGION, runner=self._api_runner)
        dispatcher = Dispatcher(
            dynamodb=self._dynamodb,
            streams=streams_client(region_name=REGION),
            events_table=self._settings.events_table,
            invoke=registry_invoker(registry, region=REGION, runner=self._agent_runner),
            checkpoint=Checkpoint(self.config.state_dir / CHECKPOINT_FILE),
            lanes=DISPATCH_LANES,
            region=REGION,
            observers=(self._sla_timer.observe,),
            before_checkpoint=durability_barrier,
        )
        self._dispatcher = dispatcher
        app = LocalApp(
            gateway=gateway,
            issuer=LocalIssuer(load_or_create_secret(self.config.state_dir)),
            static=StaticFiles(self.config.repo_root / "ui"),
            openapi_path=self.config.repo_root / "openapi.json",
            ready=self.ready,
            dead_letters=lambda: [d.as_dict() for d in dispatcher.dead_letters],
            deliveries=lambda: [d.as_dict() for d in dispatcher.deliveries],
        )
        self._http, _ = serve(app, HOST, self.config.port)
        return gateway

    def _seed(self, gateway: Any) -> None:
        from .seed import SeedAborted, seed

        # Marked first: a crash half-way leaves "running", and the next start seeds afresh.
        self._meta["seed"] = "running"
        save_meta(self.config.state_dir, self._meta)
        try:
            # Before the dispatcher thread: the seed drains the stream itself, one writer at a
            # time, so the demo timelines come out the same on every run.
            self.seed_reports = seed(gateway, self._dispatcher.drain)
        except SeedAborted as error:
            self._meta["seed"] = "failed"
            log.error("demo seed stopped: %s", error)
            log.error("running without (complete) demo data")
        else:
            self._meta["seed"] = "complete"
        save_meta(self.config.state_dir, self._meta)

    @property
    def meta(self) -> dict[str, Any]:
        return self._meta

    @property
    def port(self) -> int:
        return int(self._http.server_address[1]) if self._http is not None else self.config.port

    def _on_aws_call(self, service: str, operation: str) -> None:
        from .aws_calls import DYNAMODB_WRITES

        if service == "dynamodb" and operation in DYNAMODB_WRITES and self._dispatcher is not None:
            self._dispatcher.notify()  # deliver in milliseconds rather than at the next poll

    # ------------------------------------------------------------------ stop

    def stop(self) -> None:
        """Stop taking requests, finish the deliveries running now, stop the children. Idempotent.

        Nothing needs saving: every write is in DynamoDB Local's files when it is acknowledged,
        and events not yet delivered are after the dispatcher's checkpoint (delivered after the
        next start). The state-directory lock is released last.
        """
        if self._stopped:
            return
        self._stopped = True
        self.ready.clear()
        steps = [
            ("HTTP server", self._stop_http),
            ("dispatcher", self._dispatcher.stop if self._dispatcher is not None else None),
            ("sla timer", lambda: self._sla_timer is not None and self._sla_timer.stop()),
            ("API workers", self._api_runner.stop if self._api_runner is not None else None),
            ("agent workers", self._agent_runner.stop if self._agent_runner is not None else None),
            ("fork server", self._stop_fork_server),
            ("EventBridge (moto)", self._events_server.stop if self._events_server is not None else None),
            ("DynamoDB Local", self._database.stop if self._database is not None else None),
            ("state directory lock", self._lock.release if self._lock is not None else None),
        ]
        for name, step in steps:
            if step is None:
                continue
            try:
                step()
            except Exception:
                log.exception("stopping the %s failed", name)

    def _stop_http(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    @staticmethod
    def _stop_fork_server() -> None:
        from .environments import stop_fork_server

        stop_fork_server()


def _sla_timer(state_dir: Path) -> Any:
    from exception_playbooks.repository.bundle import build_repositories

    from .sla_timer import OffsetClock, timer_for

    clock = OffsetClock.from_env()
    return timer_for(state_dir, lambda: build_repositories(clock=clock), clock)


def _api_and_agent_groups() -> list[str]:
    from exception_playbooks.routes import AGENT_FUNCTION, API_FUNCTIONS

    return [*API_FUNCTIONS, AGENT_FUNCTION]


def banner(stack: LocalStack) -> str:
    from .seed import load_tenants

    url = f"http://{HOST}:{stack.port}"
    lines = [
        "",
        f"Exception Playbooks local stack ready in {stack.started_in or 0:.1f} s",
        f"  UI        {url}/",
        f"  API       {url}/api  (docs: {url}/api/docs)",
        f"  Health    {url}/healthz",
        f"  State     {stack.config.state_dir} (DynamoDB Local files; crash-safe)"
        + (" (existing data kept)" if stack.existing_items else ""),
    ]
    tenants = load_tenants()
    if stack.meta.get("seed") == "complete":
        lines.append("")
        lines.append("Demo tenants and users (no passwords locally; pick one on the sign-in screen):")
        for tenant in tenants:
            lines.append(f"  {tenant.tenant_id}  ({tenant.name}; domains: {', '.join(tenant.domains)})")
            for user in tenant.users:
                lines.append(f"    {user.username:<16} {', '.join(user.roles)}")
        example_tenant, example_user = tenants[0].tenant_id, tenants[0].first_with("operator").username
    else:
        lines.append("")
        if stack.meta.get("seed") == "failed":
            lines.append("The demo seed failed (see the log above); the stack runs without demo data.")
        lines.append("Any tenant id and username work locally: tokens come from POST /local/token.")
        example_tenant, example_user = "acme", "alice"
    token_body = json.dumps({"tenant_id": example_tenant, "username": example_user, "roles": ["operator"]})
    lines += [
        "",
        "Get a token and call the API:",
        f"  TOKEN=$(curl -s -X POST {url}/local/token -H 'Content-Type: application/json' \\",
        f"    -d '{token_body}' \\",
        "    | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')",
        f'  curl -s {url}/api/exceptions -H "Authorization: Bearer $TOKEN"',
        "",
        "Ctrl-C stops it; 'make dev-reset' starts over.",
        "",
    ]
    return "\n".join(lines)


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("werkzeug", "botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main() -> int:
    from .statedir import StateDirInUse

    config = LocalConfig.from_env()
    _configure_logging(config.log_level)
    stack = LocalStack(config)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if stopping.is_set():
            return  # already on the way down; a second Ctrl-C must not interrupt the cleanup
        stopping.set()
        raise StopRequested(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(f"Starting the local stack on http://{HOST}:{config.port} ...", flush=True)
    try:
        stack.start()
        print(banner(stack), flush=True)
        while True:
            time.sleep(3600)
    except StopRequested as reason:
        print(f"\nStopping ({reason}) ...", flush=True)
    except (OSError, StateDirInUse) as error:  # typically: the port is taken, or the state dir
        log.error("cannot start: %s", error)
        return 1
    except Exception:
        log.exception("the local stack failed")
        return 1
    finally:
        stack.stop()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    exit_code = main()
    # Everything is stopped by now. Skip interpreter finalisation, which can spend seconds
    # collecting moto's object graph, so Ctrl-C gives the prompt back at once.
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(exit_code)
