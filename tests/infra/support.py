"""Helpers for reading the synthesized CloudFormation template."""

from __future__ import annotations

from typing import Any


def referenced_ids(value: Any) -> set[str]:
    """Logical ids a template value points at through Ref or Fn::GetAtt (pseudo parameters excluded)."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("Ref"), str) and not node["Ref"].startswith("AWS::"):
                found.add(node["Ref"])
            if "Fn::GetAtt" in node:
                found.add(node["Fn::GetAtt"][0])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(value)
    return found


def as_list(value: Any) -> list[Any]:
    """IAM allows a single value or a list for Action and Resource."""
    return value if isinstance(value, list) else [value]
