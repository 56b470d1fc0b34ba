"""ExceptionRepository against moto: create, get, list + cursors, optimistic updates, timeline."""

from __future__ import annotations

import base64
import json

import pytest
from exception_playbooks import keys
from exception_playbooks.errors import Conflict, ValidationFailed
from exception_playbooks.models.enums import EventType, ExceptionStatus, Severity
from exception_playbooks.models.event import SYSTEM_ACTOR, Actor, NewEvent
from exception_playbooks.repository import cursor as cursors
from exception_playbooks.repository.dynamo import Transaction
from exception_playbooks.repository.exceptions import AlreadyExists, ExceptionFilters

from ..factories import create_exception
from ..support import snapshot

TENANT = "acme"
OTHER = "globex"
NONE = ExceptionFilters()
HUMAN = Actor(actor_type="human", actor_id="alice")


def _comment(text: str) -> NewEvent:
    return NewEvent(event_type=EventType.COMMENT_ADDED, actor=HUMAN, payload={"text": text})


def _append(repos, tenant, record, events):
    """Apply ``events`` as one optimistic update of ``record`` (as read) and commit."""
    timeline = repos.exceptions.materialize(record, events)
    transaction = Transaction()
    saved = repos.exceptions.stage(tenant, record, timeline, transaction)
    repos.exceptions.commit(transaction)
    return saved


# -- create / get ---------------------------------------------------------------------------------
def test_create_writes_the_item_and_its_created_event(repos, clock):
    saved = create_exception(repos, TENANT, "EX-1", policy_tags=["a"], attributes={"amount": 12.5, "n": 3})

    record = repos.exceptions.get(TENANT, "EX-1")
    assert record == saved
    assert record.version == 1
    assert record.last_seq == 1
    assert record.created_at == record.updated_at == "2026-01-05T09:00:00.000Z"
    assert record.attributes == {"amount": 12.5, "n": 3}
    assert record.status is ExceptionStatus.OPEN
    events = repos.exceptions.all_events(TENANT, "EX-1")
    assert [(e.seq, e.event_type, e.event_id) for e in events] == [
        (1, EventType.EXCEPTION_CREATED, "id-000001")
    ]
    assert events[0].created_at == record.created_at


def test_create_with_an_existing_id_is_already_exists_and_writes_nothing(repos, dynamodb, clock):
    create_exception(repos, TENANT, "EX-1")
    before = snapshot(dynamodb)
    clock.advance()

    with pytest.raises(AlreadyExists) as caught:
        create_exception(repos, TENANT, "EX-1", severity=Severity.LOW)

    assert isinstance(caught.value, Conflict)
    assert snapshot(dynamodb) == before


def test_get_missing_is_none(repos):
    assert repos.exceptions.get(TENANT, "nope") is None


def test_the_stored_item_carries_tenant_keys_and_index_keys(repos, dynamodb):
    create_exception(repos, TENANT, "EX-1")
    raw = dynamodb.get_item(
        TableName="test-state", Key={"pk": {"S": "T#acme#EX#EX-1"}, "sk": {"S": "EXCEPTION"}}
    )
    item = raw["Item"]
    assert item["gsi3pk"]["S"] == "T#acme#QUEUE"
    assert item["gsi3sk"]["S"] == "2026-01-05T09:00:00.000Z#EX-1"
    assert item["gsi4sk"]["S"] == "3#2026-01-05T09:00:00.000Z#EX-1"  # high: after critical only
    assert item["gsi5pk"]["S"] == "T#acme#QUEUE_OPEN"
    assert item["gsi5sk"]["S"] == "~#EX-1"  # no deadline: after every deadline
    assert item["gsi1pk"]["S"] == "T#acme#EXCEPTIONS"  # by_tenant: whole items for bulk matching
    assert item["tenant_id"]["S"] == TENANT
    assert "owner" not in item  # None values are not stored


# -- list -----------------------------------------------------------------------------------------
SEED = [
    # id, domain, severity, status
    ("EX-01", "Finance", Severity.HIGH, ExceptionStatus.OPEN),
    ("EX-02", "Claims", Severity.LOW, ExceptionStatus.OPEN),
    ("EX-03", "Finance", Severity.LOW, ExceptionStatus.IN_PROGRESS),
    ("EX-04", "Finance", Severity.HIGH, ExceptionStatus.IN_PROGRESS),
    ("EX-05", "Claims", Severity.HIGH, ExceptionStatus.RESOLVED),
    ("EX-06", "Finance", Severity.CRITICAL, ExceptionStatus.OPEN),
    ("EX-07", "Finance", Severity.HIGH, ExceptionStatus.OPEN),
]


@pytest.fixture
def seeded(repos, clock):
    for exception_id, domain, severity, status in SEED:
        create_exception(repos, TENANT, exception_id, domain=domain, severity=severity, status=status)
        clock.advance(1)
    create_exception(repos, OTHER, "EX-99", domain="Finance")
    return repos


def _ids(page):
    return [r.exception_id for r in page.items]


def _walk(repos, filters, limit, tenant=TENANT):
    pages, cursor = [], None
    while True:
        page = repos.exceptions.list(tenant, filters, limit, cursor)
        pages.append(_ids(page))
        cursor = page.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 50, "pagination does not terminate"


def test_list_is_newest_first_and_only_the_tenants(seeded):
    page = seeded.exceptions.list(TENANT, NONE, 50, None)
    assert _ids(page) == [s[0] for s in reversed(SEED)]
    assert page.next_cursor is None
    assert _ids(seeded.exceptions.list(OTHER, NONE, 50, None)) == ["EX-99"]
    assert _ids(seeded.exceptions.list("initech", NONE, 50, None)) == []


FILTERS = [
    {"status": "open"},
    {"domain": "Finance"},
    {"severity": "high"},
    {"status": "open", "domain": "Finance"},
    {"status": "open", "severity": "high"},
    {"domain": "Claims", "severity": "high"},
    {"status": "in_progress", "domain": "Finance", "severity": "low"},
    {"status": "closed"},
]


def _expected(filters):
    return [
        s[0]
        for s in reversed(SEED)
        if all(
            {"domain": s[1], "severity": s[2].value, "status": s[3].value}[name] == value
            for name, value in filters.items()
        )
    ]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()))
def test_list_filters_and_combinations(seeded, filters):
    page = seeded.exceptions.list(TENANT, ExceptionFilters(**filters), 50, None)
    assert _ids(page) == _expected(filters)
    assert page.next_cursor is None


@pytest.mark.parametrize("spelling", ["finance", "FINANCE", "fInAnCe"])
def test_the_domain_filter_ignores_letter_case_like_matching_does(seeded, spelling):
    page = seeded.exceptions.list(TENANT, ExceptionFilters(domain=spelling), 50, None)
    assert _ids(page) == _expected({"domain": "Finance"})
    assert _ids(page)  # the seed has Finance exceptions: an empty answer would prove nothing


@pytest.mark.parametrize("filters", FILTERS[:5], ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()))
def test_filtered_pages_of_one_walk_all_matches_in_order(seeded, filters):
    pages = _walk(seeded, ExceptionFilters(**filters), 1)
    expected = _expected(filters)
    assert [i for p in pages for i in p] == expected
    assert all(len(p) == 1 for p in pages)  # no empty trailing page: the last match ends the walk


@pytest.mark.parametrize(
    ("limit", "shape"),
    [
        (1, [1, 1, 1, 1, 1, 1, 1]),
        (2, [2, 2, 2, 1]),
        (3, [3, 3, 1]),
        (7, [7]),  # exact multiple: one page, no cursor
        (8, [7]),
        (200, [7]),
    ],
)
def test_cursor_pagination_edges(seeded, limit, shape):
    pages = _walk(seeded, NONE, limit)
    assert [len(p) for p in pages] == shape
    assert [i for p in pages for i in p] == [s[0] for s in reversed(SEED)]


def test_exact_multiple_last_page_has_no_cursor(repos, clock):
    for n in range(4):
        create_exception(repos, TENANT, f"EX-{n}")
        clock.advance()
    first = repos.exceptions.list(TENANT, NONE, 2, None)
    assert _ids(first) == ["EX-3", "EX-2"]
    assert first.next_cursor
    second = repos.exceptions.list(TENANT, NONE, 2, first.next_cursor)
    assert _ids(second) == ["EX-1", "EX-0"]
    assert second.next_cursor is None


def test_items_created_in_the_same_millisecond_are_all_listed_once(repos):
    for n in range(5):
        create_exception(repos, TENANT, f"EX-{n}")  # clock does not move
    pages = _walk(repos, NONE, 2)
    assert [i for p in pages for i in p] == ["EX-4", "EX-3", "EX-2", "EX-1", "EX-0"]


def _garble(cursor: str) -> str:
    return cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")


@pytest.mark.parametrize(
    "bad",
    ["x", "!!!!", "bm90IGpzb24", base64.urlsafe_b64encode(b"[1,2]").decode(), "eyJ0IjoxfQ", "%%%"],
)
def test_garbled_cursor_is_validation_failed(seeded, bad):
    with pytest.raises(ValidationFailed) as caught:
        seeded.exceptions.list(TENANT, NONE, 2, bad)
    assert caught.value.problems[0].path == "cursor"


def test_cursor_from_another_tenant_or_listing_is_refused(seeded):
    cursor = seeded.exceptions.list(TENANT, NONE, 2, None).next_cursor
    assert cursor
    with pytest.raises(ValidationFailed):
        seeded.exceptions.list(OTHER, NONE, 2, cursor)
    with pytest.raises(ValidationFailed):  # same tenant, other filters: another listing
        seeded.exceptions.list(TENANT, ExceptionFilters(status="open"), 2, cursor)
    with pytest.raises(ValidationFailed):
        seeded.exceptions.list(TENANT, NONE, 2, _garble(cursor))


def test_forged_cursor_pointing_into_another_tenant_is_refused(seeded):
    """A cursor is only obfuscated, not signed: a start key outside the caller's partition is refused."""
    foreign_key = {
        "pk": keys.exception_pk(OTHER, "EX-99"),
        "sk": keys.EXCEPTION_SK,
        "gsi1pk": keys.exceptions_list_pk(OTHER),
        "gsi1sk": "2099-01-01T00:00:00.000Z#EX-99",
    }
    forged = cursors.encode(TENANT, "exceptions|None|None|None", foreign_key)
    with pytest.raises(ValidationFailed):
        seeded.exceptions.list(TENANT, NONE, 2, forged)
    raw = json.dumps({"t": cursors._tag(TENANT, "exceptions|None|None|None"), "k": {"gsi1pk": 1}})
    with pytest.raises(ValidationFailed):
        seeded.exceptions.list(TENANT, NONE, 2, base64.urlsafe_b64encode(raw.encode()).decode())


# -- conditional update ---------------------------------------------------------------------------
def test_update_with_the_read_version_succeeds_and_bumps_version(repos, clock):
    create_exception(repos, TENANT, "EX-1")
    clock.advance(5)
    record = repos.exceptions.get(TENANT, "EX-1")
    saved = _append(repos, TENANT, record.model_copy(update={"summary": "s"}), [_comment("one")])

    stored = repos.exceptions.get(TENANT, "EX-1")
    assert stored == saved
    assert (stored.version, stored.last_seq, stored.summary) == (2, 2, "s")
    assert stored.updated_at == "2026-01-05T09:00:05.000Z"
    assert stored.created_at == "2026-01-05T09:00:00.000Z"
    assert stored.sla_deadline is None


def test_stale_version_is_conflict_and_nothing_is_written(repos, dynamodb):
    create_exception(repos, TENANT, "EX-1")
    stale = repos.exceptions.get(TENANT, "EX-1")
    _append(repos, TENANT, stale, [_comment("first writer")])
    before = snapshot(dynamodb)

    with pytest.raises(Conflict) as caught:
        _append(repos, TENANT, stale.model_copy(update={"summary": "lost"}), [_comment("second writer")])

    assert caught.value.code == "CONCURRENT_MODIFICATION"
    assert snapshot(dynamodb) == before
    assert [e.payload.get("text") for e in repos.exceptions.all_events(TENANT, "EX-1")] == [
        None,
        "first writer",
    ]


def test_an_update_without_events_still_moves_the_version(repos):
    create_exception(repos, TENANT, "EX-1")
    record = repos.exceptions.get(TENANT, "EX-1")
    saved = _append(repos, TENANT, record.model_copy(update={"summary": "x"}), [])
    assert (saved.version, saved.last_seq) == (2, 1)


# -- timeline -------------------------------------------------------------------------------------
def _seed_timeline(repos, clock, count=6):
    create_exception(repos, TENANT, "EX-1")
    for n in range(count):
        clock.advance()
        record = repos.exceptions.get(TENANT, "EX-1")
        events = [_comment(f"c{n}")]
        if n % 2:
            events.append(
                NewEvent(event_type=EventType.EXCEPTION_UPDATED, actor=SYSTEM_ACTOR, payload={"n": n})
            )
        _append(repos, TENANT, record, events)


def test_events_have_contiguous_seq_and_one_timestamp_per_write(repos, clock):
    _seed_timeline(repos, clock)
    events = repos.exceptions.all_events(TENANT, "EX-1")
    assert [e.seq for e in events] == list(range(1, 11))
    assert repos.exceptions.get(TENANT, "EX-1").last_seq == 10
    assert len({e.event_id for e in events}) == 10
    # The two events of one write share its timestamp; writes are ordered in time.
    assert events[2].created_at == events[3].created_at != events[1].created_at
    assert [e.created_at for e in events] == sorted(e.created_at for e in events)
    assert all(e.exception_id == "EX-1" for e in events)


def test_events_page_oldest_first(repos, clock):
    _seed_timeline(repos, clock)
    seqs, cursor, sizes = [], None, []
    while True:
        page = repos.exceptions.events(TENANT, "EX-1", 4, cursor)
        seqs.extend(e.seq for e in page.items)
        sizes.append(len(page.items))
        cursor = page.next_cursor
        if not cursor:
            break
    assert seqs == list(range(1, 11))
    assert sizes == [4, 4, 2]


def test_events_exact_multiple_has_no_trailing_cursor(repos, clock):
    _seed_timeline(repos, clock, count=2)  # 1 + 1 + 2 = 4 events
    first = repos.exceptions.events(TENANT, "EX-1", 2, None)
    second = repos.exceptions.events(TENANT, "EX-1", 2, first.next_cursor)
    assert [e.seq for e in second.items] == [3, 4]
    assert second.next_cursor is None


def test_events_filter_by_type_with_paging(repos, clock):
    _seed_timeline(repos, clock)
    page = repos.exceptions.events(TENANT, "EX-1", 50, None, event_type="ExceptionUpdated")
    assert [e.payload["n"] for e in page.items] == [1, 3, 5]
    assert page.next_cursor is None
    first = repos.exceptions.events(TENANT, "EX-1", 2, None, event_type="ExceptionUpdated")
    assert [e.payload["n"] for e in first.items] == [1, 3]
    second = repos.exceptions.events(TENANT, "EX-1", 2, first.next_cursor, event_type="ExceptionUpdated")
    assert [e.payload["n"] for e in second.items] == [5]
    assert second.next_cursor is None
    assert repos.exceptions.events(TENANT, "EX-1", 5, None, event_type="PlaybookStarted").items == []


def test_events_cursor_is_bound_to_the_exception_and_the_type(repos, clock):
    _seed_timeline(repos, clock)
    create_exception(repos, TENANT, "EX-2")
    cursor = repos.exceptions.events(TENANT, "EX-1", 2, None).next_cursor
    with pytest.raises(ValidationFailed):
        repos.exceptions.events(TENANT, "EX-2", 2, cursor)
    with pytest.raises(ValidationFailed):
        repos.exceptions.events(TENANT, "EX-1", 2, cursor, event_type="CommentAdded")
    with pytest.raises(ValidationFailed):
        repos.exceptions.events(OTHER, "EX-1", 2, cursor)


def test_a_duplicate_seq_is_refused(repos, dynamodb):
    """The events table's own condition: two writers that both think seq 2 is next cannot both win."""
    create_exception(repos, TENANT, "EX-1")
    record = repos.exceptions.get(TENANT, "EX-1")
    _append(repos, TENANT, record, [_comment("a")])
    before = snapshot(dynamodb)
    # Same last_seq, but a fresh version so only the event condition can stop it.
    sneaky = record.model_copy(update={"version": 2})
    with pytest.raises(Conflict):
        _append(repos, TENANT, sneaky, [_comment("b")])
    assert snapshot(dynamodb) == before


# -- tenant isolation -----------------------------------------------------------------------------
def test_another_tenant_never_reads_or_changes_an_exception_with_the_same_id(repos, dynamodb):
    mine = create_exception(repos, TENANT, "EX-1", summary="acme's")
    _append(repos, TENANT, repos.exceptions.get(TENANT, "EX-1"), [_comment("private")])
    before = snapshot(dynamodb)

    assert repos.exceptions.get(OTHER, "EX-1") is None
    assert repos.exceptions.all_events(OTHER, "EX-1") == []
    assert repos.exceptions.events(OTHER, "EX-1", 10, None).items == []
    assert repos.exceptions.list(OTHER, NONE, 10, None).items == []
    # Writing "acme's record" (version 2 as read) under the other tenant hits no existing item.
    stolen = repos.exceptions.get(TENANT, "EX-1").model_copy(update={"summary": "hijacked"})
    with pytest.raises(Conflict):
        _append(repos, OTHER, stolen, [_comment("x")])
    assert snapshot(dynamodb) == before

    # The other tenant may use the same id for its own exception; acme's is untouched.
    create_exception(repos, OTHER, "EX-1", summary="globex's")
    assert repos.exceptions.get(TENANT, "EX-1").summary == mine.summary == "acme's"
    assert repos.exceptions.get(OTHER, "EX-1").summary == "globex's"
    assert [e.seq for e in repos.exceptions.all_events(TENANT, "EX-1")] == [1, 2]
    assert [e.seq for e in repos.exceptions.all_events(OTHER, "EX-1")] == [1]


def test_invalid_tenant_is_refused_before_any_call(repos, calls):
    with pytest.raises(ValueError):
        repos.exceptions.get("a#b", "EX-1")
    with pytest.raises(ValueError):
        repos.exceptions.list("", NONE, 5, None)
    assert calls.count() == 0


def test_record_round_trips_nested_and_float_values(repos):
    attributes = {"amount": 1234.56, "ratio": 0.1, "n": 7, "nested": {"list": [1, "a", None, True]}, "e": ""}
    create_exception(repos, TENANT, "EX-1", attributes=attributes, raw_payload={"x": [1.5]})
    record = repos.exceptions.get(TENANT, "EX-1")
    assert record.attributes == attributes
    assert record.raw_payload == {"x": [1.5]}
