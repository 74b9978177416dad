"""binder/requirements.txt stays consistent with the root requirements.txt."""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _lines(path: Path) -> list[str]:
    return [line.split("#")[0].strip() for line in path.read_text().splitlines() if line.split("#")[0].strip()]


def test_binder_installs_the_book_requirements_by_reference_not_by_copy():
    lines = _lines(ROOT / "binder" / "requirements.txt")
    included = [line.split(maxsplit=1)[1] for line in lines if line.startswith("-r ")]
    assert included == ["../requirements.txt"]
    assert (ROOT / "binder" / included[0]).resolve() == (ROOT / "requirements.txt").resolve()
    own = [line for line in lines if not line.startswith(("-r ", "--extra-index-url")) and line != "."]
    assert not own, f"binder/requirements.txt pins packages of its own: {own}"
    for line in _lines(ROOT / "requirements.txt"):
        Requirement(line)  # every line of the included list is a plain requirement


def test_binder_installs_cpu_torch_and_the_helpers():
    lines = _lines(ROOT / "binder" / "requirements.txt")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    assert "." in lines  # the helpers package, from the repository root
