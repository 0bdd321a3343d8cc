"""A Griffe extension: the docstrings' reStructuredText bits, read as Markdown on the site.

The package's docstrings are Google style with a few Sphinx habits: cross-reference roles
(``:class:`~llmcompiler_graph.context.Context```), double-backquoted literals and ``::`` before
an indented example. mkdocstrings reads docstrings as Markdown, so this turns a role into its
name in code (the last part when written with ``~``), a double-backquoted literal into a
single-backquoted one, and ``::`` into ``:`` followed by a fenced block.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|data|mod|attr|exc|obj|const):`(~?)([^`]+)`")
LITERAL = re.compile(r"``([^`\n]+)``")
LITERAL_BLOCK = re.compile(r"::\n\n((?:(?:[ \t]+[^\n]*)?\n)+?)(?=\S|\Z)")


def _role(match: re.Match[str]) -> str:
    short, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


def _block(match: re.Match[str]) -> str:
    body = textwrap.dedent(match.group(1)).strip("\n")
    return f":\n\n```python\n{body}\n```\n\n"


def markdown(text: str) -> str:
    """Return ``text`` with its reStructuredText roles, literals and literal blocks as Markdown."""
    text = LITERAL.sub(r"`\1`", ROLE.sub(_role, text))
    return LITERAL_BLOCK.sub(_block, text + "\n").rstrip("\n")


class RestructuredText(griffe.Extension):
    """Rewrite each docstring as it is loaded."""

    def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        """Rewrite the object's docstring, if it has one."""
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
