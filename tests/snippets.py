"""The snippets a user can copy: the README's Python blocks and the docstrings' ``>>>`` blocks.

Collected once here; ``test_snippets.py`` runs each in a plain interpreter (fast, every run) and
``browser/test_snippets_browser.py`` runs each in a real JupyterLab cell and checks what it shows.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path

import micrograd_widgets

REPO = Path(__file__).resolve().parents[1]
WIDGET_CALL = re.compile(
    r"\b(?:GraphWidget(?:\.follow)?|DecisionBoundary|GradientHeatmap|Playground)\("
)
PRINT_COMMENT = re.compile(r"^\s*print\(.*\)\s*#\s*(\S.*?)\s*$", re.M)


def _package_modules() -> list[str]:
    """The package and every module under it, subpackages included."""
    names = ["micrograd_widgets"]
    for info in pkgutil.walk_packages(micrograd_widgets.__path__, "micrograd_widgets."):
        names.append(info.name)
    return sorted(names)


@dataclass
class Snippet:
    where: str  # "README.md block 3" or "micrograd_widgets.optim (line 6)"
    code: str
    says: list[str]  # what it says the cell shows: doctest outputs, or print comments
    hidden: tuple[str, ...] = ()  # examples whose promised output a cell would not show

    @property
    def widgets(self) -> int:
        return len(WIDGET_CALL.findall(self.code))


def readme_snippets() -> list[Snippet]:
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    return [
        Snippet(f"README.md python block {k + 1}", code, PRINT_COMMENT.findall(code))
        for k, code in enumerate(blocks)
        if not code.lstrip().startswith("%pip")
    ]


def docstring_snippets() -> list[Snippet]:
    """Each run of adjacent ``>>>`` examples in every docstring of the package is one block."""
    snippets = []
    finder = doctest.DocTestFinder(exclude_empty=True)
    for name in _package_modules():
        module = importlib.import_module(name)
        seen = set()
        for test in finder.find(module, name):
            if test.docstring in seen:  # a docstring reached twice (a re-exported object)
                continue
            seen.add(test.docstring)
            block: list[doctest.Example] = []
            for example in test.examples:
                if block and example.lineno != _end(block[-1]):
                    snippets.append(_snippet(test, block))
                    block = []
                block.append(example)
            if block:
                snippets.append(_snippet(test, block))
    return snippets


def _end(example: doctest.Example) -> int:
    """The docstring line just after ``example`` (its source and expected output)."""
    return example.lineno + example.source.count("\n") + example.want.count("\n")


def _snippet(test: doctest.DocTest, block: list[doctest.Example]) -> Snippet:
    where = f"{test.name} (docstring line {block[0].lineno + 1})"
    hidden = tuple(e.source.strip() for e in block[:-1] if e.want.strip())
    says = [block[-1].want] if block[-1].want else []
    return Snippet(where, "".join(e.source for e in block), says, hidden)


SNIPPETS = readme_snippets() + docstring_snippets()
