"""The glossary and the introduction agree with the chapters they point to.

Every glossary term is used, and linked (``{term}`` on the Markdown pages, a Markdown link to
``glossary.md#term-Name`` in the chapters' notebooks), on some page other than the glossary;
every claim in the introduction's list links to the section that checks it and quotes a number
glued from a chapter. (Whether the glued names and the link targets exist is checked by the
strict build, which fails on a missing glue key, an unknown term or an unknown label.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = ROOT / "glossary.md"
INTRO = ROOT / "intro.md"
TERM_LINK = re.compile(r"\{term\}`(?:[^`<]*<([^>`]+)>|([^`]+))`")
MARKDOWN_TERM_LINK = re.compile(r"\]\(\.\./glossary\.md#term-([^)\s]+)\)")


def glossary_terms() -> list[str]:
    block = GLOSSARY.read_text().split("```{glossary}", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip() and not line.startswith(" ")]


def pages_other_than_the_glossary() -> dict[str, str]:
    pages = {INTRO.name: INTRO.read_text()}
    for path in sorted((ROOT / "chapters").glob("*.md")):
        pages[path.name] = path.read_text()
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        pages[path.name] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return pages


def term_id(term: str) -> str:
    """The part after ``term-`` of Sphinx's id for a glossary term, lower-cased."""
    return re.sub(r"[^a-z0-9]+", "-", term.lower()).strip("-")


def linked_terms(text: str) -> set[str]:
    roles = {term_id(target or plain) for target, plain in TERM_LINK.findall(text)}
    return roles | {anchor.lower() for anchor in MARKDOWN_TERM_LINK.findall(text)}


def test_the_glossary_is_parsed():
    terms = glossary_terms()
    assert len(terms) >= 20 and "Group pooling" in terms and "Shift" in terms


def test_every_glossary_term_is_linked_from_a_page_that_uses_it():
    linked = set().union(*(linked_terms(text) for text in pages_other_than_the_glossary().values()))
    unlinked = [term for term in glossary_terms() if term_id(term) not in linked]
    assert not unlinked, f"glossary terms no page links to: {unlinked}"


def test_every_term_link_points_at_a_glossary_entry():
    terms = {term_id(term) for term in glossary_terms()}
    for name, text in pages_other_than_the_glossary().items():
        unknown = linked_terms(text) - terms
        assert not unknown, f"{name} links to terms the glossary lacks: {unknown}"


def test_group_pooling_alone_is_not_called_invariance():
    entry = GLOSSARY.read_text().split("Group pooling", 1)[1]
    assert "global pooling" in entry and "still rotate" in entry


def test_every_claim_of_the_introduction_links_to_its_check_and_quotes_a_number():
    text = INTRO.read_text()
    claims_section = text[text.index("## The claims you will meet") : text.index("## A map of the book")]
    claims = re.split(r"\n- ", claims_section)[1:]
    assert len(claims) >= 8, "convolution, pooling, receptive field, invariance at all, position, vocabulary, rotation, scale"
    for claim in claims:
        head = claim.split("\n", 1)[0][:60]
        assert re.search(r"\{ref\}`[^`]*<ch\d+b?-[a-z-]+>`", claim), f"{head}: no link to the section that checks it"
        assert "{glue:text}`chapters/" in claim, f"{head}: no number glued from a chapter"
