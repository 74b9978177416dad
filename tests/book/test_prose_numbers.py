"""Every number a chapter's prose quotes exists by the time a notebook reader reaches it.

In JupyterLab (jupyterlab-myst) an ``{eval}`` expression is evaluated when its Markdown cell
is rendered after the cells above it ran: a name glued only further down would show as a
NameError there, although the HTML book (which reads every glued value of the page) shows it.
So every name an expression uses must be glued by a code cell above the sentence, in the
chapter as the strict build executed it. The built pages show no raw role syntax.
"""

from __future__ import annotations

import ast
import re

import pytest
from conftest import HTML, NOTEBOOKS, build_execution

EVAL = re.compile(r"\{eval\}`([^`]+)`")


def names(expression: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(expression, mode="eval")) if isinstance(node, ast.Name)}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_quoted_number_is_glued_above_its_sentence(path):
    glued, quoted, early = set(), 0, []
    for cell in build_execution(path)["cells"]:
        if cell["cell_type"] == "code":
            for output in cell.get("outputs", []):
                name = output.get("metadata", {}).get("scrapbook", {}).get("name")
                if name:
                    glued.add(name)
        elif cell["cell_type"] == "markdown":
            for expression in EVAL.findall("".join(cell["source"])):
                quoted += 1
                early += sorted(names(expression) - glued)
    assert quoted, f"{path.name} quotes no number"
    assert not early, f"{path.name}: quoted above the cell that glues them: {early}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_page_shows_no_raw_role(path):
    text = (HTML / "chapters" / f"{path.stem}.html").read_text()
    body = text.split('<main', 1)[-1]
    raw = re.findall(r"\{(?:eval|glue[:a-z]*|term|cite[:a-z]*|ref)\}", body)
    assert not raw, f"{path.name}: raw roles on the page: {raw[:5]}"
