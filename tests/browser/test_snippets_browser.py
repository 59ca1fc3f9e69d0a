"""Every snippet a user can copy shows what it says (issue 7, item 1).

Each Python block of the README and each ``>>>`` example block of the package's docstrings is pasted,
as written, into its own cell of a real JupyterLab notebook, after a ``%reset -f`` cell (so a block
must import what it uses), and run. Then, per block:

* no cell raises;
* every widget the block makes is on the page: the cell's output holds as many views
  (``.mgw-root``) as the block calls ``GraphWidget(``, ``DecisionBoundary(`` or ``GradientHeatmap(``
  (a block that makes a widget but does not display it shows nothing);
* what a block says it prints is what the cell shows: a docstring block's expected output (only
  its last example may have one: a cell shows only its last expression), and a README
  ``print(...)  # value`` comment.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib
import pkgutil
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

import micrograd_widgets

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
WIDGET_CALL = re.compile(r"\b(?:GraphWidget|DecisionBoundary|GradientHeatmap)\(")
PRINT_COMMENT = re.compile(r"^\s*print\(.*\)\s*#\s*(\S.*?)\s*$", re.M)
CHECKER = doctest.OutputChecker()
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


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
    names = [m.name for m in pkgutil.iter_modules(micrograd_widgets.__path__)]
    for name in ["micrograd_widgets", *(f"micrograd_widgets.{n}" for n in sorted(names))]:
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

# The text and the number of widget views under each cell, and whether it raised.
READ_CELLS = """() => window.__mgwPanel.content.widgets.map(c => {
    const outputs = c.model.type === 'code' ? c.model.outputs : null;
    const texts = [];
    let errors = 0;
    for (let i = 0; outputs && i < outputs.length; i++) {
        const o = outputs.get(i).toJSON();
        if (o.output_type === 'error') errors++;
        else if (o.output_type === 'stream') texts.push(o.text);
        else if (o.data && o.data['text/plain'] && !o.data['application/vnd.jupyter.widget-view+json'])
            texts.push(o.data['text/plain']);
    }
    return {views: c.node.querySelectorAll('.jp-OutputArea .mgw-root').length,
            text: texts.join(''), errors};
})"""


ALL_RAN_OR_ONE_RAISED = """() => {
    const cells = window.__mgwPanel.content.widgets.filter(c => c.model.type === 'code');
    const running = cells.some(c => c.promptNode.textContent.indexOf('*') >= 0);
    const raised = cells.some(c => {
        const outs = c.model.outputs;
        for (let i = 0; i < outs.length; i++) if (outs.get(i).toJSON().output_type === 'error') return true;
        return false;
    });
    return !running && (raised || cells.every(c => typeof c.model.executionCount === 'number'));
}"""


def test_snippets_were_found():
    wheres = [s.where for s in SNIPPETS]
    assert sum(w.startswith("README") for w in wheres) >= 4, wheres
    for module in ("engine", "stepper", "datasets", "optim", "train", "boundary", "heatmap"):
        assert any(f"micrograd_widgets.{module}" in w for w in wheres), (module, wheres)
    assert sum(s.widgets for s in SNIPPETS) >= 5


def test_every_snippet_runs_as_written_and_shows_what_it_says(notebook):
    cells = []
    for snippet in SNIPPETS:
        cells += ["%reset -f", snippet.code]
    nb = notebook(cells, name="snippets", run=True, wait=False, timeout_s=600)
    # JupyterLab stops running cells after one raises: wait for all, or for a raise
    nb.page.wait_for_function(ALL_RAN_OR_ONE_RAISED, timeout=480_000)
    errors = nb.cell_errors()
    if errors:
        nb.screenshot("failure")
        failed = [k for k, cell in enumerate(nb.page.evaluate(READ_CELLS)[1::2]) if cell["errors"]]
        raise AssertionError(
            f"{SNIPPETS[failed[0]].where} raised, run as written:\n{SNIPPETS[failed[0]].code}\n"
            + errors[0]
        )
    expected = [s.widgets for s in SNIPPETS]
    # views render after the cells ran: wait until each cell shows its widgets (or report which)
    with contextlib.suppress(PlaywrightTimeout):
        nb.page.wait_for_function(
            f"""(expected) => ({READ_CELLS})().filter((_, i) => i % 2 === 1)
                    .every((cell, k) => cell.views === expected[k])""",
            arg=expected,
            timeout=60_000,
        )
    shown = nb.page.evaluate(READ_CELLS)[1::2]
    problems = [
        f"{s.where}: a cell shows only its last expression, so the output promised after "
        f"{s.hidden[0]!r} does not show: end the block there (a blank line) or drop the output"
        for s in SNIPPETS
        if s.hidden
    ]
    for snippet, cell in zip(SNIPPETS, shown, strict=True):
        if cell["views"] != snippet.widgets:
            problems.append(
                f"{snippet.where}: makes {snippet.widgets} widget(s), the cell shows "
                f"{cell['views']}:\n{snippet.code}"
            )
        for says in snippet.says:
            ok = (
                CHECKER.check_output(says, cell["text"], FLAGS)
                if snippet.where.startswith("micrograd")
                else says in cell["text"]
            )
            if not ok:
                problems.append(
                    f"{snippet.where}: says it shows {says!r}, the cell shows {cell['text']!r}"
                )
    nb.screenshot("last-cells")
    assert not problems, "\n\n".join(problems)
    for k, snippet in enumerate(SNIPPETS):
        if snippet.widgets:
            cell = nb.page.locator(".jp-Notebook .jp-Cell").nth(2 * k + 1)
            cell.scroll_into_view_if_needed()
            slug = re.sub(r"[^A-Za-z0-9]+", "-", snippet.where).strip("-")
            nb.screenshot(slug, cell)
