"""_trainer_widget: what DecisionBoundary and GradientHeatmap share (TrainerWidget)."""

import types

import numpy as np
import pytest
from helpers import wait_for

import micrograd_widgets
from micrograd_widgets import (
    MLP,
    DecisionBoundary,
    GradientHeatmap,
    Trainer,
    _trainer_widget,
    datasets,
)
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


def test_the_heatmap_sends_half_the_boundarys_frames_by_default():
    # beside a boundary, a heatmap's frames take the page's time from the boundary's (measured in
    # the browser: the boundary drew 8-30 % more frames with the heatmap at 15 than at 30)
    trainer = tiny()
    widgets = [
        GradientHeatmap(trainer),
        DecisionBoundary(trainer),
        GradientHeatmap(trainer, max_fps=30),
    ]
    try:
        assert [w._throttle.interval for w in widgets] == pytest.approx([1 / 15, 1 / 30, 1 / 30])
    finally:
        for w in widgets:
            w.close()


# ---- lifetime: views, orphan trainers, one trainer per model, stop_all ---------------------------


def view(widget, event, view_id):
    """What the view shell sends when a view renders or is removed."""
    widget._route_message(widget, {"type": "view", "event": event, "view": view_id}, [])


@pytest.fixture
def notebook_names(monkeypatch):
    """A stand-in for the notebook's namespace (IPython's user_ns)."""
    names = {}
    monkeypatch.setattr(_trainer_widget, "_user_namespace", lambda: names)
    return names


def test_views_are_tracked_and_lifecycle_messages_leave_the_banner_alone():
    trainer = tiny()
    widget = DecisionBoundary(trainer, resolution=5)
    assert widget.live_views == frozenset() and not widget.ever_viewed
    widget.error = "ValueError: an earlier failure"
    view(widget, "attached", "a")
    view(widget, "attached", "b")
    assert widget.live_views == {"a", "b"} and widget.ever_viewed
    view(widget, "detached", "a")
    view(widget, "detached", "never-seen")  # e.g. from before a page reload: ignored
    assert widget.live_views == {"b"}
    assert widget.error == "ValueError: an earlier failure"  # not a user action
    widget._route_message(widget, {"type": "view", "event": "shown"}, [])
    assert "attached" in widget.error


def test_a_widget_without_views_computes_nothing_and_a_returning_view_gets_a_fresh_frame(
    notebook_names,
):
    notebook_names["trainer"] = trainer = tiny()
    widget = DecisionBoundary(trainer, resolution=5)
    view(widget, "attached", "v1")
    trainer.run(2)
    assert widget.step == 2 and len(trainer._observers) == 1
    view(widget, "detached", "v1")  # its cell was re-run or cleared
    assert trainer._observers == [] and not widget.subscribed
    sent = widget.frames_sent
    trainer.run(3)
    assert widget.frames_sent == sent and widget.step == 2  # computed nothing
    view(widget, "attached", "v2")  # shown again (e.g. `widget` in a new cell)
    assert widget.subscribed and len(trainer._observers) == 1
    assert widget.step == 5 and widget.frames_sent == sent + 1  # a fresh frame at once
    trainer.run(1)
    assert widget.step == 6


def test_rerunning_a_widget_cell_leaves_observers_only_for_visible_widgets(notebook_names):
    """`db = DecisionBoundary(trainer); db` run three times, a heatmap beside it."""
    notebook_names["trainer"] = trainer = tiny()
    heatmap = GradientHeatmap(trainer)
    view(heatmap, "attached", "h")
    for run in range(3):
        if run:
            view(notebook_names["db"], "detached", f"db{run - 1}")  # the re-run clears the output
        notebook_names["db"] = db = DecisionBoundary(trainer, resolution=5)
        view(db, "attached", f"db{run}")
    assert len(trainer._observers) == 2  # the visible boundary and the heatmap
    trainer.run(1)
    assert db.step == heatmap.step == 1


def test_an_unseen_unnamed_trainer_stops_and_its_widgets_say_why(notebook_names):
    notebook_names["trainer"] = trainer = tiny()
    boundary = DecisionBoundary(trainer, resolution=5)
    heatmap = GradientHeatmap(trainer)
    view(boundary, "attached", "b")
    view(heatmap, "attached", "h")
    trainer.start()
    view(boundary, "detached", "b")
    assert trainer.is_running  # the heatmap still shows it
    del notebook_names["trainer"]  # the cell rebinds the name to a new trainer
    view(heatmap, "detached", "h")
    assert not trainer.is_running and trainer.status == "stopped"
    assert trainer.message == _trainer_widget.ORPHAN_MESSAGE
    view(boundary, "attached", "b2")  # a view coming back shows why it stopped
    assert boundary.status == "stopped" and boundary.message == _trainer_widget.ORPHAN_MESSAGE


@pytest.mark.parametrize(
    "holder",
    [
        lambda t: t,
        lambda t: [1, t],
        lambda t: (t,),
        lambda t: {"mine": t},
        lambda t: {t},
        lambda t: types.SimpleNamespace(trainer=t),
    ],
    ids=["name", "list", "tuple", "dict", "set", "attribute"],
)
def test_a_named_trainer_keeps_training_without_views(notebook_names, holder):
    trainer = tiny()
    notebook_names["kept"] = holder(trainer)
    widget = DecisionBoundary(trainer, resolution=5)
    view(widget, "attached", "v")
    trainer.start()
    view(widget, "detached", "v")
    assert trainer.is_running and not widget.subscribed
    notebook_names.clear()
    _trainer_widget._stop_orphans_after_cell()  # the check after every cell
    assert not trainer.is_running and trainer.message == _trainer_widget.ORPHAN_MESSAGE


def test_history_names_do_not_keep_a_trainer(notebook_names):
    trainer = tiny()
    widget = DecisionBoundary(trainer, resolution=5)
    notebook_names.update({"_": widget, "_7": trainer, "Out": {7: trainer}, "__": trainer})
    assert not _trainer_widget.trainer_is_named(trainer)
    notebook_names["w"] = widget  # a widget named by the user carries its trainer
    assert _trainer_widget.trainer_is_named(trainer)


def test_a_trainer_never_shown_or_outside_a_notebook_is_not_touched(notebook_names, monkeypatch):
    trainer = tiny()
    DecisionBoundary(trainer, resolution=5)  # made, never displayed
    trainer.start()
    _trainer_widget._stop_orphans_after_cell()
    assert trainer.is_running
    trainer.stop()
    monkeypatch.setattr(_trainer_widget, "_user_namespace", lambda: None)  # plain Python
    assert _trainer_widget.trainer_is_named(tiny())


def test_closing_a_widget_stops_an_unseen_unnamed_trainer_behind_the_others(notebook_names):
    trainer = tiny()
    shown, hidden = DecisionBoundary(trainer, resolution=5), GradientHeatmap(trainer)
    view(shown, "attached", "s")
    trainer.start()
    hidden.close()
    assert trainer.is_running  # the other widget is on screen
    view(shown, "detached", "s")
    assert not trainer.is_running


def test_a_new_trainer_for_the_same_model_stops_the_older_one():
    older = tiny()
    widget = DecisionBoundary(older, resolution=5)
    older.start()
    newer = Trainer(older.model, datasets.moons(16, seed=0))
    assert not older.is_running and older.status == "stopped"
    assert "a new Trainer was made for this model" in older.message
    assert widget.status == "stopped" and "new Trainer" in widget.message
    other = tiny()  # a different model: untouched
    other.start()
    Trainer(MLP(2, [4, 1], seed=0), datasets.moons(16, seed=0))
    assert other.is_running
    other.stop()
    assert newer.status == "idle"


def test_stop_all_stops_every_background_trainer():
    trainers = [tiny() for _ in range(3)]
    for t in trainers[:2]:
        t.start()
    assert micrograd_widgets.stop_all() == 2
    assert not any(t.is_running for t in trainers)
    assert [t.status for t in trainers] == ["stopped", "stopped", "idle"]
    assert trainers[0].message == "Stopped by stop_all()."
    assert "stop_all" in micrograd_widgets.__all__


def test_views_of_one_trainer_share_its_link_id_and_other_trainers_do_not() -> None:
    from micrograd_widgets import MLP, DecisionBoundary, GradientHeatmap, Trainer, datasets

    data = datasets.moons(32, noise=0.1, seed=0)
    first = Trainer(MLP(2, [4, 1], seed=0), data)
    second = Trainer(MLP(2, [4, 1], seed=0), data)
    assert first.link_id != second.link_id
    assert DecisionBoundary(first).link == GradientHeatmap(first).link == first.link_id
    assert DecisionBoundary(second).link == second.link_id
    assert GradientHeatmap(MLP(2, [3, 1], seed=0)).link == ""  # a bare model links to nothing
