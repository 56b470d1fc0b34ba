"""``python -m local.server``: the whole system on 127.0.0.1, no AWS account, no Docker.

One process: moto (in-process by default, calls serialised), the HTTP front door (UI, API
with the Cognito authorizer emulation, tokens), the stream dispatcher feeding the agents, the
demo seed, and a state file so data survives restarts. Ctrl-C / SIGTERM stop it cleanly.

Environment: PORT (3000), SEED_DEMO (1; 0 starts empty), LOCAL_STATE_DIR (.local, relative
to the repository), LOCAL_LOG_LEVEL (INFO), LOCAL_MOTO (inprocess | server: moto on its own
loopback port, for the AWS CLI), LOCAL_FUNCTIONS_DIR (functions/; the stack's own tests).
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
SNAPSHOT_EVERY_SECONDS = 15.0

log = logging.getLogger("local.server")


class StopRequested(BaseException):
    """Raised in the main thread by the signal handler to interrupt startup or the wait."""


@dataclass(frozen=True)
class LocalConfig:
    port: int
    seed_demo: bool
    state_dir: Path
    repo_root: Path = REPO_ROOT
    log_level: str = "INFO"
    functions_dir: Path = REPO_ROOT / "functions"
    moto_mode: str = "inprocess"

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
            moto_mode=env.get("LOCAL_MOTO", "inprocess").strip().lower(),
        )

    @property
    def state_file(self) -> Path:
        from .persistence import STATE_FILE

        return self.state_dir / STATE_FILE


def configure_aws_environment(endpoint: str | None) -> None:
    """Point every boto3 client of this process (the handlers' included) at moto, and nothing else.

    Profiles and config files are switched off so a developer's real AWS setup can never be used;
    with in-process moto there is no endpoint and none may be inherited either.
    """
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ENDPOINT_URL",
    ):
        os.environ.pop(name, None)
    if endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
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


class LocalStack:
    """Owns every part of the running stack; ``start`` brings it up, ``stop`` takes it down."""

    def __init__(self, config: LocalConfig):
        self.config = config
        self.ready = threading.Event()
        self.started_in: float | None = None
        self.restored: dict[str, int] | None = None
        self.seed_reports: list[Any] = []
        self._stop_snapshots = threading.Event()
        self._dirty = threading.Event()
        self._moto: Any = None
        self._http: Any = None
        self._dispatcher: Any = None
        self._sla_timer: Any = None
        self._snapshotter: threading.Thread | None = None
        self._dynamodb: Any = None
        self._settings: Any = None
        self._guard: Any = None
        self._meta: dict[str, Any] = {}
        self._stopped = False
        self._persist = True

    # ------------------------------------------------------------------ start

    def start(self) -> None:
        started = time.monotonic()
        self._start_aws()
        state = self._restore()
        gateway, registry = self._serve(restored=state is not None)
        log.info("moto, tables and HTTP up in %.1f s", time.monotonic() - started)
        if self.config.seed_demo and state is None:
            # Before the dispatcher thread: the seed drains the stream itself, one writer at a time,
            # so the demo timelines come out the same on every run.
            seeding = time.monotonic()
            self._seed(gateway)
            log.info("demo seed done in %.1f s", time.monotonic() - seeding)
        else:
            # Import the handlers off the request path (~1 s), so the first click is not slow.
            threading.Thread(target=registry.warm, args=(_api_and_agent_groups(),), daemon=True).start()
        if state is None:
            self._meta["seeded_demo"] = self._meta.get("seed") == "complete"
        self._dispatcher.start()
        self._sla_timer.start()
        self._snapshotter = threading.Thread(target=self._snapshot_loop, name="local-snapshots", daemon=True)
        self._snapshotter.start()
        self.started_in = time.monotonic() - started
        self.ready.set()

    def _start_aws(self) -> None:
        from . import aws_calls
        from .moto_backend import make_backend

        # Before any client exists: every client created from here on is counted.
        aws_calls.install()
        aws_calls.add_listener(self._on_aws_call)
        self._moto = make_backend(self.config.moto_mode)
        # Fake credentials first: moto must never see a developer's real profile.
        configure_aws_environment(None)
        configure_aws_environment(self._moto.start())

        import boto3
        from exception_playbooks.config import reset_settings, settings

        from .tables import create_event_bus, create_tables

        reset_settings()
        self._settings = settings()
        self._dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_tables(self._dynamodb, self._settings)
        create_event_bus(boto3.client("events", region_name=REGION), self._settings)

    def _restore(self) -> dict[str, Any] | None:
        from . import persistence

        state = persistence.load(self.config.state_file)
        if state is not None:
            self.restored = persistence.restore(self._dynamodb, self._settings, state)
            self._meta = dict(state.get("meta", {}))
            log.info("restored %s from %s", self.restored, self.config.state_file)
        return state

    def _serve(self, *, restored: bool) -> tuple[Any, Any]:
        """Handlers, dispatcher (not started yet) and the HTTP server (answering 503 until ready)."""
        from .auth import LocalIssuer, load_or_create_secret
        from .dispatcher import Dispatcher, registry_invoker, streams_client
        from .gateway import Gateway
        from .http_server import LocalApp, serve
        from .lambda_runtime import FunctionRegistry
        from .rwlock import ReadWriteLock
        from .static import StaticFiles

        self._guard = ReadWriteLock()
        self._sla_timer = _sla_timer(self.config.state_dir)  # local/sla_timer.py
        registry = FunctionRegistry(self.config.functions_dir)
        gateway = Gateway(registry, region=REGION, guard=self._guard.shared)
        dispatcher = Dispatcher(
            dynamodb=self._dynamodb,
            streams=streams_client(region_name=REGION),
            events_table=self._settings.events_table,
            invoke=registry_invoker(registry, region=REGION, guard=self._guard.shared),
            # Restored events were delivered before the restart; only new ones are.
            start_at="LATEST" if restored else "TRIM_HORIZON",
            region=REGION,
            observers=(self._sla_timer.observe,),
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
        return gateway, registry

    def _seed(self, gateway: Any) -> None:
        from .seed import SeedAborted, seed

        # A half-seeded state must never be saved (also not when Ctrl-C interrupts the seed):
        # the next start would restore it instead of seeding again.
        self._persist = False
        try:
            self.seed_reports = seed(gateway, self._dispatcher.drain)
        except SeedAborted as error:
            self._meta["seed"] = "failed"
            log.error("demo seed stopped: %s", error)
            log.error("running without (complete) demo data; this run's data will not be kept")
            return
        self._meta["seed"] = "complete"
        self._persist = True
        self.save_state()

    @property
    def meta(self) -> dict[str, Any]:
        return self._meta

    @property
    def port(self) -> int:
        return int(self._http.server_address[1]) if self._http is not None else self.config.port

    # ------------------------------------------------------------------ state

    def _on_aws_call(self, service: str, operation: str) -> None:
        from .aws_calls import DYNAMODB_WRITES

        if service == "dynamodb" and operation in DYNAMODB_WRITES:
            self._dirty.set()
            if self._dispatcher is not None:
                self._dispatcher.notify()

    def save_state(self) -> None:
        """Snapshot both tables while no handler or agent runs (exclusive guard)."""
        from . import persistence

        if self._dynamodb is None or self._guard is None or not self._persist:
            return
        with self._guard.exclusive():
            self._dirty.clear()
            data = persistence.snapshot(self._dynamodb, self._settings, self._meta)
        persistence.save(self.config.state_file, data)

    def _snapshot_loop(self) -> None:
        while not self._stop_snapshots.wait(SNAPSHOT_EVERY_SECONDS):
            if self._dirty.is_set():
                try:
                    self.save_state()
                except Exception:
                    log.exception("saving the state snapshot failed")

    # ------------------------------------------------------------------ stop

    def stop(self) -> None:
        """Stop accepting requests, deliver what is committed, save, then stop moto. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self.ready.clear()
        self._stop_snapshots.set()
        steps = [
            ("HTTP server", self._stop_http),
            ("dispatcher", self._stop_dispatcher),
            ("sla timer", lambda: self._sla_timer is not None and self._sla_timer.stop()),
            ("state snapshot", self.save_state),
            ("moto", self._moto.stop if self._moto is not None else None),
        ]
        for name, step in steps:
            if step is None:
                continue
            try:
                step()
            except Exception:
                log.exception("stopping the %s failed", name)
        if self._snapshotter is not None:
            self._snapshotter.join(2)

    def _stop_http(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    def _stop_dispatcher(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.stop()
            try:
                self._dispatcher.drain(5.0)
            except TimeoutError:
                log.warning("some committed events were not delivered before shutdown")


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
        f"  State     {stack.config.state_file}"
        + (f" (restored {sum(stack.restored.values())} items)" if stack.restored else ""),
    ]
    tenants = load_tenants()
    if stack.meta.get("seeded_demo"):
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
    except OSError as error:  # typically: the port is taken
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
    # Everything is stopped and saved by now. Skip interpreter finalisation, which can spend
    # seconds collecting moto's object graph, so Ctrl-C gives the prompt back at once.
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(exit_code)
