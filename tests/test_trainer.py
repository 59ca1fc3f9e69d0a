import gc
import math
import os
import signal
import statistics
import threading
import time
import tracemalloc
import warnings

import numpy as np
import pytest
from helpers import wait_for

from micrograd_widgets import MLP, Module, Trainer, Value, datasets, losses, optim
from micrograd_widgets.train import TrainingDiverged, default_schedule


def tiny(seed=0, **kwargs):
    """A trainer fast enough (~1 ms/step) for threading tests."""
    return Trainer(MLP(2, [4, 1], seed=seed), datasets.moons(16, seed=seed), **kwargs)


def test_default_schedule_is_the_seeds_then_holds():
    assert [default_schedule(k) for k in (0, 10, 50, 100)] == pytest.approx([1.0, 0.91, 0.55, 0.1])
    assert default_schedule(112) == pytest.approx(0.1)  # the seed's formula would be negative


def test_steps_equal_the_seeds_training_loop():
    data = datasets.moons(24, noise=0.1, seed=3)
    ours, reference = MLP(2, [4, 4, 1], seed=5), MLP(2, [4, 4, 1], seed=5)
    trainer = Trainer(ours, data)
    for k in range(3):
        record = trainer.step()
        # the seed's loop, verbatim
        inputs = [list(map(Value, xrow)) for xrow in data.X]
        scores = list(map(reference, inputs))
        seed_losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(data.y, scores)]
        data_loss = sum(seed_losses) * (1.0 / len(seed_losses))
        total_loss = data_loss + 1e-4 * sum(p * p for p in reference.parameters())
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(data.y, scores)]
        reference.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in reference.parameters():
            p.data -= learning_rate * p.grad
        assert record["loss"] == pytest.approx(total_loss.data, rel=1e-12)
        assert record["accuracy"] == sum(accuracy) / len(accuracy)
        assert record["lr"] == learning_rate
    assert [p.data for p in ours.parameters()] == pytest.approx(
        [p.data for p in reference.parameters()], rel=1e-12
    )
    assert len(trainer.history) == 3 and trainer.steps_done == 3
    assert trainer.history.step.tolist() == [0.0, 1.0, 2.0]


def test_history_has_test_metrics_only_with_a_split():
    split = Trainer(MLP(2, [4, 1], seed=0), datasets.moons(40, seed=0, test_size=0.25))
    record = split.step()
    assert 0 <= record["test_accuracy"] <= 1 and record["test_loss"] > 0
    no_split = tiny()
    assert math.isnan(no_split.step()["test_loss"])
    assert math.isnan(no_split.history[0]["test_accuracy"])


def test_a_custom_loss_named_like_a_builtin_is_used_for_the_test_loss():
    def svm(scores, y):  # the user's own loss; only its name matches the built-in "svm"
        return losses.svm_loss(scores, y) * 2.0

    data = datasets.moons(40, seed=0, test_size=0.25)
    model = MLP(2, [4, 1], seed=0)
    expected = svm([model(row) for row in data.X_test.tolist()], data.y_test).data
    record = Trainer(model, data, loss=svm, regularization=None).step()
    assert record["test_loss"] == pytest.approx(expected, rel=1e-12)


def test_a_module_without_predict_trains_with_mini_batches_and_a_test_split():
    # "any Module mapping a row to one Value": the metrics must not need MLP.predict
    class Linear(Module):
        def __init__(self):
            self.w, self.b = [Value(0.5), Value(-0.25)], Value(0.1)

        def __call__(self, x):
            return self.w[0] * x[0] + self.w[1] * x[1] + self.b

        def named_parameters(self):
            yield from (("w.0", self.w[0]), ("w.1", self.w[1]), ("b", self.b))

    data = datasets.moons(40, seed=0, test_size=0.25)
    model = Linear()
    scores = np.array([model(row).data for row in data.X.tolist()])
    test_scores = [model(row) for row in data.X_test.tolist()]
    record = Trainer(model, data, batch_size=8, seed=0, regularization=None).step()
    assert record["accuracy"] == float(np.mean((scores > 0) == (data.y > 0)))
    assert record["test_loss"] == pytest.approx(losses.svm_loss(test_scores, data.y_test).data)


def test_learning_rate_constant_callable_and_validation():
    trainer = tiny(lr=0.05)
    assert trainer.step()["lr"] == 0.05
    trainer.lr = lambda k: 0.5 / (k + 1)
    assert trainer.step()["lr"] == pytest.approx(0.25)
    trainer.lr = None
    assert trainer.learning_rate() == pytest.approx(default_schedule(2))
    for bad in (0, -1.0, float("nan"), "fast"):
        with pytest.raises(ValueError, match="lr must be"):
            trainer.lr = bad


def test_mini_batches_have_the_requested_size():
    sizes = []

    def recording_loss(scores, y):
        sizes.append(len(scores))
        return sum(scores[1:], scores[0]) * 0.0 + 1.0

    trainer = Trainer(MLP(2, [3, 1], seed=0), datasets.xor(40, seed=0), batch_size=8,
                      loss=recording_loss, seed=0)  # fmt: skip
    trainer.run(3)
    assert sizes == [8, 8, 8]


def test_bad_arguments_are_explained():
    data = datasets.moons(10, seed=0)
    model = MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError, match="labels -1 or \\+1"):
        Trainer(model, data.X, (data.y > 0).astype(int))
    with pytest.raises(ValueError, match="X has 3 features but the model expects 2"):
        Trainer(model, np.zeros((4, 3)), [1, -1, 1, -1])
    with pytest.raises(ValueError, match="either a Dataset or X and y"):
        Trainer(model, data, data.y)
    with pytest.raises(ValueError, match="batch_size"):
        Trainer(model, data, batch_size=0)
    with pytest.raises(TypeError, match="model must be a callable Module"):
        Trainer("mlp", data)
    with pytest.raises(ValueError, match="steps must be"):
        Trainer(model, data).run(-1)


def test_an_empty_dataset_is_refused_up_front():
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match=r"X is empty \(shape \(0, 2\)\): training needs at least"):
        Trainer(model, np.zeros((0, 2)), np.zeros(0))
    nothing = np.zeros((0, 2))
    empty = datasets.Dataset(nothing, np.zeros(0), nothing, np.zeros(0), "empty", 2)
    with pytest.raises(ValueError, match="X is empty"):
        Trainer(model, empty)


def test_a_single_neuron_or_layer_trains_and_predicts():
    from micrograd_widgets import Layer, Neuron

    data = datasets.moons(32, seed=0)
    for model in (Neuron(2, activation="tanh", seed=0), Layer(2, 1, activation="tanh", seed=0)):
        trainer = Trainer(model, data, lr=0.1)
        trainer.run(3)
        scores = model.predict(data.X)
        assert scores.shape == (32,)
        np.testing.assert_allclose(scores, [model(list(row)).data for row in data.X], rtol=1e-12)


def test_divergence_stops_training_with_a_clear_message():
    trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(64, seed=0), lr=100.0)
    with pytest.warns(RuntimeWarning, match="Training diverged at step"):
        trainer.run(20)
    assert trainer.status == "diverged" and trainer.diverged
    assert trainer.steps_done < 5
    assert "learning rate 100" in trainer.message
    before = [p.data for p in trainer.parameters]
    with pytest.raises(TrainingDiverged):
        trainer.step()
    assert [p.data for p in trainer.parameters] == before  # no update after divergence
    with pytest.raises(TrainingDiverged, match="reset"):
        trainer.start()
    with pytest.raises(TrainingDiverged, match="reset"):
        trainer.run(1)
    assert trainer.status == "diverged"
    trainer.reset()
    assert trainer.status == "idle" and trainer.steps_done == 0 and len(trainer.history) == 0


def test_the_divergence_warning_points_at_the_callers_line():
    trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(64, seed=0), lr=100.0)
    with pytest.warns(RuntimeWarning, match="Training diverged") as caught:
        trainer.run(20)  # the line the warning must name
    assert caught[0].filename == __file__
    with open(__file__) as source:
        assert "trainer.run(20)" in source.read().splitlines()[caught[0].lineno - 1]


def test_nan_loss_is_divergence():
    trainer = tiny()
    trainer.parameters[0].data = math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TrainingDiverged, match="the loss is nan"):
            trainer.step()


def test_reset_restores_the_initial_parameters():
    trainer = tiny()
    initial = [p.data for p in trainer.parameters]
    trainer.run(5)
    assert [p.data for p in trainer.parameters] != initial
    trainer.reset()
    assert [p.data for p in trainer.parameters] == initial
    assert trainer.steps_done == 0 and len(trainer.history) == 0


def test_observers_get_every_step_and_can_unsubscribe():
    trainer = tiny()
    events = []
    unsubscribe = trainer.observe(lambda e: events.append((e.kind, e.record and e.record["step"])))
    trainer.run(2)
    assert events == [("status", None), ("step", 0.0), ("step", 1.0), ("status", None)]
    unsubscribe()
    trainer.step()
    assert len(events) == 4


def test_a_failing_observer_does_not_stop_training():
    trainer = tiny()
    trainer.observe(lambda e: 1 / 0)
    trainer.run(3)
    assert trainer.steps_done == 3


def test_keyboard_interrupt_in_run_leaves_a_consistent_model():
    trainer = tiny()

    def interrupt(event):
        if event.kind == "step" and event.record["step"] == 1:
            raise KeyboardInterrupt

    trainer._observers.append(interrupt)  # _notify swallows Exception, not KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt, match="stopped after step 2: the model is as after"):
        trainer.run(10)
    assert trainer.steps_done == 2 and len(trainer.history) == 2
    assert trainer.status == "stopped"
    assert not trainer.lock._is_owned()


@pytest.fixture
def sigint_raises():
    """SIGINT raises KeyboardInterrupt, as in IPython and ipykernel while a cell runs -- whatever
    this process inherited (a suite started in the background by a shell without job control
    inherits SIGINT ignored, and then Interrupt does nothing, rightly)."""
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, inherited)


@pytest.mark.usefixtures("sigint_raises")
def test_an_interrupt_during_run_lets_the_step_finish_and_says_where_it_stopped():
    trainer = tiny()
    reference = tiny()

    def interrupt(event, times=1):
        if event.kind == "step" and event.record["step"] == 2:
            for _ in range(times):
                os.kill(os.getpid(), signal.SIGINT)  # what "Interrupt kernel" sends

    trainer.observe(interrupt)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt) as info:
        trainer.run(10)
    assert str(info.value) == (
        "Trainer.run stopped after step 3: the model is as after that step "
        "(run() or start() goes on from there)"
    )
    assert info.value.__suppress_context__ and info.value.__cause__ is None
    assert signal.getsignal(signal.SIGINT) is handler  # put back
    reference.run(3)
    assert [p.data for p in trainer.parameters] == [p.data for p in reference.parameters]
    assert trainer.status == "stopped" and len(trainer.history) == 3

    twice = tiny()
    twice.observe(lambda event: interrupt(event, times=2))
    with pytest.raises(KeyboardInterrupt, match="interrupted twice"):
        twice.run(10)
    assert signal.getsignal(signal.SIGINT) is handler


def test_a_process_that_ignores_interrupts_trains_on_through_one():
    """SIGINT ignored (e.g. a script started in the background): run() does not hook it, so the
    signal stays ignored and every step is done."""
    trainer = tiny()

    def interrupt(event):
        if event.kind == "step" and event.record["step"] == 1:
            os.kill(os.getpid(), signal.SIGINT)

    trainer.observe(interrupt)
    inherited = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        trainer.run(4)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, inherited)
    assert trainer.steps_done == 4 and trainer.status == "stopped"


# ---- background training ---------------------------------------------------------------------


def test_start_pause_resume_stop():
    trainer = tiny(lr=0.05)
    trainer.start()
    assert trainer.is_running and trainer.status == "running"
    wait_for(lambda: trainer.steps_done >= 5)
    trainer.pause()
    paused_at = trainer.steps_done
    time.sleep(0.1)
    assert trainer.steps_done == paused_at, "a step landed after pause() returned"
    assert trainer.status == "paused"
    trainer.resume()
    wait_for(lambda: trainer.steps_done > paused_at + 3)
    thread = trainer._background.thread
    started = time.monotonic()
    trainer.stop()
    assert time.monotonic() - started < 1.0
    assert not thread.is_alive() and not trainer.is_running
    assert trainer.status == "stopped"


def test_pause_while_the_thread_waits_for_the_lock_lands_no_step():
    # the training thread passed its "running?" check and waits for the lock (held here, as a
    # click handler or another step would); pause() must still win: no step after it returns
    trainer = tiny(lr=0.05)
    with trainer.lock:
        trainer.start()
        time.sleep(0.2)  # let the thread reach the lock
        trainer.pause()
    time.sleep(0.3)
    try:
        assert trainer.steps_done == 0, "a step landed after pause() returned"
        assert trainer.status == "paused"
    finally:
        trainer.stop()


def test_start_with_a_step_count_ends_by_itself():
    trainer = tiny()
    trainer.start(7)
    assert trainer.wait(timeout=10)
    assert trainer.steps_done == 7 and trainer.status == "stopped"


def test_a_point_added_while_training_lands_between_steps():
    batch_sizes = []

    def svm_recording(scores, y):
        batch_sizes.append(len(scores))
        return sum(((1 + -yi * s).relu() for yi, s in zip(y, scores)), Value(0.0)) * (1 / len(y))

    trainer = Trainer(MLP(2, [4, 1], seed=0), datasets.moons(16, seed=0), loss=svm_recording)
    trainer.start()
    wait_for(lambda: trainer.steps_done >= 3)
    assert trainer.add_point(0.5, 0.25, -1) == 17
    count = len(batch_sizes)
    wait_for(lambda: len(batch_sizes) >= count + 3)
    trainer.stop()
    assert set(batch_sizes) == {16, 17}  # every step saw a whole data set, old or new
    assert batch_sizes[-1] == 17
    index = trainer.remove_nearest(0.5, 0.25, radius=0.01)
    assert index == 16 and len(trainer.y) == 16


@pytest.mark.parametrize("paused", [False, True])
def test_no_thread_outlives_its_trainer(paused):
    trainer = tiny()
    trainer.start()
    while trainer.steps_done < 2:
        time.sleep(0.005)
    if paused:
        trainer.pause()  # the thread now waits for a resume that no one can send
    thread = trainer._background.thread
    del trainer
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_diverging_in_the_background_stops_the_thread():
    trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(32, seed=0), lr=100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.start()
        assert trainer.wait(timeout=20)
    assert trainer.status == "diverged" and "diverged" in trainer.message


def test_memory_stays_flat_over_long_runs():
    trainer = tiny(lr=0.05)
    trainer.run(100)  # warm up caches
    tracemalloc.start()
    try:
        trainer.run(200)
        first, _ = tracemalloc.get_traced_memory()
        trainer.run(600)
        second, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the History grows by 6 floats (48 bytes) a step; everything else must be freed
    assert second - first < 600 * 48 + 30_000


# ---- the seed's demo (slowish: ~0.1-0.5 s per step on the Value engine) ---------------------


def seed_demo_accuracy(init_seed, steps):
    data = datasets.moons(128, noise=0.1, seed=0)
    trainer = Trainer(MLP(2, [16, 16, 1], seed=init_seed), data)
    trainer.run(steps)
    return float(np.mean((trainer.model.predict(data.X) > 0) == (data.y > 0)))


def test_seed_demo_32_steps_reach_95_percent_median_over_10_inits():
    accuracies = [seed_demo_accuracy(seed, 32) for seed in range(10)]
    print("32-step training accuracies:", accuracies)
    assert statistics.median(accuracies) >= 0.95


@pytest.mark.parametrize("init_seed", [0, 1])
def test_seed_demo_100_steps_reach_99_percent(init_seed):
    assert seed_demo_accuracy(init_seed, 100) >= 0.99


def test_threads_are_daemons():
    trainer = tiny()
    trainer.start()
    assert trainer._background.thread.daemon
    trainer.stop()
    assert not any(t.name.startswith("micrograd-trainer") for t in threading.enumerate())


def test_observers_run_without_the_lock_so_other_threads_can_read_the_model():
    # a widget's frame timer reads the model under trainer.lock from its own thread: if observers
    # were called with the lock held, that thread and the observer would deadlock
    trainer = Trainer(MLP(2, [16, 16, 1], seed=1), datasets.moons(32, seed=0), lr=100.0)
    acquired = []

    def observer(event):
        def other_thread():
            got = trainer.lock.acquire(timeout=1.0)
            acquired.append((event.kind, got))
            if got:
                trainer.lock.release()

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()

    trainer.observe(observer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.run(10)
    assert trainer.status == "diverged"
    assert ("step", True) in acquired and ("status", True) in acquired
    assert all(got for _, got in acquired)


def test_a_multi_output_model_with_a_binary_loss_is_refused_saying_what_to_use():
    data = datasets.moons(16, seed=0)
    with pytest.raises(ValueError, match=r"binary loss .* model has 2 outputs: use loss='cross_e"):
        Trainer(MLP(2, [3, 2], seed=0), data)
    with pytest.raises(ValueError, match=r"'log' is a binary loss .* 3 outputs"):
        Trainer(MLP(2, [3, 3], seed=0), datasets.spiral(30, classes=3, seed=0), loss="log")


def test_a_one_output_model_with_cross_entropy_is_refused_saying_what_to_use():
    data = datasets.moons(16, seed=0)
    with pytest.raises(ValueError, match=r"one output per class.* k >= 2 outputs.*binary loss"):
        Trainer(MLP(2, [3, 1], seed=0), data, loss="cross_entropy")


def test_interrupting_run_in_a_real_kernel_gives_one_short_line():
    """ipykernel's "Interrupt kernel" during trainer.run(): a short KeyboardInterrupt saying where
    it stopped, not a traceback wall through the engine, and the model as after that step."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", startup_timeout=60)
    try:
        setup = (
            "from micrograd_widgets import MLP, Trainer, datasets\n"
            "data = datasets.moons(64, noise=0.1, seed=0)\n"
            "trainer = Trainer(MLP(2, [8, 8, 1], seed=1), data)\n"
            "trainer.observe(lambda e: print('training', flush=True)\n"
            "                if e.kind == 'step' and e.record['step'] == 3 else None)\n"
        )
        assert client.execute_interactive(setup, timeout=60)["content"]["status"] == "ok"
        msg_id = client.execute("trainer.run(100_000)")
        error, printed = None, ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            msg = client.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream" and "training" in content["text"] and not printed:
                printed = content["text"]
                time.sleep(0.5)  # let it train a few more steps, then interrupt mid-run
                manager.interrupt_kernel()
            elif kind == "error":
                error = content
            elif kind == "status" and content["execution_state"] == "idle":
                break
        assert printed and error is not None
        assert error["ename"] == "KeyboardInterrupt"
        assert error["evalue"].startswith("Trainer.run stopped after step ")
        assert "the model is as after that step" in error["evalue"]
        traceback = "\n".join(error["traceback"])
        assert len(traceback) < 2000, traceback  # a few lines, not the engine's internals
        assert "engine.py" not in traceback
        check = (
            "replay = Trainer(MLP(2, [8, 8, 1], seed=1), data)\n"
            "replay.run(trainer.steps_done)\n"
            "print(trainer.steps_done, len(trainer.history), trainer.status,\n"
            "      [p.data for p in trainer.parameters] == [p.data for p in replay.parameters])\n"
        )
        out = []
        client.execute_interactive(
            check, timeout=120, output_hook=lambda m: out.append(m["content"].get("text", ""))
        )
        steps, history, status, same = "".join(out).split()
        stopped_at = int(error["evalue"].split("after step ")[1].split(":")[0])
        assert int(steps) == int(history) == stopped_at >= 4
        assert (status, same) == ("stopped", "True")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


# ---- optimizers ----------------------------------------------------------------------------


def seed_loop_reference(model, data, steps):
    """The trainer's default before optimizers existed: the seed's loop and its update."""
    parameters = model.parameters()
    records = []
    for k in range(steps):
        scores = [model(list(row)) for row in data.X.tolist()]
        total = losses.total_loss(scores, data.y, parameters)
        model.zero_grad()
        total.backward()
        lr = default_schedule(k)
        for p in parameters:
            p.data -= lr * p.grad
        records.append((total.data, lr))
    return records


@pytest.mark.parametrize("engine", ["compiled", "scalar"])
def test_the_default_optimizer_is_the_seeds_update_bit_for_bit_past_step_100(engine):
    data = datasets.moons(20, noise=0.2, seed=4)
    trainer = Trainer(MLP(2, [5, 1], seed=2), data, engine=engine)
    assert isinstance(trainer.optimizer, optim.SGD) and trainer.optimizer.momentum == 0
    assert trainer.lr is None and trainer.optimizer.lr is None
    reference = MLP(2, [5, 1], seed=2)
    expected = seed_loop_reference(reference, data, 110)
    trainer.run(110)
    assert [(r["loss"], r["lr"]) for r in trainer.history] == expected  # == on floats: bitwise
    assert [p.data for p in trainer.parameters] == [p.data for p in reference.parameters()]


def test_optimizers_by_name_and_as_objects():
    data = datasets.moons(16, seed=0)
    for name, cls in [("sgd", optim.SGD), ("momentum", optim.SGD), ("adam", optim.Adam),
                      ("adamw", optim.AdamW)]:  # fmt: skip
        trainer = Trainer(MLP(2, [3, 1], seed=0), data, optimizer=name)
        assert type(trainer.optimizer) is cls
        assert trainer.optimizer.parameters == trainer.parameters
    assert Trainer(MLP(2, [3, 1]), data, optimizer="momentum").optimizer.momentum == 0.9
    assert Trainer(MLP(2, [3, 1]), data, optimizer="adam").lr == 1e-3  # PyTorch's default
    trainer = Trainer(MLP(2, [3, 1]), data, optimizer="adam", lr=0.02)
    assert trainer.optimizer.lr == trainer.lr == 0.02
    trainer.lr = 0.5
    assert trainer.optimizer.lr == 0.5 and trainer.learning_rate() == 0.5
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        trainer.lr = -1
    model = MLP(2, [3, 1], seed=0)
    own = optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9))
    assert Trainer(model, data, optimizer=own).optimizer is own
    with pytest.raises(ValueError, match=r"options \(lr\) apply when the optimizer is given by"):
        Trainer(model, data, optimizer=own, lr=0.1)
    with pytest.raises(ValueError, match="updates other parameters"):
        Trainer(MLP(2, [3, 1]), data, optimizer=own)
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'; expected one of 'sgd'"):
        Trainer(MLP(2, [3, 1]), data, optimizer="rmsprop")


@pytest.mark.parametrize("name", ["momentum", "adam", "adamw"])
def test_each_optimizer_steps_as_its_own_loop_and_reset_restarts_it(name):
    data = datasets.moons(24, noise=0.2, seed=1)
    trainer = Trainer(MLP(2, [6, 1], seed=3), data, optimizer=name, lr=0.05, engine="scalar")
    reference = MLP(2, [6, 1], seed=3)
    opt = optim.make_optimizer(name, reference.parameters(), lr=0.05)
    for _ in range(6):
        before = np.array([p.data for p in trainer.parameters])
        record = trainer.step()
        scores = [reference(list(row)) for row in data.X.tolist()]
        total = losses.total_loss(scores, data.y, reference.parameters())
        opt.zero_grad()
        total.backward()
        opt.step()
        assert record["loss"] == total.data and record["lr"] == 0.05
        assert [p.data for p in trainer.parameters] == [p.data for p in reference.parameters()]
        assert [p.grad for p in trainer.parameters] == [p.grad for p in reference.parameters()]
        after = np.array([p.data for p in trainer.parameters])
        assert np.array_equal(trainer.last_update, after - before)  # the change applied
    state = trainer.optimizer.state_arrays()
    assert state and all(np.any(v != 0) for v in state.values())
    first = {name: getattr(trainer.history, name) for name in trainer.history.COLUMNS}
    trainer.reset()
    assert trainer.optimizer.steps_done == 0
    assert all(np.all(v == 0) for v in trainer.optimizer.state_arrays().values())
    trainer.run(6)
    for name, column in first.items():  # a fresh optimizer: the same run
        assert np.array_equal(getattr(trainer.history, name), column, equal_nan=True), name


# ---- k classes -----------------------------------------------------------------------------


def spiral_trainer(**kwargs):
    data = datasets.spiral(45, classes=3, seed=0, test_size=0.2)
    kwargs.setdefault("loss", "cross_entropy")
    return Trainer(MLP(2, [8, 3], seed=1), data, **kwargs), data


def test_k_classes_train_with_cross_entropy_and_report_argmax_metrics():
    trainer, _ = spiral_trainer(optimizer="adam", lr=0.05, engine="scalar")
    assert trainer.classes == 3 and trainer.label_values.tolist() == [0.0, 1.0, 2.0]
    before = trainer.model.predict(trainer.X)
    record = trainer.step()
    assert tuple(record) == trainer.history.COLUMNS  # the same columns as a binary trainer
    # the step's metrics are at the parameters before its update, accuracy by argmax
    assert record["accuracy"] == np.mean(np.argmax(before, axis=1) == trainer.y)
    trainer.run(30)
    # the test loss: the NumPy twin of cross-entropy plus the penalty, before the step's update
    scores = trainer.model.predict(trainer.X_test)
    theta = np.array([p.data for p in trainer.parameters])
    expected = losses.cross_entropy_loss_np(scores, trainer.y_test)
    expected += losses.numpy_penalty("l2", theta, 1e-4)
    record = trainer.step()
    assert record["test_loss"] == expected
    assert record["test_accuracy"] == np.mean(np.argmax(scores, axis=1) == trainer.y_test)
    assert trainer.history.loss[-1] < trainer.history.loss[0]
    assert trainer.history.accuracy[-1] > 0.5


def test_the_confusion_matrix_counts_true_by_predicted_class():
    trainer, _ = spiral_trainer(optimizer="adam", lr=0.05)
    trainer.run(20)
    for split, X, y in [("train", trainer.X, trainer.y), ("test", trainer.X_test, trainer.y_test)]:
        matrix = trainer.confusion_matrix(split)
        predicted = np.argmax(trainer.model.predict(X), axis=1)
        assert matrix.shape == (3, 3) and matrix.sum() == len(y)
        assert matrix.sum(axis=1).tolist() == np.bincount(y.astype(int), minlength=3).tolist()
        assert matrix.sum(axis=0).tolist() == np.bincount(predicted, minlength=3).tolist()
        assert np.trace(matrix) == np.sum(predicted == y)
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'val'"):
        trainer.confusion_matrix("val")
    binary = tiny()
    assert binary.classes == 2 and binary.confusion_matrix("test").tolist() == [[0, 0], [0, 0]]
    scores = binary.model.predict(binary.X)
    assert np.trace(binary.confusion_matrix()) == np.sum((scores > 0) == (binary.y > 0))


def test_add_point_takes_the_trainers_labels_and_lists_them_otherwise():
    trainer, _ = spiral_trainer()
    n = len(trainer.y)
    for label in (0, 1, 2):
        trainer.add_point(0.1 * label, -0.2, label)
    assert trainer.y[-3:].tolist() == [0.0, 1.0, 2.0] and len(trainer.y) == n + 3
    for bad in (3, -1, 0.5, "1", True):
        with pytest.raises(ValueError, match=r"label must be one of 0, 1, 2 \(this trainer's 3"):
            trainer.add_point(0.0, 0.0, bad)
    assert len(trainer.y) == n + 3
    # two classes from a binary dataset: cross-entropy on a 2-output model keeps -1 / +1
    binary = Trainer(MLP(2, [4, 2], seed=0), datasets.moons(16, seed=0), loss="cross_entropy")
    assert binary.classes == 2 and binary.label_values.tolist() == [-1.0, 1.0]
    binary.add_point(0.0, 0.0, -1)
    with pytest.raises(ValueError, match=r"label must be -1 or \+1"):
        binary.add_point(0.0, 0.0, 0)  # would mix the conventions
    binary.step()


def test_k_class_labels_are_checked_at_construction():
    data = datasets.spiral(30, classes=3, seed=0)
    with pytest.raises(ValueError, match=r"y: label 3 is out of range for 3 classes.*3 outputs"):
        Trainer(MLP(2, [4, 3]), data.X, np.r_[data.y[:-1], 3.0], loss="cross_entropy")
    with pytest.raises(ValueError, match=r"y: labels must be class numbers"):
        Trainer(MLP(2, [4, 3]), data.X, np.r_[data.y[:-1], 0.5], loss="cross_entropy")
    with pytest.raises(ValueError, match=r"X has 3 features but the model expects 2"):
        Trainer(MLP(2, [4, 3]), np.zeros((4, 3)), [0, 1, 2, 0], loss="cross_entropy")


def test_switching_the_optimizer_between_steps_starts_it_fresh():
    data = datasets.moons(24, noise=0.2, seed=1)
    trainer = Trainer(MLP(2, [6, 1], seed=3), data, engine="scalar")
    events = []
    trainer.observe(lambda event: events.append(event.kind))
    trainer.run(3)
    weights = [p.data for p in trainer.parameters]
    adam = trainer.set_optimizer("adam", lr=0.02)
    assert trainer.optimizer is adam and adam.lr == 0.02 and adam.steps_done == 0
    assert [p.data for p in trainer.parameters] == weights  # the weights go on from here
    assert events[-1] == "status"
    # the next step is a fresh Adam's first step from these weights
    reference = MLP(2, [6, 1], seed=3)
    for p, value in zip(reference.parameters(), weights):
        p.data = value
    opt = optim.Adam(reference.parameters(), lr=0.02)
    total = losses.total_loss([reference(list(r)) for r in data.X.tolist()], data.y,
                              reference.parameters())  # fmt: skip
    opt.zero_grad()
    total.backward()
    opt.step()
    record = trainer.step()
    assert record["step"] == 3 and record["lr"] == 0.02 and record["loss"] == total.data
    assert [p.data for p in trainer.parameters] == [p.data for p in reference.parameters()]
    trainer.optimizer = "momentum"
    assert type(trainer.optimizer) is optim.SGD and trainer.optimizer.momentum == 0.9
    assert trainer.learning_rate() == default_schedule(0)  # its own step count, from 0
    with pytest.raises(ValueError, match="unknown option 'betas' for optimizer 'sgd'"):
        trainer.set_optimizer("sgd", betas=(0.9, 0.99))
    assert type(trainer.optimizer) is optim.SGD  # a refused switch changes nothing
