"""The numbers a chapter's prose quotes, the same in the HTML book and in a live notebook.

A chapter's Markdown quotes a measured number as an inline expression of MyST's ``{eval}``
role: ``{eval}`name` `` or ``{eval}`f"{name:.1%}"` ``, where ``name`` was glued by
``helpers.book.glue``. In JupyterLab (jupyterlab-myst) the reader's kernel evaluates the
expression: ``glue`` binds ``name`` there. myst-nb evaluates ``{eval}`` only in its "inline"
execution mode, which bypasses the execution cache; this book executes with the cache, so
this extension gives ``{eval}`` its meaning in the HTML build: the expression is evaluated
against the values the chapter glued, read back from the executed notebook.

Only glued names, and f-strings whose fields are glued names with a constant format
specification, are accepted: anything else, or a name the chapter did not glue, is a build
warning (an error under ``-W``).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from docutils import nodes
from myst_nb.core.variables import RetrievalError, create_warning
from myst_nb.ext.glue.utils import retrieve_glue_data
from myst_nb.ext.utils import RoleBase


def _text(value: Any) -> str:
    """What a kernel's text/plain shows for ``value``, with a string's quotes removed."""
    return value if isinstance(value, str) else repr(value)


def evaluate(expression: str, lookup: Callable[[str], Any]) -> str:
    """The text of ``expression`` (a name, or an f-string of names), names resolved by ``lookup``."""
    try:
        tree = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"not a Python expression: {expression!r}") from exc
    if isinstance(tree, ast.Name):
        return _text(lookup(tree.id))
    if not isinstance(tree, ast.JoinedStr):
        raise ValueError(f"expected a glued name or an f-string of glued names, got {expression!r}")
    parts = []
    for part in tree.values:
        if isinstance(part, ast.Constant):
            parts.append(part.value)
            continue
        spec = part.format_spec
        if (
            not isinstance(part.value, ast.Name)
            or part.conversion != -1
            or (spec is not None and not all(isinstance(v, ast.Constant) for v in spec.values))
        ):
            raise ValueError(f"an f-string field must be a glued name with a constant format, in {expression!r}")
        parts.append(format(lookup(part.value.id), "".join(v.value for v in spec.values) if spec else ""))
    return "".join(parts)


class EvalGlued(RoleBase):
    """``{eval}`expression` ``: the expression's text, from this chapter's glued values."""

    def run(self) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        def lookup(name: str) -> Any:
            plain = retrieve_glue_data(self.document, name).data.get("text/plain")
            if plain is None:
                raise RetrievalError(f"glued value {name!r} has no text/plain form")
            try:
                return ast.literal_eval(plain)
            except (SyntaxError, ValueError) as exc:  # e.g. a NumPy or torch repr: glue plain Python values
                raise RetrievalError(f"glued value {name!r} is not a Python literal: {plain!r}") from exc

        try:
            text = evaluate(self.text, lookup)
        except (RetrievalError, ValueError) as exc:
            return [], [create_warning(str(exc), self.document, self.line, subtype="eval")]
        return [nodes.inline(text, text, classes=["pasted-text"])], []


def setup(app):
    app.add_role("eval", EvalGlued(), override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
