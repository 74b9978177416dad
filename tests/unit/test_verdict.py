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
VERDICTS = ("holds", "fails", "holds only when", "misnamed")


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
        assert re.search(r"\{doc\}`|\]\(0\d_", body), f"{label}: no link to the chapter that shows it"


def test_glued_numbers_point_at_chapters_that_exist():
    for doc in set(re.findall(r"\{glue:text\}`([^`:]+\.ipynb)::", VERDICT.read_text())):
        assert (VERDICT.parent / doc).exists(), doc
