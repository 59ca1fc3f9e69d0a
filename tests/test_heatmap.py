import numpy as np
import pytest

from micrograd_widgets import MLP, GradientHeatmap, Layer, Neuron, Trainer, Value, datasets


def floats(data):
    return np.frombuffer(data, dtype=np.float32)


def trainer_with_a_dead_neuron(**kwargs):
    model = MLP(2, [4, 3, 1], seed=2)
    dead = model.layers[0].neurons[1]
    for p in dead.w:
        p.data = 0.0
    dead.b.data = -1.0  # pre-activation -1 for every input: the ReLU never fires
    return Trainer(model, datasets.moons(16, seed=0), **kwargs)


def test_layout_names_and_arrays_follow_the_parameter_order():
    trainer = trainer_with_a_dead_neuron()
    trainer.step()
    h = GradientHeatmap(trainer)
    assert h.layers == [
        {"name": "layers.0", "nin": 2, "nout": 4, "activation": "relu"},
        {"name": "layers.1", "nin": 4, "nout": 3, "activation": "relu"},
        {"name": "layers.2", "nin": 3, "nout": 1, "activation": "none"},
    ]
    assert h.param_names == [name for name, _ in trainer.model.named_parameters()]
    # the flat arrays are each layer's parameter_matrix, row by row
    flat = np.concatenate([L.parameter_matrix("grad").ravel() for L in trainer.model.layers])
    np.testing.assert_allclose(floats(h.grads), flat, rtol=1e-6)
    flat = np.concatenate([L.parameter_matrix("data").ravel() for L in trainer.model.layers])
    np.testing.assert_allclose(floats(h.values), flat, rtol=1e-6)
    np.testing.assert_allclose(floats(h.updates), trainer.last_update, rtol=1e-6)


def test_last_update_is_minus_lr_times_grad():
    trainer = trainer_with_a_dead_neuron(lr=0.1)
    h = GradientHeatmap(trainer)
    before = np.array([p.data for p in trainer.parameters])
    trainer.step()
    h._throttle.flush()
    after = np.array([p.data for p in trainer.parameters])
    np.testing.assert_allclose(floats(h.updates), after - before, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(floats(h.updates), -0.1 * floats(h.grads), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("regularization", ["l2", "l1", None])
def test_dead_relu_neurons_are_marked_at_once_despite_regularization(regularization):
    trainer = trainer_with_a_dead_neuron(regularization=regularization)
    h = GradientHeatmap(trainer)
    dead = np.frombuffer(h.dead, dtype=np.uint8)
    assert dead.shape == (4 + 3 + 1,)
    assert dead[1] == 1  # layers.0.neurons.1, before any step: its weights say so
    trainer.run(3)
    h._throttle.flush()
    dead = np.frombuffer(h.dead, dtype=np.uint8)
    # every neuron marked dead really never fires on the data, and every other one does
    for i, neuron in enumerate(trainer.model.layers[0].neurons):
        pre = trainer.X @ np.array([w.data for w in neuron.w]) + neuron.b.data
        assert bool(dead[i]) == bool(np.all(pre <= 0))
    assert dead[-1] == 0  # the linear output is never "dead"
    assert "pre-activation ≤ 0 for every training point" in h.dead_note


def value_preactivations(model, X):
    """Each ReLU layer's pre-activations w·x + b, by the Value engine (the reference)."""
    columns, inputs = [], [list(row) for row in X.tolist()]
    for layer in model.layers:
        pre = [[(sum((w * x for w, x in zip(n.w, row)), n.b)).data for n in layer.neurons]
               for row in inputs]  # fmt: skip
        columns.append(np.array(pre))
        inputs = [[max(z, 0.0) if layer.activation == "relu" else z for z in row] for row in pre]
    return columns


def test_the_issue_case_marks_the_neurons_that_never_fire_4_and_2():
    """Issue 7: after run(100) the old "no gradient for 10 steps" rule marked 12 and 11."""
    trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(128, noise=0.1, seed=0))
    h = GradientHeatmap(trainer)
    trainer.run(100)
    h._throttle.flush()
    dead = np.frombuffer(h.dead, dtype=np.uint8).astype(bool)
    reference = value_preactivations(trainer.model, trainer.X)
    for pre, column in zip(trainer.model.preactivations(trainer.X), reference):
        np.testing.assert_allclose(pre, column, rtol=1e-12, atol=1e-12)
    never_fire = [np.flatnonzero(np.all(column <= 0, axis=0)) for column in reference[:2]]
    assert [len(n) for n in never_fire] == [4, 2]
    assert np.flatnonzero(dead[:16]).tolist() == never_fire[0].tolist()
    assert np.flatnonzero(dead[16:32]).tolist() == never_fire[1].tolist()
    assert not dead[32:].any()


def test_a_bare_model_marks_dead_relus_only_with_data():
    model = MLP(2, [3, 1], seed=0)
    neuron = model.layers[0].neurons[2]
    for p in neuron.w:
        p.data = 0.0
    neuron.b.data = -0.5
    bare = GradientHeatmap(model)
    assert not np.frombuffer(bare.dead, dtype=np.uint8).any()
    assert "GradientHeatmap(model, X=X)" in bare.dead_note
    with_data = GradientHeatmap(model, X=datasets.moons(16, seed=0).X)
    assert np.frombuffer(with_data.dead, dtype=np.uint8).tolist() == [0, 0, 1, 0]
    assert with_data.dead_note.startswith("dead ReLU")
    with pytest.raises(ValueError, match=r"shape \(n, 2\) with n >= 1, got shape \(0, 2\)"):
        GradientHeatmap(model, X=np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"got shape \(4, 3\)"):
        GradientHeatmap(model, X=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="X is for a bare model"):
        GradientHeatmap(Trainer(model, datasets.moons(16, seed=0)), X=np.zeros((4, 2)))
    tanh = GradientHeatmap(MLP(2, [3, 1], seed=0, activation="tanh"))
    assert tanh.dead_note == ""  # nothing can die


def test_a_neuron_or_a_layer_is_shown_as_one_layer():
    data = datasets.moons(16, seed=0)
    neuron = Neuron(2, activation="tanh", seed=0)
    h = GradientHeatmap(Trainer(neuron, data))
    assert h.layers == [{"name": "neuron", "nin": 2, "nout": 1, "activation": "tanh"}]
    assert h.param_names == ["w.0", "w.1", "b"]
    h.trainer.run(2)
    np.testing.assert_allclose(floats(h.grads), [p.grad for p in neuron.parameters()], rtol=1e-6)
    layer = Layer(2, 3, seed=0)
    bare = GradientHeatmap(layer, X=data.X)
    assert bare.layers == [{"name": "layer", "nin": 2, "nout": 3, "activation": "relu"}]
    expected = [bool(np.all(z <= 0)) for z in layer.preactivations(data.X)[0].T]
    assert np.frombuffer(bare.dead, dtype=np.uint8).astype(bool).tolist() == expected


def test_gradient_norms_per_layer_per_step():
    trainer = trainer_with_a_dead_neuron()
    h = GradientHeatmap(trainer)
    trainer.run(3)
    rows = floats(h.norms).reshape(-1, 4)
    assert rows[:, 0].tolist() == [0, 1, 2]
    expected = [np.linalg.norm(L.parameter_matrix("grad")) for L in trainer.model.layers]
    np.testing.assert_allclose(rows[-1, 1:], expected, rtol=1e-5)


def test_mode_toggle_by_message_and_validation():
    h = GradientHeatmap(trainer_with_a_dead_neuron())
    h._route_message(h, {"type": "set_mode", "mode": "weights"}, [])
    assert h.mode == "weights" and h.error == ""
    h._route_message(h, {"type": "set_mode", "mode": "<b>"}, [])
    assert "mode must be one of" in h.error and h.mode == "weights"
    with pytest.raises(ValueError, match="mode must be one of"):
        GradientHeatmap(MLP(2, [2, 1], seed=0), mode="gradient")
    with pytest.raises(TypeError, match="needs a Trainer, or an MLP, Layer or Neuron"):
        GradientHeatmap([1, 2])


def test_a_bare_model_refreshes_after_backward():
    model = MLP(2, [3, 1], seed=0)
    h = GradientHeatmap(model)
    assert not floats(h.grads).any()
    out = model([Value(0.5), Value(-1.0)])
    out.backward()
    h.refresh()
    np.testing.assert_allclose(floats(h.grads), [p.grad for p in model.parameters()], rtol=1e-6)
    model.layers[0].neurons[0].b.data += 0.5
    h.refresh()
    updates = floats(h.updates)
    assert updates[2] == pytest.approx(0.5) and np.count_nonzero(updates) == 1


def test_reset_and_close():
    trainer = trainer_with_a_dead_neuron()
    h = GradientHeatmap(trainer)
    trainer.run(2)
    trainer.reset()
    assert h.step == 0 and len(h.norms) == 0
    trainer.start()
    h.close()
    assert not trainer.is_running and trainer._observers == []


def test_norm_history_is_thinned_to_a_fixed_size(monkeypatch):
    from micrograd_widgets import heatmap as heatmap_module

    monkeypatch.setattr(heatmap_module, "MAX_NORM_ROWS", 8)
    trainer = Trainer(MLP(2, [2, 1], seed=0), datasets.moons(8, seed=0), lr=0.01)
    h = GradientHeatmap(trainer)
    trainer.run(40)
    rows = h._norms.rows()
    assert len(rows) <= 8
    assert rows[0, 0] == 0 and rows[-1, 0] >= 32  # still spans the run
    assert np.all(np.diff(rows[:, 0]) > 0)


# ---- the recorded run (issue 10) ------------------------------------------------------------


def test_quantize_keeps_each_layer_to_half_a_level():
    from micrograd_widgets.heatmap import dequantize, quantize

    spans = [(0, 3), (3, 5), (5, 6)]
    values = np.array([0.5, -1.0, 0.25, 1e-4, -3e-4, 0.0])
    q, scales = quantize(values, spans)
    assert q.dtype == np.int8 and scales == [1.0, 3e-4, 0.0]
    assert q.tolist() == [64, -127, 32, 42, -127, 0]  # the tiny layer keeps its own 127 levels
    back = dequantize(q, scales, spans)
    for (a, b), scale in zip(spans, scales):
        assert np.all(np.abs(back[a:b] - values[a:b]) <= scale / 254 + 1e-18)
    # a diverged step: infinities saturate, NaN is 0, the scale stays finite
    q, scales = quantize(np.array([np.inf, np.nan, 0.5, -np.inf]), [(0, 4)])
    assert q.tolist() == [127, 0, 127, -127] and scales == [0.5]


def test_the_heatmap_records_the_same_steps_as_the_boundary():
    from micrograd_widgets import DecisionBoundary

    trainer = Trainer(MLP(2, [4, 1], seed=0), datasets.moons(16, seed=0))
    trainer.run(3)  # made late: both start recording at step 3
    h = GradientHeatmap(trainer, max_recorded=6)
    b = DecisionBoundary(trainer, max_recorded=6)
    trainer.run(20)
    assert h.recording_start == 3
    assert h.recorded_steps == [int(row[0]) for row in b._recording.meta]
    steps = h.recorded_steps  # halved when full: still from the first step to the last
    assert steps[0] == 3 and steps[-1] == 23 - 3 and len(steps) <= 6
    assert h._recording.record_every == 4
    trainer.reset()
    assert h.recorded_steps == [0] and h.recording_start == 0


def test_recorded_frames_hold_every_mode_at_their_step():
    trainer = trainer_with_a_dead_neuron(lr=0.05)
    h = GradientHeatmap(trainer)
    trainer.run(4)
    snapshot = {
        "grads": np.array([p.grad for p in trainer.parameters]),
        "weights": np.array([p.data for p in trainer.parameters]),
        "updates": trainer.last_update.copy(),
    }
    trainer.run(2)
    assert h.recorded_steps == [0, 1, 2, 3, 4, 5, 6]
    frame = h.recorded_frame(4)
    for mode, exact in snapshot.items():
        for a, b in h._params.spans:
            level = np.abs(exact[a:b]).max() / 254
            np.testing.assert_allclose(frame[mode][a:b], exact[a:b], rtol=0, atol=level + 1e-15)
    # the synced bytes are what the view decodes: modes × parameters int8, then neurons uint8
    n, neurons, layers = len(trainer.parameters), 8, 3
    meta = np.frombuffer(h.recording_meta, dtype=np.float32).reshape(-1, 1 + 3 * layers)
    assert len(h.recording) == len(meta) * (3 * n + neurons)
    assert h.recording_modes == ["grads", "weights", "updates"]
    frame4 = h.recording[4 * (3 * n + neurons) : 5 * (3 * n + neurons)]
    assert frame4[3 * n + 1] == 1  # layers.0.neurons.1 is dead at step 4
    with pytest.raises(ValueError, match="before the recording starts"):
        h.recorded_frame(-1)


def test_the_recording_keeps_to_its_byte_budget():
    trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(32, seed=0))
    h = GradientHeatmap(trainer, recording_budget=20_000)
    per_frame = h._recording.bytes_per_frame
    assert per_frame == 3 * 337 + 33 + 4 * (1 + 9)
    trainer.run(60)
    h._sync_recording()
    assert len(h.recording) + len(h.recording_meta) <= 20_000
    assert h.recorded_steps[0] == 0 and h.recorded_steps[-1] >= 60 - h._recording.record_every
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="recording_budget must be an int"):
            GradientHeatmap(trainer, recording_budget=bad)
    with pytest.raises(ValueError, match="max_recorded must be an int"):
        GradientHeatmap(trainer, max_recorded=1)


def test_a_bare_model_records_each_refresh():
    model = MLP(2, [3, 1], seed=0)
    h = GradientHeatmap(model)
    model([Value(0.5), Value(-1.0)]).backward()
    h.refresh()
    assert h.recorded_steps == [0, 1]
    assert np.abs(h.recorded_frame(1)["grads"]).max() > 0
    assert not np.abs(h.recorded_frame(0)["grads"]).any()


def test_matrices_are_each_layers_parameter_matrix_in_a_mode():
    trainer = trainer_with_a_dead_neuron()
    h = GradientHeatmap(trainer)
    trainer.run(2)
    for mode, attr in (("grads", "grad"), ("weights", "data")):
        for got, layer in zip(h.matrices(mode), trainer.model.layers):
            np.testing.assert_array_equal(got, layer.parameter_matrix(attr))
    h.mode = "updates"
    assert [m.shape for m in h.matrices()] == [(4, 3), (3, 5), (1, 4)]
    np.testing.assert_array_equal(
        np.concatenate([m.ravel() for m in h.matrices()]), trainer.last_update
    )
    with pytest.raises(ValueError, match="mode must be one of 'grads', 'weights', 'updates'"):
        h.matrices("m")  # plain SGD keeps no state


# ---- the optimizer's state as modes (issue 11) ---------------------------------------------


def test_adam_state_is_offered_as_modes_and_recorded():
    trainer = Trainer(MLP(2, [4, 1], seed=0), datasets.moons(16, seed=0), optimizer="adam", lr=0.01)
    h = GradientHeatmap(trainer)
    assert h.modes == ["grads", "weights", "updates", "m", "sqrt_v"]
    assert h.recording_modes == h.modes
    trainer.run(3)
    state = trainer.optimizer.state_arrays()
    assert h.state_names == ["m", "sqrt_v"]
    np.testing.assert_allclose(
        floats(h.state), np.concatenate([state["m"], state["sqrt_v"]]), rtol=1e-6
    )
    for got, name in ((h.matrices("m"), "m"), (h.matrices("sqrt_v"), "sqrt_v")):
        np.testing.assert_array_equal(np.concatenate([m.ravel() for m in got]), state[name])
    assert h.optimizer == {
        "name": "adam",
        "rule": trainer.optimizer.update_rule,
        "lr": 0.01,
        "t": 3,
        "eps": 1e-8,
        "betas": [0.9, 0.999],
    }
    # the formula the view writes holds with these numbers: w_before − lr·m̂/(√v̂ + ε) = w_after
    beta1, beta2 = h.optimizer["betas"]
    m_hat = state["m"] / (1 - beta1**3)
    root_v_hat = state["sqrt_v"] / np.sqrt(1 - beta2**3)
    after = np.array([p.data for p in trainer.parameters])
    before = after - trainer.last_update
    np.testing.assert_allclose(
        before - 0.01 * m_hat / (root_v_hat + 1e-8), after, rtol=0, atol=1e-15
    )
    frame = h.recorded_frame(3)
    level = np.abs(state["sqrt_v"]).max() / 254
    np.testing.assert_allclose(frame["sqrt_v"], state["sqrt_v"], rtol=0, atol=level * 1.01)
    h._route_message(h, {"type": "set_mode", "mode": "sqrt_v"}, [])
    assert h.mode == "sqrt_v" and h.error == ""


def test_momentum_offers_its_velocity_and_plain_sgd_nothing():
    data = datasets.moons(16, seed=0)
    h = GradientHeatmap(Trainer(MLP(2, [3, 1], seed=0), data, optimizer="momentum", lr=0.1))
    h.trainer.run(2)
    assert h.modes[3:] == ["velocity"] and h.optimizer["name"] == "momentum"
    assert h.optimizer["momentum"] == 0.9
    np.testing.assert_allclose(
        floats(h.state), h.trainer.optimizer.state_arrays()["velocity"], rtol=1e-6
    )
    sgd = GradientHeatmap(Trainer(MLP(2, [3, 1], seed=1), data))
    assert sgd.modes == ["grads", "weights", "updates"] and sgd.state == b""
    assert sgd.optimizer["name"] == "sgd" and sgd.optimizer["rule"] == "w ← w − lr·grad"
    with pytest.raises(ValueError, match="the modes this trainer's optimizer offers"):
        GradientHeatmap(Trainer(MLP(2, [3, 1], seed=2), data), mode="m")


def test_a_k_class_trainers_last_rows_are_labelled_by_class():
    data = datasets.spiral(30, classes=3, seed=0)
    trainer = Trainer(MLP(2, [8, 3], seed=0), data, loss="cross_entropy")
    h = GradientHeatmap(trainer)
    assert h.output_labels == ["class 0", "class 1", "class 2"]
    assert GradientHeatmap(MLP(2, [8, 1], seed=0)).output_labels == []


def test_switching_the_optimizer_changes_the_modes_offered():
    trainer = Trainer(MLP(2, [3, 1], seed=0), datasets.moons(16, seed=0))
    h = GradientHeatmap(trainer)
    trainer.set_optimizer("adam", lr=0.01)
    assert h.modes == ["grads", "weights", "updates", "m", "sqrt_v"]  # a frame on the switch
    trainer.run(1)
    h.mode = "m"
    trainer.set_optimizer("sgd")
    assert h.modes == ["grads", "weights", "updates"] and h.mode == "grads"
    # the recording keeps the modes it started with (a switched-to optimizer's state is live only)
    assert h.recording_modes == ["grads", "weights", "updates"]


def test_a_snapshot_draws_an_optimizer_state_mode():
    trainer = Trainer(MLP(2, [3, 1], seed=0), datasets.moons(16, seed=0), optimizer="adam")
    h = GradientHeatmap(trainer, mode="sqrt_v")
    trainer.run(2)
    from micrograd_widgets._pictures import heatmap_matrices

    for got, expected in zip(heatmap_matrices(h), h.matrices()):
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert h.snapshot()._suptitle.get_text().startswith("√v · step 2")


# ---- what the heatmap shows, without a widget (_heatmap_frames) ----------------------------------


def test_heatmap_parameters_lay_out_every_layer_flat_and_as_matrices():
    from micrograd_widgets._heatmap_frames import HeatmapParameters

    model = MLP(2, [3, 1], seed=0)
    params = HeatmapParameters(model)
    assert params.spans == [(0, 9), (9, 13)] and params.neurons == 4 and params.has_relu
    values = params.flat("data")
    assert values.tolist() == [p.data for p in model.parameters()]
    first, last = params.matrices(values)
    assert first.shape == (3, 3) and last.shape == (1, 4)
    assert first[1].tolist() == [
        *(w.data for w in model.layers[0].neurons[1].w),
        model.layers[0].neurons[1].b.data,
    ]
    grads = np.arange(13.0)
    assert params.layer_norms(grads) == pytest.approx(
        [np.linalg.norm(np.arange(9.0)), np.linalg.norm(np.arange(9.0, 13.0))]
    )
    assert HeatmapParameters(Neuron(3, seed=0)).spans == [(0, 4)]


def test_dead_relus_are_computed_once_per_step_until_forgotten():
    from micrograd_widgets._heatmap_frames import HeatmapParameters

    model = MLP(1, [2, 1], seed=0)
    for neuron in model.layers[0].neurons:  # w·x + b <= 0 for every x >= 0: dead on that data
        neuron.w[0].data, neuron.b.data = -1.0, -0.5
    model.layers[0].neurons[1].w[0].data = 1.0  # this one fires
    params = HeatmapParameters(model)
    X = np.array([[0.0], [1.0], [2.0]])
    assert params.dead_mask(X, 0).tolist() == [True, False, False]
    assert params.dead_mask(None, 0).tolist() == [False] * 3
    model.layers[0].neurons[0].w[0].data = 1.0  # now it fires too
    assert params.dead_mask(X, 0).tolist() == [True, False, False]  # same step: cached
    assert params.dead_mask(X, 1).tolist() == [False, False, False]
    model.layers[0].neurons[0].w[0].data = -1.0
    params.forget_dead()
    assert params.dead_mask(X, 1).tolist() == [True, False, False]


def test_norm_history_keeps_every_other_row_past_its_cap():
    from micrograd_widgets._heatmap_frames import NormHistory

    history = NormHistory(layers=2, max_rows=4)
    for step in range(10):
        history.add(step, [step * 1.0, step * 2.0])
    rows = history.rows()
    assert rows.dtype == np.float32 and rows.shape[1] == 3 and len(rows) <= 4
    assert rows[0, 0] == 0 and rows[-1, 0] >= 8 and np.all(np.diff(rows[:, 0]) > 0)
    assert rows[:, 2].tolist() == (2 * rows[:, 0]).tolist()
    history.clear()
    assert history.rows().shape == (0, 3)


def test_row_labels_dead_note_and_the_plain_update_formula():
    from micrograd_widgets._heatmap_frames import dead_note, optimizer_info, output_labels

    assert output_labels(1, None) == []
    assert output_labels(3, None) == ["class 0", "class 1", "class 2"]
    assert output_labels(2, ["cat", "dog"]) == ["cat", "dog"]
    assert output_labels(3, ["cat", "dog"]) == ["class 0", "class 1", "class 2"]
    assert dead_note(False, False) == ""
    assert dead_note(True, False).startswith("No dead-ReLU marks")
    assert dead_note(True, True).startswith("dead ReLU")
    assert optimizer_info(None) == {"name": "", "rule": "", "lr": None, "t": 0}
    trainer = Trainer(MLP(2, [2, 1], seed=0), datasets.moons(8, seed=0), lr=0.05)
    trainer.run(2)
    info = optimizer_info(trainer)
    assert info["lr"] == pytest.approx(0.05) and info["t"] == 2 and info["name"] == "sgd"
