"""Delivers committed timeline events to the agents: the local EventBridge Pipe + rules.

Reads the events table's DynamoDB Stream exactly as the Pipe does in AWS (describe_stream,
get_shard_iterator, get_records), turns each inserted item (NEW_IMAGE) into the timeline
event, wraps it in the EventBridge envelope of ``exception_playbooks.bus.envelope`` and calls
every agent whose rule pattern matches (``bus.rules_for``). Records of one exception (one
partition key) are delivered one at a time in stream order; different exceptions are delivered
in parallel on ``lanes`` threads (the Pipe's ParallelizationFactor). A failing agent call is
retried with backoff, then recorded as a dead letter (the rule's SQS DLQ in AWS) and delivery
moves on.

With a ``Checkpoint`` the position in each shard is kept durably: it is written (atomically)
after every delivered batch (after ``before_checkpoint``, which makes the batch's agent writes
durable: the local stack's DynamoDB Local barrier), and a restarted dispatcher resumes after
it, so every committed event reaches its agents at least once whatever happened to the
process (agents are idempotent). Stopping abandons the batch in flight
undelivered-but-not-lost: its records come again after the next start.

Usable three ways: ``drain(timeout)`` delivers everything committed so far synchronously
(tests); ``start()``/``stop()`` run a background thread (the server); ``notify()`` wakes that
thread at once when something was written, so delivery takes milliseconds, not a poll period.
Clients are passed in, so it works against a moto server or in-process ``mock_aws``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from exception_playbooks import bus

from .aws_calls import count_aws_calls

log = logging.getLogger("local.dispatcher")

# The attributes of an events-table item that make up the timeline event (the rest is keys).
EVENT_FIELDS = (
    "event_id",
    "seq",
    "event_type",
    "exception_id",
    "actor_type",
    "actor_id",
    "created_at",
    "payload",
    # Like the AWS Pipe: the key (agents check the tenant against it) and the agent-hop count.
    "pk",
    "chain_depth",
)

AgentInvoker = Callable[[bus.AgentRule, dict[str, Any]], Any]


class AgentFailed(RuntimeError):
    """The agent's invocation raised (its message carries the agent's traceback)."""


class _Stopping(Exception):
    """The dispatcher is stopping: the batch in flight is abandoned (delivered after a restart)."""


class Checkpoint:
    """The last delivered sequence number of each shard, in a JSON file replaced atomically.

    Bound to one stream ARN: a recreated table has a new stream, and its records start over.
    """

    def __init__(self, path: Path):
        self.path = path

    def load(self, stream_arn: str) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError:
            log.error(
                "%s is unreadable; delivering the whole stream again (agents are idempotent)", self.path
            )
            return {}
        if not isinstance(data, dict) or data.get("stream_arn") != stream_arn:
            return {}
        shards = data.get("shards")
        return {str(k): str(v) for k, v in shards.items()} if isinstance(shards, dict) else {}

    def save(self, stream_arn: str, shards: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        with open(temporary, "w") as handle:
            json.dump({"stream_arn": stream_arn, "shards": shards}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)


@dataclass(frozen=True)
class DeadLetter:
    agent: str
    handler: str
    event_id: str
    event_type: str
    tenant_id: str
    exception_id: str
    attempts: int
    error: str
    failed_at: float
    envelope: dict[str, Any] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Delivery:
    """One successful or failed agent invocation (kept for /local/deliveries and cost checks)."""

    agent: str
    event_id: str
    event_type: str
    exception_id: str
    ok: bool
    attempts: int
    aws_calls: int
    duration_ms: float
    environment: str = ""  # the execution environment that ran it (cold caches once per environment)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def plain(value: Any) -> Any:
    """Deserialised DynamoDB values -> JSON types (Decimal to int/float, sets to sorted lists)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return value


def tenant_of(item: dict[str, Any]) -> str:
    """The item's ``tenant_id``, else the tenant encoded in its key (``T#{tenant}#EX#{id}``)."""
    tenant = item.get("tenant_id")
    if isinstance(tenant, str) and tenant:
        return tenant
    pk = str(item.get("pk", ""))
    if pk.startswith("T#") and pk.count("#") >= 2:
        return pk.split("#", 2)[1]
    raise ValueError(f"events item without a tenant: {pk!r}")


def timeline_event(new_image: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A stream record's NEW_IMAGE (DynamoDB JSON) -> (tenant id, timeline event dict)."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    item = {name: plain(deserializer.deserialize(value)) for name, value in new_image.items()}
    event = {name: item[name] for name in EVENT_FIELDS if name in item}
    event.setdefault("payload", {})
    return tenant_of(item), event


class Dispatcher:
    def __init__(
        self,
        *,
        dynamodb: Any,
        streams: Any,
        events_table: str,
        invoke: AgentInvoker,
        start_at: str = "TRIM_HORIZON",
        max_attempts: int = 3,
        backoff_seconds: float = 0.05,
        idle_seconds: float = 0.5,
        region: str = "us-east-1",
        account: str = "000000000000",
        checkpoint: Checkpoint | None = None,
        lanes: int = 1,
        observers: tuple[Callable[[dict[str, Any]], Any], ...] = (),
        before_checkpoint: Callable[[], Any] | None = None,
    ):
        if start_at not in ("TRIM_HORIZON", "LATEST"):
            raise ValueError("start_at is TRIM_HORIZON or LATEST")
        self._dynamodb = dynamodb
        self._streams = streams
        self._events_table = events_table
        self._invoke = invoke
        self._start_at = start_at
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff_seconds
        self._idle = idle_seconds
        self._region = region
        self._account = account
        self._observers = observers  # also see every envelope (the local SLA timer's sync rule)
        self._observer_lock = threading.Lock()
        self._stream_arn: str | None = None
        self._iterators: dict[str, str | None] = {}  # shard id -> next iterator (None: shard closed)
        self._parents: dict[str, str | None] = {}
        self._last_sequence: dict[str, str] = {}
        self._described_at = 0.0
        self._poll_lock = threading.Lock()  # one reader at a time: drain() and the thread share the stream
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._dead: deque[DeadLetter] = deque(maxlen=1000)
        self._deliveries: deque[Delivery] = deque(maxlen=500)
        self.delivered = 0
        self._checkpoint = checkpoint
        # Makes the agents' writes of the batch durable before the checkpoint moves past it.
        self._before_checkpoint = before_checkpoint
        self._lanes = ThreadPoolExecutor(lanes, thread_name_prefix="local-dispatch") if lanes > 1 else None

    # ------------------------------------------------------------------ public API

    @property
    def dead_letters(self) -> list[DeadLetter]:
        return list(self._dead)

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self._deliveries)

    def notify(self) -> None:
        """Something was written: poll now instead of at the end of the idle wait."""
        self._wake.set()

    def poll_once(self) -> int:
        """Read what the stream holds now and deliver it; returns the number of records read."""
        with self._poll_lock:
            self._ensure_shards()
            records = 0
            for shard_id in self._readable_shards():
                records += self._read_shard(shard_id)
            return records

    def drain(self, timeout: float = 10.0) -> int:
        """Deliver until the stream is quiet (agents' own events included); records read.

        Raises TimeoutError when events keep coming for longer than ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        total = 0
        while True:
            read = self.poll_once()
            total += read
            if read == 0:
                return total
            if time.monotonic() > deadline:
                raise TimeoutError(f"the events stream was still busy after {timeout} s")

    def start(self) -> None:
        if self._thread is not None:
            return
        self._ensure_shards()  # position iterators now, so LATEST means "from start()"
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="local-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the deliveries running now; the rest of their batch comes after a restart."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._lanes is not None:
            self._lanes.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------------ stream reading

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                read = self.poll_once()
            except _Stopping:
                return
            except Exception:
                log.exception("reading the events stream failed; retrying")
                read = 0
                self._stop.wait(1.0)
            if read == 0:
                self._wake.wait(self._idle)
                self._wake.clear()

    def _ensure_shards(self) -> None:
        """Learn the shards: at first use, and again (at most every few seconds) once one closed."""
        first = self._stream_arn is None
        if first:
            table = self._dynamodb.describe_table(TableName=self._events_table)["Table"]
            arn = table.get("LatestStreamArn")
            if not arn:
                raise RuntimeError(f"{self._events_table} has no stream enabled")
            self._stream_arn = arn
            if self._checkpoint is not None:
                self._last_sequence.update(self._checkpoint.load(arn))
        else:
            some_closed = any(it is None for it in self._iterators.values())
            if self._iterators and not some_closed:
                return
            if time.monotonic() - self._described_at < 5.0:
                return
        self._described_at = time.monotonic()
        for shard in self._describe_shards():
            shard_id = shard["ShardId"]
            if shard_id in self._iterators:
                continue
            self._parents[shard_id] = shard.get("ParentShardId")
            if shard_id in self._last_sequence:  # checkpointed: resume right after it
                self._iterators[shard_id] = self._reposition(shard_id)
                continue
            # The configured position applies to the shards there at start; later ones are new.
            position = self._start_at if first else "TRIM_HORIZON"
            self._iterators[shard_id] = self._streams.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType=position
            )["ShardIterator"]

    def _describe_shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        start: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StreamArn": self._stream_arn}
            if start:
                kwargs["ExclusiveStartShardId"] = start
            description = self._streams.describe_stream(**kwargs)["StreamDescription"]
            shards.extend(description.get("Shards", []))
            start = description.get("LastEvaluatedShardId")
            if not start:
                return shards

    def _readable_shards(self) -> list[str]:
        """Open shards whose parent is done: a child's records come after its parent's."""
        open_shards = [s for s, it in self._iterators.items() if it is not None]
        return [s for s in open_shards if self._iterators.get(self._parents.get(s) or "") is None]

    def _read_shard(self, shard_id: str) -> int:
        iterator = self._iterators[shard_id]
        errors = self._streams.exceptions
        try:
            response = self._streams.get_records(ShardIterator=iterator, Limit=1000)
        except (errors.ExpiredIteratorException, errors.TrimmedDataAccessException):
            # Expired (15 min), or DynamoDB Local's TRIM_HORIZON iterator of a shard that was
            # empty when it was taken: a fresh iterator from the last delivered record works.
            self._iterators[shard_id] = self._reposition(shard_id)
            response = self._streams.get_records(ShardIterator=self._iterators[shard_id], Limit=1000)
        records = response.get("Records", [])
        self._deliver_batch(records)  # raises _Stopping: the iterator stays, nothing is checkpointed
        if records and self._checkpoint is not None and self._before_checkpoint is not None:
            self._before_checkpoint()  # raises: the iterator stays, the batch is delivered again
        self._iterators[shard_id] = response.get("NextShardIterator")
        if records:
            self._last_sequence[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            if self._checkpoint is not None and self._stream_arn:
                # Only shards the stream still lists: trimmed ones drop out of the file.
                known = {k: v for k, v in self._last_sequence.items() if k in self._iterators}
                self._checkpoint.save(self._stream_arn, known)
        return len(records)

    def _deliver_batch(self, records: list[dict[str, Any]]) -> None:
        """Every INSERT of the batch: in order per partition key, partitions in parallel."""
        by_key: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            if record.get("eventName") == "INSERT" and "NewImage" in record["dynamodb"]:
                key = json.dumps(record["dynamodb"].get("Keys", {}).get("pk"), sort_keys=True)
                by_key.setdefault(key, []).append(record["dynamodb"]["NewImage"])
        if self._lanes is None or len(by_key) <= 1:
            for images in by_key.values():
                self._deliver_in_order(images)
            return
        futures = [self._lanes.submit(self._deliver_in_order, images) for images in by_key.values()]
        stopping = False
        for future in futures:
            try:
                future.result()
            except _Stopping:
                stopping = True
        if stopping:
            raise _Stopping()

    def _deliver_in_order(self, images: list[dict[str, Any]]) -> None:
        for image in images:
            if self._stop.is_set() and self._thread is not None:
                raise _Stopping()
            self._deliver_record(image)

    def _reposition(self, shard_id: str) -> str:
        last = self._last_sequence.get(shard_id)
        kwargs: dict[str, Any] = {"StreamArn": self._stream_arn, "ShardId": shard_id}
        if last:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=last)
        else:
            kwargs.update(ShardIteratorType="TRIM_HORIZON")
        return str(self._streams.get_shard_iterator(**kwargs)["ShardIterator"])

    # ------------------------------------------------------------------ delivery

    def _deliver_record(self, new_image: dict[str, Any]) -> None:
        try:
            tenant_id, event = timeline_event(new_image)
            envelope = bus.envelope(tenant_id, event, region=self._region, account=self._account)
        except (KeyError, ValueError) as error:
            log.error("skipping an events item that is not a timeline event: %s", error)
            return
        for rule in bus.rules_for(envelope):
            self._deliver(rule, envelope)
        with self._observer_lock:  # lanes deliver in parallel; observers see one envelope at a time
            for observer in self._observers:
                try:
                    observer(envelope)
                except Exception:  # an observer's failure never stops delivery
                    log.exception("an observer failed on %s", envelope.get("detail-type"))

    def _deliver(self, rule: bus.AgentRule, envelope: dict[str, Any]) -> None:
        detail = envelope["detail"]
        started = time.monotonic()
        error_text = ""
        calls = 0
        environment = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                with count_aws_calls() as counter:
                    try:
                        environment = str(getattr(self._invoke(rule, envelope), "environment", ""))
                    finally:
                        calls = counter.total
            except Exception as error:  # the agent's failure, never the dispatcher's
                error_text = f"{type(error).__name__}: {error}"
                log.warning(
                    "%s failed on %s %s (attempt %d/%d): %s",
                    rule.name,
                    envelope["detail-type"],
                    envelope["id"],
                    attempt,
                    self._max_attempts,
                    error_text.splitlines()[0] if error_text else "",
                )
                if attempt < self._max_attempts:
                    time.sleep(self._backoff * (2 ** (attempt - 1)))
                continue
            self.delivered += 1
            self._record(rule, detail, True, attempt, calls, started, environment)
            return
        self._record(rule, detail, False, self._max_attempts, calls, started, environment)
        letter = DeadLetter(
            agent=rule.name,
            handler=rule.handler,
            event_id=str(detail.get("event_id")),
            event_type=str(detail.get("event_type")),
            tenant_id=str(detail.get("tenant_id")),
            exception_id=str(detail.get("exception_id")),
            attempts=self._max_attempts,
            error=error_text,
            failed_at=time.time(),
            envelope=envelope,
        )
        self._dead.append(letter)
        log.error(
            "dead letter: %s gave up on %s %s: %s", rule.name, letter.event_type, letter.event_id, error_text
        )

    def _record(
        self,
        rule: bus.AgentRule,
        detail: dict[str, Any],
        ok: bool,
        attempts: int,
        calls: int,
        started: float,
        environment: str,
    ) -> None:
        self._deliveries.append(
            Delivery(
                agent=rule.name,
                event_id=str(detail.get("event_id")),
                event_type=str(detail.get("event_type")),
                exception_id=str(detail.get("exception_id")),
                ok=ok,
                attempts=attempts,
                aws_calls=calls,
                duration_ms=round((time.monotonic() - started) * 1000, 1),
                environment=environment,
            )
        )


def registry_invoker(registry: Any, *, region: str = "us-east-1", runner: Any = None) -> AgentInvoker:
    """Invoke ``functions/agents/handler.py:<rule.handler>(envelope, context)``.

    In ``runner``'s execution environments (the server's process pool), else in this thread.
    """

    from exception_playbooks.routes import AGENT_FUNCTION

    from .environments import InProcessRunner
    from .lambda_runtime import AGENT_TIMEOUT_SECONDS, make_context

    where = runner or InProcessRunner(registry)

    def invoke(rule: bus.AgentRule, envelope: dict[str, Any]) -> Any:
        context = make_context(
            registry.function_name(AGENT_FUNCTION, rule.handler),
            timeout_seconds=AGENT_TIMEOUT_SECONDS,
            region=region,
        )
        invocation = where.run(AGENT_FUNCTION, rule.handler, envelope, context)
        if not invocation.ok:
            raise AgentFailed(invocation.error)
        return invocation  # the dispatcher records which environment ran it

    return invoke


def streams_client(**kwargs: Any) -> Any:
    """A DynamoDB Streams client that works with moto (see NOTES.md: account-id endpoints off)."""
    import boto3
    from botocore.config import Config

    config = Config(account_id_endpoint_mode="disabled")
    return boto3.client("dynamodbstreams", config=config, **kwargs)
