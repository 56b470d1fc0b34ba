"""local.persistence: both tables survive a dump and a reload, byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from local import persistence
from local.tables import create_tables


def test_snapshot_save_load_restore_round_trip(moto_dynamodb: Any, settings: Any, tmp_path: Path) -> None:
    items: list[dict[str, Any]] = [
        {
            "pk": {"S": "T#a#EX#1"},
            "sk": {"S": "EXCEPTION"},
            "gsi1pk": {"S": "T#a#EXCEPTIONS"},
            "gsi1sk": {"S": "x"},
            "blob": {"B": b"\x00\xff"},
            "tags": {"SS": ["a", "b"]},
            "n": {"N": "1.50"},
            "m": {"M": {"l": {"L": [{"BOOL": True}, {"NULL": True}, {"BS": [b"\x01"]}]}}},
        },
        {"pk": {"S": "T#a#PB#p"}, "sk": {"S": "LATEST"}},
    ]
    for item in items:
        moto_dynamodb.put_item(TableName=settings.state_table, Item=item)
    for seq in range(1, 31):  # more than one BatchWriteItem on restore
        moto_dynamodb.put_item(
            TableName=settings.events_table, Item={"pk": {"S": "T#a#EX#1"}, "seq": {"N": str(seq)}}
        )

    path = tmp_path / "state" / persistence.STATE_FILE
    persistence.save(path, persistence.snapshot(moto_dynamodb, settings, {"seed": "complete"}))
    data = persistence.load(path)
    assert data is not None and data["meta"] == {"seed": "complete"}

    for table in (settings.state_table, settings.events_table):
        moto_dynamodb.delete_table(TableName=table)
    create_tables(moto_dynamodb, settings)
    assert persistence.restore(moto_dynamodb, settings, data) == {"state": 2, "events": 30}

    restored = {i["sk"]["S"]: i for i in persistence.scan_all(moto_dynamodb, settings.state_table)}
    assert restored["EXCEPTION"]["blob"] == {"B": b"\x00\xff"}
    assert restored["EXCEPTION"]["m"] == items[0]["m"]
    assert sorted(restored["EXCEPTION"]["tags"]["SS"]) == ["a", "b"]
    index = moto_dynamodb.query(
        TableName=settings.state_table,
        IndexName="by_tenant",
        KeyConditionExpression="gsi1pk = :p",
        ExpressionAttributeValues={":p": {"S": "T#a#EXCEPTIONS"}},
    )
    assert index["Count"] == 1  # indexes are rebuilt from the restored items
    assert len(persistence.scan_all(moto_dynamodb, settings.events_table)) == 30


def test_load_without_a_file_is_none_and_a_foreign_file_is_refused(tmp_path: Path) -> None:
    assert persistence.load(tmp_path / "nothing.json") is None
    bad = tmp_path / "state.json"
    bad.write_text('{"format": 99}')
    with pytest.raises(ValueError, match="dev-reset"):
        persistence.load(bad)


def test_save_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    persistence.save(path, {"format": 1, "tables": {}})
    assert not path.with_suffix(".tmp").exists()
    assert persistence.load(path) == {"format": 1, "tables": {}}
