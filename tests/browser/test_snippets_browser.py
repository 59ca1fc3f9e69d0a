"""Every snippet a user can copy shows what it says (issue 7, item 1).

Each Python block of the README and each ``>>>`` example block of the package's docstrings is pasted,
as written, into its own cell of a real JupyterLab notebook, after a ``%reset -f`` cell (so a block
must import what it uses), and run. Then, per block:

* no cell raises;
* every widget the block makes is on the page: the cell's output holds as many views
  (top-level ``.mgw-root``) as the block calls ``GraphWidget(``, ``DecisionBoundary(``, ``GradientHeatmap(``
  or ``Playground(``
  (a block that makes a widget but does not display it shows nothing);
* what a block says it prints is what the cell shows: a docstring block's expected output (only
  its last example may have one: a cell shows only its last expression), and a README
  ``print(...)  # value`` comment.
"""

from __future__ import annotations

import contextlib
import doctest
import re
import sys
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for the shared collector
from snippets import SNIPPETS

pytestmark = pytest.mark.browser

CHECKER = doctest.OutputChecker()
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

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
    // top-level views only: a Playground's inner widgets are part of its one view
    const views = [...c.node.querySelectorAll('.jp-OutputArea .mgw-root')]
        .filter(el => !el.parentElement.closest('.mgw-root'));
    return {views: views.length,
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
