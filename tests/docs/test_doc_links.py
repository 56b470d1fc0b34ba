"""Relative links in the guides land on a file that exists and, with a #fragment, on one of its headings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local.api_reference import anchor
from tests.docs.markdown import fenced_blocks

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDES = ("api.md", "playbooks.md", "api-reference.md")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def prose(path: Path) -> str:
    """The document without its code blocks (a link-like string in an example is not a link)."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    for block in reversed(fenced_blocks(text, path.name)):
        del lines[block.line - 1 : block.closing]
    return "\n".join(lines)


def anchors(path: Path) -> set[str]:
    return {anchor(h) for h in re.findall(r"^#{1,6} (.+)$", prose(path), re.MULTILINE)}


@pytest.mark.parametrize("name", GUIDES)
def test_relative_links_resolve(name: str) -> None:
    source = DOCS / name
    broken = []
    for target in LINK.findall(prose(source)):
        if re.match(r"[a-z]+:", target):
            continue  # an absolute URL
        file_part, _, fragment = target.partition("#")
        path = (source.parent / file_part).resolve() if file_part else source
        missing = not path.exists()
        if missing or (fragment and path.suffix == ".md" and fragment not in anchors(path)):
            broken.append(target)
    assert not broken, f"docs/{name}: broken links {broken}"
