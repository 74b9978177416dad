"""The chapters' prose reads the same in the HTML book, in JupyterLab and (as far as it can) on Colab.

A chapter's Markdown uses only MyST that jupyterlab-myst renders from the notebook alone:
numbers as ``{eval}`` expressions of glued names (``_ext/prose_numbers.py`` evaluates them in
the HTML build, the reader's kernel in JupyterLab), citations as ordinary Markdown links to
the bibliography entry (``#cite-key``) whose text is the reference's authors and year, glossary
terms as Markdown links to the term (``#term-Name``). Whether every ``{eval}``
name is glued before the sentence that quotes it is checked on the executed chapters
(``tests/book/test_links.py``); the build fails on a name no cell glued.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "_ext"))
from prose_numbers import evaluate  # noqa: E402

from helpers import book  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
EVAL = re.compile(r"\{eval\}`([^`]+)`")
# roles that only the HTML build resolves
HTML_ONLY = re.compile(r"\{(?:glue[:a-z]*|cite(?::[a-z]+)?|term|ref|numref|doc)\}`")
CITATION = re.compile(r"\[([^\]]+)\]\(\.\./bibliography\.md#cite-([^)\s]+)\)")
TERM = re.compile(r"\]\(\.\./glossary\.md#([^)\s]+)\)")


def markdown(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def values(name: str):
    return {"a": 0.91234, "n": 12, "s": "1.0% to 2.0%", "flag": True}[name]


@pytest.mark.parametrize(
    "expression",
    ['a', 'n', 's', 'f"{a:.1%}"', 'f"{a:.2f}"', 'f"{n}"', 'f"{a:.0e} and {n:d}"', 'f"{flag:.0%}"'],
)
def test_an_expression_reads_as_the_kernel_prints_it(expression):
    kernel = eval(expression, {}, {k: values(k) for k in ("a", "n", "s", "flag")})
    assert evaluate(expression, values) == (kernel if isinstance(kernel, str) else repr(kernel))


@pytest.mark.parametrize(
    "expression", ["a + 1", "values('a')", "a.real", 'f"{a!r}"', 'f"{a:{n}}"', 'f"{a + 1}"', "1.0", "a b"]
)
def test_anything_but_glued_names_is_refused(expression):
    with pytest.raises(ValueError, match="expected|f-string|not a Python expression"):
        evaluate(expression, values)


def test_an_unknown_name_is_the_lookups_error():
    with pytest.raises(KeyError):
        evaluate('f"{missing:.1%}"', values)


def test_glue_binds_the_value_in_the_running_kernel(monkeypatch):
    class Shell:
        user_ns: dict = {}

    shell = Shell()
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    book.glue("test_prose_value", torch.tensor(0.25))
    assert shell.user_ns["test_prose_value"] == 0.25 and isinstance(shell.user_ns["test_prose_value"], float)


@pytest.mark.parametrize("name", ["with-dash", "1st", "a b", 3])
def test_glue_refuses_a_name_the_prose_cannot_evaluate(name):
    with pytest.raises(ValueError, match="name must be a Python identifier"):
        book.glue(name, 1.0)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_prose_uses_no_html_only_roles(path):
    found = [m.group(0) for text in markdown(path) for m in HTML_ONLY.finditer(text)]
    assert not found, f"{path.name}: roles only the HTML build resolves: {found[:5]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_eval_expression_is_a_glued_name_or_an_fstring_of_them(path):
    expressions = [e for text in markdown(path) for e in EVAL.findall(text)]
    assert expressions, f"{path.name} quotes no measured number"
    for expression in expressions:
        evaluate(expression, lambda name: 0.5)  # raises on anything else


def _bibliography() -> dict[str, tuple[str, str]]:
    """key -> (authors as cited, year) for every entry of references.bib."""
    from pybtex.database import parse_file

    entries = {}
    for key, entry in parse_file(str(ROOT / "references.bib")).entries.items():
        names = [re.sub(r"[{}\\]", "", " ".join(p.prelast_names + p.last_names)) for p in entry.persons.get("author", [])]
        cited = names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else f"{names[0]} et al."
        entries[key] = (cited, entry.fields.get("year", "n.d."))
    return entries


def test_citation_links_name_their_references_authors_and_year():
    entries, seen = _bibliography(), 0
    for path in CHAPTERS:
        for text in markdown(path):
            for label, key in CITATION.findall(text):
                assert key in entries, f"{path.name}: {key!r} is not a key of references.bib"
                authors, year = entries[key]
                assert label in (f"{authors} ({year})", f"{authors}, {year}"), f"{path.name}: {label!r} for {key}"
                seen += 1
    assert seen >= 50


def test_glossary_links_reach_a_term():
    """Sphinx's id of a glossary term: ``term-`` and the term, runs of other characters as ``-``."""
    block = (ROOT / "glossary.md").read_text().split("```{glossary}", 1)[1].split("```", 1)[0]
    terms = [line.strip() for line in block.splitlines() if line.strip() and not line.startswith(" ")]
    ids = {"term-" + re.sub(r"[^A-Za-z0-9]+", "-", term).strip("-") for term in terms}
    linked = [i for path in CHAPTERS for text in markdown(path) for i in TERM.findall(text)]
    assert len(linked) >= 40 and set(linked) <= ids, sorted(set(linked) - ids)


def test_without_myst_nb_glue_prints_the_value_beside_the_cell(monkeypatch, capsys):
    """Colab has no myst-nb and renders no ``{eval}``: the number shows under the cell that computes it."""
    monkeypatch.setitem(sys.modules, "myst_nb", None)
    book.glue("colab_value", torch.tensor(0.5))
    assert capsys.readouterr().out == "colab_value = 0.5\n"
