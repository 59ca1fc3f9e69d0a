// The followed graph's recorded run (GraphWidget.follow): the numbers of the recorded step a
// linked view's timeline points at, decoded from the `recording` trait. No kernel needed.
import type { Numbers } from "./types";

export interface RecordedFrame {
  step: number; // the recorded step shown: the last one at or before the requested step
  numbers: Numbers;
}

/**
 * The recorded frame for timeline step `step`: the last recorded step <= it (the first one if
 * `step` is before the recording), or null when nothing is recorded for these units. `rows` are
 * float32 [data per unit, grad per unit] per recorded step; edges get no local derivative.
 */
export function recordedFrame(rows: Float32Array, steps: number[], units: number, edges: number, step: number): RecordedFrame | null {
  const width = 2 * units;
  if (!steps.length || width === 0 || rows.length !== steps.length * width) return null;
  let k = 0;
  for (let i = 0; i < steps.length; i++) if (steps[i] <= step) k = i;
  const row = rows.subarray(k * width, (k + 1) * width);
  return {
    step: steps[k],
    numbers: {
      data: Float64Array.from(row.subarray(0, units)),
      grad: Float64Array.from(row.subarray(units)),
      local: new Float64Array(edges).fill(NaN),
    },
  };
}
