// The recorded backward pass (GraphWidget's `replay` trait), stepped through in the page when no
// kernel is there (a saved notebook, an exported page, a kernel shut down). Python records every
// step: the node applied, its inputs, the lines, and the grads it changed; this only replays.
import type { Replay, StepState, Topology } from "./types";

export interface ReplayState {
  done: number; // steps applied
  grads: Float64Array; // per unit
}

/** A replay for this topology, or null (none shipped, or recorded for another layout). */
export function replayFor(replay: Replay | Record<string, never> | undefined, topology: Topology): Replay | null {
  if (!replay || !("steps" in replay)) return null;
  const r = replay as Replay;
  return r.version === topology.version && r.spans.length === topology.units.length ? r : null;
}

/** Start where the live view was: `done` steps applied, with these grads. */
export function startReplay(done: number, grads: Float64Array): ReplayState {
  return { done, grads: Float64Array.from(grads) };
}

/** Apply the next step (if any); returns the new state. */
export function stepReplay(replay: Replay, state: ReplayState): ReplayState {
  if (state.done >= replay.steps.length) return state;
  const grads = Float64Array.from(state.grads);
  for (const [unit, grad] of replay.steps[state.done][3]) grads[unit] = grad;
  return { done: state.done + 1, grads };
}

export function resetReplay(units: number): ReplayState {
  return { done: 0, grads: new Float64Array(units) };
}

/** The step panel's state after `state.done` steps, as Python would send it. */
export function replayStepState(replay: Replay, state: ReplayState, topology: Topology): StepState {
  const total = replay.steps.length;
  const done = state.done;
  const last = done > 0 ? replay.steps[done - 1] : null;
  const finished = done >= total;
  const status = topology.units
    .map((unit, u) => {
      if (unit.kind !== "value") return "-";
      if (finished) return "f";
      if (done === 0) return "p";
      if (u === topology.root) return "f";
      const [first, lastUse] = replay.spans[u];
      if (done < first) return "p";
      return done < lastUse ? "s" : "f";
    })
    .join("");
  return {
    done,
    total,
    seeded: done > 0,
    finished,
    active: last ? last[0] : -1,
    children: last ? last[1] : [],
    lines: last ? last[2] : [],
    next: "",
    status,
    sums: {},
  };
}
