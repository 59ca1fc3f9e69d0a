import time
import warnings

import numpy as np
import pytest
import traitlets

from micrograd_widgets import MLP, DecisionBoundary, Neuron, Trainer, datasets, losses
from micrograd_widgets._boundary_frames import (
    BoundaryFrames,
    BoundaryRecording,
    RecordedFrame,
    class_grid,
    first_layer_rows,
    grid_points,
    per_point_losses,
    plane_extent,
    read_weights,
    score_picture,
    scores_in_blocks,
    softmax,
)
from micrograd_widgets._boundary_input import (
    check_options,
    click_label,
    lr_value,
    removal_radius,
    selected_index,
)
from micrograd_widgets._widget import click_xy
from micrograd_widgets.train import default_schedule


def make(resolution=20, **kwargs):
    trainer = Trainer(MLP(2, [4, 1], seed=0), datasets.moons(16, seed=0, test_size=4), **kwargs)
    return trainer, DecisionBoundary(trainer, resolution=resolution)


def spy_messages(widget):
    """Record every state update the widget sends: (state keys, buffer sizes)."""
    sent = []

    def send(data=None, metadata=None, buffers=None):
        sent.append((set(data.get("state", {})) | set(map(tuple, data.get("buffer_paths", []))),
                     [len(b) for b in buffers or []]))  # fmt: skip

    widget.comm.send = send
    return sent


def test_frame_is_the_models_score_grid():
    trainer, w = make(resolution=25)
    frame = np.frombuffer(w.frame, dtype=np.float32)
    assert frame.shape == (25 * 25,)
    xmin, xmax, ymin, ymax = w.extent
    everything = np.vstack([trainer.X, trainer.X_test])
    assert xmin < everything[:, 0].min() and everything[:, 0].max() < xmax
    assert ymin < everything[:, 1].min() and everything[:, 1].max() < ymax
    # row 0 is the top (ymax), column 0 the left (xmin)
    top_left = trainer.model.predict(np.array([[xmin, ymax]]))[0]
    bottom_right = trainer.model.predict(np.array([[xmax, ymin]]))[0]
    assert frame[0] == pytest.approx(top_left, rel=1e-5)
    assert frame[-1] == pytest.approx(bottom_right, rel=1e-5)
    points = np.frombuffer(w.points, dtype=np.float32).reshape(-1, 2)
    np.testing.assert_allclose(points, trainer.X, rtol=1e-6)
    assert np.frombuffer(w.labels, dtype=np.int8).tolist() == trainer.y.astype(int).tolist()
    assert len(np.frombuffer(w.test_points, dtype=np.float32)) == 2 * 4


def test_a_step_updates_frame_metrics_and_curves_in_one_message():
    trainer, w = make()
    sent = spy_messages(w)
    w._throttle._last = -1e9  # no throttling for this first frame
    before = w.frame
    trainer.step()
    assert w.frame != before
    frames = [keys for keys, _ in sent if ("frame",) in keys]
    assert len(frames) == 1
    assert {"step", "metrics", ("curves",)} <= frames[0]
    assert w.step == 1
    assert w.metrics["loss"] == pytest.approx(trainer.history[-1]["loss"])
    assert w.metrics["test_accuracy"] == pytest.approx(trainer.history[-1]["test_accuracy"])
    curves = np.frombuffer(w.curves, dtype=np.float32).reshape(-1, 5)
    assert curves.shape == (1, 5) and curves[0, 0] == 0


def test_frames_are_throttled_but_the_last_state_arrives():
    trainer, w = make()
    sent = spy_messages(w)
    started = time.monotonic()
    trainer.run(300)  # ~1 ms a step: far more steps than frames
    elapsed = time.monotonic() - started
    frames = sum(1 for keys, _ in sent if "step" in keys)
    assert frames <= 30 * elapsed + 3, f"{frames} frames in {elapsed:.2f} s"
    assert w.step == 300  # the final state was flushed when run() ended
    assert len(np.frombuffer(w.curves, dtype=np.float32)) // 5 == 256  # downsampled


def test_messages_from_the_view_drive_the_trainer():
    trainer, w = make()
    route = w._route_message
    route(w, {"type": "add_point", "x": 0.25, "y": -0.5, "label": -1}, [])
    assert trainer.X[-1].tolist() == [0.25, -0.5] and trainer.y[-1] == -1
    assert len(np.frombuffer(w.points, dtype=np.float32)) == 2 * len(trainer.y)
    route(w, {"type": "remove_point", "x": 0.26, "y": -0.5}, [])
    assert len(trainer.y) == 12
    route(w, {"type": "set_lr", "value": 0.02}, [])
    assert trainer.lr == 0.02 and w.lr == 0.02
    route(w, {"type": "set_lr", "value": None}, [])
    assert trainer.lr is None and w.lr is None and w.lr_schedule
    route(w, {"type": "step"}, [])
    assert trainer.steps_done == 1
    route(w, {"type": "play"}, [])
    assert trainer.is_running
    route(w, {"type": "pause"}, [])
    assert trainer.status == "paused"
    route(w, {"type": "reset"}, [])
    assert trainer.steps_done == 0 and not trainer.is_running and w.step == 0
    assert w.error == ""


def test_bad_messages_show_an_error_and_change_nothing():
    trainer, w = make()
    w._route_message(w, {"type": "add_point", "x": "left", "y": 0, "label": 1}, [])
    assert "add_point needs numeric x and y" in w.error
    w._route_message(w, {"type": "add_point", "x": 0, "y": 0, "label": 2}, [])
    assert "label must be -1 or +1" in w.error
    w._route_message(w, {"type": "set_lr", "value": -3}, [])
    assert "lr must be a finite number > 0" in w.error
    assert len(trainer.y) == 12 and trainer.lr is None


def test_divergence_shows_a_message_and_keeps_the_last_good_picture():
    trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(32, seed=0), lr=100.0)
    w = DecisionBoundary(trainer, resolution=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.run(10)
    assert w.status == "diverged"
    assert w.message.startswith("Training diverged at step")
    assert np.all(np.isfinite(np.frombuffer(w.frame, dtype=np.float32)))
    w._route_message(w, {"type": "play"}, [])
    assert "Press reset" in w.message and not trainer.is_running


def test_recording_is_bounded_and_spans_the_run():
    trainer = Trainer(MLP(2, [4, 1], seed=0), datasets.moons(16, seed=0))
    w = DecisionBoundary(trainer, resolution=30, max_recorded=20, recording_resolution=12)
    trainer.run(200)
    meta = np.frombuffer(w.recording_meta, dtype=np.float32).reshape(-1, 4)
    assert 10 <= len(meta) <= 20
    assert len(w.recording) == len(meta) * 12 * 12
    assert meta[0, 0] == 0 and meta[-1, 0] >= 200 - 200 / 10  # from the start to near the end
    assert np.all(np.diff(meta[:, 0]) > 0)
    # a recorded picture holds the model's signs (128 = score 0)
    w._recording.record_every = 1
    w._record(trainer.steps_done)
    scale = w._recording.meta[-1][1]
    shot = np.frombuffer(w._recording.pictures[-1], dtype=np.uint8).astype(int) - 128
    expected = np.round(np.clip(trainer.model.predict(w._frames.small_grid) / scale, -1, 1) * 127)
    np.testing.assert_array_equal(shot, expected)


def test_closing_the_widget_stops_training():
    trainer, w = make()
    trainer.start()
    w.close()
    assert not trainer.is_running and trainer.status == "stopped"
    assert trainer._observers == []


def test_bad_arguments():
    trainer = Trainer(MLP(2, [2, 1], seed=0), datasets.moons(8, seed=0))
    with pytest.raises(ValueError, match="resolution must be an integer in"):
        DecisionBoundary(trainer, resolution=1)
    with pytest.raises(ValueError, match="max_fps must be in"):
        DecisionBoundary(trainer, max_fps=60)
    with pytest.raises(TypeError, match="trainer must be a Trainer"):
        DecisionBoundary(trainer.model)
    three_d = Trainer(MLP(3, [2, 1], seed=0), np.zeros((4, 3)), [1, -1, 1, -1])
    with pytest.raises(ValueError, match="draws 2-D data"):
        DecisionBoundary(three_d)


def test_the_schedule_label_follows_the_schedule():
    trainer, w = make()
    assert w.lr_schedule == default_schedule.description
    assert "then 0.1" in w.lr_schedule  # held after step 100, as default_schedule is
    assert default_schedule(100) == default_schedule(500) == pytest.approx(0.1)
    trainer.lr = 0.05
    w._throttle.flush()
    assert w.lr_schedule == "" and w.lr == 0.05  # a constant rate has no schedule

    def halving(k):
        return 0.5**k

    trainer.lr = halving
    w._throttle.flush()
    assert w.lr_schedule == "custom"
    halving.description = "0.5^k"
    w._throttle.flush()
    assert w.lr_schedule == "0.5^k"
    w._route_message(w, {"type": "set_lr", "value": None}, [])
    assert w.lr_schedule == default_schedule.description


def replies(widget):
    """The custom messages the widget sends to its views."""
    sent = []
    widget.send = lambda content, buffers=None: sent.append(content)
    return sent


def test_every_set_lr_is_answered_with_the_rate_python_holds_and_shown_at_once():
    trainer, w = make()
    answers = replies(w)
    trainer.run(2)
    w._route_message(w, {"type": "set_lr", "value": 0.05}, [])
    assert w.next_lr == 0.05  # the panel names the next step's rate before any step
    assert w.metrics["lr"] == pytest.approx(default_schedule(1))  # the last step's, labelled so
    w._route_message(w, {"type": "set_lr", "value": -1}, [])
    assert "lr must be a finite number > 0" in w.error
    w._route_message(w, {"type": "set_lr", "value": "fast"}, [])
    w._route_message(w, {"type": "set_lr", "value": None}, [])
    assert answers == [
        {"type": "lr", "value": 0.05},
        {"type": "lr", "value": 0.05},  # -1 refused: the box goes back to 0.05
        {"type": "lr", "value": 0.05},
        {"type": "lr", "value": None},  # the schedule
    ]
    assert w.next_lr == pytest.approx(default_schedule(2))


def test_after_a_wrecking_step_the_panel_describes_the_picture():
    """lr 1e6: the step's own metrics (before its update) say 100 %; the picture is wrecked."""
    trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(64, noise=0.1, seed=0))
    w = DecisionBoundary(trainer, resolution=20)
    trainer.run(60)
    trainer.lr = 1e6
    trainer.step()
    w._throttle.flush()
    assert w.metrics["accuracy"] == 1.0  # measured before the update
    now = trainer.evaluate()
    assert w.current["accuracy"] == now["accuracy"] < 0.9
    assert w.current["loss"] == pytest.approx(now["loss"]) and now["loss"] > 1e3
    scores = trainer.model.predict(trainer.X)
    assert now["accuracy"] == np.mean((scores > 0) == (trainer.y > 0))


def test_a_boundary_made_after_training_records_from_that_step_and_says_so():
    trainer = Trainer(MLP(2, [4, 1], seed=0), datasets.moons(16, seed=0))
    trainer.run(20)
    w = DecisionBoundary(trainer, resolution=10)
    assert w.recording_start == 20
    meta = np.frombuffer(w.recording_meta, dtype=np.float32).reshape(-1, 4)
    assert meta[:, 0].tolist() == [20]
    now = trainer.evaluate()
    assert meta[0, 2] == pytest.approx(now["loss"], rel=1e-6)
    assert meta[0, 3] == pytest.approx(now["accuracy"])
    trainer.run(2)
    w._sync_recording()
    meta = np.frombuffer(w.recording_meta, dtype=np.float32).reshape(-1, 4)
    assert meta[:, 0].tolist() == [20, 21, 22]
    trainer.reset()
    assert w.recording_start == 0


def test_recorded_frames_carry_the_loss_and_accuracy_at_their_own_weights():
    trainer, w = make()
    first = np.frombuffer(w.recording_meta, dtype=np.float32).reshape(-1, 4)
    assert np.all(np.isfinite(first))  # the untrained frame: no NaN label
    untrained = trainer.evaluate()
    trainer.run(3)
    w._sync_recording()
    meta = np.frombuffer(w.recording_meta, dtype=np.float32).reshape(-1, 4)
    assert meta[0, 2] == pytest.approx(untrained["loss"], rel=1e-6)
    assert meta[-1, 2] == pytest.approx(trainer.evaluate()["loss"], rel=1e-6)
    # step 1's frame shows the weights after step 0: its loss is step 1's pre-update loss
    assert meta[1, 2] == pytest.approx(trainer.history[1]["loss"], rel=1e-6)


def test_a_single_neuron_gets_a_decision_boundary():
    data = datasets.moons(32, seed=0)
    trainer = Trainer(Neuron(2, activation="tanh", seed=0), data.X, data.y, lr=0.1)
    w = DecisionBoundary(trainer, resolution=12)
    trainer.run(3)
    frame = np.frombuffer(w.frame, dtype=np.float32)
    np.testing.assert_allclose(frame, trainer.model.predict(w._frames.grid), rtol=1e-6)
    assert w.step == 3 and w.current["accuracy"] is not None


def test_an_empty_dataset_never_reaches_the_boundary():
    with pytest.raises(ValueError, match="X is empty"):
        Trainer(MLP(2, [3, 1], seed=0), np.zeros((0, 2)), np.zeros(0))


# ---- inspect, hover, speed, neuron lines and thumbnails, k classes (issues 8, 10, 11) --------


@pytest.mark.parametrize("loss", ["svm", "log", "mse"])
def test_per_point_losses_average_to_the_loss(loss):
    rng = np.random.default_rng(0)
    scores, y = rng.normal(size=20) * 3, rng.choice([-1.0, 1.0], size=20)
    each = per_point_losses(loss, scores, y)
    assert each.shape == (20,)
    assert np.mean(each) == pytest.approx(losses.numpy_data_loss(loss, scores, y), rel=1e-12)
    assert np.all(np.isnan(per_point_losses("custom", scores, y)))


def test_per_point_cross_entropy_averages_to_the_loss():
    rng = np.random.default_rng(1)
    logits, y = rng.normal(size=(30, 4)) * 5, rng.integers(0, 4, size=30).astype(float)
    each = per_point_losses("cross_entropy", logits, y)
    expected = losses.cross_entropy_loss_np(logits, y)
    assert np.mean(each) == pytest.approx(expected, rel=1e-12)


def test_the_frame_carries_each_points_score_and_loss():
    trainer, w = make()
    trainer.run(3)
    scores = np.frombuffer(w.point_scores, dtype=np.float32)
    np.testing.assert_allclose(scores, trainer.model.predict(trainer.X), rtol=1e-6)
    point_losses = np.frombuffer(w.point_losses, dtype=np.float32)
    expected = np.maximum(0, 1 - trainer.y * trainer.model.predict(trainer.X))
    np.testing.assert_allclose(point_losses, expected, rtol=1e-6, atol=1e-7)


def test_select_sets_the_inspected_point_and_refuses_bad_indices():
    _trainer, w = make()
    route = w._route_message
    route(w, {"type": "select", "index": 5}, [])
    assert w.selected == 5 and w.error == ""
    route(w, {"type": "select", "index": 12}, [])  # 12 training points: 0..11
    assert "selected must be -1 (none) or a training point's index in [0, 12)" in w.error
    assert w.selected == 5
    route(w, {"type": "select", "index": "3"}, [])
    assert "integer point index" in w.error and w.selected == 5
    route(w, {"type": "select", "index": None}, [])
    assert w.selected == -1 and w.error == ""
    with pytest.raises(traitlets.TraitError, match=r"in \[0, 12\)"):
        w.selected = 99
    w.selected = 11
    assert w.selected == 11


def test_the_inspected_point_follows_removals():
    trainer, w = make()
    w.selected = 6
    x, y = trainer.X[2]
    w._route_message(w, {"type": "remove_point", "x": float(x), "y": float(y)}, [])
    assert w.selected == 5  # the same point, one place earlier
    x, y = trainer.X[5]
    w._route_message(w, {"type": "remove_point", "x": float(x), "y": float(y)}, [])
    assert w.selected == -1  # the inspected point itself went


def test_the_speed_control_sets_the_trainers_speed():
    trainer, w = make()
    assert w.speed is None
    w._route_message(w, {"type": "set_speed", "value": 10}, [])
    assert trainer.speed == 10.0 and w.speed == 10.0
    w._route_message(w, {"type": "set_speed", "value": -1}, [])
    assert "speed must be > 0" in w.error and trainer.speed == 10.0 and w.speed == 10.0
    w._route_message(w, {"type": "set_speed", "value": None}, [])
    assert trainer.speed is None and w.speed is None


def test_first_layer_lines_are_sent_with_frames_and_recordings():
    trainer, w = make()
    trainer.run(2)
    w._sync_recording()
    rows = np.frombuffer(w.first_layer, dtype=np.float32).reshape(-1, 3)
    np.testing.assert_allclose(rows, trainer.model.layers[0].parameter_matrix(), rtol=1e-6)
    frames = len(np.frombuffer(w.recording_meta, dtype=np.float32)) // 4
    recorded = np.frombuffer(w.recording_lines, dtype=np.float32).reshape(frames, 4, 3)
    np.testing.assert_allclose(recorded[-1], rows)
    assert not np.allclose(recorded[0], recorded[-1])  # the lines moved while training
    neuron = Trainer(Neuron(2, seed=0), trainer.X, trainer.y)
    assert first_layer_rows(neuron.model).shape == (1, 3)


def test_neuron_thumbnails_hold_every_hidden_neurons_output():
    trainer = Trainer(MLP(2, [3, 2, 1], seed=0), datasets.moons(16, seed=0))
    w = DecisionBoundary(trainer, resolution=10, neurons=True, neuron_resolution=6)
    assert w.neuron_layers == [3, 2]
    data = np.frombuffer(w.neuron_frames, dtype=np.uint8).reshape(5, 36).astype(int) - 128
    pre = trainer.model.preactivations(w._frames.neuron_grid)
    outputs = np.hstack([np.maximum(pre[0], 0), np.maximum(pre[1], 0)])  # relu
    for j in range(5):
        scale = w.neuron_scales[j]
        expected = np.round(outputs[:, j] / scale * 127) if scale else np.zeros(36)
        np.testing.assert_array_equal(data[j], expected)
    off = DecisionBoundary(trainer, resolution=10)
    assert off.neuron_frames == b"" and not off.neurons
    off.neurons = True  # turned on later: computed at once
    assert len(off.neuron_frames) == 5 * 24 * 24 and off.neuron_layers == [3, 2]
    with pytest.raises(ValueError, match="neurons must be True or False"):
        DecisionBoundary(trainer, neurons="yes")


def test_class_grid_is_argmax_and_confidence_bytes():
    scores = np.array([[5.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 9.0, 9.5]])
    data = np.frombuffer(class_grid(scores), dtype=np.uint8)
    assert data[:3].tolist() == [0, 0, 2]  # ties go to the lower class, as argmax
    confidence = data[3:]
    assert confidence[1] == 0  # uniform: no confidence
    assert confidence[0] > 240 and 0 < confidence[2] < 128


def three_classes(**kwargs):
    data = datasets.spiral(60, classes=3, seed=0, test_size=12)
    model = MLP(2, [8, 3], seed=0)
    trainer = Trainer(model, data, loss="cross_entropy", optimizer="adam", lr=0.05)
    return trainer, DecisionBoundary(trainer, resolution=12, **kwargs)


def test_k_classes_are_drawn_by_argmax_class_and_confidence():
    trainer, w = three_classes()
    trainer.run(20)
    assert w.classes == 3 and w.frame == b""  # no score grid: classes instead
    scores = trainer.model.predict(w._frames.grid)
    data = np.frombuffer(w.class_frame, dtype=np.uint8)
    assert data[:144].tolist() == np.argmax(scores, axis=1).tolist()
    assert data[144:].tolist() == np.frombuffer(class_grid(scores), np.uint8)[144:].tolist()
    probs = np.frombuffer(w.point_scores, dtype=np.float32).reshape(-1, 3)
    np.testing.assert_allclose(probs, softmax(trainer.model.predict(trainer.X)), rtol=1e-5)
    each = np.frombuffer(w.point_losses, dtype=np.float32)
    expected = losses.cross_entropy_loss_np(trainer.model.predict(trainer.X), trainer.y)
    assert float(np.mean(each)) == pytest.approx(expected, rel=1e-5)
    assert w.confusion == trainer.confusion_matrix("train").tolist()
    assert w.test_confusion == trainer.confusion_matrix("test").tolist()
    assert sum(map(sum, w.test_confusion)) == 12
    assert np.frombuffer(w.labels, dtype=np.int8).tolist() == trainer.y.astype(int).tolist()


def test_k_classes_are_recorded_as_class_pictures():
    trainer, w = three_classes()
    trainer.run(4)
    w._sync_recording()
    frames = len(np.frombuffer(w.recording_meta, dtype=np.float32)) // 4
    assert frames == 5
    assert len(w.recording) == frames * 2 * w.recording_resolution**2
    last = np.frombuffer(w.recording, dtype=np.uint8)[-2 * w.recording_resolution**2 :]
    scores = trainer.model.predict(w._frames.small_grid)
    assert last[: w.recording_resolution**2].tolist() == np.argmax(scores, axis=1).tolist()


def test_the_class_picker_adds_a_point_of_that_class_and_refuses_others():
    trainer, w = three_classes()
    w._route_message(w, {"type": "add_point", "x": 0.1, "y": 0.2, "label": 2}, [])
    assert trainer.y[-1] == 2 and w.error == ""
    assert np.frombuffer(w.labels, dtype=np.int8)[-1] == 2
    count = len(trainer.y)
    for bad in (3, -1, 1.5, "2", True):
        w._route_message(w, {"type": "add_point", "x": 0.1, "y": 0.2, "label": bad}, [])
        assert "add_point needs a class label in 0..2" in w.error
    assert len(trainer.y) == count


def test_a_two_output_model_on_binary_labels_speaks_class_numbers_to_the_view():
    data = datasets.moons(20, seed=0)
    trainer = Trainer(MLP(2, [4, 2], seed=0), data, loss="cross_entropy")
    w = DecisionBoundary(trainer, resolution=8)
    assert w.classes == 2
    assert sorted(set(np.frombuffer(w.labels, dtype=np.int8).tolist())) == [0, 1]
    w._route_message(w, {"type": "add_point", "x": 0.0, "y": 0.0, "label": 0}, [])
    assert trainer.y[-1] == -1 and w.error == ""  # class 0 is the label -1


# ---- the frame pieces on their own (no widget) ------------------------------------------------


def test_the_recording_halves_itself_when_full_and_keeps_rows_paired():
    recording = BoundaryRecording(record_every=1, max_recorded=4)
    for step in range(6):
        if recording.due(step):
            picture = bytes([step])
            recording.add(step, RecordedFrame(picture, 1.0, float(step), 0.5, bytes([step, step])))
    # 5 frames overflowed the cap of 4: every other one kept, recorded every 2nd step from then
    assert recording.record_every == 2
    assert [row[0] for row in recording.meta] == [0, 2, 4]
    state = recording.state()
    assert state["recording"] == bytes([0, 2, 4])
    assert state["recording_lines"] == bytes([0, 0, 2, 2, 4, 4])
    meta = np.frombuffer(state["recording_meta"], dtype=np.float32).reshape(-1, 4)
    assert meta[:, 2].tolist() == [0.0, 2.0, 4.0]
    recording.restart()
    assert recording.record_every == 1 and recording.state()["recording"] == b""


def test_the_plane_grid_runs_row_major_from_the_top_left_with_a_margin():
    extent = plane_extent(np.array([[0.0, 0.0], [1.0, 2.0]]), np.zeros((0, 2)), padding=0.5)
    assert extent == [-0.5, 1.5, -1.0, 3.0]
    grid = grid_points(extent, 3)
    assert grid[0].tolist() == [-0.5, 3.0] and grid[2].tolist() == [1.5, 3.0]
    assert grid[-1].tolist() == [1.5, -1.0]


def test_a_frame_is_computed_from_the_trainer_alone():
    data = datasets.moons(24, noise=0.1, seed=0)
    trainer = Trainer(MLP(2, [4, 1], seed=1), data)
    trainer.run(2)
    frames = BoundaryFrames(trainer, 0, [-2.0, 2.0, -2.0, 2.0], 5, 3, 2)
    state, point_count = frames.frame(neurons=True)
    assert point_count == len(trainer.y) and state["step"] == 2
    scores = np.frombuffer(state["frame"], dtype=np.float32)
    np.testing.assert_allclose(scores, trainer.model.predict(frames.grid).ravel(), rtol=1e-6)
    assert state["neuron_layers"] == [4] and len(state["neuron_frames"]) == 4 * 2 * 2
    recorded = frames.recorded()
    assert recorded is not None and len(recorded.picture) == 9
    assert recorded.loss == pytest.approx(trainer.evaluate()["loss"])


def test_the_options_and_clicks_are_checked_apart_from_the_widget():
    check_options(False, resolution=2, record_every=1)
    with pytest.raises(ValueError, match=r"resolution must be an integer in \[2, 1000\]"):
        check_options(False, resolution=True)
    with pytest.raises(ValueError, match="neurons must be True or False"):
        check_options(1, resolution=10)
    assert click_xy("add_point", {"x": 1, "y": 0.5}) == (1.0, 0.5)
    with pytest.raises(ValueError, match="add_point needs numeric x and y"):
        click_xy("add_point", {"x": "left", "y": 0})
    assert click_label(-1, 0) == -1 and click_label(2, 3) == 2
    assert click_label(1, 2, np.array([-1.0, 1.0])) == 1.0  # 2 outputs on binary labels
    with pytest.raises(ValueError, match=r"class label in 0\.\.2"):
        click_label(3, 3)


def test_frames_hold_predicts_numbers_and_see_weights_changed_by_hand():
    """The frame scores the weights read under the lock after releasing it, in blocks, in
    reused buffers: ``predict``'s numbers, and a weight set through ``p.data`` shows at once."""
    trainer = Trainer(MLP(2, [16, 16, 1], seed=0), datasets.moons(16, seed=0))
    w = DecisionBoundary(trainer, resolution=60)  # 3,600 points: several blocks of 1,024
    for _ in range(2):  # the second frame reuses the first one's buffers
        trainer.model.layers[0].neurons[0].b.data += 0.5
        w._send_frame()
        expected = trainer.model.predict(w._frames.grid)
        frame = np.frombuffer(w.frame, dtype=np.float32)
        np.testing.assert_allclose(frame, expected, rtol=1e-6, atol=1e-7)
        recorded = w._frames.recorded()
        scores = trainer.model.predict(w._frames.small_grid)
        picture, _ = score_picture(scores)
        difference = np.frombuffer(recorded.picture, np.uint8) - np.frombuffer(picture, np.uint8)
        assert np.abs(difference.astype(np.int8)).max() <= 1  # the same picture, to a level
        lines = np.frombuffer(recorded.lines, dtype=np.float32).reshape(-1, 3)
        assert np.array_equal(lines, trainer.model.layers[0].parameter_matrix().astype(np.float32))


class DoubledMLP(MLP):
    """A model with its own predict: the boundary must call it, not nn's forward pass."""

    def predict(self, X):
        return 2 * super().predict(X)


def test_a_model_with_its_own_predict_is_drawn_by_it():
    assert read_weights(DoubledMLP(2, [3, 1], seed=0)) is None
    assert read_weights(MLP(2, [3, 1], seed=0)) is not None
    trainer = Trainer(DoubledMLP(2, [4, 1], seed=0), datasets.moons(16, seed=0))
    w = DecisionBoundary(trainer, resolution=12)
    expected = trainer.model.predict(w._frames.grid).astype(np.float32)
    assert np.array_equal(np.frombuffer(w.frame, dtype=np.float32), expected)


def test_the_rate_selection_and_removal_messages_are_checked_apart_from_the_widget():
    assert lr_value("") is None and lr_value(None) is None
    assert lr_value("0.05") == 0.05 and lr_value(2) == 2.0
    with pytest.raises(ValueError, match="learning rate must be a number > 0, got 'fast'"):
        lr_value("fast")
    assert selected_index(None) == -1 and selected_index(3) == 3
    with pytest.raises(ValueError, match="integer point index or null, got True"):
        selected_index(True)
    assert removal_radius([0.0, 3.0, 0.0, 4.0]) == pytest.approx(0.2)  # 4 % of the diagonal


@pytest.mark.parametrize("nouts", [[16, 16, 1], [32, 32, 1], [300, 2], [5, 4]])
def test_grids_are_scored_in_blocks_to_predicts_numbers(nouts):
    model = MLP(2, nouts, seed=4, activation="tanh")
    points = np.random.default_rng(5).uniform(-3, 3, size=(2_500, 2))
    weights = read_weights(model)
    workspace = {}
    for _ in range(2):
        scores = scores_in_blocks(weights, points, workspace)
        np.testing.assert_allclose(scores, model.predict(points), rtol=1e-12, atol=1e-14)
    assert workspace  # the buffers are kept for the next frame
