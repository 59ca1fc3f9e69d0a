"""_graph_content.GraphContent: a root Value turned into the traits a GraphWidget sends (layout,
folding, the step-through, a followed sample), without a widget or a comm."""

from __future__ import annotations

import numpy as np
import pytest

from micrograd_widgets import MLP, Trainer, Value, datasets
from micrograd_widgets._graph_content import (
    REFRESHED,
    GraphContent,
    check_options,
    check_sample,
)
from micrograd_widgets._graph_follow import Following


def reuse_graph() -> tuple[Value, Value]:
    """L = a*b + tanh(a): ``a`` is used twice."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    root = a * b + a.tanh()
    root.label = "L"
    return root, a


def mlp_graph() -> tuple[Value, MLP]:
    model = MLP(2, [3, 2, 1], seed=0)
    out = model([0.5, -1.0])
    out.label = "out"
    return out, model


def test_the_first_layout_sends_every_trait_of_the_drawing_in_one_dict():
    root, _a = reuse_graph()
    content = GraphContent(root, None, 300)
    traits = content.layout()
    assert list(traits) == ["selected", "topology", "numbers", "step_state", "replay"]
    topology = traits["topology"]
    assert traits["selected"] == -1 and topology["version"] == 1
    assert [u["name"] for u in topology["units"]] == [content.graph.name(i) for i in range(5)]
    assert topology["total"] == topology["shown"] == 5
    # data and grad per unit, then one local derivative per edge, as float64
    numbers = np.frombuffer(traits["numbers"], "<f8")
    assert numbers.size == 2 * 5 + len(topology["edges"])
    assert numbers[topology["root"]] == root.data
    assert traits["replay"]["version"] == 1 and len(traits["replay"]["steps"]) == 3
    assert content.layout()["topology"]["version"] == 2  # each layout is a new version


def test_a_refused_root_or_model_leaves_the_shown_graph_alone():
    root, _a = reuse_graph()
    content = GraphContent(root, None, 300)
    with pytest.raises(TypeError, match="expects a Value"):
        content.set_root(1.5, None, 300)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="model must be a Module"):
        content.set_root(root, "mlp", 300)  # type: ignore[arg-type]
    assert content.graph.root is root and content.version == 0
    with pytest.raises(TypeError, match="expects a Value"):
        GraphContent([root], None, 300)  # type: ignore[arg-type]


def test_folding_by_name_and_by_the_views_click_gives_a_new_layout():
    out, model = mlp_graph()
    content = GraphContent(out, model, 300)
    assert content.summary.collapsed == frozenset()  # small enough to draw whole
    neuron = "layers.0.neurons.1"
    sid = content.graph.scope_id(neuron)
    folded = content.collapse(neuron)
    groups = [u for u in folded["topology"]["units"] if u["kind"] == "group"]
    assert [g["scope"] for g in groups] == [sid] and groups[0]["name"] == neuron
    assert content.summary.collapsed == {sid}
    opened = content.toggle(sid)  # the view's click opens a folded group
    assert content.summary.collapsed == frozenset()
    assert opened["topology"]["version"] == folded["topology"]["version"] + 1
    content.toggle(sid)  # and folds an open one
    assert content.summary.collapsed == {sid}
    content.expand(neuron)
    assert content.summary.collapsed == frozenset()
    with pytest.raises(ValueError, match="toggle: expected a group index from 0 to"):
        content.toggle(len(content.graph.scopes))
    with pytest.raises(TypeError, match=r"expand\(scope\): scope is a module's dotted name"):
        content.expand(3)  # type: ignore[arg-type]
    with pytest.raises(KeyError, match=r"no module scope 'layers\.9' in this graph"):
        content.collapse("layers.9")


def test_the_step_through_traits_follow_the_stepper_and_end_at_backwards_grads():
    root, a = reuse_graph()
    content = GraphContent(root, None, 300)
    traits = content.step()
    assert list(traits) == ["numbers", "step_state"]
    assert traits["step_state"]["done"] == 1 and content.stepper.lines[0].startswith("L.grad = 1.0")
    done = content.run()["step_state"]
    assert done["finished"] and done["status"] == "fffff"
    grads = [v.grad for v in content.graph.values]
    for v in content.graph.values:
        v.grad = 0.0
    root.backward()
    assert [v.grad for v in content.graph.values] == grads
    assert a.grad == -3.0 + (1 - np.tanh(2.0) ** 2)
    state = content.reset()["step_state"]
    assert state["done"] == 0 and state["status"] == "ppppp"
    assert all(v.grad == 0.0 for v in content.graph.values)


def test_a_refresh_after_the_callers_backward_counts_its_grads_as_computed():
    root, _a = reuse_graph()
    content = GraphContent(root, None, 300)
    content.step(2)
    root.backward()  # outside the step-through
    (traits,) = content.refreshed(-1, 300)
    assert traits["step_state"]["status"] == "fffff" and not traits["step_state"]["seeded"]
    assert traits["step_state"]["lines"] == [REFRESHED]
    assert "replay" in traits


def test_what_the_view_may_select_and_check_is_a_drawn_node():
    root, a = reuse_graph()
    content = GraphContent(root, None, 300)
    a_unit = content.summary.unit_of[content.graph.index[a]]
    assert content.selectable(-1) == -1 and content.selectable(a_unit) == a_unit
    for bad in (content.unit_count, -2, "1", None):
        with pytest.raises(ValueError, match="select: expected a node index from -1 to 4"):
            content.selectable(bad)
    assert content.checkable(a_unit) is a and content.value_at(a_unit) is a
    with pytest.raises(ValueError, match="perturbs a leaf"):
        content.checkable(content.summary.root_unit)
    with pytest.raises(ValueError, match="check: expected the index of a drawn node"):
        content.checkable(99)
    check = content.check("a")["check"]
    assert check["unit"] == a_unit and check["name"] == "a"
    assert check["autograd"] == pytest.approx(check["numeric"], rel=1e-6)


def test_options_and_the_sample_are_checked_with_clear_errors():
    check_options("TB", {"height": 300}, ["height", "font_size", "selected"])
    with pytest.raises(ValueError, match="rankdir must be one of LR, TB"):
        check_options("XY", {}, [])
    with pytest.raises(TypeError, match="unexpected keyword argument\\(s\\) heigth, selected"):
        check_options("LR", {"heigth": 300, "selected": 2}, ["height", "selected"])
    assert check_sample(None, -1) == -1
    for bad in (0, True, -1.0):
        with pytest.raises(ValueError, match=r"GraphWidget.follow\(trainer, sample=...\)"):
            check_sample(None, bad)


def test_a_followed_sample_is_laid_out_by_neuron_and_rebuilt_after_training_steps():
    trainer = Trainer(MLP(2, [4, 1], seed=0), datasets.moons(16, seed=0))
    following = Following(trainer, 3, 10.0, 1, 10)
    root, info = following.first_graph()
    content = GraphContent(root, following.source.shadow, 300)
    assert content.trainer is None and content.recording() == {}
    started = content.start_following(following, info)
    assert list(started) == ["link", "sample", "followed", "numbers", "step_state"]
    assert started["link"] == trainer.link_id and started["sample"] == 3
    assert started["followed"]["loss"] == root.data and started["step_state"]["finished"]
    assert content.trainer is trainer and check_sample(following, 5) == 5
    laid_out = content.fold_innermost(300)
    assert {"recording", "recording_steps", "topology", "replay"} <= set(laid_out)
    groups = [u for u in laid_out["topology"]["units"] if u["kind"] == "group"]
    assert len(groups) == 4 + 1  # one folded box per neuron
    before = root.data
    trainer.run(3)
    rebuilt = content.rebuilt(3, 300)
    assert "topology" not in rebuilt  # the same structure: the layout stays
    assert rebuilt["followed"]["step"] == 3 and rebuilt["followed"]["loss"] == root.data != before
    # refresh(): rebuilt (timed until the widget has sent it), every recorded frame's numbers,
    # then the replay
    messages = content.refreshed(3, 300)
    assert next(messages)["followed"]["step"] == 3 and content.refresh_times_ms == []
    recording, replay = messages
    assert len(content.refresh_times_ms) == 1
    assert recording["recording_steps"] == [0] and not following.replay_stale
    assert replay["replay"]["version"] == content.version
    content.stop_following()
    assert trainer._observers == []


def test_a_followed_pass_rebuilds_only_after_a_step_and_a_new_sample_starts_over():
    trainer = Trainer(MLP(2, [4, 1], seed=0), datasets.moons(16, seed=0))
    following = Following(trainer, 3, 10.0, 1, 10)
    root, info = following.first_graph()
    content = GraphContent(root, following.source.shadow, 300)
    content.start_following(following, info)

    class Owner:
        def background_pass(self) -> None:
            pass  # the test runs the passes itself

    owner = Owner()
    following.start(owner.background_pass, name="mgw-test-content")
    try:
        trainer.run(2)
        first = list(content.followed_pass(3, 300))
        assert first[0]["followed"]["step"] == 2 and first[0]["followed"]["sample"] == 3
        # then the recorded frames' numbers (due) and, training not running, the replay
        assert [set(traits) for traits in first[1:]] == [
            {"recording", "recording_steps"},
            {"replay"},
        ]
        assert len(content.refresh_times_ms) == 1
        # no step since: nothing to rebuild, nothing timed
        assert all("followed" not in traits for traits in content.followed_pass(3, 300))
        assert len(content.refresh_times_ms) == 1
        rebuilt, recording = content.new_sample(5, 300)
        assert rebuilt["followed"]["sample"] == 5 and rebuilt["followed"]["step"] == 2
        assert set(recording) == {"recording", "recording_steps"}
        assert len(content.refresh_times_ms) == 2 and following.wake.is_set()
    finally:
        content.stop_following()
    assert trainer._observers == []
