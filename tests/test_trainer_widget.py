"""_trainer_widget: what DecisionBoundary and GradientHeatmap share (TrainerWidget)."""

import numpy as np
import pytest
from helpers import wait_for

from micrograd_widgets import MLP, DecisionBoundary, GradientHeatmap, Trainer, datasets
from micrograd_widgets._trainer_widget import MAX_CURVE_POINTS, TrainerWidget, downsample_rows


def tiny(**kwargs):
    return Trainer(MLP(2, [4, 1], seed=0), datasets.moons(16, seed=0), lr=0.05, **kwargs)


def test_both_training_widgets_stand_on_the_base():
    assert issubclass(DecisionBoundary, TrainerWidget)
    assert issubclass(GradientHeatmap, TrainerWidget)
    assert not issubclass(GradientHeatmap, DecisionBoundary)


def test_downsample_rows_keeps_the_first_the_last_and_the_limit():
    rows = np.arange(1000.0).reshape(-1, 2)  # 500 rows
    short = downsample_rows(rows, MAX_CURVE_POINTS)
    assert len(short) == MAX_CURVE_POINTS
    assert short[0].tolist() == [0.0, 1.0] and short[-1].tolist() == [998.0, 999.0]
    assert np.all(np.diff(short[:, 0]) > 0)  # in order, no repeats
    gaps = np.diff(short[:, 0]) / 2
    assert gaps.max() - gaps.min() <= 1  # evenly spaced
    np.testing.assert_array_equal(downsample_rows(rows[:10], MAX_CURVE_POINTS), rows[:10])


def test_closing_one_of_two_widgets_of_a_trainer_keeps_it_training():
    trainer = tiny()
    boundary = DecisionBoundary(trainer, resolution=10)
    heatmap = GradientHeatmap(trainer)
    trainer.start()
    heatmap.close()
    assert trainer.is_running and trainer.status == "running"
    assert len(trainer._observers) == 1  # only the heatmap unsubscribed
    steps = trainer.steps_done
    wait_for(lambda: boundary.step > steps)  # the open widget still follows it
    boundary.close()  # the last widget showing it: training stops
    assert not trainer.is_running and trainer.status == "stopped"
    assert trainer._observers == []


def test_two_boundaries_of_one_trainer_close_independently():
    trainer = tiny()
    first = DecisionBoundary(trainer, resolution=10)
    second = DecisionBoundary(trainer, resolution=10)
    trainer.start()
    first.close()
    assert trainer.is_running
    second.close()
    assert not trainer.is_running


def test_close_is_idempotent():
    trainer = tiny()
    widget = DecisionBoundary(trainer, resolution=10)
    widget.close()
    trainer.start()  # trained on without a widget
    widget.close()  # a second close changes nothing: it must not stop this run
    assert trainer.is_running
    trainer.stop()
    heatmap = GradientHeatmap(MLP(2, [3, 1], seed=0))  # a bare model: no trainer to stop
    heatmap.close()
    heatmap.close()
    assert heatmap.comm is None


def test_a_failing_trainer_event_goes_to_the_banner_and_training_goes_on(monkeypatch):
    trainer = tiny()
    widget = DecisionBoundary(trainer, resolution=10)
    heatmap = GradientHeatmap(trainer)

    def broken(*args):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(widget, "_record", broken)
    trainer.run(3)
    assert trainer.steps_done == 3 and trainer.status == "stopped"
    assert widget.error == "RuntimeError: drawing failed"
    assert heatmap.error == "" and heatmap.step == 3  # the other widget is not affected
    monkeypatch.undo()
    trainer.run(1)
    assert widget.error == "RuntimeError: drawing failed"  # stays until the user acts...
    widget._route_message(widget, {"type": "pause"}, [])
    assert widget.error == ""  # ...and a view message handled without error clears it


def test_a_bad_max_fps_is_refused_before_the_widget_exists(monkeypatch):
    opened = []
    monkeypatch.setattr(TrainerWidget, "_follow_trainer", lambda self: opened.append(self))
    trainer = tiny()
    with pytest.raises(ValueError, match="max_fps must be in"):
        DecisionBoundary(trainer, max_fps=0)
    with pytest.raises(ValueError, match="max_fps must be in"):
        GradientHeatmap(trainer, max_fps=31)
    assert opened == [] and trainer._observers == []
