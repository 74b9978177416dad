"""binder/requirements.txt stays consistent with the root requirements.txt."""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _requirements(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-") or line == ".":
            continue
        req = Requirement(line)
        found[req.name.lower()] = str(req.specifier)
    return found


def test_binder_pins_what_the_book_pins():
    assert _requirements(ROOT / "binder" / "requirements.txt") == _requirements(ROOT / "requirements.txt")


def test_binder_installs_cpu_torch_and_the_helpers():
    lines = [line.strip() for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    assert "." in lines  # the helpers package, from the repository root
