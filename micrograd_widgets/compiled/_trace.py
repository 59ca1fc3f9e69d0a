"""Recording a graph while watching what the code that builds it does with the numbers.

Inside :func:`recording`, every op's result is a :class:`TracedValue` (through the engine's
``_node_class`` hook), and so are the model's parameters (their class is switched for the
duration and switched back after). A ``TracedValue`` behaves exactly like a ``Value``, except
that reading or writing its ``.data`` from code outside ``engine.py`` -- ``if z.data > 0:``, a
``print(v)``, dropout deciding on a value -- is written down. The engine's own ops read ``.data``
all the time; those reads are recognised by the caller's code object and not counted.

A read means the code could have taken a different path for another sample or another step,
which one traced graph cannot show: the caller then falls back (or, for the loss head only,
runs that part on the scalar engine every step).

Only one recording runs at a time in the process. While it runs, ops made on *other* threads
also produce ``TracedValue`` objects; they behave like any Value (their reads are not counted,
only slightly slower), so a trace never changes another thread's numbers.
"""

from __future__ import annotations

import random
import sys
import threading
import types
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import engine
from ..engine import Value

__all__ = ["CompileError", "Recording", "TracedValue", "recording", "rng_snapshot"]

_DATA = Value.data  # the slot itself, read and written without going through the property


class CompileError(Exception):
    """The step cannot be compiled to give the scalar engine's numbers; the message says why."""


def _engine_code_objects() -> frozenset[types.CodeType]:
    """Code objects of every function and method defined in engine.py (their reads are the ops')."""
    codes: set[types.CodeType] = set()

    def add(function: object) -> None:
        code = getattr(function, "__code__", None)
        if isinstance(code, types.CodeType):
            codes.add(code)

    for obj in vars(engine).values():
        if getattr(obj, "__module__", None) != engine.__name__:
            continue
        if isinstance(obj, type):
            for attr in vars(obj).values():
                if isinstance(attr, property):
                    add(attr.fget)
                    add(attr.fset)
                elif isinstance(attr, (staticmethod, classmethod)):
                    add(attr.__func__)
                else:
                    add(attr)
        else:
            add(getattr(obj, "__wrapped__", obj))
    # repr shows the number to whoever asked (a print, an f-string): that is a read
    codes.discard(Value.__repr__.__code__)
    return frozenset(codes)


_ENGINE_CODE = _engine_code_objects()


@dataclass
class Access:
    """One read or write of ``.data`` by code outside the engine, during a recording."""

    node: Value
    kind: str  # "read" or "write"
    filename: str
    line: int
    function: str

    def where(self) -> str:
        return f"{self.filename.rsplit('/', 1)[-1]}:{self.line} ({self.function})"


@dataclass
class Recording:
    """What a :func:`recording` saw."""

    thread: int
    accesses: list[Access] = field(default_factory=list)

    def note(self, node: Value, kind: str, frame: types.FrameType) -> None:
        if len(self.accesses) < 1000:  # enough to explain; a loop over a batch stops here
            code = frame.f_code
            self.accesses.append(Access(node, kind, code.co_filename, frame.f_lineno, code.co_name))


_active: Recording | None = None
_lock = threading.Lock()


class TracedValue(Value):
    """A Value whose ``.data`` notes reads and writes by non-engine code during a recording."""

    __slots__ = ()

    @property
    def data(self) -> float:  # type: ignore[override]
        active = _active
        if active is not None and active.thread == threading.get_ident():
            frame = sys._getframe(1)
            if frame.f_code not in _ENGINE_CODE:
                active.note(self, "read", frame)
        return _DATA.__get__(self)

    @data.setter
    def data(self, value: float) -> None:
        active = _active
        if active is not None and active.thread == threading.get_ident():
            frame = sys._getframe(1)
            if frame.f_code not in _ENGINE_CODE:
                active.note(self, "write", frame)
        _DATA.__set__(self, value)


def data_of(node: Value) -> float:
    """``node.data`` without counting as a read (for the compiler's own analysis)."""
    return _DATA.__get__(node)


@contextmanager
def recording(parameters: Iterable[Value] = ()) -> Iterator[Recording]:
    """Record ops as :class:`TracedValue` nodes, with ``parameters`` traced too, then restore."""
    global _active
    if _active is not None and _active.thread == threading.get_ident():
        raise CompileError("the model or loss started a second trace inside a trace")
    with _lock:
        rec = Recording(threading.get_ident())
        switched: list[Value] = []
        try:
            for p in parameters:
                if type(p) is Value:
                    p.__class__ = TracedValue
                    switched.append(p)
            engine._node_class = TracedValue
            _active = rec
            yield rec
        finally:
            _active = None
            engine._node_class = Value
            for p in switched:
                p.__class__ = Value


# ---- hidden randomness ---------------------------------------------------------------------------

_GENERATORS = (random.Random, np.random.Generator, np.random.RandomState)


def _find_generators(root: object, limit: int = 20_000) -> list[object]:
    """Random generators reachable from ``root`` through attributes and containers."""
    found: list[object] = []
    seen: set[int] = set()
    stack: list[object] = [root]
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (Value, str, bytes, int, float, np.ndarray)):
            continue
        seen.add(id(obj))
        if isinstance(obj, _GENERATORS):
            found.append(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif hasattr(obj, "__dict__") and not isinstance(obj, (type, types.ModuleType)):
            stack.extend(vars(obj).values())
    return found


def _get_state(generator: object) -> Any:
    if isinstance(generator, np.random.Generator):
        return generator.bit_generator.state
    return (
        generator.get_state()
        if isinstance(generator, np.random.RandomState)
        else (
            generator.getstate()  # type: ignore[attr-defined]
        )
    )


def _set_state(generator: object, state: Any) -> None:
    if isinstance(generator, np.random.Generator):
        generator.bit_generator.state = state
    elif isinstance(generator, np.random.RandomState):
        generator.set_state(state)
    else:
        generator.setstate(state)  # type: ignore[attr-defined]


def _same_state(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) and len(a) == 5 and isinstance(a[1], np.ndarray):  # RandomState
        return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]
    return a == b


@dataclass
class RngSnapshot:
    """The states of the global generators and of those a model holds, to compare and restore."""

    states: list[tuple[object, Any]]

    def changed(self) -> list[object]:
        return [g for g, state in self.states if not _same_state(state, _get_state(g))]

    def restore(self) -> None:
        for generator, state in self.states:
            _set_state(generator, state)


def rng_snapshot(*roots: object) -> RngSnapshot:
    generators: list[object] = [random._inst, np.random.mtrand._rand]  # type: ignore[attr-defined]
    for root in roots:
        generators += [g for g in _find_generators(root) if all(g is not h for h in generators)]
    return RngSnapshot([(g, _get_state(g)) for g in generators])
