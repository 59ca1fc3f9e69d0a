import { describe, expect, it } from "vitest";
import { encodeRecording } from "./fixtures";
import { Recording } from "./recording";

describe("recorded heatmap frames", () => {
  // two layers of 2 and 1 parameters, 1 neuron each, modes grads and weights
  const { recording, meta } = encodeRecording([
    { step: 0, modes: [[127, -127, 0], [64, 0, 127]], scales: [[1, 2], [0.5, 4]], dead: [0, 1] },
    { step: 4, modes: [[0, 0, -127], [127, 127, 127]], scales: [[1, 3], [2, 2]], dead: [1, 0] },
  ]);
  const rec = new Recording(recording, meta, ["grads", "weights"], [2, 1], 2);

  it("decodes each mode with each layer's own scale, and the dead marks", () => {
    expect(rec.steps).toEqual([0, 4]);
    const f0 = rec.frame(0);
    expect([...f0.arrays.get("grads")!]).toEqual([1, -1, 0]);
    expect([...f0.arrays.get("weights")!].map((x) => +x.toFixed(4))).toEqual([0.252, 0, 4]);
    expect([...f0.dead]).toEqual([0, 1]);
    expect([...rec.frame(1).arrays.get("grads")!]).toEqual([0, 0, -3]);
  });

  it("finds the nearest recorded step at or before a step", () => {
    expect([rec.indexAtOrBefore(-1), rec.indexAtOrBefore(0), rec.indexAtOrBefore(3), rec.indexAtOrBefore(99)]).toEqual([
      -1, 0, 0, 1,
    ]);
  });

  it("ignores a truncated frame or an empty recording", () => {
    const cut = new DataView(recording.buffer, 0, recording.byteLength - 1);
    expect(new Recording(cut, meta, ["grads", "weights"], [2, 1], 2).length).toBe(1);
    expect(new Recording(null, null, [], [2, 1], 2).length).toBe(0);
  });
});
