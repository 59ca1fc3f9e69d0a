"""GraphWidget.follow: one training sample's loss graph, refreshed as the trainer steps, with the
step-through's order, sums and pending grads, and the numeric check."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from micrograd_widgets import MLP, GraphWidget, Trainer, Value, datasets, losses
from micrograd_widgets._graph_summary import WeightRecording
from micrograd_widgets.stepper import (
    BackwardStepper,
    finite_difference,
    format_number,
    fresh_grads,
    record_backward,
)


def seed_trainer(**kwargs) -> Trainer:
    """The seed's demo: moons(128, noise=0.1), MLP(2, [16, 16, 1]), SVM loss."""
    return Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(128, noise=0.1, seed=0), **kwargs)


def sample_loss_on_the_model(trainer: Trainer, i: int) -> Value:
    """That sample's loss built on the trainer's own model, the plain way (not the widget's)."""
    x = [Value(float(v)) for v in trainer.X[i]]
    return trainer.loss([trainer.model(x)], [float(trainer.y[i])])


def by_name(g: GraphWidget) -> dict[str, Value]:
    return {g._content.graph.name_of(v): v for v in g._content.graph.values}


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_followed_graph_is_one_samples_loss_with_parameters_named_and_its_grads():
    trainer = seed_trainer()
    trainer.run(3)
    g = GraphWidget.follow(trainer, sample=5)
    try:
        reference = sample_loss_on_the_model(trainer, 5)
        trainer.model.zero_grad()
        reference.backward()
        nodes = by_name(g)
        assert (
            g._content.graph.root.data == reference.data and g._content.graph.root.label == "loss"
        )
        assert nodes["x0"].data == trainer.X[5][0] and nodes["x1"].data == trainer.X[5][1]
        assert "score" in nodes
        for name, p in trainer.model.named_parameters():
            assert nodes[name].data == p.data and nodes[name].grad == p.grad, name
        assert g.followed == {
            "sample": 5,
            "count": 128,
            "x": list(trainer.X[5]),
            "label": float(trainer.y[5]),
            "label_text": f"{trainer.y[5]:+g}",
            "step": 3,
            "loss": reference.data,
        }
        assert g.link == trainer.link_id and g.sample == 5 and g.trainer is trainer
        assert g.finished and set(g.step_state["status"]) <= {"f", "-"}
    finally:
        g.close()


def test_following_never_touches_the_trainers_weights_or_grads():
    trainer = seed_trainer()
    trainer.run(2)
    before = [(p.data, p.grad) for p in trainer.parameters]
    g = GraphWidget.follow(trainer, sample=0)
    try:
        g.reset_grads()
        g.step(40)
        g.run()
        g.check_gradient("layers.0.neurons.0.w.0")
        g.sample = 7
        assert [(p.data, p.grad) for p in trainer.parameters] == before
    finally:
        g.close()


def test_it_refreshes_after_steps_on_its_own_thread_keeping_the_layout():
    trainer = seed_trainer()
    g = GraphWidget.follow(trainer, sample=2)
    try:
        version, loss = g.topology["version"], g.followed["loss"]
        trainer.run(4)
        wait_for(lambda: g.followed["step"] == 4)
        assert g.followed["loss"] != loss
        assert g.followed["loss"] == sample_loss_on_the_model(trainer, 2).data
        assert g.topology["version"] == version  # same graph, new numbers: no new layout
        wait_for(lambda: len(g.refresh_times_ms) > 0)
    finally:
        g.close()
    # closed: the refresh thread ends and the trainer no longer wakes it
    wait_for(lambda: not any(t.name.startswith("mgw-graph-follow") for t in threading.enumerate()))
    assert trainer._observers == []


def test_the_sample_switches_from_python_and_from_a_linked_view():
    trainer = seed_trainer()
    g = GraphWidget.follow(trainer, sample=0)
    try:
        g.sample = 9
        assert g.followed["sample"] == 9 and by_name(g)["x0"].data == trainer.X[9][0]
        g._route_message(g, {"type": "follow_sample", "index": 11}, [])
        assert g.sample == 11 and g.followed["sample"] == 11 and g.error == ""
        g._route_message(g, {"type": "follow_sample", "index": None}, [])  # cleared: stays
        assert g.sample == 11
        g._route_message(g, {"type": "follow_sample", "index": 500}, [])
        assert g.sample == 11 and "a whole number from 0 to 127" in g.error
    finally:
        g.close()


@pytest.mark.parametrize("bad", [128, -1, 2.0, True, "3", None])
def test_a_bad_sample_is_refused_with_what_was_expected(bad):
    trainer = seed_trainer()
    with pytest.raises((ValueError, TypeError), match="sample"):
        GraphWidget.follow(trainer, sample=bad)
    g = GraphWidget.follow(trainer, sample=1)
    try:
        with pytest.raises(Exception, match="sample"):
            g.sample = bad
        assert g.sample == 1 and g.followed["sample"] == 1
    finally:
        g.close()


def test_what_cannot_be_followed_says_why():
    with pytest.raises(TypeError, match="expects a Trainer"):
        GraphWidget.follow(MLP(2, [3, 1], seed=0))
    trainer = seed_trainer()
    # (a Trainer refuses no points; its data could still lose them all, e.g. removed by clicks)
    trainer._data.X, trainer._data.y = np.zeros((0, 2)), np.zeros(0)
    with pytest.raises(ValueError, match="no training samples"):
        GraphWidget.follow(trainer)

    def batch_only(scores, y):  # a custom loss that needs several samples
        if len(scores) < 2:
            raise ValueError("needs a batch")
        return sum(scores[1:], scores[0])

    custom = seed_trainer(loss=batch_only)
    with pytest.raises(ValueError, match=r"cannot split batch_only per sample: .*needs a batch"):
        GraphWidget.follow(custom)
    with pytest.raises(ValueError, match="sample is the followed training sample"):
        GraphWidget(Value(1.0)).sample = 0


def test_step_through_is_refused_while_training_runs_and_works_when_paused():
    trainer = seed_trainer(speed=20)
    g = GraphWidget.follow(trainer, sample=0)
    try:
        trainer.start()
        with pytest.raises(RuntimeError, match="pause the trainer first"):
            g.step()
        g._route_message(g, {"type": "reset"}, [])
        assert "pause the trainer first" in g.error
        trainer.pause()
        g.reset_grads()
        assert set(g.step_state["status"]) <= {"p", "-"}
        g.step()
        assert g.step_state["done"] == 1
    finally:
        trainer.stop()
        g.close()


def test_the_numeric_check_agrees_with_autograd_on_every_weight_of_the_seed_net():
    trainer = seed_trainer()
    trainer.run(10)
    g = GraphWidget.follow(trainer, sample=4)
    try:
        worst = 0.0
        names = [name for name, _ in trainer.model.named_parameters()]
        for name in names:
            result = g.check_gradient(name)
            assert result["name"] == name and result["note"] == ""
            worst = max(worst, result["relative_error"])
        assert worst < 1e-6
        nonzero = [g.check_gradient(n)["autograd"] for n in names]
        assert sum(1 for x in nonzero if x != 0.0) > 20  # a real check, not of zeros
        with pytest.raises(ValueError, match="no node named"):
            g.check_gradient("nope")
        g._route_message(g, {"type": "check", "unit": g._content.summary.root_unit}, [])
        assert "perturbs a leaf" in g.error
    finally:
        g.close()


def test_finite_difference_leaves_the_graph_as_it_was_and_says_when_it_spans_a_kink():
    a, b = Value(0.5, label="a"), Value(-2.0, label="b")
    out = (a * b).tanh() + (a.exp() * 3).log() + (a**3 / b) + (-b).sigmoid()
    values = out.topological_order()
    before = [(v.data, v._da, v._db) for v in values]
    result = finite_difference(values, a)
    assert [(v.data, v._da, v._db) for v in values] == before
    assert result.relative_error < 1e-8 and result.autograd == fresh_grads(values)[a]
    assert result.h == pytest.approx(6.06e-6, rel=1e-2)
    x = Value(1e-7, label="x")
    kinked = x.relu()
    assert "ReLU switches" in finite_difference(kinked.topological_order(), x).note
    with pytest.raises(ValueError, match="perturbs a leaf"):
        finite_difference(values, values[-2])


def test_fresh_grads_are_backwards_without_touching_any_grad():
    a = Value(1.5, label="a")
    out = (a * a + a).tanh()
    values = out.topological_order()
    grads = fresh_grads(values)
    assert a.grad == 0.0
    out.backward()
    assert grads[a] == a.grad


def test_the_stepper_knows_each_grads_state_and_how_a_reused_node_sums():
    a = Value(2.0, label="a")
    n1 = a * 3.0
    n1.label = "n1"
    n2 = a.tanh()
    n2.label = "n2"
    out = n1 + n2
    out.label = "out"
    stepper = BackwardStepper(out)
    assert stepper.step_of[out] == 1 and a not in stepper.step_of
    assert stepper.grad_status(a) == "pending"
    stepper.step()  # out: pushes into n1 and n2
    assert stepper.grad_status(n1) == "final" and stepper.grad_status(a) == "pending"
    stepper.step()  # the first of n1 / n2 pushes into a
    assert stepper.grad_status(a) == "partial"
    lines = stepper.step()
    assert stepper.grad_status(a) == "final"
    first, second = stepper.received[a][1]
    fmt = format_number
    expected = (
        f"a.grad = 0 + {fmt(first[1])} (from {first[0].label}) + "
        f"{fmt(second[1])} (from {second[0].label}) = {fmt(a.grad)}"
    )
    assert stepper.grad_sum(a) == expected
    assert lines[-1].endswith("→  " + expected)


def test_op_nodes_carry_their_backward_step_in_the_topology():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = a * b
    c.label = "c"
    out = c + a
    out.label = "out"
    g = GraphWidget(out)
    order = {u["name"]: u["order"] for u in g.topology["units"]}
    assert order == {"a": 0, "b": 0, "c": 2, "out": 1}
    assert g.step_state["status"] == "pppp"  # nothing computed yet: not the same as 0
    out.backward()
    g.refresh()
    assert g.step_state["status"] == "ffff"  # grads of the caller's backward() are computed


def test_the_weight_recording_thins_to_span_the_run_within_its_cap():
    recording = WeightRecording(max_frames=4)
    for step in range(20):
        if recording.wants(step):
            recording.add(step, [float(step)])
    assert recording.steps == [0, 8, 16] and recording.every == 8
    assert [w[0] for w in recording.weights] == [0.0, 8.0, 16.0]
    recording.add(16, [99.0])  # a step recorded twice keeps the first
    assert [s for s, _ in recording.missing()] == [0, 8, 16]
    recording.set_numbers(8, np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]))
    steps, rows = recording.per_unit([2, -1, 0])  # units: value 2, nothing, value 0
    assert steps == [8]
    assert np.frombuffer(rows, "<f4").reshape(2, 3)[:, [0, 2]].tolist() == [[3, 1], [6, 4]]
    assert np.isnan(np.frombuffer(rows, "<f4")[1])
    recording.clear()
    assert recording.steps == [] and recording.every == 1


def recorded_rows(g: GraphWidget) -> np.ndarray:
    return np.frombuffer(g.recording, "<f4").reshape(len(g.recording_steps), 2, -1)


def test_the_followed_graph_records_its_numbers_at_recorded_steps_for_the_sample_shown():
    trainer = seed_trainer()
    g = GraphWidget.follow(trainer, sample=3, max_recorded=8)
    try:
        trainer.run(20)
        wait_for(lambda: g.recording_steps and g.recording_steps[-1] == 20)
        assert g.recording_steps == [0, 4, 8, 12, 16, 20]  # thinned: every 4th step
        rows = recorded_rows(g)
        root = g._content.summary.root_unit
        # the last frame is the live graph at step 20, in float32
        assert rows[-1, 0, root] == np.float32(g._content.graph.root.data)
        # the first is the untrained model's loss on sample 3
        fresh = seed_trainer()
        assert rows[0, 0, root] == np.float32(sample_loss_on_the_model(fresh, 3).data)
        g.sample = 40  # another sample: every recorded step is worked out again for it
        again = np.float32(sample_loss_on_the_model(fresh, 40).data)
        wait_for(lambda: len(g.recording_steps) == 6 and recorded_rows(g)[0, 0, root] == again)
        assert len(g.recording) == 6 * 2 * len(g._content.summary.units) * 4  # the documented size
    finally:
        g.close()


def test_the_recorded_backward_pass_replays_the_live_step_through_and_touches_no_grad():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    n1 = a * b
    n1.label = "n1"
    n2 = a.tanh()
    n2.label = "n2"
    out = n1 + n2
    out.label = "out"
    values = out.topological_order()
    out.backward()
    grads = [v.grad for v in values]
    record = record_backward(out, values)
    assert [v.grad for v in values] == grads
    live = BackwardStepper(out, values)
    live.reset()
    for recorded in record:
        assert list(recorded.lines) == live.step()
        assert recorded.node is live.active
        assert all(v.grad == g for v, g in recorded.grads)
    assert len(record) == len(live.steps) and live.finished


def test_the_widget_ships_its_recorded_pass_for_a_view_without_a_kernel():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    n1 = a * b
    n1.label = "n1"
    out = n1 + a
    out.label = "out"
    g = GraphWidget(out)
    replay = g.replay
    assert replay["version"] == g.topology["version"]
    unit = {u["name"]: k for k, u in enumerate(g.topology["units"])}
    assert [step[0] for step in replay["steps"]] == [unit["out"], unit["n1"]]
    for step in replay["steps"]:
        assert step[2] == g.step()  # the lines the kernel shows, step for step
        shown = np.frombuffer(g.numbers, "<f8")[len(unit) :]
        assert all(shown[u] == grad for u, grad in step[3])
    assert replay["spans"][unit["a"]] == [1, 2]  # used by steps 1 and 2: final after step 2

    trainer = seed_trainer()
    followed = GraphWidget.follow(trainer, sample=0)
    try:
        steps = followed.replay["steps"]
        assert len(steps) == len(followed._content.stepper.steps)
        # a folded neuron shows its output's grad: the replay changes it on the group's unit
        groups = {k for k, u in enumerate(followed.topology["units"]) if u["kind"] == "group"}
        assert any(u in groups for step in steps for u, _ in step[3])
    finally:
        followed.close()


def test_refresh_after_a_backward_of_the_callers_shows_its_grads_as_computed():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    out = a * b + a
    out.label = "out"
    g = GraphWidget(out)
    g.step()  # mid-way through a pass: a's grad is still partial
    assert "p" in g.step_state["status"] or "s" in g.step_state["status"]
    for v in out.topological_order():
        v.grad = 0.0
    out.backward()
    g.refresh()
    assert set(g.step_state["status"]) == {"f"} and not g.finished
    assert g.step_state["lines"][0].startswith("Redrawn from the Values")
    assert "grads were not zero" in " ".join(g.step())  # a new pass adds to them, and says so


def test_a_k_class_trainer_is_followed_through_that_samples_cross_entropy():
    trainer = Trainer(
        MLP(2, [8, 3], seed=0), datasets.spiral(60, classes=3, seed=0), loss="cross_entropy"
    )
    g = GraphWidget.follow(trainer, sample=5)
    try:
        trainer.run(3)
        g.refresh()
        label = trainer.y[5:6]
        expected = losses.cross_entropy_loss_np(trainer.model.predict(trainer.X[5:6]), label)
        assert g.followed["label"] == label[0]
        assert g.followed["label_text"] == f"class {label[0]:g}"
        assert g.followed["loss"] == pytest.approx(expected, rel=1e-12)
        assert {"score.0", "score.1", "score.2"} <= set(by_name(g))
        assert g.check_gradient("layers.1.neurons.2.w.0")["relative_error"] < 1e-6
    finally:
        g.close()
