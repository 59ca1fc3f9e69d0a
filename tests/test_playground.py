"""Playground: its config (checked, round-tripped, coerced by UI changes), the data it describes
(drawn and removed points kept over rebuilds), the trainer it builds, and copy as code run in a
fresh interpreter giving the same history."""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from micrograd_widgets import DecisionBoundary, Trainer
from micrograd_widgets import _playground_config as pc
from micrograd_widgets.playground import ConfigError, Playground


@pytest.fixture
def pg():
    widget = Playground({"n": 60, "speed": "max"})
    yield widget
    widget.close()


def history_columns(trainer) -> dict[str, np.ndarray]:
    return {name: getattr(trainer.history, name) for name in trainer.history.COLUMNS}


def run_code(code: str) -> dict[str, list[float]]:
    """Run ``code`` in a fresh interpreter and return its trainer's history, exactly (repr)."""
    script = code + (
        "\nimport json\n"
        "print('HISTORY=' + json.dumps({c: [repr(float(v)) for v in getattr(trainer.history, c)]"
        " for c in trainer.history.COLUMNS}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("HISTORY="))
    return {c: [float(v) for v in values] for c, values in json.loads(line[8:]).items()}


def assert_same_history(trainer, other: dict[str, list[float]]) -> None:
    for name, column in history_columns(trainer).items():
        assert np.array_equal(column, np.array(other[name]), equal_nan=True), name


# ---- the config, pure ---------------------------------------------------------------------------


def test_defaults_are_json_and_check_to_themselves():
    config = pc.check_config({})
    assert config == pc.DEFAULTS
    assert json.loads(json.dumps(config)) == config


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"dataset": "mnist"}, "'dataset'"),
        ({"classes": 3}, "'classes'"),  # moons has 2
        ({"n": 1}, "'n'"),
        ({"noise": -0.1}, "'noise'"),
        ({"hidden": [4, 0]}, "'hidden'"),
        ({"hidden": [4] * 7}, "'hidden'"),
        ({"hidden": [33]}, "'hidden'"),
        ({"lr": 0}, "'lr'"),
        ({"lr": -1.0}, "'lr'"),
        ({"lr": math.nan}, "'lr'"),
        ({"loss": "cross_entropy"}, "'loss'"),  # 2 classes
        ({"optimizer": "lbfgs"}, "'optimizer'"),
        ({"speed": 7}, "'speed'"),
        ({"batch_size": 0}, "'batch_size'"),
        ({"drawn": [[0.0, 0.0, 2.0]]}, "'drawn'"),  # binary labels are ±1
        ({"drawn": [[math.inf, 0.0, 1.0]]}, "'drawn'"),
        ({"max_steps": 0}, "'max_steps'"),
        ({"wat": 1}, "'wat'"),
    ],
)
def test_bad_values_name_the_key_and_what_is_allowed(change, named):
    with pytest.raises(ConfigError) as error:
        pc.check_config(change)
    assert named in str(error.value)
    assert "expected" in str(error.value) or "the keys are" in str(error.value)


def test_a_ui_change_of_classes_moves_the_loss_and_keeps_every_drawn_point():
    config = pc.check_config({"dataset": "draw", "drawn": [[0.1, 0.2, 1.0], [0.3, 0.4, -1.0]]})
    three = pc.apply_change(config, "classes", 3)
    assert three["loss"] == "cross_entropy"
    assert three["drawn"] == [[0.1, 0.2, 1.0], [0.3, 0.4, 0.0]]  # -1, +1 are classes 0, 1
    four = pc.apply_change(pc.apply_change(three, "classes", 4), "drawn", [[0.0, 0.0, 3.0]])
    assert pc.apply_change(four, "classes", 2)["drawn"] == [[0.0, 0.0, 1.0]]  # 3 wraps to 1
    assert pc.apply_change(config, "dataset", "yinyang")["classes"] == 2  # it has 2 or 3
    spiral = pc.apply_change(pc.apply_change(config, "dataset", "spiral"), "classes", 3)
    assert spiral["loss"] == "cross_entropy"
    back = pc.apply_change(spiral, "dataset", "moons")
    assert back["classes"] == 2 and back["loss"] == "svm"


def test_hide_and_lock_take_control_names_only():
    assert pc.check_controls(["lr", "play"], "hide") == ["lr", "play"]
    with pytest.raises(ConfigError, match="unknown control 'speeed'"):
        pc.check_controls(["speeed"], "lock")
    with pytest.raises(ConfigError, match="list of control names"):
        pc.check_controls("lr", "hide")
    pc.check_unlocked("lr", ["play"])  # not locked: no error
    with pytest.raises(ConfigError, match="'play' is locked in this lesson"):
        pc.check_unlocked("play", ["lr", "play"])


def test_data_problem_says_what_is_missing():
    assert "0 training points" in pc.data_problem(np.zeros(0), 2)
    assert "missing: +1" in pc.data_problem(np.array([-1.0, -1.0]), 2)
    assert "1 training point:" in pc.data_problem(np.array([1.0]), 2)
    assert "class 2" in pc.data_problem(np.array([0.0, 1.0]), 3)
    assert pc.data_problem(np.array([0.0, 1.0, 2.0]), 3) == ""


def test_every_control_has_a_one_line_help():
    for name in pc.CONTROLS:
        assert name in pc.HELP and "\n" not in pc.HELP[name]


# ---- the widget ---------------------------------------------------------------------------------


def test_config_round_trips_and_the_ui_message_changes_it(pg):
    config = pg.config
    assert json.loads(json.dumps(config)) == config
    pg.config = config
    assert pg.config == config
    pg._on_set({"type": "set", "key": "noise", "value": 0.3}, [])
    assert pg.config["noise"] == 0.3 and pg.settings["noise"] == 0.3
    pg._route_message(pg, {"type": "set", "key": "lr", "value": -1}, [])
    assert "'lr'" in pg.error and pg.config["lr"] == config["lr"]  # refused, shown, unchanged


def test_a_network_change_builds_a_new_trainer_a_rate_change_does_not(pg):
    first = pg.trainer
    pg.trainer.run(3)
    pg.update(lr=0.05)
    assert pg.trainer is first and first.lr == 0.05 and first.steps_done == 3
    pg.update(hidden=[3, 5, 2], activation="tanh")
    assert pg.trainer is not first and pg.trainer.steps_done == 0
    assert [layer.nout for layer in pg.trainer.model.layers] == [3, 5, 2, 1]
    assert first.status in ("idle", "stopped")
    assert pg.boundary.trainer is pg.trainer and pg.heatmap.trainer is pg.trainer
    # the Playground's toolbar runs the trainer: the boundary shows no run controls of its own
    assert pg.boundary.run_controls is False
    alone = DecisionBoundary(pg.trainer)
    assert alone.run_controls is True
    alone.close()
    assert pg.parts["boundary"] == f"anywidget:{pg.boundary.model_id}"


def test_clicked_points_survive_a_rebuild(pg):
    pg.boundary._on_add_point({"x": 0.25, "y": -0.5, "label": 1}, [])
    first_x = pg.trainer.X[0].copy()
    pg.boundary._on_remove_point({"x": float(first_x[0]), "y": float(first_x[1])}, [])
    assert pg.config["drawn"] == [[0.25, -0.5, 1.0]]
    assert pg.config["removed"] == [0]
    before = pg.trainer.X.copy()
    pg.update(hidden=[4])  # a new trainer on the same points
    assert np.array_equal(pg.trainer.X, before)


def test_draw_your_own_starts_empty_and_trains_once_every_class_has_a_point():
    pg = Playground({"dataset": "draw"})
    try:
        assert pg.trainer is None and "0 training points" in pg.problem
        assert pg.parts["boundary"] == ""
        pg._route_message(pg, {"type": "play"}, [])
        assert "0 training points" in pg.error  # a clear message, nothing started
        pg._on_add_point({"x": 0.5, "y": 0.5, "label": 1}, [])
        assert pg.trainer is None and "missing: -1" in pg.problem
        pg._on_add_point({"x": -0.5, "y": -0.5, "label": -1}, [])
        assert pg.trainer is not None and pg.problem == ""
        assert pg.config["drawn"] == [[0.5, 0.5, 1.0], [-0.5, -0.5, -1.0]]
    finally:
        pg.close()


def test_step_limit_stops_training(pg):
    pg.update(max_steps=4)
    pg._on_play({}, [])
    assert pg.trainer.wait(60)
    assert pg.trainer.steps_done == 4
    pg._on_step({}, [])
    assert pg.trainer.steps_done == 4
    assert "step limit" in pg.message


def test_locked_controls_are_refused_from_the_view():
    pg = Playground({"n": 40}, hide=["optimizer"], lock=["hidden", "play"])
    try:
        assert pg.hidden_controls == ["optimizer"] and pg.locked_controls == ["hidden", "play"]
        pg._route_message(pg, {"type": "set", "key": "hidden", "value": [2]}, [])
        assert "locked" in pg.error and pg.config["hidden"] == [8, 8]
        pg._route_message(pg, {"type": "play"}, [])
        assert "locked" in pg.error and pg.trainer.steps_done == 0
        pg.update(hidden=[2])  # the lecturer, from Python, still can
        assert pg.config["hidden"] == [2]
    finally:
        pg.close()


def test_bad_arguments_raise_before_any_widget():
    with pytest.raises(ConfigError, match="'hidden'"):
        Playground({"hidden": [0]})
    with pytest.raises(ConfigError, match="unknown control"):
        Playground(hide=["nope"])


def test_to_code_reproduces_the_history_in_a_fresh_interpreter(pg):
    pg.update(batch_size=16, penalty="l1", lr="schedule")
    pg.boundary._on_add_point({"x": 0.125, "y": 0.75, "label": -1}, [])
    pg.trainer.run(12)
    assert_same_history(pg.trainer, run_code(pg.to_code()))


def test_to_code_says_when_the_run_changed_midway(pg):
    pg.trainer.run(2)
    pg.update(lr=0.2)
    assert "learning rate was changed at step 2" in pg.to_code()
    pg.trainer.reset()
    assert "changed" not in pg.to_code()


def test_a_failed_rebuild_goes_back_to_the_last_config_that_worked(pg, monkeypatch):
    from micrograd_widgets import _playground_run

    pg.boundary._on_add_point({"x": 0.5, "y": 0.5, "label": 1}, [])
    before = pg.config

    def refuse(*args, **kwargs):
        raise RuntimeError("the engine refuses this model")

    monkeypatch.setattr(_playground_run, "MLP", refuse)
    pg._route_message(pg, {"type": "set", "key": "hidden", "value": [3]}, [])
    assert "refuses" in pg.error
    monkeypatch.undo()
    assert pg.config == before  # the drawn point too
    pg.update(hidden=[3])
    assert pg.trainer is not None and pg.config["drawn"] == before["drawn"]


def test_bad_ui_values_are_named(pg):
    for key, value in (("lr", "abc"), ("lr", None), ("classes", 0), ("n", 1), ("noise", "x")):
        pg._route_message(pg, {"type": "set", "key": key, "value": value}, [])
        assert f"config[{key!r}]" in pg.error, (key, value)
    assert pg.trainer is not None


def test_close_stops_the_trainer_and_closes_the_inner_widgets():
    pg = Playground({"n": 40, "speed": "max"})
    trainer, boundary = pg.trainer, pg.boundary
    pg._on_play({}, [])
    pg.close()
    assert not trainer.is_running and boundary.comm is None and pg.trainer is None


# ---- k classes and optimizers (the Trainer's, from P2-C) ----------------------------------------

needs_optimizers = pytest.mark.skipif(
    "optimizer" not in inspect.signature(Trainer).parameters,
    reason="needs Trainer(optimizer=...) and k classes (P2-C)",
)


@needs_optimizers
def test_a_k_class_dataset_trains_with_cross_entropy_and_adam():
    pg = Playground(
        {"dataset": "spiral", "classes": 3, "n": 90, "loss": "cross_entropy",
         "optimizer": "adam", "lr": 0.05, "hidden": [16, 16]}
    )  # fmt: skip
    try:
        assert pg.trainer.model.nout == 3 and type(pg.trainer.optimizer).__name__ == "Adam"
        pg.trainer.run(5)
        assert len(pg.trainer.history) == 5
        pg.update(optimizer="momentum")
        assert type(pg.trainer.optimizer).__name__ == "SGD" and pg.trainer.steps_done == 0
    finally:
        pg.close()


@needs_optimizers
def test_k_class_points_drawn_and_clicked_are_kept():
    pg = Playground({"dataset": "draw", "classes": 3})
    try:
        for label, x in ((0, -0.5), (1, 0.0), (2, 0.5)):
            pg._on_add_point({"x": x, "y": 0.1, "label": label}, [])
        assert pg.trainer is not None and pg.trainer.model.nout == 3
        pg.boundary._on_add_point({"x": 0.2, "y": -0.4, "label": 2}, [])
        assert pg.config["drawn"][-1] == [0.2, -0.4, 2.0]
        pg.update(hidden=[5])
        assert len(pg.trainer.y) == 4
    finally:
        pg.close()


@needs_optimizers
@pytest.mark.parametrize("optimizer", ["adam", "adamw", "momentum"])
def test_to_code_reproduces_k_class_runs_with_each_optimizer(optimizer):
    pg = Playground(
        {"dataset": "blobs", "classes": 4, "n": 80, "loss": "cross_entropy",
         "optimizer": optimizer, "lr": "schedule" if optimizer == "adamw" else 0.02,
         "batch_size": 20, "hidden": [6]}
    )  # fmt: skip
    try:
        pg.trainer.run(6)
        assert_same_history(pg.trainer, run_code(pg.to_code()))
    finally:
        pg.close()


def test_the_sample_graph_follows_the_trainer_where_graphwidget_can():
    from micrograd_widgets.graph import GraphWidget

    pg = Playground({"n": 40, "graph": True})
    try:
        if callable(getattr(GraphWidget, "follow", None)):
            assert pg.graph is not None and pg.graph.trainer is pg.trainer
            assert pg.parts["graph"] == f"anywidget:{pg.graph.model_id}"
            pg.update(graph=False)
        assert pg.graph is None and pg.parts["graph"] == ""  # off, or not possible here
        assert pg.limits["graph"] == callable(getattr(GraphWidget, "follow", None))
    finally:
        pg.close()


# ---- the run's bookkeeping, without a widget (_playground_run) ---------------------------------


def test_the_point_ledger_tells_removed_generated_points_from_drawn_ones():
    from micrograd_widgets._playground_run import PointLedger

    config = pc.check_config({"dataset": "moons", "n": 10})
    generated = PointLedger.generated_points(config)
    assert len(generated) == len(pc.build_data(config).y) > 2
    X = np.array([row[:2] for row in generated])
    y = np.array([row[2] for row in generated])
    ledger = PointLedger(config)
    assert ledger.edits(X, y) == ([], [])
    # drop point 1, repeat point 0 (a repeat was drawn), add a new one
    X2 = np.vstack([X[[0, 2]], X[2:], X[[0]], [[0.25, -0.5]]])[1:]
    y2 = np.concatenate([y[[0, 2]], y[2:], y[[0]], [1.0]])[1:]
    drawn, removed = ledger.edits(X2, y2)
    assert removed == [1]
    assert drawn == [[float(X[2, 0]), float(X[2, 1]), float(y[2])], [0.25, -0.5, 1.0]]
    assert PointLedger().edits(X[:2], y[:2])[0] == [
        [*map(float, X[i]), float(y[i])] for i in (0, 1)
    ]
    assert PointLedger.generated_points({**config, "dataset": "draw"}) == []


def test_run_notes_say_the_first_change_after_step_0_once_per_cause():
    from micrograd_widgets._playground_run import RunNotes

    notes = RunNotes()
    notes.lr_changed(0)
    notes.points_changed(0)
    assert notes.said() == ()
    notes.lr_changed(3)
    notes.lr_changed(7, when="by")
    notes.points_changed(5)
    assert notes.said() == (
        "the learning rate was changed at step 3; this code uses the last one from step 0",
        "the points changed at step 5; this code trains on the last ones from step 0",
    )
    notes.clear()
    notes.lr_changed(7, when="by")
    assert notes.said() == (
        "the learning rate was changed by step 7; this code uses the last one from step 0",
    )


def test_live_changes_take_the_trainers_rate_and_offered_speed_only():
    from micrograd_widgets._playground_run import live_changes

    config = pc.check_config({"lr": 0.1, "speed": 10})
    assert live_changes(config, 0.1, 10.0) == {}
    assert live_changes(config, 0.05, 3.0) == {"lr": 0.05, "speed": 3}
    assert live_changes(config, None, None) == {"lr": "schedule", "speed": "max"}
    assert live_changes(config, lambda step: 0.1, 7.0) == {}  # a callable, a speed not offered


def test_the_step_limit_and_its_message():
    from micrograd_widgets._playground_run import limit_message, steps_left

    limited = pc.check_config({"max_steps": 20})
    assert steps_left(pc.check_config({}), 500) is None
    assert [steps_left(limited, s) for s in (0, 19, 20, 25)] == [20, 1, 0, 0]
    assert limit_message(limited, 20, "paused") == (
        "Reached the step limit (20): raise it or reset."
    )
    assert limit_message(limited, 20, "running") == limit_message(limited, 19, "paused") == ""


def test_a_click_removes_the_nearest_drawn_point_within_reach():
    from micrograd_widgets._playground_run import nearest_drawn

    drawn = [[0.0, 0.0, 1.0], [0.5, 0.5, -1.0]]
    assert nearest_drawn(drawn, 0.45, 0.52) == 1
    assert nearest_drawn(drawn, 0.05, 0.0) == 0
    assert nearest_drawn(drawn, 0.25, 0.25) is None  # too far from both
    assert nearest_drawn([], 0.0, 0.0) is None


def test_a_drawn_point_click_is_checked():
    from micrograd_widgets._playground_run import drawn_point

    assert drawn_point({"x": 1, "y": -0.5, "label": -1}) == [1.0, -0.5, -1.0]
    for bad in (
        {"x": 0.0, "y": 0.0},
        {"x": "a", "y": 0.0, "label": 1},
        {"x": math.nan, "y": 0, "label": 1},
    ):
        with pytest.raises(ValueError, match="add_point needs numeric x, y and label"):
            drawn_point(bad)


def test_run_settings_keep_the_config_true_to_the_trainer_and_note_what_changed():
    from micrograd_widgets._playground_run import RunSettings, build_trainer

    settings = RunSettings(pc.check_config({"n": 20, "lr": 0.1, "speed": 10, "max_steps": 3}))
    settings.restarted()
    trainer = build_trainer(settings.config, pc.build_data(settings.config))
    assert settings.replace(pc.check_config({"lr": 0.2}, base=settings.config)) == {"lr"}
    settings.set_live(trainer, {"lr"})
    assert trainer.lr == 0.2 and trainer.speed == 10  # only the keys named are set
    assert settings.status(None) == (0, "idle", "")
    trainer.run(3)
    assert settings.steps_left(trainer.steps_done) == 0
    assert "step limit (3)" in settings.status(trainer)[2]
    trainer.lr, trainer.speed = 0.05, 3.0  # e.g. the boundary's own lr box and speed menu
    assert settings.live_changes(trainer) == {"lr": 0.05, "speed": 3}
    settings.take_live(trainer)
    assert settings.config["lr"] == 0.05 and settings.config["speed"] == 3
    assert settings.live_changes(trainer) == {}
    X, y = trainer.X[1:], trainer.y[1:]  # generated point 0 removed by a click
    settings.take_points(X, y, trainer.steps_done)
    assert settings.config["removed"] == [0] and settings.config["drawn"] == []
    code = settings.code(trainer.steps_done)
    assert "learning rate was changed by step 3" in code and "points changed at step 3" in code
    assert "trainer.run(3)" in code
    settings.reset()
    assert "changed" not in settings.code(0)


# ---- the trainer and inner widgets, made and closed together (_playground_parts) --------------


def test_the_parts_are_made_together_for_trainable_data_and_closed_together():
    from micrograd_widgets._playground_parts import PlaygroundParts, can_follow
    from micrograd_widgets.boundary import DecisionBoundary
    from micrograd_widgets.graph import GraphWidget
    from micrograd_widgets.heatmap import GradientHeatmap

    events = []
    parts = PlaygroundParts(events.append, DecisionBoundary, GradientHeatmap, GraphWidget)
    config = pc.check_config({"n": 30, "hidden": [3], "speed": "max"})
    empty = pc.check_config({"dataset": "draw"})
    parts.build(empty)  # nothing to train on yet: nothing made
    assert parts.trainer is None and parts.refs() == {"boundary": "", "heatmap": "", "graph": ""}
    with pytest.raises(ValueError, match="0 training points"):
        parts.require_trainer()
    parts.show_graph(True)  # no trainer: nothing to follow
    assert parts.graph is None
    parts.build(config)
    trainer, boundary, heatmap = parts.trainer, parts.boundary, parts.heatmap
    assert parts.require_trainer() is trainer and parts.problem == ""
    assert boundary.trainer is trainer and heatmap.trainer is trainer
    assert parts.refs()["boundary"] == f"anywidget:{boundary.model_id}"
    trainer.step()
    assert any(event.kind == "step" and event.trainer is trainer for event in events)
    parts.show_graph(True)
    assert (parts.graph is not None) == can_follow(GraphWidget)
    graph = parts.graph
    trainer.start()
    parts.build(config)  # a rebuild closes the old parts first
    assert parts.trainer is not trainer and not trainer.is_running and boundary.comm is None
    assert heatmap.comm is None and (graph is None or graph.comm is None)
    assert parts.graph is None and parts.refs()["graph"] == ""
    seen = len(events)
    trainer.step()  # the old trainer's events are no longer passed on
    assert all(event.trainer is not trainer for event in events[seen:])
    parts.close()
    assert parts.trainer is None and parts.refs() == {"boundary": "", "heatmap": "", "graph": ""}
