"""Real-browser tests of the Playground in JupyterLab: the controls, the inner boundary and
heatmap (rendered through anywidget's host.getWidget), the config round trip, hide/lock, Copy as
code run in a fresh kernel, draw your own, dark theme and a 700-px window.

Waits are on data-* attributes the views set or on the kernel's answer; screenshots land in
tests/artifacts/screenshots/.
"""

from __future__ import annotations

import json
import time

import pytest
from lab_harness import CellError, attr, canvas_stats, wait_attr

pytestmark = pytest.mark.browser

PG = ".mgw-playground"
TOOLBAR = ".mgw-playground .mgw-pg-toolbar"
BOUNDARY = ".mgw-playground .mgw-boundary"
HEATMAP = ".mgw-playground .mgw-heatmap"
SETUP = "from micrograd_widgets import Playground\n"


def needs(capability: str) -> None:
    """Skip, naming what is missing, until the part built by another owner is merged."""
    import inspect

    from micrograd_widgets import DecisionBoundary, GraphWidget, Trainer

    present = {
        "k classes": "optimizer" in inspect.signature(Trainer).parameters
        and "neurons" in inspect.signature(DecisionBoundary).parameters,
        "follow": callable(getattr(GraphWidget, "follow", None)),
    }[capability]
    if not present:
        pytest.skip(f"needs {MISSING[capability]}")


MISSING = {
    "k classes": "the Trainer's optimizers and k classes (P2-C) and the boundary's k-class view",
    "follow": "GraphWidget.follow (the graph owner's)",
}


def control(nb, key: str):
    """The wrapper of control ``key`` (its label, inputs and hover text)."""
    return nb.page.locator(f"{PG} [data-control='{key}']")


def kernel_value(nb, expression: str) -> object:
    return json.loads(nb.execute(f"import json; print(json.dumps({expression}))"))


def wait_kernel(nb, expression: str, expected: object, timeout_s: float = 30) -> None:
    """Poll the kernel until ``expression`` (JSON-able) equals ``expected``."""
    deadline = time.monotonic() + timeout_s
    value = None
    while time.monotonic() < deadline:
        value = kernel_value(nb, expression)
        if value == expected:
            return
        time.sleep(0.2)
    raise AssertionError(f"{expression} stayed {value!r}, expected {expected!r}")


def rendered(nb) -> int:
    return int(attr(nb, PG, "data-parts-rendered") or 0)


def wait_rebuilt(nb, before: int) -> None:
    """Wait until the inner boundary and heatmap were rendered anew (a new trainer)."""
    wait_attr(nb, PG, f"Number(el.dataset.partsRendered) >= {before + 2}")
    wait_attr(nb, BOUNDARY, "el.dataset.framesDrawn >= 1")


def press(nb, name: str) -> None:
    nb.page.locator(TOOLBAR).get_by_role("button", name=name, exact=True).click()


def test_every_control_changes_what_it_says(notebook):
    nb = notebook([SETUP + "pg = Playground({'n': 60, 'speed': 30})\npg"])
    wait_attr(nb, PG, "Number(el.dataset.partsRendered) >= 2")
    wait_attr(nb, BOUNDARY, "el.dataset.framesDrawn >= 1")
    assert attr(nb, BOUNDARY, "data-points") == "48"
    nb.screenshot("initial")
    # one set of run controls: the Playground's (the boundary's own row would set the trainer's
    # rate behind the config's back); the boundary keeps its view tools
    for name in ("▶ Play", "Step", "Reset"):
        visible = nb.page.locator(PG).get_by_role("button", name=name, exact=True)
        assert visible.count() == 1, name
    assert not nb.page.locator(f"{BOUNDARY} .mgw-boundary-lr").is_visible()
    assert nb.page.locator(BOUNDARY).get_by_role("button", name="Inspect").is_visible()

    # every control explains itself on hover
    for key in ("dataset", "noise", "hidden", "activation", "loss", "penalty", "optimizer", "lr"):
        assert control(nb, key).get_attribute("title"), key

    # play / pause / step / reset
    press(nb, "Step")
    wait_attr(nb, PG, "el.dataset.step === '1'")
    wait_attr(nb, BOUNDARY, "el.dataset.step === '1'")
    press(nb, "▶ Play")
    wait_attr(nb, PG, "Number(el.dataset.step) >= 6")
    press(nb, "❚❚ Pause")
    wait_attr(nb, PG, "el.dataset.status === 'paused'")
    paused_at = kernel_value(nb, "pg.trainer.steps_done")
    assert int(attr(nb, PG, "data-step")) == paused_at
    press(nb, "Reset")
    wait_attr(nb, PG, "el.dataset.step === '0'")
    assert kernel_value(nb, "pg.trainer.steps_done") == 0

    # dataset: a new trainer on new points, drawn
    before, picture = rendered(nb), canvas_stats(nb, f"{BOUNDARY} .mgw-boundary-canvas")["hash"]
    control(nb, "dataset").locator("select").select_option("circles")
    wait_rebuilt(nb, before)
    wait_kernel(nb, "pg.config['dataset']", "circles")
    assert canvas_stats(nb, f"{BOUNDARY} .mgw-boundary-canvas")["hash"] != picture

    # noise: the slider's number and the config
    before = rendered(nb)
    control(nb, "noise").locator("input").fill("0.3")
    wait_rebuilt(nb, before)
    assert control(nb, "noise").locator("output").text_content() == "0.3"
    assert kernel_value(nb, "pg.config['noise']") == 0.3

    # number of points: the boundary shows them
    before = rendered(nb)
    control(nb, "n").locator("input").fill("100")
    control(nb, "n").locator("input").press("Enter")
    wait_rebuilt(nb, before)
    wait_attr(nb, BOUNDARY, "el.dataset.points === '80'")

    # layers and neurons: the network editor and the heatmap's matrices
    before = rendered(nb)
    control(nb, "hidden").get_by_role("button", name="add a layer").click()
    wait_rebuilt(nb, before)
    assert nb.page.locator(f"{HEATMAP} .mgw-heatmap-matrix").count() == 4  # 3 hidden + output
    assert nb.page.locator(f"{PG} .mgw-pg-layer").count() == 3
    before = rendered(nb)
    nb.page.get_by_role("button", name="add a neuron to layer 1").click()
    wait_rebuilt(nb, before)
    assert kernel_value(nb, "pg.config['hidden']") == [9, 8, 8]
    assert nb.page.locator(f"{PG} .mgw-pg-width").first.text_content() == "9"
    before = rendered(nb)
    control(nb, "hidden").get_by_role("button", name="remove a layer").click()
    wait_rebuilt(nb, before)
    assert kernel_value(nb, "[layer.nout for layer in pg.trainer.model.layers]") == [9, 8, 1]

    # activation, loss, penalty: what the new trainer uses
    for key, value, expression in (
        ("activation", "tanh", "pg.trainer.model.layers[0].activation"),
        ("loss", "log", "pg.trainer.loss_name"),
        ("penalty", "l1", "pg.trainer.regularization"),
        ("optimizer", "adam", "type(pg.trainer.optimizer).__name__.lower()"),
    ):
        before = rendered(nb)
        control(nb, key).locator("select").select_option(value)
        wait_rebuilt(nb, before)
        assert kernel_value(nb, expression) == value, key

    # speed and learning rate apply to the running trainer (no rebuild)
    trainer_id = kernel_value(nb, "id(pg.trainer)")
    control(nb, "speed").locator("select").select_option("3")
    wait_kernel(nb, "pg.trainer.speed", 3.0)
    control(nb, "lr").locator("input").fill("0.05")
    control(nb, "lr").locator("input").press("Enter")
    wait_kernel(nb, "pg.trainer.lr", 0.05)
    control(nb, "lr").locator("select").select_option("schedule")
    wait_kernel(nb, "pg.config['lr']", "schedule")
    assert kernel_value(nb, "[pg.trainer.learning_rate(k) for k in (0, 50)]") == [1.0, 0.55]
    assert kernel_value(nb, "id(pg.trainer)") == trainer_id

    # the step limit: play stops there and says so
    control(nb, "speed").locator("select").select_option("max")
    # its "settled" answer redraws the boxes: typing before it came could be wiped
    wait_kernel(nb, "pg.config['speed']", "max")
    control(nb, "max_steps").locator("input").fill("7")
    control(nb, "max_steps").locator("input").press("Enter")
    wait_kernel(nb, "pg.config['max_steps']", 7)
    press(nb, "▶ Play")
    wait_attr(nb, PG, "el.dataset.step === '7' && el.dataset.status !== 'running'")
    assert "of 7" in nb.page.locator(f"{PG} .mgw-pg-status").text_content()
    assert kernel_value(nb, "pg.trainer.steps_done") == 7
    nb.screenshot("after-controls")


def test_config_round_trip_hide_and_lock(notebook):
    nb = notebook(
        [
            SETUP + "pg = Playground({'n': 40}, hide=['optimizer', 'penalty', 'code'],"
            " lock=['hidden', 'dataset', 'play'])\npg"
        ]
    )
    wait_attr(nb, BOUNDARY, "el.dataset.framesDrawn >= 1")
    # hidden: not on screen; locked: on screen, disabled, marked
    for key in ("optimizer", "penalty", "code"):
        assert not control(nb, key).is_visible(), key
    assert control(nb, "dataset").is_visible()
    assert control(nb, "dataset").locator("select").is_disabled()
    assert control(nb, "dataset").get_attribute("data-locked") is not None
    for b in nb.page.locator(
        f"{PG} [data-control='hidden'] button, {PG} .mgw-pg-layer button"
    ).all():
        assert b.is_disabled()
    assert nb.page.locator(TOOLBAR).get_by_role("button", name="▶ Play").is_disabled()
    assert control(nb, "activation").locator("select").is_enabled()
    nb.screenshot("hidden-and-locked")

    # Python -> UI
    nb.execute("pg.config = {**pg.config, 'activation': 'sigmoid', 'noise': 0.25, 'hidden': [3]}")
    wait_attr(nb, f"{PG} [data-control='activation'] select", "el.value === 'sigmoid'")
    assert control(nb, "noise").locator("output").text_content() == "0.25"
    assert nb.page.locator(f"{PG} .mgw-pg-layer").count() == 1
    # UI -> Python
    control(nb, "activation").locator("select").select_option("tanh")
    wait_kernel(nb, "pg.config['activation']", "tanh")
    config = kernel_value(nb, "pg.config")
    assert config["activation"] == "tanh" and config["hidden"] == [3]
    # the round trip: the dict set back changes nothing
    nb.execute("c = pg.config; pg.config = c; assert pg.config == c")

    # bad input: from Python an error naming the key; from the view a message, value kept
    with pytest.raises(CellError, match="config\\['lr'\\]"):
        nb.execute("pg.update(lr=-1)")
    with pytest.raises(CellError, match="unknown config key 'colour'"):
        nb.execute("pg.config = {'colour': 'red'}")
    box = control(nb, "lr").locator("input")
    box.fill("-2")
    box.press("Enter")
    wait_attr(nb, f"{PG} > .mgw-error", "!el.hidden && el.textContent.includes(\"'lr'\")")
    wait_attr(nb, f"{PG} [data-control='lr'] input", "el.value === '0.1'")
    assert kernel_value(nb, "pg.config['lr']") == 0.1
    nb.screenshot("bad-lr")


def test_copy_as_code_reproduces_the_history_in_a_fresh_kernel(notebook):
    from jupyter_client.manager import start_new_kernel

    nb = notebook([SETUP + "pg = Playground({'n': 80, 'batch_size': 16, 'penalty': 'l1'})\npg"])
    wait_attr(nb, BOUNDARY, "el.dataset.framesDrawn >= 1")
    # a point clicked on the boundary, before training: part of the data the code rebuilds
    nb.page.locator(f"{BOUNDARY} .mgw-boundary-canvas").click(position={"x": 60, "y": 60})
    wait_attr(nb, BOUNDARY, "el.dataset.points === '65'")
    for step in range(1, 6):
        press(nb, "Step")
        wait_attr(nb, PG, f"el.dataset.step === '{step}'")
    press(nb, "Copy as code")
    wait_attr(nb, f"{PG} .mgw-pg-code", "!el.hidden && el.textContent.includes('trainer.run(5)')")
    code = nb.page.locator(f"{PG} .mgw-pg-code").text_content()
    assert "drawn = np.array" in code
    nb.screenshot("code")
    history_json = (
        "import json; print(json.dumps({c: [repr(float(v)) for v in getattr({t}.history, c)]"
        " for c in {t}.history.COLUMNS}))"
    )
    expected = json.loads(nb.execute(history_json.replace("{t}", "pg.trainer")))

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        outputs: list[str] = []

        def keep(message: dict) -> None:
            if message["msg_type"] == "stream":
                outputs.append(message["content"]["text"])
            elif message["msg_type"] == "error":
                outputs.append("ERROR " + message["content"]["evalue"])

        client.execute_interactive(code, output_hook=keep, timeout=120)
        outputs.clear()
        client.execute_interactive(
            history_json.replace("{t}", "trainer"), output_hook=keep, timeout=60
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert json.loads("".join(outputs)) == expected


def test_draw_your_own_dark_and_narrow(notebook):
    nb = notebook([SETUP + "pg = Playground({'dataset': 'draw'})\npg"])
    wait_attr(nb, PG, "el.dataset.problem === 'yes'")
    pad = nb.page.locator(f"{PG} .mgw-pg-pad")
    assert pad.is_visible() and nb.page.locator(BOUNDARY).count() == 0
    picker = nb.page.get_by_label("class of new points")
    picker.select_option("-1")
    pad.click(position={"x": 80, "y": 80})
    pad.click(position={"x": 100, "y": 70})
    wait_attr(nb, f"{PG} .mgw-pg-pad", "el.dataset.points === '2'")
    assert "missing: +1" in nb.page.locator(f"{PG} .mgw-pg-problem").text_content()
    pad.click(position={"x": 100, "y": 70}, modifiers=["Alt"])  # remove it again
    wait_attr(nb, f"{PG} .mgw-pg-pad", "el.dataset.points === '1'")
    picker.select_option("1")
    pad.click(position={"x": 220, "y": 220})
    wait_attr(nb, PG, "el.dataset.problem === 'no'")
    wait_attr(nb, BOUNDARY, "el.dataset.framesDrawn >= 1 && el.dataset.points === '2'")
    assert not pad.is_visible()
    assert kernel_value(nb, "len(pg.config['drawn'])") == 2
    press(nb, "Step")
    wait_attr(nb, PG, "el.dataset.step === '1'")
    # a network change keeps the drawn points
    before = rendered(nb)
    control(nb, "hidden").get_by_role("button", name="remove a layer").click()
    wait_rebuilt(nb, before)
    wait_attr(nb, BOUNDARY, "el.dataset.points === '2'")
    nb.screenshot("light")
    nb.set_theme("JupyterLab Dark")
    nb.screenshot("dark")
    nb.page.set_viewport_size({"width": 700, "height": 900})
    nb.page.wait_for_timeout(300)  # let the layout settle before the picture (not a sync wait)
    width = nb.page.locator(PG).evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    assert width, "the playground overflows a 700-px window"
    nb.screenshot("dark-700px")
    nb.set_theme("JupyterLab Light")
    nb.screenshot("light-700px")


def test_playground_in_notebook7(notebook7):
    nb = notebook7([SETUP + "pg = Playground({'n': 60})\npg"], "playground-notebook7")
    wait_attr(nb, PG, "Number(el.dataset.partsRendered) >= 2")
    wait_attr(nb, BOUNDARY, "el.dataset.framesDrawn >= 1")
    assert nb.page.locator(HEATMAP).count() == 1
    before = rendered(nb)
    control(nb, "activation").locator("select").select_option("tanh")
    wait_rebuilt(nb, before)
    press(nb, "Step")
    wait_attr(nb, PG, "el.dataset.step === '1'")
    wait_attr(nb, BOUNDARY, "el.dataset.step === '1'")
    nb.screenshot("notebook7")


def test_k_class_boundary_inside_with_adam(notebook):
    needs("k classes")
    nb = notebook(
        [
            SETUP + "pg = Playground({'dataset': 'spiral', 'classes': 3, 'n': 150,"
            " 'optimizer': 'adam', 'lr': 0.05, 'hidden': [16, 16], 'speed': 'max',"
            " 'max_steps': 40})\npg"
        ]
    )
    wait_attr(nb, BOUNDARY, "el.dataset.framesDrawn >= 1")
    assert kernel_value(nb, "pg.config['loss']") == "cross_entropy"
    press(nb, "▶ Play")
    wait_attr(nb, PG, "el.dataset.step === '40' && el.dataset.status !== 'running'")
    wait_attr(nb, BOUNDARY, "el.dataset.step === '40'")
    nb.screenshot("spiral-3-classes")
    # back to two classes from the UI: the loss follows
    before = rendered(nb)
    control(nb, "classes").locator("select").select_option("2")
    wait_rebuilt(nb, before)
    assert kernel_value(nb, "[pg.config['loss'], pg.trainer.model.nout]") == ["svm", 1]
    nb.set_theme("JupyterLab Dark")
    nb.screenshot("dark")


def test_followed_sample_graph_inside(notebook):
    needs("follow")
    nb = notebook([SETUP + "pg = Playground({'n': 40, 'hidden': [4]})\npg"])
    wait_attr(nb, BOUNDARY, "el.dataset.framesDrawn >= 1")
    assert nb.page.locator(f"{PG} .mgw-graph").count() == 0
    control(nb, "graph").locator("input").check()
    wait_attr(nb, f"{PG} .mgw-graph", "true")
    wait_kernel(nb, "pg.graph is not None and pg.graph.trainer is pg.trainer", True)
    press(nb, "Step")
    wait_attr(nb, PG, "el.dataset.step === '1'")
    nb.screenshot("graph")
    control(nb, "graph").locator("input").uncheck()
    nb.page.locator(f"{PG} .mgw-graph").wait_for(state="detached")
