"""The micrograd-widgets lesson as a marimo notebook: a graph, then live training.

    marimo edit examples/marimo_lesson.py      # edit it
    marimo run examples/marimo_lesson.py       # show it as an app

marimo runs anywidget widgets through ``mo.ui.anywidget`` (``row`` / ``column`` do that for
you); training runs on the Trainer's own background thread, and the widgets animate while it does.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full")


@app.cell
def _():
    import marimo as mo

    from micrograd_widgets import (
        MLP,
        DecisionBoundary,
        GradientHeatmap,
        GraphWidget,
        Trainer,
        Value,
        datasets,
        row,
    )

    return (
        DecisionBoundary,
        GradientHeatmap,
        GraphWidget,
        MLP,
        Trainer,
        Value,
        datasets,
        mo,
        row,
    )


@app.cell
def _(mo):
    mo.md("""
    # Backpropagation, live — in marimo

    A neuron: `y = tanh(x·w + b)`. Each node shows its value and, after `backward()`, its
    gradient: how much `y` moves when that node moves.
    """)
    return


@app.cell
def _(GraphWidget, Value, mo):
    x = Value(2.0, label="x")
    w = Value(-3.0, label="w")
    b = Value(6.88, label="b")
    y = (x * w + b).tanh()
    y.label = "y"
    y.backward()
    graph = GraphWidget(y)
    mo.ui.anywidget(graph)
    return


@app.cell
def _(mo):
    mo.md("""
    ## Training on two moons

    The seed's MLP (2-16-16-1, ReLU, SVM loss) trains on a background thread: the decision
    boundary and the gradient heatmap animate as it goes. Drag the slider under the plane to
    scrub back through the run.
    """)
    return


@app.cell
def _(DecisionBoundary, GradientHeatmap, MLP, Trainer, datasets, row):
    # speed=20: twenty steps a second, slow enough to watch (speed=None trains flat out)
    data = datasets.moons(128, noise=0.1, seed=0)
    trainer = Trainer(MLP(2, [16, 16, 1], seed=1), data, speed=20)
    boundary = DecisionBoundary(trainer)
    heatmap = GradientHeatmap(trainer)
    row(boundary, heatmap)
    return (trainer,)


@app.cell
def _(trainer):
    # the cell returns at once; the widgets above animate while the thread trains
    trainer.start(100)
    return


if __name__ == "__main__":
    app.run()
