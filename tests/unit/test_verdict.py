"""The closing chapter answers every question of the FAQ the book grew from.

Each FAQ question is known here by a fingerprint (the SHA-1 of its lower-cased letters), so the
test holds the mapping without copying the FAQ's sentences. The FAQ itself lives outside the
repository; ``make faq`` (``bench/faq_coverage.py``) checks that every question in it has a
fingerprint here, and fails when it cannot find the FAQ.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERDICT = ROOT / "chapters" / "09_verdict.md"

# fingerprint of the question -> label of its section in chapters/09_verdict.md
QUESTIONS = {
    "5751785a8d": "faq-why-invariant",
    "23c57749fc": "faq-what-is-invariance",
    "3e36a9f8e9": "faq-deep-nets",
    "7fa697b62b": "faq-equivariance-and-invariance",
    "226fb30a65": "faq-pooling",
    "e438dd232c": "faq-small-shifts",
    "f0a77ae34a": "faq-invariant-or-equivariant",
    "6dd287b36f": "faq-rotation",
    "befaefbb11": "faq-weight-sharing",
    "bef17ae16d": "faq-signal-processing",
    "2009150d9a": "faq-translation",
    "475b1868ad": "faq-scale",
}
# One rule for every row (stated at the top of the page): the verdict judges the FAQ's answer.
VERDICTS = ("holds only when", "holds", "fails", "no answer")
# A deciding number comes with its spread: a glued interval (``_interval``, the one format,
# from ``helpers.book.glue_with_interval``), or the word "exact" for a computation with no
# seeds or samples.
INTERVAL = re.compile(r"_interval[:`]|\(exact")


def fingerprint(question: str) -> str:
    return hashlib.sha1(re.sub(r"[^a-z ]", "", question.lower()).encode()).hexdigest()[:10]


def _sections() -> dict[str, str]:
    text = VERDICT.read_text()
    parts = re.split(r"^\((faq-[a-z-]+)\)=\s*$", text, flags=re.M)
    return {label: body for label, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_fingerprints_are_distinct_and_sections_are_distinct():
    assert len(set(QUESTIONS.values())) == len(QUESTIONS)
    assert all(re.fullmatch(r"[0-9a-f]{10}", f) for f in QUESTIONS)
    assert fingerprint("Is a CNN invariant?") == fingerprint("is a cnn invariant")  # case and punctuation


def test_every_question_has_a_section_with_verdict_number_and_link():
    sections = _sections()
    for label in QUESTIONS.values():
        assert label in sections, f"{label} missing from {VERDICT.name}"
        body = sections[label]
        assert re.search(r"\*\*Verdict: (" + "|".join(VERDICTS) + r")", body), f"{label}: no verdict"
        assert "{glue:text}`" in body, f"{label}: no measured number (glued from a chapter)"
        assert re.search(r"\{doc\}`|\{ref\}`", body), f"{label}: no link to the chapter that shows it"


def test_glued_numbers_point_at_chapters_that_exist():
    for doc in set(re.findall(r"\{glue:text\}`([^`:]+\.ipynb)::", VERDICT.read_text())):
        assert (VERDICT.parent / doc).exists(), doc


def _category(verdict: str) -> str:
    """Which of VERDICTS a verdict's words start with ("holds only when ..." before "holds")."""
    found = [v for v in VERDICTS if verdict.lower().startswith(v)]
    assert found, f"{verdict!r} is not one of {VERDICTS}"
    return found[0]


def _table_rows() -> list[list[str]]:
    lines = [line for line in VERDICT.read_text().splitlines() if line.startswith("| [")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


def test_the_rule_is_stated_once_for_every_row():
    text = VERDICT.read_text()
    rule = text[text.index("**The rule for every row.**") : text.index("| FAQ question")]
    assert all(f"**{verdict}**" in rule for verdict in VERDICTS), "every verdict is defined by the rule"


def test_every_row_has_verdict_glued_number_with_interval_and_chapter():
    rows, sections = _table_rows(), _sections()
    assert [re.search(r"\(#(faq-[a-z-]+)\)", row[0]).group(1) for row in rows] == list(sections), (
        "one table row per section, in the same order"
    )
    for row in rows:
        label = re.search(r"\(#(faq-[a-z-]+)\)", row[0]).group(1)
        assert len(row) == 3, f"{label}: question, verdict, deciding number (the claim is in the section)"
        question, verdict, number = row
        body_verdict = re.search(r"\*\*Verdict: ([^*]+)", sections[label]).group(1)
        assert _category(verdict) == _category(body_verdict), f"{label}: table {verdict!r}, section {body_verdict!r}"
        assert "{glue:text}`" in number, f"{label}: no glued deciding number"
        assert INTERVAL.search(number), f"{label}: the deciding number has no interval (nor is it exact)"
        assert re.search(r"\{ref\}`|\{doc\}`", number), f"{label}: no link to the chapter that measures it"


def test_every_section_states_the_faqs_claim_before_its_verdict():
    for label, body in _sections().items():
        claim, verdict = body.find("**The FAQ's claim:**"), body.find("**Verdict:")
        assert 0 <= claim < verdict, f"{label}: the FAQ's claim, then the verdict"


def test_numbers_glued_from_another_page_name_a_format():
    # myst-nb reads `page.ipynb::key` without a format as the key `page.ipynb:` (the last colon
    # starts a format); a string takes `:s`
    for page in (VERDICT, ROOT / "intro.md"):
        for role in re.findall(r"\{glue:text\}`([^`]+)`", page.read_text()):
            assert re.fullmatch(r"[^:]+\.ipynb::\w+:[^:]+", role), f"{page.name}: {role}"
