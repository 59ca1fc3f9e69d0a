"""The parts GraphWidget is built from, without a widget: its synced state as pure functions
(_graph_state) and the followed sample (_graph_follow.Following)."""

from __future__ import annotations

import gc
import threading
import time

import numpy as np
import pytest

from micrograd_widgets import MLP, Trainer, Value, datasets
from micrograd_widgets import _graph_state as state
from micrograd_widgets._graph_follow import Following
from micrograd_widgets._graph_summary import index_graph, summarize
from micrograd_widgets.stepper import BackwardStepper


def reuse_graph():
    """L = a*b + tanh(a): ``a`` is used twice, so its grad sums two contributions."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    root = a * b + a.tanh()
    root.label = "L"
    graph = index_graph(root)
    summary = summarize(graph, frozenset(), 300)
    return graph, summary, BackwardStepper(root, graph.values, graph.name_of), a


def test_step_state_follows_the_stepper_grad_by_grad():
    graph, summary, stepper, a = reuse_graph()
    before = state.step_state(graph, summary, stepper)
    assert set(before["status"]) == {"p"} and before["done"] == 0 and before["active"] == -1
    stepper.step(1)
    first = state.step_state(graph, summary, stepper)
    assert first["done"] == 1 and first["lines"] == stepper.lines
    assert first["active"] == summary.unit_of[graph.index[graph.root]]
    stepper.run()
    done = state.step_state(graph, summary, stepper)
    assert done["finished"] and set(done["status"]) == {"f"}
    a_unit = summary.unit_of[graph.index[a]]
    assert done["sums"][str(a_unit)].startswith("a.grad = 0 + -3.0 (from *·1) + 0.07")


def test_replay_has_one_entry_per_step_and_is_dropped_past_the_cap(monkeypatch):
    graph, summary, stepper, a = reuse_graph()
    replay = state.replay_state(graph, summary, stepper, version=7)
    assert replay["version"] == 7 and len(replay["steps"]) == len(stepper.steps)
    a_unit = summary.unit_of[graph.index[a]]
    assert replay["spans"][a_unit] == list(stepper.consumer_span(a))
    assert replay["spans"][a_unit][0] < replay["spans"][a_unit][1]  # two consumers
    # the last step's grads are backward()'s
    graph.root.backward()
    final = dict(replay["steps"][-1][3])
    assert final[a_unit] == pytest.approx(a.grad)
    monkeypatch.setattr(state, "MAX_REPLAY_STEPS", len(stepper.steps) - 1)
    assert state.replay_state(graph, summary, stepper, version=8) == {}


def test_gradient_check_by_name_and_by_value_and_its_errors():
    graph, summary, _stepper, a = reuse_graph()
    by_name = state.gradient_check(graph, summary, "a")
    assert by_name == state.gradient_check(graph, summary, a)
    assert by_name["autograd"] == pytest.approx(-3.0 + 1 - np.tanh(2.0) ** 2)
    assert by_name["numeric"] == pytest.approx(by_name["autograd"], rel=1e-6)
    with pytest.raises(ValueError, match="no node named 'zz'"):
        state.gradient_check(graph, summary, "zz")
    with pytest.raises(ValueError, match="not part of this graph"):
        state.gradient_check(graph, summary, Value(1.0))
    with pytest.raises(TypeError, match="name or a Value"):
        state.gradient_check(graph, summary, 3)


def test_check_whole_refuses_bools_floats_and_out_of_range():
    assert state.check_whole("n", 3, 1, 5, "a count") == 3
    for bad in (True, 2.0, 0, 6, "3"):
        with pytest.raises(ValueError, match="n is a count: a whole number from 1 to 5"):
            state.check_whole("n", bad, 1, 5, "a count")


def small_trainer() -> Trainer:
    return Trainer(MLP(2, [4, 1], seed=0), datasets.moons(16, seed=0))


def test_following_rebuilds_in_place_and_records_frames_without_touching_the_live_graph():
    trainer = small_trainer()
    following = Following(trainer, 3, 10.0, 1, 10)
    root, info = following.first_graph()
    live = root.topological_order()
    first_loss = root.data
    trainer.run(5)
    new_root, info = following.rebuild(live, 3)
    assert new_root is None and info["step"] == 5 and following.replay_stale
    assert live[-1].data != first_loss  # the live graph's numbers were replaced in place
    shown = [(v.data, v.grad) for v in live]
    following.record_all(live, 3)  # the frame at step 0, on the same private model
    assert [(v.data, v.grad) for v in live] == shown  # put back after
    steps, rows = following.recording_rows(summarize(index_graph(root), frozenset(), 300))
    assert steps == [0]
    frame = np.frombuffer(rows, np.float32)
    assert frame.size == 2 * len(live) and np.float32(first_loss) in frame


def test_the_refresh_thread_ends_when_its_owner_is_collected():
    class Owner:
        passes = 0

        def background_pass(self) -> None:
            Owner.passes += 1

    following = Following(small_trainer(), 0, 10.0, 1, 10)
    following.first_graph()
    owner = Owner()
    following.start(owner.background_pass, name="mgw-test-follow")
    deadline = time.monotonic() + 10
    while Owner.passes == 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    del owner
    gc.collect()
    following.wake.set()
    deadline = time.monotonic() + 10
    while any(t.name == "mgw-test-follow" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the thread kept a collected owner alive"
        time.sleep(0.01)
    following.stop()
    assert following.trainer._observers == []
