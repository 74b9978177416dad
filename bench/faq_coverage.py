"""``make faq``: every question of the FAQ the book answers has a verdict in chapter 9.

The FAQ is not part of the repository (the book paraphrases it, never copies it); pass its
folder as the first argument (default ``../shared/seed`` beside the checkout). Exits non-zero
when the folder holds no FAQ, or when a question has no fingerprint in
``tests/unit/test_verdict.py`` (the test checks each fingerprint's section of the chapter).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "unit"))

from test_verdict import QUESTIONS, fingerprint  # noqa: E402


def main(folder: Path) -> int:
    questions = {
        line.strip()
        for path in sorted(folder.glob("*.txt"))
        for line in path.read_text().splitlines()
        if line.strip().endswith("?") and len(line.strip()) < 120
    }
    if not questions:
        print(f"no FAQ questions found in {folder}: pass the FAQ's folder (make faq FAQ=path)")
        return 2
    missing = sorted(q for q in questions if fingerprint(q) not in QUESTIONS)
    print(f"{len(questions)} FAQ questions, {len(questions) - len(missing)} with a verdict in chapter 9")
    for question in missing:
        print("  no verdict:", question)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "seed"))
