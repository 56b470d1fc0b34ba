"""Delivers committed timeline events to the agents: the local EventBridge Pipe + rules.

Reads the events table's DynamoDB Stream exactly as the Pipe does in AWS (describe_stream,
get_shard_iterator, get_records), turns each inserted item (NEW_IMAGE) into the timeline
event, wraps it in the EventBridge envelope of ``exception_playbooks.bus.envelope`` and calls
every agent whose rule pattern matches (``bus.rules_for``), one record at a time, in stream
order (hence in order per exception). A failing agent call is retried with backoff, then
recorded as a dead letter (the rule's SQS DLQ in AWS) and delivery moves on.

Usable three ways: ``drain(timeout)`` delivers everything committed so far synchronously
(tests); ``start()``/``stop()`` run a background thread (the server); ``notify()`` wakes that
thread at once when something was written, so delivery takes milliseconds, not a poll period.
Clients are passed in, so it works against a moto server or in-process ``mock_aws``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from decimal import Decimal
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
        observers: tuple[Callable[[dict[str, Any]], Any], ...] = (),
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

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # ------------------------------------------------------------------ stream reading

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                read = self.poll_once()
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
        try:
            response = self._streams.get_records(ShardIterator=iterator, Limit=1000)
        except self._streams.exceptions.ExpiredIteratorException:
            self._iterators[shard_id] = self._reposition(shard_id)
            return 0
        self._iterators[shard_id] = response.get("NextShardIterator")
        records = response.get("Records", [])
        for record in records:
            self._last_sequence[shard_id] = record["dynamodb"]["SequenceNumber"]
            if record.get("eventName") == "INSERT" and "NewImage" in record["dynamodb"]:
                self._deliver_record(record["dynamodb"]["NewImage"])
        return len(records)

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
        for attempt in range(1, self._max_attempts + 1):
            try:
                with count_aws_calls() as counter:
                    try:
                        self._invoke(rule, envelope)
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
                    error_text,
                )
                if attempt < self._max_attempts:
                    time.sleep(self._backoff * (2 ** (attempt - 1)))
                continue
            self.delivered += 1
            self._record(rule, detail, True, attempt, calls, started)
            return
        self._record(rule, detail, False, self._max_attempts, calls, started)
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
        self, rule: bus.AgentRule, detail: dict[str, Any], ok: bool, attempts: int, calls: int, started: float
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
            )
        )


def registry_invoker(
    registry: Any,
    *,
    region: str = "us-east-1",
    guard: Callable[[], AbstractContextManager[Any]] | None = None,
) -> AgentInvoker:
    """Invoke ``functions/agents/handler.py:<rule.handler>(envelope, context)`` via a FunctionRegistry."""

    from exception_playbooks.routes import AGENT_FUNCTION

    from .lambda_runtime import AGENT_TIMEOUT_SECONDS, make_context

    def invoke(rule: bus.AgentRule, envelope: dict[str, Any]) -> Any:
        handler = registry.handler(AGENT_FUNCTION, rule.handler)
        context = make_context(
            registry.function_name(AGENT_FUNCTION, rule.handler),
            timeout_seconds=AGENT_TIMEOUT_SECONDS,
            region=region,
        )
        with (guard or nullcontext)():
            return handler(envelope, context)

    return invoke


def streams_client(**kwargs: Any) -> Any:
    """A DynamoDB Streams client that works with moto (see NOTES.md: account-id endpoints off)."""
    import boto3
    from botocore.config import Config

    config = Config(account_id_endpoint_mode="disabled")
    return boto3.client("dynamodbstreams", config=config, **kwargs)
