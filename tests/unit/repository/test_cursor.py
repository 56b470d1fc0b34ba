"""Opaque cursors: round trip, bound to tenant and listing, garbage refused as a 422."""

from __future__ import annotations

import base64
import json

import pytest
from exception_playbooks.errors import ValidationFailed
from exception_playbooks.repository import cursor

KEY = {"pk": "T#a#EX#1", "sk": "EXCEPTION", "gsi1pk": "T#a#EXCEPTIONS", "gsi1sk": "2026#1"}
TYPES = {"pk": str, "sk": str, "gsi1pk": str, "gsi1sk": str}


def test_round_trip_and_url_safe():
    encoded = cursor.encode("a", "scope", KEY)
    assert encoded and "=" not in encoded and "/" not in encoded and "+" not in encoded
    assert cursor.decode("a", "scope", encoded) == KEY
    assert (
        cursor.decode("a", "scope", encoded, key_types=TYPES, partition={"gsi1pk": "T#a#EXCEPTIONS"}) == KEY
    )


def test_no_start_key_no_cursor_and_back():
    assert cursor.encode("a", "s", None) is None
    assert cursor.encode("a", "s", {}) is None
    assert cursor.decode("a", "s", None) is None
    assert cursor.decode("a", "s", "") is None


@pytest.mark.parametrize(
    ("tenant", "scope"),
    [("b", "scope"), ("a", "other-scope"), ("A", "scope")],
)
def test_foreign_cursor_is_refused(tenant, scope):
    encoded = cursor.encode("a", "scope", KEY)
    with pytest.raises(ValidationFailed) as caught:
        cursor.decode(tenant, scope, encoded)
    assert caught.value.details == {
        "errors": [{"path": "cursor", "message": "is not a valid cursor for this listing"}]
    }


def _raw(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "bad",
    [
        "not base64 at all!",
        "====",
        base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
        _raw([1, 2]),
        _raw("text"),
        _raw(7),
        _raw({"k": KEY}),
        _raw({"t": cursor._tag("a", "scope")}),
        _raw({"t": cursor._tag("a", "scope"), "k": [1]}),
    ],
)
def test_garbage_is_validation_failed(bad):
    with pytest.raises(ValidationFailed):
        cursor.decode("a", "scope", bad)


@pytest.mark.parametrize(
    "key",
    [
        {**KEY, "gsi1pk": "T#b#EXCEPTIONS"},  # another partition
        {k: v for k, v in KEY.items() if k != "sk"},  # missing attribute
        {**KEY, "extra": "x"},  # extra attribute
        {**KEY, "gsi1sk": 5},  # wrong type
    ],
)
def test_a_well_tagged_but_forged_key_is_refused(key):
    forged = cursor.encode("a", "scope", key)
    with pytest.raises(ValidationFailed):
        cursor.decode("a", "scope", forged, key_types=TYPES, partition={"gsi1pk": "T#a#EXCEPTIONS"})


def test_numeric_key_types_are_exact():
    key = {"pk": "T#a#EX#1", "seq": 4}
    ok = cursor.encode("a", "s", key)
    assert cursor.decode("a", "s", ok, key_types={"pk": str, "seq": int}) == key
    for bad in (
        {"pk": "T#a#EX#1", "seq": True},
        {"pk": "T#a#EX#1", "seq": "4"},
        {"pk": "T#a#EX#1", "seq": 4.5},
    ):
        with pytest.raises(ValidationFailed):
            cursor.decode("a", "s", cursor.encode("a", "s", bad), key_types={"pk": str, "seq": int})
