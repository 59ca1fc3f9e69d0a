"""What the Playground is set to, apart from the widget: its config dict, checked; the data, the
model and the Trainer options it describes; and the Python code that rebuilds them.

A config is a plain JSON-able dict (see :data:`DEFAULTS` for every key). Everything here is
pure: no widget, no thread, tested without a browser.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import datasets
from .train import default_schedule

__all__ = [
    "ACTIONS",
    "CONTROLS",
    "DEFAULTS",
    "HELP",
    "LIVE_KEYS",
    "MAX_LAYERS",
    "MAX_NEURONS",
    "PlaygroundData",
    "apply_change",
    "build_data",
    "check_config",
    "check_controls",
    "check_unlocked",
    "choices",
    "model_sizes",
    "to_code",
    "trainer_options",
]

DATASETS = ("moons", "circles", "blobs", "xor", "spiral", "yinyang", "draw")
#: how many classes each dataset can have (the first is its default)
DATASET_CLASSES: dict[str, tuple[int, ...]] = {
    "moons": (2,),
    "circles": (2,),
    "xor": (2,),
    "blobs": (2, 3, 4, 5, 6),
    "spiral": (2, 3, 4, 5, 6),
    "yinyang": (3, 2),
    "draw": (2, 3, 4, 5, 6),
}
BINARY_LOSSES = ("svm", "log", "mse")
MULTICLASS_LOSSES = ("cross_entropy",)
ACTIVATIONS = ("relu", "tanh", "sigmoid", "none")
PENALTIES = ("none", "l1", "l2")
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
SPEEDS = (1, 3, 10, 30, 100, "max")
MAX_LAYERS = 6
MAX_NEURONS = 32
MAX_POINTS = 2000
MAX_DRAWN = 2000

#: every key of a config and its default (the seed's demo, with a test split)
DEFAULTS: dict[str, Any] = {
    "dataset": "moons",
    "classes": 2,
    "n": 200,
    "noise": 0.1,
    "test_ratio": 0.2,
    "data_seed": 0,
    "drawn": [],  # [[x, y, label], ...]: points the user added, after the generated ones
    "removed": [],  # indices of generated training points the user removed
    "hidden": [8, 8],
    "activation": "relu",
    "loss": "svm",
    "penalty": "l2",
    "penalty_rate": 1e-4,
    "batch_size": None,  # None: full batch
    "lr": 0.1,  # a number > 0, or "schedule" (the seed's 1 − 0.9·k/100, then 0.1)
    "optimizer": "sgd",
    "speed": 30,  # steps per second, or "max"
    "max_steps": None,  # stop after this many steps (None: no limit)
    "graph": False,  # show the loss graph of one training sample, followed live
    "model_seed": 1,
    "seed": 0,  # the mini-batch sampler's seed
}

#: keys applied to the running trainer; a change of any other key builds a new one (step 0)
LIVE_KEYS = frozenset({"lr", "speed", "max_steps", "graph"})
#: buttons that can be hidden or locked besides the config keys
ACTIONS = ("play", "pause", "step", "reset", "regenerate", "code")
#: what hide=[...] and lock=[...] accept
CONTROLS = (
    tuple(k for k in DEFAULTS if k not in ("data_seed", "model_seed", "seed", "removed")) + ACTIONS
)

#: the one-line hover explanation of each control
HELP: dict[str, str] = {
    "dataset": "The points to classify; 'draw' starts empty: click to add points of any class.",
    "classes": "How many classes the data has (2: labels ±1 and one score; k: k scores, argmax).",
    "n": "How many points the dataset generates (training + test).",
    "noise": "Standard deviation of the Gaussian noise added to each point.",
    "test_ratio": "Fraction of the points held out to measure the test loss (never trained on).",
    "drawn": "Points you added by clicking (kept when the data or network changes).",
    "hidden": "Hidden layers and their neurons; the output layer has one score per class.",
    "activation": "The nonlinearity of every hidden neuron.",
    "loss": "What training minimises: svm (hinge), log or mse for 2 classes; cross-entropy for k.",
    "penalty": "Weight penalty added to the loss: none, l1 (sum |w|) or l2 (sum w²).",
    "penalty_rate": "How strongly the penalty counts (its factor in the loss).",
    "batch_size": "Points per step: all of them (full batch) or a random mini-batch.",
    "lr": "Learning rate: the step size of each update ('schedule': the seed's decay).",
    "optimizer": "How gradients become updates: plain SGD, momentum, Adam or AdamW.",
    "speed": "Training steps per second while playing.",
    "max_steps": "Stop training after this many steps (empty: no limit).",
    "graph": "Show the loss graph of one training sample, its numbers following training.",
    "play": "Train in the background.",
    "pause": "Pause after the current step.",
    "step": "One training step.",
    "reset": "Back to the initial weights, step 0 (the data stays).",
    "regenerate": "New random points from the same dataset (a new data seed).",
    "code": "The Python that reproduces this run with the library (copied to the clipboard).",
}


class ConfigError(ValueError):
    """A config key or value that is not allowed; the message names the key and what is."""


def _names(values: tuple) -> str:
    return ", ".join(repr(v) for v in values)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _require(ok: bool, key: str, value: object, expected: str) -> None:
    if not ok:
        raise ConfigError(f"config[{key!r}] = {value!r} is not allowed; expected {expected}")


def _one_of(key: str, value: object, allowed: tuple) -> None:
    _require(value in allowed and type(value) is not bool, key, value, f"one of {_names(allowed)}")


def _number_in(key: str, value: object, low: float, high: float, *, low_open: bool = False) -> None:
    ok = _is_number(value) and math.isfinite(value) and value <= high  # type: ignore[arg-type]
    ok = ok and (value > low if low_open else value >= low)  # type: ignore[operator]
    bracket = "(" if low_open else "["
    _require(ok, key, value, f"a number in {bracket}{low}, {high}]")


def _int_in(key: str, value: object, low: int, high: int) -> None:
    _require(_is_int(value) and low <= value <= high, key, value, f"an integer in [{low}, {high}]")  # type: ignore[operator]


def losses_for(classes: int) -> tuple[str, ...]:
    return BINARY_LOSSES if classes == 2 else MULTICLASS_LOSSES


def label_values(classes: int) -> tuple[float, ...]:
    """The labels of a ``classes``-class dataset: -1 and +1 for two, else 0..k-1."""
    return (-1.0, 1.0) if classes == 2 else tuple(float(j) for j in range(classes))


def relabel(drawn: list, old_classes: int, new_classes: object) -> list:
    """Drawn points with their labels moved from ``old_classes`` to ``new_classes``."""
    if not _is_int(new_classes) or new_classes not in range(2, 7):
        return drawn  # the check that follows names the bad value
    old_labels, new_labels = label_values(old_classes), label_values(int(new_classes))
    moved = []
    for x, y, label in drawn:
        index = old_labels.index(label) if label in old_labels else 0
        moved.append([x, y, new_labels[index % len(new_labels)]])
    return moved


def choices(config: Mapping[str, Any]) -> dict[str, list]:
    """The values each select control offers, given the rest of ``config`` (e.g. the losses for
    its number of classes)."""
    return {
        "dataset": list(DATASETS),
        "classes": list(DATASET_CLASSES[config["dataset"]]),
        "activation": list(ACTIVATIONS),
        "loss": list(losses_for(config["classes"])),
        "penalty": list(PENALTIES),
        "optimizer": list(OPTIMIZERS),
        "speed": list(SPEEDS),
    }


def check_config(config: object, *, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A complete, checked copy of ``config``: keys left out take their value from ``base``
    (default :data:`DEFAULTS`). Raises :class:`ConfigError` naming the first bad key."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"config must be a dict, got {type(config).__name__}")
    unknown = [k for k in config if k not in DEFAULTS]
    if unknown:
        raise ConfigError(
            f"unknown config key {unknown[0]!r}; the keys are {_names(tuple(DEFAULTS))}"
        )
    merged = copy.deepcopy(dict(DEFAULTS if base is None else base))
    merged.update(copy.deepcopy(dict(config)))
    c = merged
    # a key left out follows the ones given: {"dataset": "spiral", "classes": 3} gets
    # cross-entropy, {"dataset": "yinyang"} its own number of classes
    allowed = DATASET_CLASSES.get(c["dataset"], ()) if isinstance(c["dataset"], str) else ()
    if "classes" not in config and allowed and c["classes"] not in allowed:
        c["classes"] = allowed[0]
    if "loss" not in config and _is_int(c["classes"]) and c["loss"] not in losses_for(c["classes"]):
        c["loss"] = losses_for(c["classes"])[0]
    _one_of("dataset", c["dataset"], DATASETS)
    _require(
        _is_int(c["classes"]) and c["classes"] in DATASET_CLASSES[c["dataset"]],
        "classes",
        c["classes"],
        f"one of {_names(DATASET_CLASSES[c['dataset']])} for dataset {c['dataset']!r}",
    )
    c["classes"] = int(c["classes"])
    _int_in("n", c["n"], 2, MAX_POINTS)
    _number_in("noise", c["noise"], 0.0, 2.0)
    _number_in("test_ratio", c["test_ratio"], 0.0, 0.9)
    for key in ("data_seed", "model_seed", "seed"):
        _int_in(key, c[key], 0, 2**31 - 1)
    labels = label_values(c["classes"])
    drawn = c["drawn"]
    _require(
        isinstance(drawn, (list, tuple)) and len(drawn) <= MAX_DRAWN,
        "drawn",
        drawn,
        f"a list of at most {MAX_DRAWN} [x, y, label] points",
    )
    rows = []
    for point in drawn:
        ok = isinstance(point, (list, tuple)) and len(point) == 3
        ok = ok and all(_is_number(v) and math.isfinite(v) for v in point)
        _require(ok, "drawn", point, "[x, y, label] with finite numbers")
        _require(
            float(point[2]) in labels,
            "drawn",
            point,
            f"a label in {_names(labels)} for {c['classes']} classes",
        )
        rows.append([float(point[0]), float(point[1]), float(point[2])])
    c["drawn"] = rows
    removed = c["removed"]
    _require(
        isinstance(removed, (list, tuple)) and all(_is_int(i) and i >= 0 for i in removed),
        "removed",
        removed,
        "a list of indices (integers >= 0) of generated training points",
    )
    c["removed"] = sorted({int(i) for i in removed})
    hidden = c["hidden"]
    _require(
        isinstance(hidden, (list, tuple))
        and len(hidden) <= MAX_LAYERS
        and all(_is_int(w) and 1 <= w <= MAX_NEURONS for w in hidden),
        "hidden",
        hidden,
        f"a list of at most {MAX_LAYERS} layer widths, each an integer in [1, {MAX_NEURONS}] "
        "(a layer of 0 neurons passes nothing on)",
    )
    c["hidden"] = [int(w) for w in hidden]
    _one_of("activation", c["activation"], ACTIVATIONS)
    allowed = losses_for(c["classes"])
    _require(
        c["loss"] in allowed,
        "loss",
        c["loss"],
        f"one of {_names(allowed)} for {c['classes']} classes",
    )
    _one_of("penalty", c["penalty"], PENALTIES)
    _number_in("penalty_rate", c["penalty_rate"], 0.0, 10.0)
    _require(
        c["batch_size"] is None
        or (_is_int(c["batch_size"]) and 1 <= c["batch_size"] <= MAX_POINTS),
        "batch_size",
        c["batch_size"],
        f"None (full batch) or an integer in [1, {MAX_POINTS}]",
    )
    lr = c["lr"]
    _require(
        lr == "schedule" or (_is_number(lr) and math.isfinite(lr) and 0 < lr <= 10),
        "lr",
        lr,
        "'schedule' or a number in (0, 10] (a rate <= 0 or NaN does not learn)",
    )
    _one_of("optimizer", c["optimizer"], OPTIMIZERS)
    _require(
        c["speed"] in SPEEDS and type(c["speed"]) is not bool,
        "speed",
        c["speed"],
        f"one of {_names(SPEEDS)}",
    )
    _require(
        c["max_steps"] is None or (_is_int(c["max_steps"]) and 1 <= c["max_steps"] <= 10**7),
        "max_steps",
        c["max_steps"],
        "None (no limit) or an integer in [1, 10000000]",
    )
    _require(isinstance(c["graph"], bool), "graph", c["graph"], "True or False")
    for key in ("noise", "test_ratio", "penalty_rate"):
        c[key] = float(c[key])
    if c["lr"] != "schedule":
        c["lr"] = float(c["lr"])
    return c


def apply_change(config: Mapping[str, Any], key: str, value: object) -> dict[str, Any]:
    """``config`` with ``key`` set to ``value`` from the UI, checked; a change that makes other
    keys invalid moves them to their nearest valid value (a 3-class dataset switches the loss to
    cross-entropy, a dataset with fewer classes takes its default)."""
    if key not in DEFAULTS:
        raise ConfigError(f"unknown config key {key!r}; the keys are {_names(tuple(DEFAULTS))}")
    changed = dict(config)
    changed[key] = value
    if key == "dataset" and isinstance(value, str) and value in DATASET_CLASSES:
        allowed = DATASET_CLASSES[value]  # type: ignore[index]
        if changed["classes"] not in allowed:
            changed["classes"] = allowed[0]
    if key in ("dataset", "classes") and changed["classes"] != config["classes"]:
        # drawn points are never lost: each keeps its class index (-1/+1 are classes 0/1), a
        # class the new count lacks wraps around
        changed["drawn"] = relabel(changed["drawn"], config["classes"], changed["classes"])
    if key in ("dataset", "classes", "n", "noise", "test_ratio", "data_seed"):
        changed["removed"] = []  # indices of other generated points
    if (
        changed["loss"] not in losses_for(changed["classes"])
        if _is_int(changed["classes"])
        else False
    ):
        changed["loss"] = losses_for(changed["classes"])[0]
    return check_config(changed)


# ---- what the config describes ---------------------------------------------------------------


@dataclass(frozen=True)
class PlaygroundData:
    """The training and test points a config describes; ``problem`` says why it cannot be
    trained on yet ("" when it can)."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    generated: int  # training points from the generator (before removals and drawn points)
    problem: str


def _generate(config: Mapping[str, Any]) -> datasets.Dataset | None:
    name, k = config["dataset"], config["classes"]
    if name == "draw":
        return None
    options: dict[str, Any] = {"test_size": config["test_ratio"]}
    if name == "blobs":
        options["centers"] = k
    elif name in ("spiral", "yinyang"):
        options["classes"] = k
    generator = getattr(datasets, name)
    return generator(config["n"], noise=config["noise"], seed=config["data_seed"], **options)


def build_data(config: Mapping[str, Any]) -> PlaygroundData:
    """The points of a checked config: generated (minus removed) followed by the drawn ones."""
    data = _generate(config)
    if data is None:
        X, y = np.zeros((0, 2)), np.zeros(0)
        X_test, y_test = np.zeros((0, 2)), np.zeros(0)
    else:
        X, y, X_test, y_test = data.X, data.y, data.X_test, data.y_test
    generated = len(y)
    removed = [i for i in config["removed"] if i < generated]
    X, y = np.delete(X, removed, axis=0), np.delete(y, removed)
    drawn = np.asarray(config["drawn"], dtype=np.float64).reshape(-1, 3)
    X = np.vstack([X, drawn[:, :2]])
    y = np.concatenate([y, drawn[:, 2]])
    return PlaygroundData(X, y, X_test, y_test, generated, data_problem(y, config["classes"]))


def data_problem(y: np.ndarray, classes: int) -> str:
    """Why training points labelled ``y`` cannot be trained on yet, or ""."""
    labels = label_values(classes)
    missing = [lab for lab in labels if not np.any(y == lab)]
    if len(y) < 2 or missing:
        names = ", ".join(_label_name(lab, classes) for lab in missing) or "more"
        return (
            f"{len(y)} training point{'s' if len(y) != 1 else ''}: training needs at least 2 and "
            f"one of every class (missing: {names}). Click the plane to add points."
        )
    return ""


def _label_name(label: float, classes: int) -> str:
    if classes == 2:
        return "+1" if label > 0 else "-1"
    return f"class {int(label)}"


def model_sizes(config: Mapping[str, Any]) -> list[int]:
    """The MLP's layer widths: the hidden layers, then one output per class (one for two)."""
    return [*config["hidden"], 1 if config["classes"] == 2 else config["classes"]]


def _rate(config: Mapping[str, Any]) -> float | Callable[[int], float] | None:
    """The Trainer's ``lr``: "schedule" is the seed's decay, which is SGD's default (None) and
    has to be named for Adam and AdamW (their default is a constant 1e-3)."""
    if config["lr"] != "schedule":
        return config["lr"]
    return None if config["optimizer"] in ("sgd", "momentum") else default_schedule


def trainer_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :class:`~micrograd_widgets.train.Trainer` for ``config``."""
    options = {
        "loss": config["loss"],
        "regularization": None if config["penalty"] == "none" else config["penalty"],
        "alpha": config["penalty_rate"],
        "lr": _rate(config),
        "optimizer": config["optimizer"],
        "batch_size": config["batch_size"],
        "seed": config["seed"],
        "speed": None if config["speed"] == "max" else config["speed"],
    }
    if options["optimizer"] == "sgd":  # the Trainer's own default: runs with or without P2-C
        del options["optimizer"]
    return options


def check_controls(names: object, what: str) -> list[str]:
    """``hide=`` or ``lock=``: a list of control names from :data:`CONTROLS`."""
    if names is None:
        return []
    if isinstance(names, str) or not isinstance(names, (list, tuple, set, frozenset)):
        raise ConfigError(f"{what} must be a list of control names, got {names!r}")
    for name in names:
        if name not in CONTROLS:
            raise ConfigError(
                f"{what}: unknown control {name!r}; the controls are {_names(CONTROLS)}"
            )
    return sorted(set(names), key=CONTROLS.index)


def check_unlocked(name: str, locked: list[str]) -> None:
    """Refuse a use of control ``name`` from the view when the lesson locked it."""
    if name in locked:
        raise ConfigError(f"{name!r} is locked in this lesson (lock=[...] in Playground())")


# ---- copy as code ------------------------------------------------------------------------------


def _generator_call(config: Mapping[str, Any]) -> str:
    name, k = config["dataset"], config["classes"]
    args = [repr(config["n"]), f"noise={config['noise']!r}", f"seed={config['data_seed']!r}"]
    if name == "blobs":
        args.append(f"centers={k!r}")
    elif name in ("spiral", "yinyang"):
        args.append(f"classes={k!r}")
    args.append(f"test_size={config['test_ratio']!r}")
    return f"datasets.{name}({', '.join(args)})"


def to_code(config: Mapping[str, Any], steps: int, notes: tuple[str, ...] = ()) -> str:
    """Python that rebuilds ``config``'s data, model and Trainer with the library and runs
    ``steps`` steps: the same numbers as the Playground's run (floats written exactly)."""
    lines = ["import numpy as np", "", "from micrograd_widgets import MLP, Trainer, datasets", ""]
    lines += [f"# {note}" for note in notes]
    if config["dataset"] == "draw":
        lines += [
            "X, y = np.zeros((0, 2)), np.zeros(0)  # drawn by hand: no generated points",
            "X_test, y_test = np.zeros((0, 2)), np.zeros(0)",
        ]
    else:
        lines += [
            f"data = {_generator_call(config)}",
            "X, y, X_test, y_test = data.X, data.y, data.X_test, data.y_test",
        ]
        if config["removed"]:
            lines += [
                f"removed = {config['removed']!r}  # generated points removed by clicking",
                "X, y = np.delete(X, removed, axis=0), np.delete(y, removed)",
            ]
    if config["drawn"]:
        lines += [
            "drawn = np.array([  # x, y, label: points added by clicking",
            *(f"    [{x!r}, {y!r}, {label!r}]," for x, y, label in config["drawn"]),
            "])",
            "X, y = np.vstack([X, drawn[:, :2]]), np.concatenate([y, drawn[:, 2]])",
        ]
    options = trainer_options(config)
    options.pop("speed")  # pacing only: a script runs as fast as it can
    args = "".join(
        f"    {key}={'default_schedule' if value is default_schedule else repr(value)},\n"
        for key, value in options.items()
    )
    if options["lr"] is default_schedule:
        lines.insert(3, "from micrograd_widgets.train import default_schedule")
    lines += [
        "",
        f"model = MLP(2, {model_sizes(config)!r}, activation={config['activation']!r}, "
        f"seed={config['model_seed']!r})",
        f"trainer = Trainer(\n    model, X, y, X_test=X_test, y_test=y_test,\n{args})",
    ]
    if steps:
        lines += [f"trainer.run({steps!r})", "print(trainer.history[-1])"]
    else:
        lines += ["# trainer.run(100)  # no steps were taken in the Playground yet"]
    return "\n".join(lines) + "\n"
