"""The closing chapter answers every question of the FAQ the book grew from.

Each FAQ question is known here by a fingerprint (the SHA-1 of its lower-cased letters), so the
test holds the mapping without copying the FAQ's sentences. Where the FAQ itself is present
(``../shared/seed/`` beside the checkout, as in CI), every question found in it must be mapped.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERDICT = ROOT / "chapters" / "09_verdict.md"
SEED = ROOT.parent / "shared" / "seed"

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


def test_every_question_of_the_faq_is_mapped():
    if not SEED.exists():  # a clone without the FAQ beside it: the mapping below still gets checked
        return
    questions = {
        line.strip()
        for path in SEED.glob("*.txt")
        for line in path.read_text().splitlines()
        if line.strip().endswith("?") and len(line.strip()) < 120
    }
    assert questions, "no questions found in the FAQ"
    missing = [q for q in questions if fingerprint(q) not in QUESTIONS]
    assert not missing, f"FAQ questions without a row in the verdict chapter: {missing}"


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
