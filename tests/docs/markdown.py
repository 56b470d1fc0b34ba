"""Reading fenced code blocks out of the Markdown documents under docs/."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fence:
    line: int  # 1-based line of the opening fence
    info: str  # the info string: sh, json, text, console...
    content: str
    closing: int  # 1-based line of the closing fence


def fenced_blocks(markdown: str, name: str = "document") -> list[Fence]:
    """Every top-level fenced block (``` at the start of a line), in order."""
    blocks: list[Fence] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].startswith("```"):
            info = lines[index][3:].strip()
            start = index
            index += 1
            content: list[str] = []
            while index < len(lines) and lines[index].rstrip() != "```":
                content.append(lines[index])
                index += 1
            if index == len(lines):
                raise AssertionError(f"{name}:{start + 1}: fence never closed")
            blocks.append(Fence(start + 1, info, "\n".join(content), index + 1))
        index += 1
    return blocks
