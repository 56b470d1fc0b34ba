"""dynamo.py without AWS: error translation, value conversion, transaction building."""

from __future__ import annotations

from decimal import Decimal

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError, ReadTimeoutError
from exception_playbooks.config import Settings
from exception_playbooks.errors import Conflict, Unavailable
from exception_playbooks.repository.dynamo import (
    ConditionFailed,
    Dynamo,
    Transaction,
    TransactionCancelled,
    failed_labels,
    from_dynamo_value,
    to_dynamo_value,
    translate_errors,
)


def _error(code: str, reasons: list[str] | None = None) -> ClientError:
    response: dict = {"Error": {"Code": code, "Message": "m"}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": r} for r in reasons]
    return ClientError(response, "TransactWriteItems")


def _translate(error: Exception) -> Exception:
    with pytest.raises(Exception) as caught, translate_errors():
        raise error
    return caught.value


@pytest.mark.parametrize(
    "code",
    [
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
    ],
)
def test_throttling_and_outages_are_unavailable(code):
    error = _translate(_error(code))
    assert isinstance(error, Unavailable)
    assert error.code == "SERVICE_UNAVAILABLE"


@pytest.mark.parametrize(
    "reason", ["ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"]
)
def test_a_transaction_cancelled_by_throttling_is_unavailable(reason):
    """CancellationReasons spell throttling ``ThrottlingError`` / ``ProvisionedThroughputExceeded``."""
    error = _translate(_error("TransactionCanceledException", ["None", reason]))
    assert isinstance(error, Unavailable)


def test_conditional_check_failed_is_conflict():
    error = _translate(_error("ConditionalCheckFailedException"))
    assert isinstance(error, ConditionFailed) and isinstance(error, Conflict)
    assert error.code == "CONCURRENT_MODIFICATION"


@pytest.mark.parametrize(
    ("reasons", "failed"),
    [
        (["ConditionalCheckFailed", "None"], ["0"]),
        (["None", "None", "ConditionalCheckFailed"], ["2"]),
        (["TransactionConflict", "None"], ["0"]),
        ([], []),
    ],
)
def test_cancelled_transaction_is_conflict_naming_the_failed_items(reasons, failed):
    error = _translate(_error("TransactionCanceledException", reasons))
    assert isinstance(error, TransactionCancelled)
    assert isinstance(error, Conflict)
    assert error.failed_labels == failed


@pytest.mark.parametrize("code", ["TransactionConflictException", "TransactionInProgressException"])
def test_transaction_conflict_is_conflict(code):
    error = _translate(_error(code))
    assert isinstance(error, Conflict) and not isinstance(error, ConditionFailed)
    assert error.code == "CONCURRENT_MODIFICATION"


@pytest.mark.parametrize(
    "error",
    [EndpointConnectionError(endpoint_url="http://x"), ReadTimeoutError(endpoint_url="http://x")],
)
def test_network_failures_are_unavailable(error):
    assert isinstance(_translate(error), Unavailable)


def test_other_client_errors_propagate_unchanged():
    original = _error("ValidationException")
    assert _translate(original) is original


def test_a_malformed_request_is_a_bug_not_a_retryable_outage():
    original = ParamValidationError(report="Invalid type for parameter Key")
    assert _translate(original) is original


def test_failed_labels_maps_indices_to_labels():
    transaction = Transaction()
    transaction.put("t", {"pk": "a"}, label="exception")
    transaction.put("t", {"pk": "b"}, label="event")
    transaction.put("t", {"pk": "c"}, label="idempotency")
    error = TransactionCancelled("x", ["0", "2", "7"])
    assert failed_labels(error, transaction) == {"exception", "idempotency"}


def test_values_round_trip_as_plain_json_types():
    value = {"f": 1.25, "i": 3, "big": 10**20, "whole": 2.0, "list": [0.1, {"x": None}], "s": "é", "b": True}
    stored = to_dynamo_value(value)
    assert stored["f"] == Decimal("1.25") and isinstance(stored["list"][0], Decimal)
    back = from_dynamo_value(stored)
    assert back == {**value, "whole": 2}
    assert type(back["i"]) is int and type(back["f"]) is float
    assert from_dynamo_value({"s": {Decimal(2), Decimal(1)}}) == {"s": [1, 2]}


def test_serialize_drops_none_and_deserialize_restores_types():
    dynamo = Dynamo(config=Settings(), client=object())
    raw = dynamo.serialize({"a": 1, "b": None, "c": {"d": [1.5, "x"]}, "e": ""})
    assert "b" not in raw
    assert raw["a"] == {"N": "1"}
    assert dynamo.deserialize(raw) == {"a": 1, "c": {"d": [1.5, "x"]}, "e": ""}


def test_transaction_request_shapes():
    dynamo = Dynamo(config=Settings(), client=object())
    transaction = Transaction()
    transaction.put("state", {"pk": "p", "n": 1}, condition="attribute_not_exists(pk)", label="x")
    transaction.update(
        "state", {"pk": "p"}, "SET #a = :a", condition="v = :v", names={"#a": "a"}, values={":a": 1, ":v": 2}
    )
    first, second = (i.to_request(dynamo) for i in transaction.items)
    assert first == {
        "Put": {
            "TableName": "state",
            "Item": {"pk": {"S": "p"}, "n": {"N": "1"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    assert second["Update"]["Key"] == {"pk": {"S": "p"}}
    assert second["Update"]["ExpressionAttributeValues"] == {":a": {"N": "1"}, ":v": {"N": "2"}}
    assert transaction.labels() == ["x", ""]


def test_an_empty_transaction_makes_no_call():
    class NoClient:
        def __getattr__(self, name):
            raise AssertionError(f"unexpected call {name}")

    Dynamo(config=Settings(), client=NoClient()).commit(Transaction())


def test_the_client_is_created_lazily_once():
    dynamo = Dynamo(config=Settings(aws_region="eu-west-1"))
    assert dynamo._clients is None
    client = dynamo.client
    assert dynamo.client is client
    assert client.meta.region_name == "eu-west-1"
    assert (dynamo.state_table, dynamo.events_table) == (
        "exception-playbooks-state",
        "exception-playbooks-events",
    )
