"""The parts a Trainer is composed of, tested apart from it: its step record and observers
(_train_record), its optimizer over distinct parameters (_train_optimizer), its measurements
(_train_metrics) and its construction checks (_train_setup)."""

import functools
import logging
import math
import warnings

import numpy as np
import pytest

from micrograd_widgets import MLP, Trainer, Value, datasets, losses, optim
from micrograd_widgets._train_metrics import Metrics
from micrograd_widgets._train_optimizer import OptimizerChoice
from micrograd_widgets._train_record import History, Observers, StepLog
from micrograd_widgets._train_setup import (
    check_batch_size,
    check_divergence_factor,
    check_model,
    data_arrays,
    resolve_loss,
)
from micrograd_widgets._training_data import TrainingData

# ---- the step record -----------------------------------------------------------------------


def test_the_step_log_makes_each_entry_and_keeps_it_in_the_history():
    log = StepLog()
    record = log.append(0, 1.5, (0.75, 2.0, 0.5), 0.1)
    assert record == {
        "step": 0.0, "loss": 1.5, "accuracy": 0.75, "test_loss": 2.0, "test_accuracy": 0.5,
        "lr": 0.1,
    }  # fmt: skip
    log.append(1, 1.25, (0.8, math.nan, math.nan), 0.09)
    assert isinstance(log.history, History) and len(log.history) == 2
    assert log.history[-1]["loss"] == 1.25 and math.isnan(log.history[-1]["test_loss"])
    assert log.history.step.tolist() == [0.0, 1.0]


def test_divergence_is_a_loss_that_is_not_finite_or_grew_past_the_factor():
    log = StepLog()
    assert log.divergence(5.0, 10.0) == ""  # no first step yet: any finite loss is fine
    assert log.divergence(math.nan, 10.0) == "the loss is nan"
    assert log.divergence(math.inf, 10.0) == "the loss is inf"
    log.append(0, 2.0, (0.5, math.nan, math.nan), 1.0)
    assert log.divergence(20.0, 10.0) == ""  # exactly 10x the first: not yet
    assert log.divergence(20.5, 10.0) == "the loss grew from 2 to 20.5"
    tiny = StepLog()
    tiny.append(0, 1e-9, (1.0, math.nan, math.nan), 1.0)
    # a first loss near 0 is compared as 1e-3, so a perfect start does not make 1e-6 "diverged"
    assert tiny.divergence(1e-6, 10.0) == "" and tiny.divergence(0.02, 10.0) != ""


def test_the_divergence_warning_is_said_once_until_cleared():
    log = StepLog()
    message = log.diverged_message(7, "the loss is nan", 0.25)
    assert message == (
        "Training diverged at step 7: the loss is nan (learning rate 0.25). "
        "Lower the learning rate and reset."
    )
    with pytest.warns(RuntimeWarning, match="step 7"):
        log.warn_once(message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log.warn_once(message)  # said already: silent
    log.append(0, 1.0, (0.5, math.nan, math.nan), 0.1)
    log.clear()
    assert len(log.history) == 0
    with pytest.warns(RuntimeWarning):
        log.warn_once(message)


def test_observers_subscribe_unsubscribe_and_survive_a_broken_one(caplog):
    observers = Observers()
    seen = []

    def broken(event):
        raise ValueError("boom")

    def unsubscribes_itself(event):
        seen.append(("once", event))
        stop_once()

    observers.subscribe(broken)
    stop_once = observers.subscribe(unsubscribes_itself)
    stop = observers.subscribe(lambda event: seen.append(("all", event)))
    assert len(observers) == 3
    with caplog.at_level(logging.ERROR, logger="micrograd_widgets"):
        observers.notify("a")
    assert seen == [("once", "a"), ("all", "a")]  # the broken one did not stop the others
    assert "trainer observer failed" in caplog.text and "boom" in caplog.text
    observers.notify("b")
    assert seen[-1] == ("all", "b") and len(observers) == 2
    stop()
    stop()  # a second unsubscribe does nothing
    observers.remove(broken)
    assert observers == []
    with pytest.raises(TypeError, match="callable"):
        observers.subscribe("not a function")


# ---- the optimizer -------------------------------------------------------------------------


def tied_model():
    model = MLP(2, [3, 1], seed=0)
    model.layers[0].neurons[1].w[0] = model.layers[0].neurons[0].w[0]  # one Value, two places
    return model


def test_the_optimizer_sees_each_tied_value_once_and_its_change_lands_in_every_place():
    model = tied_model()
    parameters = model.parameters()
    choice = OptimizerChoice(parameters, "sgd", 0.5)
    shared = model.layers[0].neurons[0].w[0]
    places = [i for i, p in enumerate(parameters) if p is shared]
    assert len(places) == 2 and len(choice.current.parameters) == len(parameters) - 1
    grads = np.arange(len(parameters), dtype=np.float64)
    distinct = choice.distinct(grads)
    assert len(distinct) == len(parameters) - 1
    assert distinct[choice.current.parameters.index(shared)] == grads[places[0]]  # first place
    change = choice.spread(choice.current.step(grads=distinct))
    assert len(change) == len(parameters)
    assert change[places[0]] == change[places[1]] == -0.5 * grads[places[0]]


def test_without_tying_the_arrays_pass_through_and_a_switch_starts_fresh():
    parameters = MLP(2, [3, 1], seed=0).parameters()
    choice = OptimizerChoice(parameters, "momentum", None)
    grads = np.ones(len(parameters))
    assert choice.distinct(grads) is grads
    choice.current.step(grads=grads)
    assert choice.current.steps_done == 1
    adam = choice.switch("adam", lr=0.01)
    assert choice.current is adam and isinstance(adam, optim.Adam) and adam.lr == 0.01
    assert adam.steps_done == 0 and adam.parameters == parameters
    change = np.arange(len(parameters), dtype=np.float64)
    assert choice.spread(change) is change


def test_an_optimizer_object_takes_no_lr_and_must_be_over_the_same_parameters():
    parameters = MLP(2, [3, 1], seed=0).parameters()
    sgd = optim.SGD(parameters)
    assert OptimizerChoice(parameters, sgd, None).current is sgd
    with pytest.raises(ValueError, match="own"):
        OptimizerChoice(parameters, sgd, 0.1)
    with pytest.raises(ValueError, match="other parameters"):
        OptimizerChoice(MLP(2, [3, 1], seed=1).parameters(), sgd, None)


def test_restart_puts_back_the_initial_weights_and_a_fresh_optimizer_state():
    model = tied_model()
    parameters = model.parameters()
    initial = [p.data for p in parameters]
    choice = OptimizerChoice(parameters, "momentum", 0.1)
    for _ in range(2):
        choice.current.step(grads=np.ones(len(choice.current.parameters)))
    for p in parameters:
        p.grad = 3.0
    assert [p.data for p in parameters] != initial and choice.current.steps_done == 2
    assert np.any(choice.current.state_arrays()["velocity"] != 0)
    optimizer = choice.current
    choice.restart()
    assert [p.data for p in parameters] == initial and all(p.grad == 0.0 for p in parameters)
    assert choice.current is optimizer and optimizer.steps_done == 0  # the same one, reset
    assert not np.any(optimizer.state_arrays()["velocity"])


def test_a_trainer_with_tied_weights_applies_each_gradient_once():
    data = datasets.moons(12, noise=0.1, seed=1)
    with pytest.warns(UserWarning, match="weight tying"):
        trainer = Trainer(tied_model(), data, lr=0.1)
    reference = tied_model()
    distinct = list(dict.fromkeys(reference.parameters()))
    for _ in range(3):
        trainer.step()
        outputs = [reference(row) for row in data.X.tolist()]
        total = losses.total_loss(outputs, data.y, reference.parameters())
        reference.zero_grad()
        total.backward()
        for p in distinct:  # the seed's update, once per Value
            p.data -= 0.1 * p.grad
    assert [p.data for p in trainer.parameters] == [p.data for p in reference.parameters()]
    shared = trainer.model.layers[0].neurons[0].w[0]
    places = [i for i, p in enumerate(trainer.parameters) if p is shared]
    assert trainer.last_update[places[0]] == trainer.last_update[places[1]] != 0.0


# ---- measurements --------------------------------------------------------------------------


def metrics_for(model, data, *, loss="svm", regularization="l2", alpha=1e-4):
    training = TrainingData(model, data.X, data.y, data.X_test, data.y_test, 1)
    resolved = losses.resolve_loss(loss)
    return Metrics(model, training, 1, model.parameters(), resolved, loss, regularization, alpha)


def test_step_metrics_use_the_whole_training_set_and_the_test_split():
    data = datasets.moons(30, noise=0.2, seed=4, test_size=10)
    model = MLP(2, [4, 1], seed=2)
    metrics = metrics_for(model, data)
    scores = model.predict(data.X).ravel()
    accuracy = losses.accuracy(scores, data.y)
    test_scores = model.predict(data.X_test).ravel()
    penalty = 1e-4 * sum(p.data**2 for p in model.parameters())
    test_loss = losses.numpy_data_loss("svm", test_scores, data.y_test) + penalty
    whole = metrics.of_step(scores, data.y)
    assert whole[0] == accuracy and whole[1] == pytest.approx(test_loss, rel=1e-12)
    assert whole[2] == losses.accuracy(test_scores, data.y_test)
    # a mini-batch's scores are not the step's accuracy: the whole training set is
    batch = metrics.of_step(-scores[:5], data.y[:5])
    assert batch == whole


def test_without_a_test_split_the_held_out_metrics_are_nan():
    data = datasets.moons(20, seed=0)
    metrics = metrics_for(MLP(2, [4, 1], seed=0), data)
    assert all(math.isnan(v) for v in metrics.held_out())
    assert metrics.confusion("test").tolist() == [[0, 0], [0, 0]]
    with pytest.raises(ValueError, match="'train' or 'test'"):
        metrics.confusion("validation")


def test_the_penalty_follows_the_regularization_it_was_made_with():
    model = MLP(2, [3, 1], seed=0)
    data = datasets.moons(10, seed=0)
    values = np.array([p.data for p in model.parameters()])
    assert metrics_for(model, data, regularization=None).penalty() == 0.0
    l1 = metrics_for(model, data, regularization="l1", alpha=0.5).penalty()
    assert l1 == pytest.approx(0.5 * np.abs(values).sum(), rel=1e-12)
    evaluated = metrics_for(model, data, regularization="l1", alpha=0.5).evaluate(None, None)
    plain = metrics_for(model, data, regularization=None).evaluate(None, None)
    assert evaluated["loss"] == pytest.approx(plain["loss"] + l1, rel=1e-12)
    assert evaluated["accuracy"] == plain["accuracy"]


def test_changing_the_trainers_penalty_between_steps_shows_in_evaluate():
    trainer = Trainer(MLP(2, [3, 1], seed=0), datasets.moons(10, seed=0), engine="scalar")
    before = trainer.evaluate()["loss"]
    trainer.alpha = 1.0
    values = np.array([p.data for p in trainer.parameters])
    after = trainer.evaluate()["loss"]
    assert after - before == pytest.approx((1.0 - 1e-4) * (values**2).sum(), rel=1e-9)


# ---- construction checks -------------------------------------------------------------------


def test_data_comes_from_a_dataset_or_from_arrays_never_both():
    data = datasets.moons(10, seed=0, test_size=4)
    X, y, X_test, y_test = data_arrays(data, None, None, None)
    assert X is data.X and y is data.y and X_test is data.X_test and y_test is data.y_test
    assert data_arrays(data.X, data.y, None, None) == (data.X, data.y, None, None)
    with pytest.raises(ValueError, match="either a Dataset or X and y"):
        data_arrays(data, data.y, None, None)


def test_the_loss_is_resolved_named_and_checked_against_the_outputs():
    assert resolve_loss("svm", 1) == (losses.svm_loss, "svm", "svm")
    assert resolve_loss(losses.log_loss, 1) == (losses.log_loss, "log_loss", "log")
    multiclass = (losses.cross_entropy_loss, "cross_entropy", "cross_entropy")
    assert resolve_loss("cross_entropy", 3) == multiclass

    def mine(outputs, y):
        return losses.svm_loss(outputs, y)

    assert resolve_loss(mine, 1) == (mine, "mine", None)
    assert resolve_loss(mine, 3)[2] is None  # the user's own: no outputs check
    unnamed = functools.partial(losses.svm_loss)
    assert resolve_loss(unnamed, 1) == (unnamed, "custom", None)
    with pytest.raises(ValueError, match="binary loss"):
        resolve_loss("mse", 3)
    with pytest.raises(ValueError, match="needs one output per class"):
        resolve_loss("cross_entropy", 1)
    with pytest.raises(ValueError):
        resolve_loss("hinge", 1)


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "8"])
def test_a_batch_size_is_none_or_a_positive_int(bad):
    assert check_batch_size(None) is None and check_batch_size(np.int64(8)) == 8
    with pytest.raises(ValueError, match="batch_size must be None"):
        check_batch_size(bad)


@pytest.mark.parametrize("bad", [1, 0.5, True, "10", None])
def test_the_divergence_factor_is_a_number_above_one(bad):
    assert check_divergence_factor(2) == 2.0
    with pytest.raises(ValueError, match="divergence_factor must be a number > 1"):
        check_divergence_factor(bad)


def test_the_model_must_be_a_callable_module():
    model = MLP(2, [3, 1])
    assert check_model(model) is model
    with pytest.raises(TypeError, match="callable Module such as MLP, got Value"):
        check_model(Value(1.0))
